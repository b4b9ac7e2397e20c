/* The network views: side panel with provenance, click to grow, double-click to recentre,
   filters in place, the cap, the URL as state, export. Data are set as text, never markup. */
(function () {
  "use strict";
  function json(id) { return JSON.parse(document.getElementById(id).textContent); }
  var meta = json("rk-meta"), page = json("rk-page"), data = json("rk-data");
  var container = document.getElementById("rk-network");
  var panel = document.getElementById("rk-panel");
  var sources = {}, expanded = {}, panelSeq = 0;
  var hiddenLabels = {}, hiddenTypes = {};

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

  // -- nodes and edges as build_network makes them (api/views/network.py) ----------------------
  function visNode(n, x, y) {
    var s = styleOf(n.label);
    var node = { id: n.id, label: String(n.name || n.id), shape: s.shape, color: s.color, kind: n.label,
      title: (n.name || "") + " · " + s.zh + " " + s.en, data: n, hidden: !!hiddenLabels[n.label] };
    if (x != null) { node.x = x; node.y = y; }
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

  function present(kind, ds) {
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
    input.addEventListener("change", function () { hidden[value] = !input.checked; onChange(); });
    label.appendChild(input);
    if (color) { var s = el("span", null, "rk-swatch"); s.style.background = color; label.appendChild(s); }
    label.appendChild(document.createTextNode(text + " "));
    label.appendChild(el("span", en + " " + count, "en"));
    box.appendChild(label);
  }

  function buildFilters() {
    var labels = present("kind", nodes), types = present("kind", edges);
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
    nodes.update(nodes.map(function (n) { return { id: n.id, hidden: !!hiddenLabels[n.kind] }; }));
    edges.update(edges.map(function (e) { return { id: e.id, hidden: !!hiddenTypes[e.type || e.kind] }; }));
    updateCount();
    saveState();
  }

  function stateParams(overrides) {
    var params = new URLSearchParams();
    var state = Object.assign({}, page.state, overrides || {});
    Object.keys(state).forEach(function (key) {
      if (key === "id" || key === "name") return;
      var value = state[key];
      if (value == null || value === "" || (Array.isArray(value) && !value.length)) return;
      params.set(key, Array.isArray(value) ? value.join(",") : String(value));
    });
    return params;
  }
  function shownOf(hidden, all) {
    var keys = Object.keys(all);
    var shown = keys.filter(function (k) { return !hidden[k]; });
    return shown.length === keys.length ? null : shown.sort();
  }
  function saveState() {
    // Only a filter narrowed here replaces the one the page was opened with.
    var overrides = {};
    var labels = shownOf(hiddenLabels, present("kind", nodes)), types = shownOf(hiddenTypes, present("kind", edges));
    if (labels) overrides.labels = labels;
    if (types) overrides.types = types;
    var url = window.location.pathname + "?" + stateParams(overrides).toString();
    history.replaceState(null, "", url);
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
  function expand(id) {
    if (expanded[id]) return Promise.resolve();
    expanded[id] = true;
    var params = new URLSearchParams({ depth: "1", limit: String(page.expand.limit) });
    if (page.state.types && page.state.types.length) params.set("types", page.state.types.join(","));
    return getJSON(entityUrl(id, "/neighborhood?" + params.toString())).then(function (answer) {
      var origin = network.getPositions([id])[id] || { x: 0, y: 0 };
      var fresh = answer.nodes.filter(function (n) { return !nodes.get(n.id); });
      var ring = 130 + 6 * fresh.length;
      nodes.add(fresh.map(function (n, i) {
        var a = (2 * Math.PI * i) / Math.max(fresh.length, 1);
        return visNode(n, origin.x + ring * Math.cos(a), origin.y + ring * Math.sin(a));
      }));
      edges.add(answer.edges.filter(function (e) { return !edges.get(edgeId(e)); }).map(visEdge));
      buildFilters();
      updateCount();
      if (answer.truncated) {
        panel.appendChild(el("p", "展开时省略了 " + answer.cut.nodes + " 个邻居 (" + answer.cut.nodes + " neighbours left out)", "rk-hint"));
      }
    }).catch(function (err) { expanded[id] = false; panel.appendChild(el("p", "展开失败:" + err.message, "rk-error")); });
  }
  window.ruralkg.expand = expand;

  network.on("click", function (params) {
    if (params.nodes.length) { showNode(params.nodes[0]); expand(params.nodes[0]); }
    else if (params.edges.length) showEdge(params.edges[0]);
  });
  network.on("doubleClick", function (params) {
    if (!params.nodes.length) return;
    var id = params.nodes[0];
    var query = page.view === "entity" ? stateParams() : new URLSearchParams({ limit: String(page.cap.limit) });
    window.location.assign("/view/entities/" + encodeURIComponent(id) + "?" + query.toString());
  });

  // -- the cap and export -----------------------------------------------------------------------
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

  function download(name, href) {
    var a = el("a");
    a.href = href;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
  }
  function fileStem() { return "ruralkg-" + page.view + (page.center ? "-" + page.center.replace(/[^a-z0-9.-]+/gi, "_") : ""); }
  function shownSubgraph() {
    return {
      view: page.view, center: page.center, url: window.location.pathname + window.location.search,
      nodes: nodes.get({ filter: function (n) { return !n.hidden; } }).map(function (n) { return n.data; }),
      edges: edges.get({ filter: function (e) { return !e.hidden && !nodes.get(e.from).hidden && !nodes.get(e.to).hidden; } }).map(function (e) { return e.data; })
    };
  }
  window.ruralkg.shownSubgraph = shownSubgraph;
  document.getElementById("rk-export-json").addEventListener("click", function () {
    var blob = new Blob([JSON.stringify(shownSubgraph(), null, 2)], { type: "application/json" });
    var url = URL.createObjectURL(blob);
    download(fileStem() + ".json", url);
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  });
  document.getElementById("rk-export-png").addEventListener("click", function () {
    var canvas = container.querySelector("canvas");
    var out = document.createElement("canvas");
    out.width = canvas.width;
    out.height = canvas.height;
    var ctx = out.getContext("2d");
    ctx.fillStyle = "#ffffff";
    ctx.fillRect(0, 0, out.width, out.height);
    ctx.drawImage(canvas, 0, 0);
    download(fileStem() + ".png", out.toDataURL("image/png"));
  });

  // Labels/types the URL names but the view does not show start unchecked: nothing to do, the
  // server already left them out. Start with every present label and type shown.
  buildFilters();
  updateCount();
})();
