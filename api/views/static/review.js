/* The review pages. Everything from a draft is set as text (textContent, option values), never
   as markup; the API key, when one is needed, is kept in this tab's sessionStorage only. */
(function () {
  "use strict";
  var meta = JSON.parse(document.getElementById("rv-meta").textContent);
  var status = document.getElementById("rv-status");
  var keyInput = document.getElementById("rv-key");
  var LABELS = ["Province", "City", "County", "Township", "Village", "Alliance", "Branch", "Project",
    "Enterprise", "Organization", "Person", "Group", "Industry", "Practice"];
  var TYPES = ["LOCATED_IN", "HAS_MEMBER", "BASED_IN", "HAS_PROJECT", "LEADS", "INVOLVES", "DISPATCHED_TO",
    "HOLDS_POST", "ADVISES", "IN_INDUSTRY", "USES_PRACTICE", "SUPPORTS", "FOUNDED", "EVOLVED_FROM", "PART_OF",
    "INSTANCE_OF", "INTRODUCED", "COMMEMORATES", "LEARNED_FROM"];
  var GROUPS = [
    ["地点 Places", ["Province", "City", "County", "Township", "Village"]],
    ["人物与群体 People and groups", ["Person", "Group"]],
    ["组织 Organisations", ["Alliance", "Branch", "Organization", "Enterprise"]],
    ["项目 Projects", ["Project"]],
    ["做法与产业 Practices and industries", ["Practice", "Industry"]]
  ];
  var LOW = 0.5;

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text != null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function say(text, kind) { status.textContent = text; status.className = "rv-status" + (kind ? " rv-" + kind : ""); }
  keyInput.value = sessionStorage.getItem("rv-key") || "";
  keyInput.addEventListener("change", function () { sessionStorage.setItem("rv-key", keyInput.value); start(); });

  function api(path, options) {
    options = options || {};
    var headers = { accept: "application/json" };
    if (keyInput.value) headers["X-API-Key"] = keyInput.value;
    if (options.body) headers["content-type"] = "application/json";
    return fetch(path, { method: options.method || "GET", headers: headers, body: options.body }).then(function (r) {
      return r.json().then(function (body) {
        if (!r.ok) { var err = new Error(body.detail || r.statusText); err.status = r.status; err.body = body; throw err; }
        return body;
      });
    });
  }

  function listPage() {
    var table = document.getElementById("rv-drafts");
    var body = table.querySelector("tbody");
    api("/review-api/drafts").then(function (page) {
      body.replaceChildren();
      page.drafts.forEach(function (d) {
        var tr = el("tr");
        var a = el("a", d.name);
        a.href = "/review/" + encodeURIComponent(d.name);
        var first = el("td"); first.appendChild(a); tr.appendChild(first);
        [d.title || "", d.date || "", d.entities, d.relations, d.quantities, d.saved ? "✓" : ""].forEach(function (v) {
          tr.appendChild(el("td", String(v)));
        });
        body.appendChild(tr);
      });
      table.hidden = page.drafts.length === 0;
      say(page.drafts.length + " draft(s) in " + page.folder);
      document.body.dataset.ready = "true";
    }).catch(function (e) { say(e.status === 401 ? "需要 API key: " + e.message : e.message, "bad"); });
  }

  // -- one draft ---------------------------------------------------------------------------------
  // `decisions` is the one record of the reviewer's choices: the buttons and fields show it, save()
  // sends it. The draft is drawn once per page: drawing it again would put fresh controls over
  // choices made on the old ones, so a second answer (the key typed again while or after the
  // first request ran) is ignored, and a key typed once a draft is shown only serves the save.
  var draft = null, decisions = {};

  function relKey(r) { return r.type + " " + r.from + " -> " + r.to; }
  function decide(key, conf) {
    if (!decisions[key]) decisions[key] = { rejected: conf < LOW, edits: {} };
    return decisions[key];
  }

  function focusSentence(index) {
    document.querySelectorAll(".rv-focus").forEach(function (n) { n.classList.remove("rv-focus"); });
    var s = document.getElementById("rv-s-" + index);
    if (s) { s.classList.add("rv-focus"); s.scrollIntoView({ block: "center" }); }
  }

  function renderArticle() {
    var article = document.getElementById("rv-article");
    article.replaceChildren();
    var cited = {};
    ["entities", "relations", "quantities"].forEach(function (section) {
      draft[section].forEach(function (r) { cited[r.sentence] = true; });
    });
    var p = el("p");
    draft.sentences.forEach(function (text, i) {
      var span = el("span", text, "rv-sentence" + (cited[i] ? " rv-cited" : ""));
      span.id = "rv-s-" + i;
      p.appendChild(span);
      if (/[。!?;]$/.test(text) === false) { article.appendChild(p); p = el("p"); }
    });
    article.appendChild(p);
  }

  function toggles(item, key, d) {
    var box = el("div", null, "rv-actions");
    var accept = el("button", "接受 Accept");
    var reject = el("button", "拒绝 Reject");
    accept.type = reject.type = "button";
    accept.dataset.action = "accept"; reject.dataset.action = "reject";
    function show() {
      accept.setAttribute("aria-pressed", String(!d.rejected));
      reject.setAttribute("aria-pressed", String(d.rejected));
      item.classList.toggle("rv-rejected", d.rejected);
    }
    accept.addEventListener("click", function (ev) { ev.stopPropagation(); d.rejected = false; show(); });
    reject.addEventListener("click", function (ev) { ev.stopPropagation(); d.rejected = true; show(); });
    show();
    box.appendChild(accept); box.appendChild(reject);
    return box;
  }

  function field(d, name, original, control) {
    control.dataset.field = name;
    control.addEventListener("change", function () {
      if (control.value === (original == null ? "" : String(original))) delete d.edits[name];
      else d.edits[name] = control.value;
      d.rejected = false;
      var item = control.closest(".rv-item");
      item.querySelector("[data-action=accept]").click();
    });
    control.addEventListener("click", function (ev) { ev.stopPropagation(); });
    return control;
  }
  function input(d, name, value) {
    var i = el("input"); i.value = value == null ? "" : String(value); i.maxLength = 200;
    i.setAttribute("aria-label", name);
    return field(d, name, value, i);
  }
  function select(d, name, value, options) {
    var s = el("select");
    s.setAttribute("aria-label", name);
    options.forEach(function (o) {
      var opt = el("option", o[1]); opt.value = o[0];
      if (o[0] === (value == null ? "" : String(value))) opt.selected = true;
      s.appendChild(opt);
    });
    return field(d, name, value, s);
  }

  function item(key, record, fields, metaText) {
    var d = decide(key, record.confidence);
    var node = el("div", null, "rv-item" + (record.confidence < LOW ? " rv-low" : ""));
    node.dataset.key = key;
    var box = el("div", null, "rv-fields");
    fields(d).forEach(function (f) { box.appendChild(f); });
    node.appendChild(box);
    node.appendChild(toggles(node, key, d));
    var m = el("div", null, "rv-meta");
    m.appendChild(el("span", "置信度 " + record.confidence.toFixed(2) + " · ", "rv-conf"));
    m.appendChild(el("span", metaText));
    node.appendChild(m);
    node.addEventListener("click", function () { focusSentence(record.sentence); });
    return node;
  }

  function names() {
    var out = {};
    draft.entities.forEach(function (e) { out[e.id] = e.name; });
    return out;
  }

  function renderProposals() {
    var root = document.getElementById("rv-proposals");
    root.replaceChildren();
    var byId = names();
    GROUPS.forEach(function (g) {
      var list = draft.entities.filter(function (e) { return g[1].indexOf(e.label) >= 0; });
      if (!list.length) return;
      var section = el("div", null, "rv-group");
      section.appendChild(el("h2", g[0] + " (" + list.length + ")"));
      list.forEach(function (e) {
        section.appendChild(item(e.id, e, function (d) {
          var f = [input(d, "name", e.name), select(d, "label", e.label, LABELS.map(function (l) { return [l, l]; }))];
          if (e.kind != null) f.push(input(d, "kind", e.kind));
          if (e.label === "Person" || e.label === "Group") f.push(input(d, "role", e.role));
          if (e.candidates && e.candidates.length) {
            var opts = [[e.code || "", e.code ? e.code + " (proposed)" : (e.absent ? "不在名录 absent: keep as named" : "未定 undecided")]];
            e.candidates.forEach(function (c) { if (c.code !== e.code) opts.push([c.code, c.code + " " + c.path]); });
            var s = select(d, "code", e.code || "", opts);
            s.classList.add("rv-candidates");
            f.push(s);
          }
          return f;
        }, e.id + (e.code ? " · " + e.code : "") + (e.reason ? " · " + e.reason : "") + " · " + e.evidence));
      });
      root.appendChild(section);
    });
    var rels = el("div", null, "rv-group");
    rels.appendChild(el("h2", "关系 Relations (" + draft.relations.length + ")"));
    draft.relations.forEach(function (r) {
      rels.appendChild(item(relKey(r), r, function (d) {
        var f = [el("span", byId[r.from] || r.from, "rv-end"), select(d, "type", r.type, TYPES.map(function (t) { return [t, t]; })),
          el("span", byId[r.to] || r.to, "rv-end")];
        if (r.role != null || r.type === "DISPATCHED_TO" || r.type === "HOLDS_POST") f.push(input(d, "role", r.role));
        return f;
      }, r.evidence));
    });
    root.appendChild(rels);
    var qs = el("div", null, "rv-group");
    qs.appendChild(el("h2", "数字 Figures (" + draft.quantities.length + ")"));
    draft.quantities.forEach(function (q) {
      var value = q.value != null ? String(q.value) : q.min + "–" + q.max;
      qs.appendChild(item(q.id, q, function () {
        return [el("span", (byId[q.subject] || q.subject) + " · " + q.measure + " = " + value + " " + q.unit + " (" + q.qualifier + ", " + q.year + ")")];
      }, q.evidence));
    });
    root.appendChild(qs);
  }

  function save() {
    var body = { rejected: [], edits: {} };
    Object.keys(decisions).forEach(function (k) {
      var d = decisions[k];
      if (d.rejected) body.rejected.push(k);
      else if (Object.keys(d.edits).length) body.edits[k] = d.edits;
    });
    var errors = document.getElementById("rv-errors");
    errors.hidden = true; errors.replaceChildren();
    say("保存中 Saving…");
    api("/review-api/drafts/" + encodeURIComponent(meta.name) + "/save", { method: "POST", body: JSON.stringify(body) })
      .then(function (r) {
        say("已保存 Saved " + r.path + " (" + r.entities + " entities, " + r.relations + " relations, " + r.quantities +
          " figures). Next: " + r.check + " ; " + r.load, "good");
        document.body.dataset.saved = r.path;
      })
      .catch(function (e) {
        say(e.status === 401 ? "需要 API key: " + e.message : e.message, "bad");
        ((e.body && e.body.errors) || []).forEach(function (m) { errors.appendChild(el("li", m)); });
        errors.hidden = !errors.children.length;
      });
  }

  function draftPage() {
    api("/review-api/drafts/" + encodeURIComponent(meta.name)).then(function (d) {
      if (draft) return;
      draft = d;
      document.getElementById("rv-title").textContent = (d.source && d.source.title) || meta.name;
      renderArticle();
      renderProposals();
      say(d.entities.length + " entities, " + d.relations.length + " relations, " + d.quantities.length +
        " figures proposed; those below " + LOW + " start rejected.");
      document.body.dataset.ready = "true";
    }).catch(function (e) { if (!draft) say(e.status === 401 ? "需要 API key: " + e.message : e.message, "bad"); });
  }

  function start() { if (meta.page === "list") listPage(); else if (!draft) draftPage(); }
  if (meta.page === "draft") document.getElementById("rv-save").addEventListener("click", save);
  start();
})();
