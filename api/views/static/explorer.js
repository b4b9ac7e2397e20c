/* The network views as an analyst's workbench: side panel with provenance; click to grow
   (new nodes placed around the one grown, none on another, the view re-fitted when they
   leave it); pin, hide, multi-select, undo/redo; a context menu (expand by relationship type,
   shortest path between the selected nodes); shared-vocabulary clusters opened in place;
   filters in place; the whole scene kept in the URL (compressed); exports.
   Data are set as text, never markup. */
(function () {
  "use strict";
  function json(id) { return JSON.parse(document.getElementById(id).textContent); }
  var meta = json("rk-meta"), page = json("rk-page"), data = json("rk-data");
  var container = document.getElementById("rk-network");
  var panel = document.getElementById("rk-panel");
  var menu = document.getElementById("rk-menu");
  var X = window.ruralkgExports;
  var sources = {}, panelSeq = 0;
  var hiddenLabels = {}, hiddenTypes = {};
  // The scene: what was done to the view the server drew, replayable from the URL.
  var scene = { ops: [], expanded: {}, hidden: {}, pinned: {} };
  var undoStack = [], redoStack = [], UNDO_STEPS = 50;
  var SIZE_MIN = 10, GAP = 12, FIT_MAX_ZOOM = 1.6;

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text != null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function styleOf(label) { return meta.styles[label] || { zh: label, en: label, color: "#999999", shape: "dot" }; }
  function relName(type) { return meta.relationship_names[type] || type; }
  function getJSON(url) {
    return fetch(url, { headers: { accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) throw new Error((body && (body.detail || body.title)) || r.statusText);
        return body;
      });
    });
  }
  function entityUrl(id, query) { return "/entities/" + encodeURIComponent(id) + (query || ""); }
  var busy = 0;
  function track(promise) {
    busy += 1;
    document.body.dataset.busy = String(busy);
    return promise.finally(function () { busy -= 1; document.body.dataset.busy = String(busy); });
  }
  document.body.dataset.busy = "0";

  // -- nodes and edges as build_network makes them (api/views/network.py) ----------------------
  function isHidden(id, label) { return !!(hiddenLabels[label] || scene.hidden[id]); }
  function visNode(n, x, y) {
    var s = styleOf(n.label);
    var node = { id: n.id, label: String(n.name || n.id), shape: s.shape, color: s.color, kind: n.label,
      title: (n.name || "") + " · " + s.zh + " " + s.en, data: n, hidden: isHidden(n.id, n.label), size: SIZE_MIN, x: x, y: y };
    if (n.cluster) { node.borderWidth = 3; node.shapeProperties = { borderDashes: [6, 3] }; }
    return node;
  }
  function edgeId(e) { return e.start + "|" + e.type + "|" + e.end; }
  function visEdge(e) {
    return { id: edgeId(e), from: e.start, to: e.end, arrows: "to", label: relName(e.type), kind: e.type,
      title: relName(e.type) + " " + e.type, data: e, hidden: !!hiddenTypes[e.type] };
  }

  var drawn = window.ruralkgNetwork.draw(container, data, function (state) {
    window.ruralkg.settledAt = state.settledAt;
    document.body.setAttribute("data-settled", "true");
  });
  var network = drawn.network, nodes = drawn.nodes, edges = drawn.edges;
  window.ruralkg = { network: network, nodes: nodes, edges: edges, page: page, settledAt: null };

  // -- placing new nodes: as api/views/network.py `separated` does on the server ---------------
  function sizeOf(n) { return n.size || SIZE_MIN; }
  function occupancy() {
    var pos = network.getPositions(), cell = 2 * 40 + GAP, grid = {};
    function key(x, y) { return Math.floor(x / cell) + "," + Math.floor(y / cell); }
    function add(x, y, r) { var k = key(x, y); (grid[k] = grid[k] || []).push([x, y, r]); }
    function free(x, y, r) {
      var cx = Math.floor(x / cell), cy = Math.floor(y / cell);
      for (var dx = -1; dx <= 1; dx++) for (var dy = -1; dy <= 1; dy++) {
        var list = grid[(cx + dx) + "," + (cy + dy)] || [];
        for (var i = 0; i < list.length; i++) {
          var need = r + list[i][2] + GAP, ddx = x - list[i][0], ddy = y - list[i][1];
          if (ddx * ddx + ddy * ddy < need * need) return false;
        }
      }
      return true;
    }
    nodes.forEach(function (n) { if (!n.hidden && pos[n.id]) add(pos[n.id].x, pos[n.id].y, sizeOf(n)); });
    // The first free point on rings around (x, y), nearest ring first.
    function near(x, y, r, startRing) {
      var step = 2 * r + GAP;
      for (var ring = startRing || 1; ring < 400; ring++) {
        var radius = ring * step, slots = Math.max(6, Math.floor(2 * Math.PI * radius / step));
        for (var i = 0; i < slots; i++) {
          var a = 2 * Math.PI * i / slots, px = x + radius * Math.cos(a), py = y + radius * Math.sin(a);
          if (free(px, py, r)) { add(px, py, r); return { x: Math.round(px * 10) / 10, y: Math.round(py * 10) / 10 }; }
        }
      }
      return { x: x, y: y };
    }
    return { near: near, free: free, add: add };
  }

  function ensureVisible() {
    var pos = network.getPositions(), w = container.clientWidth, h = container.clientHeight, margin = 16;
    var off = nodes.get({ filter: function (n) { return !n.hidden; } }).some(function (n) {
      var p = network.canvasToDOM(pos[n.id]), r = sizeOf(n) * network.getScale();
      return p.x - r < margin || p.y - r < margin || p.x + r > w - margin || p.y + r > h - margin;
    });
    if (off) network.fit({ animation: false, maxZoomLevel: FIT_MAX_ZOOM });
  }

  // -- undo and redo: a snapshot of the whole scene before each change -------------------------
  function snapshot() {
    var pos = network.getPositions();
    return {
      nodes: nodes.get().map(function (n) { return Object.assign({}, n, pos[n.id] ? { x: pos[n.id].x, y: pos[n.id].y } : {}); }),
      edges: edges.get(),
      scene: JSON.parse(JSON.stringify(scene))
    };
  }
  function restore(snap) {
    scene = snap.scene;
    nodes.clear();
    edges.clear();
    nodes.add(snap.nodes);
    edges.add(snap.edges);
    afterChange();
  }
  function record() {
    undoStack.push(snapshot());
    if (undoStack.length > UNDO_STEPS) undoStack.shift();
    redoStack = [];
    updateTools();
  }
  function undo() { if (undoStack.length) { redoStack.push(snapshot()); restore(undoStack.pop()); } }
  function redo() { if (redoStack.length) { undoStack.push(snapshot()); restore(redoStack.pop()); } }
  function updateTools() {
    document.getElementById("rk-undo").disabled = !undoStack.length;
    document.getElementById("rk-redo").disabled = !redoStack.length;
    document.getElementById("rk-unhide").disabled = !Object.keys(scene.hidden).length;
    document.getElementById("rk-undo").dataset.steps = String(undoStack.length);
  }
  function afterChange() {
    buildFilters();
    updateCount();
    updateTools();
    saveScene();
  }

  // -- counts, filters, URL state -------------------------------------------------------------
  function updateCount() {
    var shownNodes = nodes.get({ filter: function (n) { return !n.hidden; } }).length;
    var shownEdges = edges.get({ filter: function (e) { return !e.hidden; } }).length;
    var count = document.getElementById("rk-count");
    count.textContent = "节点 " + shownNodes + " · 关系 " + shownEdges + (shownNodes < nodes.length ? "(共 " + nodes.length + " 个节点)" : "");
    count.dataset.nodes = String(shownNodes);
    count.dataset.total = String(nodes.length);
    count.dataset.edges = String(shownEdges);
  }

  function present(ds) {
    var seen = {};
    ds.forEach(function (item) { seen[item.kind] = (seen[item.kind] || 0) + 1; });
    return seen;
  }

  function checkbox(box, value, text, en, count, hidden, onChange, color) {
    var label = el("label", null, "rk-check");
    var input = el("input");
    input.type = "checkbox";
    input.value = value;
    input.checked = !hidden[value];
    input.addEventListener("change", function () { record(); if (input.checked) delete hidden[value]; else hidden[value] = true; onChange(); });
    label.appendChild(input);
    if (color) { var s = el("span", null, "rk-swatch"); s.style.background = color; label.appendChild(s); }
    label.appendChild(document.createTextNode(text + " "));
    label.appendChild(el("span", en + " " + count, "en"));
    box.appendChild(label);
  }

  function buildFilters() {
    var labels = present(nodes), types = present(edges);
    var lbox = document.getElementById("rk-filter-labels"), tbox = document.getElementById("rk-filter-types");
    lbox.replaceChildren();
    tbox.replaceChildren();
    Object.keys(meta.styles).concat(Object.keys(labels).filter(function (k) { return !meta.styles[k]; })).forEach(function (label) {
      if (labels[label]) checkbox(lbox, label, styleOf(label).zh, styleOf(label).en, labels[label], hiddenLabels, applyFilters, styleOf(label).color);
    });
    Object.keys(types).sort().forEach(function (type) {
      checkbox(tbox, type, relName(type), type, types[type], hiddenTypes, applyFilters, null);
    });
  }

  function applyFilters() {
    nodes.update(nodes.map(function (n) { return { id: n.id, hidden: isHidden(n.id, n.kind) }; }));
    edges.update(edges.map(function (e) { return { id: e.id, hidden: !!hiddenTypes[e.kind] }; }));
    updateCount();
    updateTools();
    saveScene();
  }

  function stateParams(overrides) {
    var params = new URLSearchParams();
    var state = Object.assign({}, page.state, overrides || {});
    Object.keys(state).forEach(function (key) {
      if (key === "id" || key === "name") return;
      var value = state[key];
      if (value == null || value === "" || value === false || (Array.isArray(value) && !value.length)) return;
      params.set(key, Array.isArray(value) ? value.join(",") : String(value));
    });
    return params;
  }
  // -- the scene in the URL: deflated JSON, base64url, after #s= -------------------------------
  function b64url(bytes) {
    var s = "";
    for (var i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function unb64url(text) {
    var s = atob(text.replace(/-/g, "+").replace(/_/g, "/"));
    var out = new Uint8Array(s.length);
    for (var i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
    return out;
  }
  function pipe(bytes, stream) { return new Response(new Blob([bytes]).stream().pipeThrough(stream)).arrayBuffer(); }
  function encodeScene(obj) {
    return pipe(new TextEncoder().encode(JSON.stringify(obj)), new CompressionStream("deflate-raw")).then(function (buf) { return b64url(new Uint8Array(buf)); });
  }
  function decodeScene(text) {
    return pipe(unb64url(text), new DecompressionStream("deflate-raw")).then(function (buf) { return JSON.parse(new TextDecoder().decode(buf)); });
  }
  function sceneObject() {
    var pos = network.getPositions(), at = {};
    Object.keys(pos).forEach(function (id) { at[id] = [Math.round(pos[id].x), Math.round(pos[id].y)]; });
    var view = network.getViewPosition();
    return { v: 1, o: scene.ops, h: Object.keys(scene.hidden), p: Object.keys(scene.pinned), l: Object.keys(hiddenLabels),
      t: Object.keys(hiddenTypes), x: at, c: [Math.round(view.x), Math.round(view.y), Math.round(network.getScale() * 1000) / 1000] };
  }
  var saveTimer = null, restoring = false;
  function saveScene() {
    if (restoring) return;
    clearTimeout(saveTimer);
    saveTimer = setTimeout(function () {
      saveTimer = null;
      track(encodeScene(sceneObject()).then(function (text) {
        // The query stays the one the server answered (filters set here live in the scene):
        // the scene replays on the same base view.
        history.replaceState(null, "", window.location.pathname + "?" + stateParams().toString() + "#s=" + text);
      }));
    }, 150);
  }
  window.ruralkg.sceneReady = function () {
    return new Promise(function (resolve) {
      (function wait() { if (!saveTimer && !busy) resolve(window.location.href); else setTimeout(wait, 50); })();
    });
  };

  function restoreScene(text) {
    restoring = true;
    return decodeScene(text).then(function (s) {
      var chain = Promise.resolve();
      (s.o || []).forEach(function (op) {
        chain = chain.then(function () {
          if (op[0] === "x") return expand(op[1], op[2], true);
          if (op[0] === "p") return pathBetween(op[1], op[2], true);
          if (op[0] === "c") return openCluster(op[1], true);
        });
      });
      return chain.then(function () {
        (s.l || []).forEach(function (k) { hiddenLabels[k] = true; });
        (s.t || []).forEach(function (k) { hiddenTypes[k] = true; });
        (s.h || []).forEach(function (k) { scene.hidden[k] = true; });
        (s.p || []).forEach(function (k) { scene.pinned[k] = true; });
        var updates = [];
        nodes.forEach(function (n) {
          var at = s.x && s.x[n.id], u = { id: n.id, hidden: isHidden(n.id, n.kind) };
          if (at) { u.x = at[0]; u.y = at[1]; }
          if (scene.pinned[n.id]) Object.assign(u, pinStyle(true));
          updates.push(u);
        });
        nodes.update(updates);
        edges.update(edges.map(function (e) { return { id: e.id, hidden: !!hiddenTypes[e.kind] }; }));
        if (s.c) network.moveTo({ position: { x: s.c[0], y: s.c[1] }, scale: s.c[2], animation: false });
      });
    }).catch(function (err) {
      panel.appendChild(el("p", "场景链接无法读取 The scene in the link could not be read: " + err.message, "rk-error"));
    }).finally(function () {
      restoring = false;
      buildFilters();
      updateCount();
      updateTools();
      document.body.dataset.scene = "restored";
    });
  }
  // -- the side panel ---------------------------------------------------------------------------
  function sourceInfo(id) {
    if (!sources[id]) {
      sources[id] = getJSON(entityUrl(id, "?limit=1")).then(function (s) {
        return { id: id, name: s.properties.title || s.name, publisher: s.properties.publisher, date: s.properties.date, url: s.properties.url };
      }).catch(function () { return { id: id, name: id }; });
    }
    return sources[id];
  }
  function sourceLine(src) {
    var p = el("p", null, "rk-source");
    p.appendChild(el("span", "《" + (src.name || src.id) + "》", "rk-source-title"));
    if (src.publisher) p.appendChild(el("span", " " + src.publisher, "rk-publisher"));
    if (src.date) p.appendChild(el("span", " " + src.date, "rk-date"));
    return p;
  }
  function quoteBlock(quote, src) {
    var div = el("div", null, "rk-evidence");
    div.appendChild(el("blockquote", quote, "rk-quote"));
    div.appendChild(sourceLine(src));
    return div;
  }
  function evidenceList(list) {
    var box = el("div", null, "rk-evidence-list");
    if (!list || !list.length) { box.appendChild(el("p", "无证据引文 No evidence quote on this link", "rk-hint")); return box; }
    list.forEach(function (ev) {
      var slot = el("div");
      box.appendChild(slot);
      sourceInfo(ev.source).then(function (src) { slot.replaceWith(quoteBlock(ev.quote, src)); });
    });
    return box;
  }
  function propsList(props) {
    var dl = el("dl", null, "rk-props");
    Object.keys(props || {}).sort().forEach(function (k) {
      var v = props[k];
      if (v == null || k === "sources" || k === "evidence") return;
      dl.appendChild(el("dt", k));
      dl.appendChild(el("dd", Array.isArray(v) ? v.join("、") : typeof v === "object" ? JSON.stringify(v) : String(v)));
    });
    return dl;
  }
  function link(text, href, cls) { var a = el("a", text, cls); a.href = href; return a; }

  function showNode(id) {
    var mine = ++panelSeq;
    panel.replaceChildren(el("p", "加载中… Loading", "rk-hint"));
    getJSON(entityUrl(id, "?limit=200")).then(function (d) {
      if (mine !== panelSeq) return;
      var s = styleOf(d.label);
      var box = el("div", null, "rk-node-panel");
      box.dataset.id = d.id;
      box.appendChild(el("h2", d.name, "rk-panel-name"));
      box.appendChild(el("p", s.zh + " " + s.en + " · " + d.id, "rk-panel-label"));
      var actions = el("p", null, "rk-actions");
      actions.appendChild(link("以此为中心 Recentre", "/view/entities/" + encodeURIComponent(d.id) + "?" + stateParams({ labels: null, types: null }).toString()));
      if (d.label === "Alliance") actions.appendChild(link("联盟树 Tree", "/view/alliances/" + encodeURIComponent(d.id)));
      actions.appendChild(link("JSON", entityUrl(d.id)));
      box.appendChild(actions);
      box.appendChild(el("h3", "属性 Properties"));
      box.appendChild(propsList(d.properties));
      box.appendChild(el("h3", "出处 Provenance"));
      d.provenance.forEach(function (p) {
        sources[p.id] = sources[p.id] || Promise.resolve(p);
        box.appendChild(quoteBlock(p.quote, p));
      });
      box.appendChild(el("h3", "关系 Relationships · " + d.relationships.total));
      var ul = el("ul", null, "rk-rels");
      d.relationships.items.forEach(function (r) {
        var li = el("li", null, "rk-rel");
        var head = el("p", null, "rk-rel-head");
        head.appendChild(el("span", (r.direction === "out" ? "→ " : "← ") + relName(r.type) + " " + r.type + " ", "rk-rel-type"));
        head.appendChild(link(r.other.name, "/view/entities/" + encodeURIComponent(r.other.id)));
        head.appendChild(el("span", " " + styleOf(r.other.label).zh, "rk-label"));
        li.appendChild(head);
        if (Object.keys(r.properties).length) li.appendChild(propsList(r.properties));
        li.appendChild(evidenceList(r.evidence));
        ul.appendChild(li);
      });
      box.appendChild(ul);
      if (d.relationships.total > d.relationships.items.length) box.appendChild(el("p", "还有 " + (d.relationships.total - d.relationships.items.length) + " 条关系未列出", "rk-hint"));
      panel.replaceChildren(box);
    }).catch(function (err) { if (mine === panelSeq) panel.replaceChildren(el("p", "加载失败:" + err.message, "rk-error")); });
  }

  function nameOf(id) { var n = nodes.get(id); return n ? n.data.name : id; }

  function showEdge(eid) {
    var mine = ++panelSeq;
    var e = edges.get(eid);
    if (!e) return;
    var d = e.data;
    var box = el("div", null, "rk-edge-panel");
    box.appendChild(el("h2", relName(d.type) + " " + d.type, "rk-panel-name"));
    var ends = el("p", null, "rk-rel-head");
    ends.appendChild(link(nameOf(d.start), "/view/entities/" + encodeURIComponent(d.start)));
    ends.appendChild(document.createTextNode(" → "));
    ends.appendChild(link(nameOf(d.end), "/view/entities/" + encodeURIComponent(d.end)));
    box.appendChild(ends);
    box.appendChild(propsList(d.properties));
    box.appendChild(el("h3", "证据 Evidence"));
    panel.replaceChildren(box);
    if (d.evidence && d.evidence.length) { box.appendChild(evidenceList(d.evidence)); return; }
    if (d.type === "REACHES") { box.appendChild(el("p", "由 enterprise-reach 查询推得(经项目、成员关系),点击两端查看各自出处。", "rk-hint")); return; }
    // Views built from nested answers carry no quotes: read them from the start entity.
    getJSON(entityUrl(d.start, "?limit=1000")).then(function (detail) {
      if (mine !== panelSeq) return;
      var found = detail.relationships.items.filter(function (r) { return r.direction === "out" && r.other.id === d.end; });
      if (!found.length) { box.appendChild(el("p", "图中没有这条关系的证据", "rk-hint")); return; }
      found.forEach(function (r) {
        if (r.type !== d.type) box.appendChild(el("p", relName(r.type) + " " + r.type, "rk-rel-type"));
        box.appendChild(evidenceList(r.evidence));
      });
    }).catch(function (err) { box.appendChild(el("p", "加载失败:" + err.message, "rk-error")); });
  }


  // -- growing the network ----------------------------------------------------------------------
  function addAround(origin, fresh, spots) {
    var place = occupancy();
    nodes.add(fresh.map(function (n, i) {
      var o = spots ? spots[i] : origin, at = place.near(o.x, o.y, SIZE_MIN);
      return visNode(n, at.x, at.y);
    }));
  }
  function addEdges(list) {
    edges.add(list.filter(function (e) { return nodes.get(e.start) && nodes.get(e.end) && !edges.get(edgeId(e)); }).map(visEdge));
  }
  function grown(replay) {
    if (replay) return;
    ensureVisible();
    afterChange();
  }

  function expand(id, types, replay) {
    var key = id + "|" + (types ? types.join(",") : "");
    if (scene.expanded[key] || !nodes.get(id) || String(id).indexOf("cluster:") === 0) return Promise.resolve(0);
    var params = new URLSearchParams({ depth: "1", limit: String(page.expand.limit) });
    var allowed = types || page.expand.types;
    if (allowed && allowed.length) params.set("types", allowed.join(","));
    return track(getJSON(entityUrl(id, "/neighborhood?" + params.toString())).then(function (answer) {
      if (!replay) record();
      scene.expanded[key] = true;
      scene.ops.push(["x", id, types || null]);
      var origin = network.getPositions([id])[id] || { x: 0, y: 0 };
      var fresh = answer.nodes.filter(function (n) { return !nodes.get(n.id); });
      addAround(origin, fresh);
      addEdges(answer.edges);
      grown(replay);
      if (answer.truncated && !replay) {
        panel.appendChild(el("p", "展开时省略了 " + answer.cut.nodes + " 个邻居 (" + answer.cut.nodes + " neighbours left out)", "rk-hint"));
      }
      return fresh.length;
    }).catch(function (err) { panel.appendChild(el("p", "展开失败:" + err.message, "rk-error")); return 0; }));
  }

  function openCluster(id, replay) {
    var c = nodes.get(id);
    if (!c || !c.data.cluster) return Promise.resolve(0);
    if (!replay) record();
    scene.ops.push(["c", id]);
    var origin = network.getPositions([id])[id];
    edges.remove(edges.getIds({ filter: function (e) { return e.from === id || e.to === id; } }));
    nodes.remove(id);
    var fresh = c.data.cluster.members.filter(function (n) { return !nodes.get(n.id); });
    addAround(origin, fresh);
    addEdges(c.data.cluster.edges);
    grown(replay);
    return Promise.resolve(fresh.length);
  }

  var PATH_DEPTH = 6;
  function pathBetween(a, b, replay) {
    var params = new URLSearchParams({ source: a, target: b, max_depth: String(PATH_DEPTH), limit: "5" });
    return track(getJSON("/paths?" + params.toString()).then(function (answer) {
      if (!answer.paths.length) {
        var box = el("div", null, "rk-path-none");
        box.appendChild(el("p", answer.source.name + " ↔ " + answer.target.name + ":" + PATH_DEPTH + " 步内没有联系 (no connection within " + PATH_DEPTH + " steps, default types)"));
        var more = el("a", "在路径视图中继续查找 Search further in the paths view");
        more.href = "/view/paths?" + new URLSearchParams({ source: a, target: b, max_depth: String(PATH_DEPTH) }).toString();
        box.appendChild(more);
        panel.replaceChildren(box);
        return 0;
      }
      if (!replay) record();
      scene.ops.push(["p", a, b]);
      var pos = network.getPositions([a, b]), fresh = [], spots = [];
      answer.paths.forEach(function (p) {
        var last = p.nodes.length - 1;
        p.nodes.forEach(function (n, i) {
          if (nodes.get(n.id) || fresh.some(function (f) { return f.id === n.id; })) return;
          var t = i / last;
          fresh.push(n);
          spots.push({ x: pos[a].x + (pos[b].x - pos[a].x) * t, y: pos[a].y + (pos[b].y - pos[a].y) * t });
        });
      });
      addAround(null, fresh, spots);
      answer.paths.forEach(function (p) { addEdges(p.edges); });
      var onPath = {};
      answer.paths.forEach(function (p) { p.nodes.forEach(function (n) { onPath[n.id] = true; }); });
      network.selectNodes(Object.keys(onPath));
      grown(replay);
      return fresh.length;
    }).catch(function (err) { panel.appendChild(el("p", "路径查找失败:" + err.message, "rk-error")); return 0; }));
  }

  function pinStyle(on) { return on ? { fixed: true, borderWidth: 3, shapeProperties: { borderDashes: [2, 2] } } : { fixed: false, borderWidth: 1, shapeProperties: { borderDashes: false } }; }
  function pin(ids, on) {
    record();
    ids.forEach(function (id) { if (on) scene.pinned[id] = true; else delete scene.pinned[id]; });
    nodes.update(ids.map(function (id) { return Object.assign({ id: id }, pinStyle(on)); }));
    afterChange();
  }
  function hide(ids) {
    record();
    ids.forEach(function (id) { scene.hidden[id] = true; });
    nodes.update(ids.map(function (id) { return { id: id, hidden: true }; }));
    network.unselectAll();
    afterChange();
  }
  function unhide() {
    record();
    var ids = Object.keys(scene.hidden);
    scene.hidden = {};
    nodes.update(ids.filter(function (id) { return nodes.get(id); }).map(function (id) { return { id: id, hidden: isHidden(id, nodes.get(id).kind) }; }));
    afterChange();
  }
  Object.assign(window.ruralkg, { expand: expand, pathBetween: pathBetween, openCluster: openCluster, pin: pin, hide: hide, unhide: unhide, undo: undo, redo: redo });

  // -- the context menu -------------------------------------------------------------------------
  function hideMenu() { menu.hidden = true; menu.replaceChildren(); }
  function item(text, action, disabled) {
    var li = el("li", null, "rk-menu-item");
    var b = el("button", text);
    b.type = "button";
    b.disabled = !!disabled;
    b.addEventListener("click", function (ev) { ev.stopPropagation(); hideMenu(); action(); });
    li.appendChild(b);
    menu.appendChild(li);
    return b;
  }
  function showMenuAt(point) {
    var box = container.getBoundingClientRect();
    menu.style.left = Math.round(box.left + point.x) + "px";
    menu.style.top = Math.round(box.top + point.y) + "px";
    menu.hidden = false;
  }
  function typeMenu(id, point) {
    menu.replaceChildren(el("li", "加载中… Loading", "rk-hint"));
    showMenuAt(point);
    getJSON(entityUrl(id, "?limit=1000")).then(function (d) {
      var counts = {};
      d.relationships.items.forEach(function (r) { counts[r.type] = (counts[r.type] || 0) + 1; });
      menu.replaceChildren();
      Object.keys(counts).sort().forEach(function (type) {
        item(relName(type) + " " + type + " (" + counts[type] + ")", function () { expand(id, [type]); }).dataset.type = type;
      });
      if (!Object.keys(counts).length) menu.appendChild(el("li", "没有关系 No relationships", "rk-hint"));
    }).catch(function (err) { menu.replaceChildren(el("li", err.message, "rk-error")); });
  }
  network.on("oncontext", function (params) {
    params.event.preventDefault();
    var id = network.getNodeAt(params.pointer.DOM);
    var selected = network.getSelectedNodes();
    if (id != null && selected.indexOf(id) < 0) { selected = selected.concat([id]); network.selectNodes(selected); }
    menu.replaceChildren();
    if (id != null) {
      var n = nodes.get(id);
      if (n.data.cluster) item("打开聚类 Open cluster", function () { openCluster(id); });
      else {
        item("展开 Expand", function () { expand(id); });
        item("按关系类型展开… Expand by relationship type", function () { typeMenu(id, params.pointer.DOM); }).dataset.action = "by-type";
      }
      var pinned = !!scene.pinned[id];
      item(pinned ? "取消固定 Unpin" : "固定 Pin", function () { pin(selected, !pinned); }).dataset.action = "pin";
      item("隐藏 Hide" + (selected.length > 1 ? " (" + selected.length + ")" : ""), function () { hide(selected); }).dataset.action = "hide";
      item("选中节点间最短路径 Shortest path between the selected nodes", function () { pathBetween(selected[0], selected[1]); }, selected.length !== 2).dataset.action = "path";
      if (!n.data.cluster) item("以此为中心 Recentre", function () { window.location.assign("/view/entities/" + encodeURIComponent(id)); });
    } else {
      item("显示隐藏的节点 Show hidden", unhide, !Object.keys(scene.hidden).length);
      item("适应视图 Fit", function () { network.fit({ animation: false, maxZoomLevel: FIT_MAX_ZOOM }); saveScene(); });
      item("撤销 Undo", undo, !undoStack.length);
      item("重做 Redo", redo, !redoStack.length);
    }
    showMenuAt(params.pointer.DOM);
  });
  document.addEventListener("keydown", function (ev) {
    if (ev.key === "Escape") hideMenu();
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "z" && ev.target === document.body) { ev.preventDefault(); if (ev.shiftKey) redo(); else undo(); }
  });
  document.addEventListener("click", function (ev) { if (!menu.contains(ev.target)) hideMenu(); });

  network.on("click", function (params) {
    hideMenu();
    var src = params.event && params.event.srcEvent;
    if (src && (src.ctrlKey || src.metaKey || src.shiftKey)) return;  // adding to the selection
    if (params.nodes.length) {
      var id = params.nodes[params.nodes.length - 1], n = nodes.get(id);
      if (n && n.data.cluster) { openCluster(id); return; }
      showNode(id);
      expand(id);
    } else if (params.edges.length) showEdge(params.edges[0]);
  });
  network.on("doubleClick", function (params) {
    if (!params.nodes.length || String(params.nodes[0]).indexOf("cluster:") === 0) return;
    var id = params.nodes[0];
    var query = page.view === "entity" ? stateParams() : new URLSearchParams({ limit: String(page.cap.limit) });
    window.location.assign("/view/entities/" + encodeURIComponent(id) + "?" + query.toString());
  });
  network.on("dragStart", function (params) { if (params.nodes.length) record(); });
  network.on("dragEnd", function (params) { if (params.nodes.length) saveScene(); });
  network.on("zoom", function () { saveScene(); });

  // -- tools, the cap and export ----------------------------------------------------------------
  document.getElementById("rk-undo").addEventListener("click", undo);
  document.getElementById("rk-redo").addEventListener("click", redo);
  document.getElementById("rk-unhide").addEventListener("click", unhide);
  document.getElementById("rk-fit").addEventListener("click", function () { network.fit({ animation: false, maxZoomLevel: FIT_MAX_ZOOM }); saveScene(); });
  var raise = document.getElementById("rk-raise");
  if (raise) {
    raise.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var limit = Math.max(1, Math.min(page.cap.max, parseInt(document.getElementById("rk-limit").value, 10) || page.cap.limit));
      var params = new URLSearchParams(window.location.search);
      params.set("limit", String(limit));
      window.location.assign(window.location.pathname + "?" + params.toString());
    });
  }
  var form = document.getElementById("rk-query");
  if (form) {
    // A changed control reruns the query at once (the button is there for keyboards).
    form.addEventListener("change", function () { form.requestSubmit(); });
  }

  function fileStem() { return "ruralkg-" + page.view + (page.center ? "-" + page.center.replace(/[^a-z0-9.-]+/gi, "_") : ""); }
  function shownNodes() { return nodes.get({ filter: function (n) { return !n.hidden; } }); }
  function shownEdges() {
    return edges.get({ filter: function (e) { var a = nodes.get(e.from), b = nodes.get(e.to); return !e.hidden && a && b && !a.hidden && !b.hidden; } });
  }
  function shownSubgraph() {
    return {
      view: page.view, center: page.center, url: window.location.pathname + window.location.search,
      nodes: shownNodes().map(function (n) { return n.data; }),
      edges: shownEdges().map(function (e) { return e.data; })
    };
  }
  // What is drawn, with positions, colours and sizes: the files other tools read.
  function drawnGraph() {
    var pos = network.getPositions();
    return {
      nodes: shownNodes().map(function (n) {
        return { id: n.id, label: n.kind, name: n.data.name || n.id, x: Math.round(pos[n.id].x * 10) / 10, y: Math.round(pos[n.id].y * 10) / 10, color: styleOf(n.kind).color, size: sizeOf(n) };
      }),
      edges: shownEdges().map(function (e) { return { start: e.from, type: e.kind, end: e.to, label: relName(e.kind) }; })
    };
  }
  Object.assign(window.ruralkg, { shownSubgraph: shownSubgraph, drawnGraph: drawnGraph });
  function exporter(idSuffix, make) { document.getElementById("rk-export-" + idSuffix).addEventListener("click", make); }
  exporter("json", function () { X.save(fileStem() + ".json", JSON.stringify(shownSubgraph(), null, 2), "application/json"); });
  exporter("svg", function () { X.save(fileStem() + ".svg", X.svg(drawnGraph()), "image/svg+xml"); });
  exporter("graphml", function () { X.save(fileStem() + ".graphml", X.graphml(drawnGraph()), "application/xml"); });
  exporter("gexf", function () { X.save(fileStem() + ".gexf", X.gexf(drawnGraph()), "application/xml"); });
  exporter("nodes", function () { X.save(fileStem() + "-nodes.csv", X.nodesCsv(drawnGraph()), "text/csv"); });
  exporter("edges", function () { X.save(fileStem() + "-edges.csv", X.edgesCsv(drawnGraph()), "text/csv"); });
  exporter("png", function () {
    var canvas = container.querySelector("canvas");
    var out = document.createElement("canvas");
    out.width = canvas.width;
    out.height = canvas.height;
    var ctx = out.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.drawImage(canvas, 0, 0);
    X.save(fileStem() + ".png", out.toDataURL("image/png"), "image/png", true);
  });

  // Labels/types the URL names but the view does not show start unchecked: nothing to do, the
  // server already left them out. Start with every present label and type shown.
  buildFilters();
  updateCount();
  updateTools();
  var hash = /[#&]s=([A-Za-z0-9_-]+)/.exec(window.location.hash);
  if (hash) track(restoreScene(hash[1]));
  else document.body.dataset.scene = "none";
})();
