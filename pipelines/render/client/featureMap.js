// In-page code of the feature-map viewer. Plain browser JS (inlined by featureMapPage.ts), no
// dependencies: the page must work from file:// with the network off. Every text from the data
// goes into the DOM through textContent, never innerHTML.
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('ufg-data').textContent);
  var PALETTE = ['#c77dff', '#5fd38d', '#ff9f43', '#4dd0e1', '#f06292', '#d4e157', '#90a4ae', '#ffd54f'];
  var COLORS = { a: '#5b9cf0', b: '#8ec5f0', selected: '#ffbf47', hover: '#ff6b5b', partner: '#ff6b5b', mesh: 'rgba(199,125,255,0.35)' };
  var MESH_MAX = 32;
  var LIVE_MAX = 2000;

  function $(id) { return document.getElementById(id); }
  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }
  function fmt(x, d) { return (typeof x === 'number' && isFinite(x)) ? x.toFixed(d === undefined ? 3 : d) : '–'; }
  function fmtP(p) { return p < 0.001 ? p.toExponential(1) : p.toFixed(3); }

  // ---- model: points, pairs, groups -------------------------------------------------------
  var sides = {
    a: { key: 'a', other: 'b', points: data.pointsA, meta: data.sideA, partners: [], pairsOf: [], byId: {} },
    b: { key: 'b', other: 'a', points: data.pointsB, meta: data.sideB, partners: [], pairsOf: [], byId: {} }
  };
  ['a', 'b'].forEach(function (k) {
    var s = sides[k];
    s.points.forEach(function (p, i) { s.partners.push([]); s.pairsOf.push([]); s.byId[p.id] = i; });
  });
  data.pairs.forEach(function (p, k) {
    sides.a.partners[p.a].push(p.b); sides.a.pairsOf[p.a].push(k);
    sides.b.partners[p.b].push(p.a); sides.b.pairsOf[p.b].push(k);
  });
  var groups = data.groups.map(function (g, gi) {
    var inA = {}, inB = {};
    g.a.forEach(function (id) { if (id in sides.a.byId) inA[sides.a.byId[id]] = true; });
    g.b.forEach(function (id) { if (id in sides.b.byId) inB[sides.b.byId[id]] = true; });
    var pairs = [];
    data.pairs.forEach(function (p, k) { if (inA[p.a] || inB[p.b]) pairs.push(k); });
    return { name: g.name, color: PALETTE[gi % PALETTE.length], a: inA, b: inB, pairs: pairs,
      countA: Object.keys(inA).length, countB: Object.keys(inB).length };
  });

  var state = { hover: null, mode: 'box', group: -1, mesh: true, selection: null, selectionLabel: '', drag: null };

  // ---- geometry -----------------------------------------------------------------------------
  var PAD = 18;
  function setupCanvas(s) {
    s.canvas = $('canvas-' + s.key);
    s.ctx = s.canvas.getContext('2d');
    var xs = s.points.map(function (p) { return p.x; }), ys = s.points.map(function (p) { return p.y; });
    var some = s.points.length > 0;
    s.minX = some ? Math.min.apply(null, xs) : 0; s.maxX = some ? Math.max.apply(null, xs) : 1;
    s.minY = some ? Math.min.apply(null, ys) : 0; s.maxY = some ? Math.max.apply(null, ys) : 1;
    if (s.maxX - s.minX < 1e-9) { s.minX -= 1; s.maxX += 1; }
    if (s.maxY - s.minY < 1e-9) { s.minY -= 1; s.maxY += 1; }
  }
  function resize(s) {
    var r = s.canvas.getBoundingClientRect(), dpr = window.devicePixelRatio || 1;
    s.w = r.width; s.h = r.height;
    s.canvas.width = Math.round(r.width * dpr); s.canvas.height = Math.round(r.height * dpr);
    s.ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    s.sx = s.points.map(function (p) { return PAD + (p.x - s.minX) / (s.maxX - s.minX) * (s.w - 2 * PAD); });
    s.sy = s.points.map(function (p) { return s.h - PAD - (p.y - s.minY) / (s.maxY - s.minY) * (s.h - 2 * PAD); });
  }
  function nearest(s, x, y, radius) {
    var best = -1, bd = radius * radius;
    for (var i = 0; i < s.points.length; i++) {
      var dx = s.sx[i] - x, dy = s.sy[i] - y, d = dx * dx + dy * dy;
      if (d <= bd) { bd = d; best = i; }
    }
    return best;
  }
  function insidePolygon(x, y, poly) {
    var inside = false;
    for (var i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      var xi = poly[i][0], yi = poly[i][1], xj = poly[j][0], yj = poly[j][1];
      if ((yi > y) !== (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  }

  // ---- what each point looks like ---------------------------------------------------------
  function highlightedPartners() {
    if (!state.hover) return null;
    return { side: sides[state.hover.side].other, indices: sides[state.hover.side].partners[state.hover.index].slice() };
  }
  // Cached per selection: pointRole runs for every point on every redraw.
  function selectedPoints(k) {
    if (!state.selection) return {};
    if (!state.selPoints) {
      var sp = { a: {}, b: {} };
      state.selection.forEach(function (pk) { sp.a[data.pairs[pk].a] = true; sp.b[data.pairs[pk].b] = true; });
      state.selPoints = sp;
    }
    return state.selPoints[k];
  }
  function pointRole(k, i, partners) {
    var h = state.hover, hp = partners === undefined ? highlightedPartners() : partners;
    if (h && h.side === k && h.index === i) return 'hover';
    if (hp && hp.side === k && hp.indices.indexOf(i) >= 0) return 'partner';
    if (state.selection && state.selectionSource !== 'group' && selectedPoints(k)[i]) return 'selected';
    if (state.group >= 0 && groups[state.group][k][i]) return 'group';
    return 'base';
  }
  function styleOf(k, i, partners) {
    var role = pointRole(k, i, partners);
    if (role === 'hover') return { role: role, fill: COLORS.hover, r: 7 };
    if (role === 'partner') return { role: role, fill: COLORS.partner, r: 7 };
    if (role === 'selected') return { role: role, fill: COLORS.selected, r: 5 };
    if (role === 'group') return { role: role, fill: groups[state.group].color, r: 5 };
    return { role: role, fill: COLORS[k], r: 2.4 };
  }

  // ---- drawing ------------------------------------------------------------------------------
  function meshPairs() {
    if (state.group < 0 || !state.mesh) return [];
    return groups[state.group].pairs.slice(0, MESH_MAX);
  }
  function draw(s) {
    var ctx = s.ctx, k = s.key;
    ctx.clearRect(0, 0, s.w, s.h);
    ctx.fillStyle = '#0c1016'; ctx.fillRect(0, 0, s.w, s.h);
    ctx.strokeStyle = '#1d2430'; ctx.lineWidth = 1;
    for (var g = 1; g < 8; g++) {
      ctx.beginPath(); ctx.moveTo(s.w * g / 8, 0); ctx.lineTo(s.w * g / 8, s.h); ctx.stroke();
      ctx.beginPath(); ctx.moveTo(0, s.h * g / 8); ctx.lineTo(s.w, s.h * g / 8); ctx.stroke();
    }
    var mp = meshPairs();
    if (mp.length > 1) {
      ctx.strokeStyle = COLORS.mesh; ctx.lineWidth = 1;
      var idx = mp.map(function (pk) { return k === 'a' ? data.pairs[pk].a : data.pairs[pk].b; });
      ctx.beginPath();
      for (var u = 0; u < idx.length; u++) for (var v = u + 1; v < idx.length; v++) {
        ctx.moveTo(s.sx[idx[u]], s.sy[idx[u]]); ctx.lineTo(s.sx[idx[v]], s.sy[idx[v]]);
      }
      ctx.stroke();
    }
    // Base points first, emphasised ones on top.
    var layers = { base: [], group: [], selected: [], partner: [], hover: [] };
    var hp = highlightedPartners();
    for (var i = 0; i < s.points.length; i++) layers[pointRole(k, i, hp)].push(i);
    ['base', 'group', 'selected', 'partner', 'hover'].forEach(function (role) {
      layers[role].forEach(function (i) {
        var st = styleOf(k, i, hp);
        ctx.beginPath(); ctx.arc(s.sx[i], s.sy[i], st.r, 0, 2 * Math.PI);
        ctx.fillStyle = st.fill; ctx.globalAlpha = role === 'base' ? 0.75 : 1; ctx.fill(); ctx.globalAlpha = 1;
        if (role !== 'base') { ctx.lineWidth = role === 'hover' || role === 'partner' ? 2 : 1; ctx.strokeStyle = '#0b0e13'; ctx.stroke(); }
        if (role === 'partner' || role === 'hover') {
          ctx.beginPath(); ctx.arc(s.sx[i], s.sy[i], st.r + 4, 0, 2 * Math.PI);
          ctx.strokeStyle = '#ffffff'; ctx.lineWidth = 1.5; ctx.stroke();
        }
      });
    });
    var d = state.drag;
    if (d && d.side === k && d.path.length > 1) {
      ctx.strokeStyle = COLORS.selected; ctx.lineWidth = 1.5; ctx.setLineDash([5, 4]);
      ctx.fillStyle = 'rgba(255,191,71,0.10)';
      ctx.beginPath();
      var poly = dragPolygon(d);
      ctx.moveTo(poly[0][0], poly[0][1]);
      for (var q = 1; q < poly.length; q++) ctx.lineTo(poly[q][0], poly[q][1]);
      ctx.closePath(); ctx.fill(); ctx.stroke(); ctx.setLineDash([]);
    }
  }
  function redraw() { draw(sides.a); draw(sides.b); }

  // ---- text panels --------------------------------------------------------------------------
  function describe(k, i) {
    var s = sides[k], p = s.points[i], lines = ['Feature ' + p.id, 'Label: ' + (p.label || '–')];
    if (p.category) lines.push('Group: ' + p.category);
    var ks = s.pairsOf[i];
    if (!ks.length) lines.push('Mapped to ' + s.other.toUpperCase() + ': none');
    ks.slice(0, 4).forEach(function (pk) {
      var pr = data.pairs[pk], o = sides[s.other].points[k === 'a' ? pr.b : pr.a];
      lines.push('Mapped to ' + s.other.toUpperCase() + ': ' + o.id + ' (' + (o.label || '–') + '), correlation ' + fmt(pr.correlation));
    });
    if (ks.length > 4) lines.push('… and ' + (ks.length - 4) + ' more');
    return lines.join('\n');
  }
  function updateInfo() {
    ['a', 'b'].forEach(function (k) {
      var box = $('info-' + k), h = state.hover, hp = highlightedPartners();
      if (h && h.side === k) box.textContent = describe(k, h.index);
      else if (hp && hp.side === k && hp.indices.length) box.textContent = describe(k, hp.indices[0]);
      else box.textContent = 'Hover a point for its feature, label and mapped partner.';
    });
  }
  function showTooltip(k, i, cx, cy) {
    var t = $('tooltip');
    if (!k) { t.style.display = 'none'; return; }
    t.textContent = describe(k, i);
    t.style.display = 'block';
    var x = Math.min(cx + 14, window.innerWidth - t.offsetWidth - 8), y = Math.min(cy + 14, window.innerHeight - t.offsetHeight - 8);
    t.style.left = x + 'px'; t.style.top = y + 'px';
  }
  function setHover(k, i) {
    var same = state.hover ? state.hover.side === k && state.hover.index === i : k === null;
    if (same) return;
    state.hover = k === null ? null : { side: k, index: i };
    updateInfo(); redraw();
  }

  function renderTable() {
    var body = $('pair-table-body'), sel = state.selection || [];
    body.textContent = '';
    $('pair-table-title').textContent = state.selection
      ? state.selectionLabel + ' — ' + sel.length + ' pair' + (sel.length === 1 ? '' : 's')
      : 'Select points (box or lasso on either panel) or pick a group to list their pairs';
    sel.forEach(function (pk) {
      var pr = data.pairs[pk], pa = sides.a.points[pr.a], pb = sides.b.points[pr.b];
      var tr = el('tr');
      tr.setAttribute('data-testid', 'pair-row');
      tr.setAttribute('data-pair', String(pk));
      tr.setAttribute('data-a', String(pr.a));
      tr.setAttribute('data-b', String(pr.b));
      tr.appendChild(el('td', pa.id, 'num mono'));
      tr.appendChild(el('td', pa.label));
      tr.appendChild(el('td', pb.id, 'num mono'));
      tr.appendChild(el('td', pb.label));
      tr.appendChild(el('td', fmt(pr.correlation), 'num corr'));
      tr.addEventListener('mouseenter', function () { tr.className = 'hl'; setHover('a', pr.a); });
      tr.addEventListener('mouseleave', function () { tr.className = ''; setHover(null, -1); });
      body.appendChild(tr);
    });
    renderLive();
  }
  function renderLive() {
    var box = $('live-metrics'), sel = state.selection;
    if (!sel || !sel.length) { box.textContent = 'Current selection: none'; return; }
    if (sel.length > LIVE_MAX) { box.textContent = 'Current selection: ' + sel.length + ' pairs (too many for live statistics)'; return; }
    var sum = 0, sum2 = 0;
    sel.forEach(function (pk) { var c = data.pairs[pk].correlation; sum += c; sum2 += c * c; });
    var m = sum / sel.length, sd = Math.sqrt(Math.max(0, sum2 / sel.length - m * m));
    box.textContent = 'Current selection: ' + sel.length + (sel.length === 1 ? ' pair' : ' pairs') + ', mean activation correlation ' + fmt(m) + ' (sd ' + fmt(sd) + ')';
  }
  function setSelection(pairKeys, label, source) {
    state.selection = pairKeys; state.selPoints = null; state.selectionLabel = label; state.selectionSource = source || 'points';
    renderTable(); redraw();
  }

  function renderMetrics() {
    var body = $('metrics-body');
    body.textContent = '';
    var scopes = [{ name: 'All kept pairs', set: data.metrics.selection, group: -1 }];
    groups.forEach(function (g, gi) { scopes.push({ name: g.name, set: data.metrics.groups[g.name] || {}, group: gi }); });
    scopes.forEach(function (sc) {
      var tr = el('tr');
      tr.setAttribute('data-testid', 'metrics-row');
      tr.setAttribute('data-scope', sc.name);
      if (sc.group >= 0 && sc.group === state.group) tr.className = 'current';
      var name = el('td', sc.name, 'scope');
      if (sc.group >= 0) { var sw = el('span', '● '); sw.style.color = groups[sc.group].color; name.insertBefore(sw, name.firstChild); }
      tr.appendChild(name);
      $('metrics-table').getAttribute('data-metrics').split(',').forEach(function (m) {
        var v = sc.set[m], td = el('td', '', 'num');
        if (v) {
          td.appendChild(el('div', fmt(v.observed), 'obs'));
          td.appendChild(el('div', 'null ' + fmt(v.nullMean, 2) + '±' + fmt(v.nullSd, 2), 'null muted'));
          td.appendChild(el('div', 'p = ' + fmtP(v.p), v.p <= 0.05 ? 'null sig' : 'null muted'));
          td.title = 'artifact ' + (v.artifactId || data.provenance.scores || '–');
          td.setAttribute('data-metric', m);
        } else td.textContent = '–';
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  // ---- interaction --------------------------------------------------------------------------
  function dragPolygon(d) {
    if (state.mode === 'lasso' || d.mode === 'lasso') return d.path;
    var a = d.path[0], b = d.path[d.path.length - 1];
    return [[a[0], a[1]], [b[0], a[1]], [b[0], b[1]], [a[0], b[1]]];
  }
  function pairsOfPoints(k, idx) {
    var seen = {}, out = [];
    idx.forEach(function (i) { sides[k].pairsOf[i].forEach(function (pk) { if (!seen[pk]) { seen[pk] = true; out.push(pk); } }); });
    return out.sort(function (x, y) { return x - y; });
  }
  function pointsInPolygon(k, poly) {
    var s = sides[k], out = [];
    for (var i = 0; i < s.points.length; i++) if (insidePolygon(s.sx[i], s.sy[i], poly)) out.push(i);
    return out;
  }
  function local(s, ev) { var r = s.canvas.getBoundingClientRect(); return [ev.clientX - r.left, ev.clientY - r.top]; }
  function bind(s) {
    var c = s.canvas;
    c.addEventListener('mousedown', function (ev) {
      state.drag = { side: s.key, mode: state.mode, path: [local(s, ev)] };
      ev.preventDefault();
    });
    c.addEventListener('mousemove', function (ev) {
      var p = local(s, ev);
      if (state.drag && state.drag.side === s.key) {
        if (state.drag.mode === 'lasso') state.drag.path.push(p); else state.drag.path[1] = p;
        showTooltip(null); draw(s); return;
      }
      var i = nearest(s, p[0], p[1], 8);
      if (i >= 0) { setHover(s.key, i); showTooltip(s.key, i, ev.clientX, ev.clientY); }
      else { setHover(null, -1); showTooltip(null); }
    });
    c.addEventListener('mouseleave', function () { if (!state.drag) { setHover(null, -1); showTooltip(null); } });
  }
  window.addEventListener('mouseup', function (ev) {
    var d = state.drag;
    if (!d) return;
    state.drag = null;
    var s = sides[d.side], end = local(s, ev);
    if (d.mode !== 'lasso') d.path[1] = end;
    var a = d.path[0], moved = Math.abs(end[0] - a[0]) + Math.abs(end[1] - a[1]);
    if (moved < 4 || d.path.length < 2) {
      // A click: pin the pairs of the point under the cursor, or clear on empty space.
      var i = nearest(s, a[0], a[1], 8);
      if (i >= 0) setSelection(pairsOfPoints(s.key, [i]), 'Pairs of ' + s.key.toUpperCase() + ' feature ' + s.points[i].id);
      else { state.selection = null; renderTable(); redraw(); }
      return;
    }
    var idx = pointsInPolygon(s.key, dragPolygon(d));
    state.lastSelectedPoints = { side: s.key, indices: idx };
    setSelection(pairsOfPoints(s.key, idx), (d.mode === 'lasso' ? 'Lasso' : 'Box') + ' on ' + s.key.toUpperCase() + ': ' + idx.length + (idx.length === 1 ? ' point' : ' points'));
  });

  function selectGroup(gi) {
    state.group = gi;
    $('group-select').value = String(gi);
    if (gi >= 0) $('legend-group').style.background = groups[gi].color;
    if (gi >= 0) setSelection(groups[gi].pairs.slice(), 'Pairs involving “' + groups[gi].name + '”', 'group');
    else { state.selection = null; renderTable(); }
    renderMetrics(); redraw();
  }

  function setupControls() {
    var gs = $('group-select');
    var none = el('option', '(no group)'); none.value = '-1'; gs.appendChild(none);
    groups.forEach(function (g, gi) {
      var o = el('option', g.name + ' (A:' + g.countA + ', B:' + g.countB + ')'); o.value = String(gi); gs.appendChild(o);
    });
    gs.addEventListener('change', function () { selectGroup(Number(gs.value)); });
    $('mesh-toggle').addEventListener('change', function () { state.mesh = $('mesh-toggle').checked; redraw(); });
    Array.prototype.forEach.call(document.querySelectorAll('input[name="mode"]'), function (r) {
      r.addEventListener('change', function () { if (r.checked) state.mode = r.value; });
    });
    $('clear-selection').addEventListener('click', function () { state.selection = null; renderTable(); redraw(); });
  }

  // ---- start --------------------------------------------------------------------------------
  setupCanvas(sides.a); setupCanvas(sides.b);
  resize(sides.a); resize(sides.b);
  [sides.a, sides.b].forEach(bind);
  setupControls();
  renderMetrics(); renderTable(); updateInfo(); redraw();
  window.addEventListener('resize', function () { resize(sides.a); resize(sides.b); redraw(); });

  // Stable hooks for tests and for people scripting the page from the console.
  window.ufgMap = {
    ready: true,
    pointCount: function (k) { return sides[k].points.length; },
    indexOfFeature: function (k, id) { var i = sides[k].byId[id]; return i === undefined ? -1 : i; },
    /** Viewport (client) coordinates of a point's centre. */
    pointScreenPosition: function (k, i) {
      var s = sides[k], r = s.canvas.getBoundingClientRect();
      return { x: r.left + s.sx[i], y: r.top + s.sy[i] };
    },
    hovered: function () { return state.hover ? { side: state.hover.side, index: state.hover.index } : null; },
    highlightedPartners: highlightedPartners,
    selectedPairs: function () { return state.selection ? state.selection.slice() : []; },
    lastSelectedPoints: function () { return state.lastSelectedPoints || null; },
    pointStyle: function (k, i) { var st = styleOf(k, i); return { role: st.role, fill: st.fill, radius: st.r }; },
    /** RGBA actually drawn at a point's centre (reads the canvas). */
    pixelAt: function (k, i) {
      var s = sides[k], dpr = window.devicePixelRatio || 1;
      var px = s.ctx.getImageData(Math.round(s.sx[i] * dpr), Math.round(s.sy[i] * dpr), 1, 1).data;
      return [px[0], px[1], px[2], px[3]];
    },
    groupColor: function (name) { for (var g = 0; g < groups.length; g++) if (groups[g].name === name) return groups[g].color; return null; },
    groupMembers: function (name, k) {
      for (var g = 0; g < groups.length; g++) if (groups[g].name === name) return Object.keys(groups[g][k]).map(Number).sort(function (x, y) { return x - y; });
      return [];
    },
    selectGroup: function (name) { for (var g = 0; g < groups.length; g++) if (groups[g].name === name) return selectGroup(g); selectGroup(-1); },
    meshPairs: meshPairs,
    setMode: function (m) { state.mode = m; var r = document.querySelector('input[name="mode"][value="' + m + '"]'); if (r) r.checked = true; }
  };
  document.body.setAttribute('data-ufg-ready', '1');
})();
