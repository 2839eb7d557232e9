// In-page code of the sweep report: a tooltip for every element that carries data-tip (heat-map
// cells, bars), and the colour switch of the heat-maps (effect ↔ observed score): each cell
// carries both fills and labels as data attributes, the page is drawn for the effect. Text is set
// with textContent, so it cannot inject markup.
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

  function setColour(mode) {
    if (mode !== 'effect' && mode !== 'observed') return;
    document.body.setAttribute('data-colour', mode);
    document.querySelectorAll('rect[data-fill-' + mode + ']').forEach(function (r) { r.setAttribute('fill', r.getAttribute('data-fill-' + mode)); });
    document.querySelectorAll('text[data-text-' + mode + ']').forEach(function (t) {
      t.textContent = t.getAttribute('data-text-' + mode);
      t.style.fill = t.getAttribute('data-ink-' + mode);
    });
    document.querySelectorAll('input[name="colour"]').forEach(function (i) { i.checked = i.value === mode; });
  }
  document.querySelectorAll('input[name="colour"]').forEach(function (i) {
    i.addEventListener('change', function () { if (i.checked) setColour(i.value); });
  });

  window.ufgReport = {
    ready: true,
    tooltipText: function () { return tip.style.display === 'block' ? tip.textContent : null; },
    colourMode: function () { return document.body.getAttribute('data-colour'); },
    setColour: setColour,
  };
  document.body.setAttribute('data-ufg-ready', '1');
})();
