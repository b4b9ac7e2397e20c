/* The coverage map: one SVG circle per division seat (no tiles, nothing fetched but our own
   API); click one for GET /regions/{division}/coverage and links into the explorer. */
(function () {
  "use strict";
  var NS = "http://www.w3.org/2000/svg";
  var points = JSON.parse(document.getElementById("rk-points").textContent);
  var box = document.getElementById("rk-map"), panel = document.getElementById("rk-map-panel");
  var W = 1000, H = 800, PAD = 20, KX = Math.cos(35 * Math.PI / 180);
  var lons = points.map(function (p) { return p.lon; }), lats = points.map(function (p) { return p.lat; });
  var minLon = Math.min.apply(null, lons), maxLon = Math.max.apply(null, lons);
  var minLat = Math.min.apply(null, lats), maxLat = Math.max.apply(null, lats);
  var scale = Math.min((W - 2 * PAD) / ((maxLon - minLon) * KX), (H - 2 * PAD) / (maxLat - minLat));
  function xy(p) { return [PAD + (p.lon - minLon) * KX * scale, PAD + (maxLat - p.lat) * scale]; }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text != null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }
  function link(text, href) { var a = el("a", text); a.href = href; return a; }
  function radius(p) { return p.villages_in_alliance ? 3 + 2.5 * Math.sqrt(p.villages_in_alliance) : p.level === "County" ? 1.2 : 2.5; }
  function colour(p) { return p.villages_with_dispatched ? "#c0392b" : p.villages_in_alliance ? "#e67e22" : "#aab7b8"; }

  var svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 " + W + " " + H);
  svg.setAttribute("class", "rk-map-svg");
  box.appendChild(svg);

  function draw(level) {
    svg.replaceChildren();
    // covered points last, so they are drawn on top
    points.filter(function (p) { return p.level === level; })
      .sort(function (a, b) { return a.villages_in_alliance - b.villages_in_alliance || (a.code < b.code ? -1 : 1); })
      .forEach(function (p) {
        var at = xy(p), c = document.createElementNS(NS, "circle");
        c.setAttribute("cx", at[0].toFixed(1));
        c.setAttribute("cy", at[1].toFixed(1));
        c.setAttribute("r", radius(p).toFixed(1));
        c.setAttribute("fill", colour(p));
        c.setAttribute("fill-opacity", p.villages_in_alliance ? "0.85" : "0.6");
        c.setAttribute("data-code", p.code);
        c.setAttribute("class", "rk-map-point" + (p.villages_in_alliance ? " rk-covered" : ""));
        var t = document.createElementNS(NS, "title");
        t.textContent = p.name + (p.villages_in_alliance ? " · 联盟村 " + p.villages_in_alliance + " · 派驻村 " + p.villages_with_dispatched : "");
        c.appendChild(t);
        c.addEventListener("click", function () { show(p); });
        svg.appendChild(c);
        if (p.villages_in_alliance) {
          var label = document.createElementNS(NS, "text");
          label.setAttribute("x", (at[0] + radius(p) + 2).toFixed(1));
          label.setAttribute("y", (at[1] + 4).toFixed(1));
          label.setAttribute("class", "rk-map-label");
          label.textContent = p.name;
          svg.appendChild(label);
        }
      });
    box.dataset.level = level;
    box.dataset.points = String(svg.querySelectorAll("circle").length);
  }

  function row(dl, key, value) { dl.appendChild(el("dt", key)); dl.appendChild(el("dd", String(value))); }
  var seq = 0;
  function show(p) {
    var mine = ++seq;
    var out = el("div", null, "rk-map-info");
    out.dataset.code = p.code;
    out.appendChild(el("h2", p.name));
    out.appendChild(el("p", { Province: "省级", City: "市级", County: "县级" }[p.level] + " · " + p.code, "rk-panel-label"));
    var dl = el("dl", null, "rk-props");
    row(dl, "联盟村 villages in an alliance", p.villages_in_alliance);
    row(dl, "派驻村 with a dispatched person", p.villages_with_dispatched);
    out.appendChild(dl);
    var links = el("p", null, "rk-actions");
    p.ids.forEach(function (id) { links.appendChild(link("在探索器中打开 Open in the explorer", "/view/entities/" + encodeURIComponent(id))); });
    links.appendChild(link("所辖实体 Entities in it", "/?q=" + encodeURIComponent(p.name)));
    out.appendChild(links);
    var detail = el("div", "加载覆盖情况… Loading coverage", "rk-hint");
    out.appendChild(detail);
    panel.replaceChildren(out);
    var division = p.ids.length ? p.ids[0] : p.code.replace(/0+$/, "").padEnd(6, "0");
    fetch("/regions/" + encodeURIComponent(division) + "/coverage", { headers: { accept: "application/json" } }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      if (mine !== seq) return;
      if (!res.ok) { detail.replaceWith(el("p", "图中没有此区划的覆盖数据 The graph has no coverage for it (" + (res.body.detail || res.body.title) + ")", "rk-hint")); return; }
      var d = res.body.division, box = el("div", null, "rk-coverage");
      box.dataset.villages = String(d.villages);
      box.appendChild(el("h3", "覆盖 Coverage (region-coverage)"));
      var cdl = el("dl", null, "rk-props");
      row(cdl, "村 villages", d.villages);
      row(cdl, "加入联盟 in an alliance", d.villages_in_alliance);
      row(cdl, "有派驻 with a dispatched person", d.villages_with_dispatched);
      row(cdl, "项目 projects", d.projects);
      row(cdl, "企业 enterprises", d.enterprises);
      box.appendChild(cdl);
      if (res.body.items.length) {
        box.appendChild(el("h3", "下级 Parts · " + res.body.total));
        var ul = el("ul");
        res.body.items.forEach(function (c) {
          var li = el("li");
          li.appendChild(link(c.name, "/view/entities/" + encodeURIComponent(c.id)));
          li.appendChild(el("span", " 村 " + c.villages + " · 联盟 " + c.villages_in_alliance + " · 派驻 " + c.villages_with_dispatched, "rk-hint"));
          ul.appendChild(li);
        });
        box.appendChild(ul);
      }
      detail.replaceWith(box);
    }).catch(function (err) { if (mine === seq) detail.replaceWith(el("p", "加载失败:" + err.message, "rk-error")); });
  }

  document.querySelectorAll("input[name=level]").forEach(function (input) {
    input.addEventListener("change", function () { if (input.checked) draw(input.value); });
  });
  draw("County");
  document.body.dataset.drawn = "true";
})();
