// In-page code of the sweep report: a tooltip for every element that carries data-tip (heat-map
// cells, bars). The text is set with textContent, so it cannot inject markup.
(function () {
  'use strict';
  var tip = document.getElementById('tooltip');
  function place(ev) {
    var x = Math.min(ev.clientX + 14, window.innerWidth - tip.offsetWidth - 8);
    var y = Math.min(ev.clientY + 14, window.innerHeight - tip.offsetHeight - 8);
    tip.style.left = x + 'px'; tip.style.top = y + 'px';
  }
  document.addEventListener('mouseover', function (ev) {
    var t = ev.target && ev.target.closest ? ev.target.closest('[data-tip]') : null;
    if (!t) { tip.style.display = 'none'; return; }
    tip.textContent = t.getAttribute('data-tip');
    tip.style.display = 'block';
    place(ev);
  });
  document.addEventListener('mousemove', function (ev) { if (tip.style.display === 'block') place(ev); });
  window.ufgReport = { ready: true, tooltipText: function () { return tip.style.display === 'block' ? tip.textContent : null; } };
  document.body.setAttribute('data-ufg-ready', '1');
})();
