/* The Cypher console: runs one query through POST /cypher (with the key typed here), shows
   the rows as a table or, when they hold nodes, relationships or paths, as a network drawn
   like the explorer's; CSV download; history kept in this browser. */
(function () {
  "use strict";
  var cfg = JSON.parse(document.getElementById("rk-console").textContent);
  var meta = JSON.parse(document.getElementById("rk-meta").textContent);
  var X = window.ruralkgExports;
  var editor = document.getElementById("rk-cypher"), shade = document.getElementById("rk-highlight");
  var paramsBox = document.getElementById("rk-params"), keyBox = document.getElementById("rk-key");
  var status = document.getElementById("rk-result-status"), table = document.getElementById("rk-table");
  var tableWrap = document.getElementById("rk-table-wrap"), netBox = document.getElementById("rk-result-network");
  var historyList = document.getElementById("rk-history");
  var HISTORY_KEY = "ruralkg.console.history", KEY_KEY = "ruralkg.console.key", HISTORY_MAX = 50;
  var last = null, drawn = null;
  window.ruralkgConsole = { ready: false };

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text != null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function styleOf(label) { return meta.styles[label] || { zh: label, en: label, color: "#999999", shape: "dot" }; }

  // -- the editor -------------------------------------------------------------------------------
  function paint() { window.ruralkgCypher.render(shade, editor.value); shade.scrollTop = editor.scrollTop; shade.scrollLeft = editor.scrollLeft; }
  editor.addEventListener("input", paint);
  editor.addEventListener("scroll", function () { shade.scrollTop = editor.scrollTop; shade.scrollLeft = editor.scrollLeft; });
  editor.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && (ev.ctrlKey || ev.metaKey)) { ev.preventDefault(); run(); }
  });

  // -- history ----------------------------------------------------------------------------------
  function history() { try { return JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]"); } catch (e) { return []; } }
  function remember(query, params) {
    var list = history().filter(function (h) { return h.query !== query || h.params !== params; });
    list.unshift({ query: query, params: params });
    localStorage.setItem(HISTORY_KEY, JSON.stringify(list.slice(0, HISTORY_MAX)));
    showHistory();
  }
  function showHistory() {
    historyList.replaceChildren();
    history().forEach(function (h) {
      var li = el("li", null, "rk-history-item");
      var b = el("button", h.query.replace(/\s+/g, " ").slice(0, 120));
      b.type = "button";
      b.addEventListener("click", function () { editor.value = h.query; paramsBox.value = h.params; paint(); });
      li.appendChild(b);
      historyList.appendChild(li);
    });
  }

  // -- results ----------------------------------------------------------------------------------
  function isNode(v) { return v && typeof v === "object" && Array.isArray(v.labels) && v.properties; }
  function isRel(v) { return v && typeof v === "object" && typeof v.type === "string" && "start" in v && "end" in v; }
  function isPath(v) { return v && typeof v === "object" && Array.isArray(v.nodes) && Array.isArray(v.relationships); }
  function text(v) {
    if (v == null) return "";
    if (isNode(v)) return "(" + v.labels.filter(function (l) { return l !== "Entity"; }).join(":") + " " + (v.properties.name || v.properties.id || "") + ")";
    if (isRel(v)) return "[" + v.type + " " + v.start + " → " + v.end + "]";
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }
  function showTable(result) {
    table.replaceChildren();
    var head = el("tr");
    result.columns.forEach(function (c) { head.appendChild(el("th", c)); });
    var thead = el("thead");
    thead.appendChild(head);
    table.appendChild(thead);
    var body = el("tbody");
    result.rows.forEach(function (row) {
      var tr = el("tr");
      result.columns.forEach(function (c) { tr.appendChild(el("td", text(row[c]))); });
      body.appendChild(tr);
    });
    table.appendChild(body);
  }

  // Nodes, relationships and paths anywhere in the rows, as the explorer's network draws them.
  function graphOf(result) {
    var nodes = {}, edges = {};
    function node(v) {
      var id = v.properties.id;
      if (id == null) return;
      var label = v.labels.filter(function (l) { return l !== "Entity"; })[0] || "";
      var s = styleOf(label);
      nodes[id] = nodes[id] || { id: id, label: String(v.properties.name || id), shape: s.shape, color: s.color, kind: label,
        title: (v.properties.name || id) + " · " + s.zh + " " + s.en };
    }
    function rel(v) {
      if (v.start == null || v.end == null) return;
      var id = v.start + "|" + v.type + "|" + v.end;
      edges[id] = { id: id, from: v.start, to: v.end, arrows: "to", label: meta.relationship_names[v.type] || v.type, kind: v.type };
    }
    function walk(v) {
      if (isNode(v)) node(v);
      else if (isRel(v)) rel(v);
      else if (isPath(v)) { v.nodes.forEach(walk); v.relationships.forEach(walk); }
      else if (Array.isArray(v)) v.forEach(walk);
    }
    result.rows.forEach(function (row) { result.columns.forEach(function (c) { walk(row[c]); }); });
    var list = Object.keys(edges).map(function (k) { return edges[k]; }).filter(function (e) { return nodes[e.from] && nodes[e.to]; });
    return { nodes: Object.keys(nodes).map(function (k) { return nodes[k]; }), edges: list, options: cfg.options };
  }
  function showNetwork() {
    if (!last) return;
    var g = graphOf(last);
    netBox.dataset.nodes = String(g.nodes.length);
    netBox.dataset.edges = String(g.edges.length);
    netBox.removeAttribute("data-settled");
    if (drawn) drawn.network.destroy();
    drawn = g.nodes.length ? window.ruralkgNetwork.draw(netBox, g) : null;
    window.ruralkgConsole.network = drawn;
    if (!g.nodes.length) { netBox.replaceChildren(el("p", "结果中没有节点 No nodes in the result", "rk-hint")); }
  }
  function tab(which) {
    document.getElementById("rk-tab-table").setAttribute("aria-pressed", String(which === "table"));
    document.getElementById("rk-tab-network").setAttribute("aria-pressed", String(which === "network"));
    tableWrap.hidden = which !== "table";
    netBox.hidden = which !== "network";
    if (which === "network") showNetwork();
  }
  document.getElementById("rk-tab-table").addEventListener("click", function () { tab("table"); });
  document.getElementById("rk-tab-network").addEventListener("click", function () { tab("network"); });
  document.getElementById("rk-download-csv").addEventListener("click", function () {
    if (last) X.save("ruralkg-cypher.csv", X.rowsCsv(last.columns, last.rows, text), "text/csv");
  });

  function problemText(body, resp) {
    if (body && body.title) return body.status + " " + body.title + ":" + (body.detail || "");
    return resp.status + " " + resp.statusText;
  }

  // -- running ----------------------------------------------------------------------------------
  function run() {
    var query = editor.value.trim();
    if (!query) return;
    var params;
    try { params = paramsBox.value.trim() ? JSON.parse(paramsBox.value) : {}; }
    catch (err) { status.className = "rk-result-status rk-error"; status.textContent = "参数不是 JSON Parameters are not JSON: " + err.message; return; }
    sessionStorage.setItem(KEY_KEY, keyBox.value);
    status.className = "rk-result-status";
    status.textContent = "运行中… Running";
    document.body.dataset.state = "running";
    var t0 = performance.now();
    fetch("/cypher", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", "x-api-key": keyBox.value },
      body: JSON.stringify({ query: query, params: params })
    }).then(function (resp) {
      return resp.json().catch(function () { return null; }).then(function (body) {
        var ms = Math.round(performance.now() - t0);
        if (!resp.ok) {
          status.className = "rk-result-status rk-error";
          status.textContent = problemText(body, resp);
          document.body.dataset.state = "error";
          return;
        }
        remember(query, paramsBox.value);
        last = body;
        showTable(body);
        document.getElementById("rk-download-csv").disabled = false;
        var line = body.row_count + " 行 rows · " + ms + " ms";
        if (body.truncated) line += " · 已截断:达到 " + body.row_cap + " 行上限 (truncated at the row cap of " + body.row_cap + ")";
        status.textContent = line;
        status.dataset.rows = String(body.row_count);
        status.dataset.truncated = String(body.truncated);
        if (!netBox.hidden) showNetwork();
        window.ruralkgConsole.ms = ms;
        document.body.dataset.state = "done";
      });
    }).catch(function (err) {
      status.className = "rk-result-status rk-error";
      status.textContent = "请求失败 Request failed: " + err.message;
      document.body.dataset.state = "error";
    });
  }
  document.getElementById("rk-run").addEventListener("click", run);

  editor.value = history().length ? history()[0].query : cfg.example;
  keyBox.value = sessionStorage.getItem(KEY_KEY) || "";
  paint();
  showHistory();
  window.ruralkgConsole.ready = true;
  document.body.dataset.state = "ready";
})();
