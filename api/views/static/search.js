/* Search with suggestions as you type (GET /search), on every page; on the explorer page, the
   full results grouped by label. Everything from the data is set as text, never as markup. */
(function () {
  "use strict";
  var meta = JSON.parse(document.getElementById("rk-meta").textContent);
  var input = document.getElementById("rk-q");
  var list = document.getElementById("rk-suggestions");
  var results = document.getElementById("rk-results");
  var status = document.getElementById("rk-status");
  var timer = null, seq = 0, active = -1, items = [];
  var picks = { source: null, target: null };

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text != null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function styleOf(label) { return meta.styles[label] || { zh: label, en: label, color: "#999" }; }
  function viewUrl(hit) { return "/view/entities/" + encodeURIComponent(hit.id); }
  function swatch(label) {
    var s = el("span", null, "rk-swatch");
    s.style.background = styleOf(label).color;
    return s;
  }

  function search(q, limit, label) {
    var params = new URLSearchParams({ q: q, limit: String(limit) });
    if (label) params.set("label", label);
    return fetch("/search?" + params.toString(), { headers: { accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : r.json().then(function (p) { throw new Error(p.detail || r.statusText); }); });
  }

  function closeList() { list.hidden = true; list.replaceChildren(); active = -1; items = []; input.setAttribute("aria-expanded", "false"); }

  function showSuggestions(page) {
    list.replaceChildren();
    items = page.items;
    items.forEach(function (hit, i) {
      var li = el("li", null, "rk-suggestion");
      li.setAttribute("role", "option");
      li.id = "rk-sugg-" + i;
      li.dataset.id = hit.id;
      li.appendChild(swatch(hit.label));
      li.appendChild(el("span", hit.name, "rk-name"));
      li.appendChild(el("span", styleOf(hit.label).zh + " " + styleOf(hit.label).en, "rk-label"));
      if (hit.path && hit.path.length) li.appendChild(el("span", hit.path.join(" / "), "rk-region"));
      if (hit.match !== "name" && hit.aliases && hit.aliases.length) li.appendChild(el("span", hit.aliases.join("、"), "rk-aliases"));
      li.addEventListener("mousedown", function (ev) { ev.preventDefault(); window.location.assign(viewUrl(hit)); });
      list.appendChild(li);
    });
    list.hidden = items.length === 0;
    input.setAttribute("aria-expanded", String(items.length > 0));
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    var q = input.value.trim();
    if (!q) { closeList(); return; }
    timer = setTimeout(function () {
      var mine = ++seq;
      search(q, 10).then(function (page) { if (mine === seq) showSuggestions(page); }).catch(function () { if (mine === seq) closeList(); });
    }, 120);
  });
  input.addEventListener("keydown", function (ev) {
    if (list.hidden || !items.length) return;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      active = (active + (ev.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
      Array.prototype.forEach.call(list.children, function (li, i) { li.classList.toggle("rk-active", i === active); });
      input.setAttribute("aria-activedescendant", "rk-sugg-" + active);
    } else if (ev.key === "Enter" && active >= 0) {
      ev.preventDefault();
      window.location.assign(viewUrl(items[active]));
    } else if (ev.key === "Escape") {
      closeList();
    }
  });
  input.addEventListener("blur", function () { setTimeout(closeList, 150); });

  if (!results) return;

  // -- the explorer page: results grouped by label, picks for the paths view ------------------
  function updatePaths() {
    var go = document.getElementById("rk-path-go");
    ["source", "target"].forEach(function (end) {
      document.getElementById("rk-path-" + end).textContent = picks[end] ? picks[end].name : "—";
    });
    if (picks.source && picks.target && picks.source.id !== picks.target.id) {
      go.href = "/view/paths?source=" + encodeURIComponent(picks.source.id) + "&target=" + encodeURIComponent(picks.target.id);
      go.removeAttribute("aria-disabled");
    } else {
      go.href = "/view/paths";
      go.setAttribute("aria-disabled", "true");
    }
  }

  function showResults(q, page) {
    results.replaceChildren();
    status.textContent = page.total ? "「" + q + "」共 " + page.total + " 个结果" + (page.total > page.items.length ? ",显示前 " + page.items.length + " 个" : "") : "「" + q + "」没有结果 No results";
    var groups = {};
    page.items.forEach(function (hit) { (groups[hit.label] = groups[hit.label] || []).push(hit); });
    Object.keys(meta.styles).concat(Object.keys(groups)).forEach(function (label) {
      if (!groups[label]) return;
      var hits = groups[label];
      delete groups[label];
      var section = el("section", null, "rk-group");
      section.dataset.label = label;
      var h = el("h3");
      h.appendChild(swatch(label));
      h.appendChild(document.createTextNode(styleOf(label).zh + " "));
      h.appendChild(el("span", styleOf(label).en + " · " + hits.length, "en"));
      section.appendChild(h);
      var ul = el("ul");
      hits.forEach(function (hit) {
        var li = el("li");
        var a = el("a", hit.name);
        a.href = viewUrl(hit);
        li.appendChild(a);
        if (hit.aliases && hit.aliases.length) li.appendChild(el("span", " " + hit.aliases.join("、"), "rk-aliases"));
        if (hit.path && hit.path.length) li.appendChild(el("span", " " + hit.path.join(" / "), "rk-region"));
        if (hit.match === "place") li.appendChild(el("span", " 位于所查地区 in the place searched", "rk-place"));
        if (label === "Alliance") {
          var t = el("a", "联盟树 tree", "rk-small");
          t.href = "/view/alliances/" + encodeURIComponent(hit.id);
          li.appendChild(t);
        }
        ["source", "target"].forEach(function (end) {
          var b = el("button", end === "source" ? "起点" : "终点", "rk-small");
          b.type = "button";
          b.addEventListener("click", function () { picks[end] = hit; updatePaths(); });
          li.appendChild(b);
        });
        ul.appendChild(li);
      });
      section.appendChild(ul);
      results.appendChild(section);
    });
  }

  var labelFilter = document.getElementById("rk-label-filter");
  var wrap = document.getElementById("rk-results-wrap");
  function runSearch(q) {
    if (!q) return;
    wrap.hidden = false;
    status.textContent = "搜索中… Searching";
    var label = labelFilter.value;
    search(q, 100, label).then(function (page) { showResults(q, page); }).catch(function (err) { status.textContent = "搜索出错:" + err.message; });
  }
  function submitted() {
    closeList();
    var q = input.value.trim();
    var params = new URLSearchParams();
    if (q) params.set("q", q);
    if (labelFilter.value) params.set("label", labelFilter.value);
    history.replaceState(null, "", "/" + (params.toString() ? "?" + params.toString() : ""));
    runSearch(q);
  }
  input.form.addEventListener("submit", function (ev) { ev.preventDefault(); submitted(); });
  labelFilter.addEventListener("change", submitted);
  var initial = new URLSearchParams(window.location.search);
  if (initial.get("label")) labelFilter.value = initial.get("label");
  if (initial.get("q")) { input.value = initial.get("q"); runSearch(initial.get("q").trim()); }
})();
