/* ruralkg: a drawn subgraph as files (SVG, GraphML, GEXF, CSV), built as text in the browser.
   Input: {nodes: [{id, label, name, x, y, color, size}], edges: [{start, type, end, label}]}.
   Every name goes through xml() or csv(), so markup in the data stays text. */
(function (global) {
  "use strict";

  function xml(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" }[c];
    });
  }
  function csv(value) {
    var s = String(value == null ? "" : value);
    return /[",\r\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function edgeKey(e) { return e.start + "|" + e.type + "|" + e.end; }

  function svg(graph) {
    var xs = graph.nodes.map(function (n) { return n.x; }), ys = graph.nodes.map(function (n) { return n.y; });
    var pad = 60;
    var minX = Math.min.apply(null, xs.concat([0])) - pad, minY = Math.min.apply(null, ys.concat([0])) - pad;
    var w = Math.max.apply(null, xs.concat([0])) + pad - minX, h = Math.max.apply(null, ys.concat([0])) + pad - minY;
    var at = {};
    graph.nodes.forEach(function (n) { at[n.id] = n; });
    var out = ['<?xml version="1.0" encoding="UTF-8"?>',
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="' + [minX, minY, w, h].map(Math.round).join(" ") + '" width="' + Math.round(w) + '" height="' + Math.round(h) + '" font-family="Noto Sans CJK SC, sans-serif">',
      '<rect x="' + Math.round(minX) + '" y="' + Math.round(minY) + '" width="' + Math.round(w) + '" height="' + Math.round(h) + '" fill="#ffffff"/>',
      '<g stroke="#9aa5b1" stroke-width="1">'];
    graph.edges.forEach(function (e) {
      var a = at[e.start], b = at[e.end];
      if (a && b) out.push('<line x1="' + a.x + '" y1="' + a.y + '" x2="' + b.x + '" y2="' + b.y + '"><title>' + xml(e.type) + '</title></line>');
    });
    out.push('</g><g font-size="12" text-anchor="middle" fill="#1c2833">');
    graph.nodes.forEach(function (n) {
      var r = n.size || 10;
      out.push('<g data-id="' + xml(n.id) + '"><circle cx="' + n.x + '" cy="' + n.y + '" r="' + r + '" fill="' + xml(n.color) + '"/>' +
        '<text x="' + n.x + '" y="' + (n.y + r + 13) + '">' + xml(n.name) + '</text></g>');
    });
    out.push("</g></svg>");
    return out.join("\n");
  }

  function graphml(graph) {
    var keys = [["label", "node"], ["name", "node"], ["x", "node", "double"], ["y", "node", "double"], ["type", "edge"]];
    var out = ['<?xml version="1.0" encoding="UTF-8"?>',
      '<graphml xmlns="http://graphml.graphdrawing.org/xmlns">'];
    keys.forEach(function (k) {
      out.push('<key id="' + k[1] + "_" + k[0] + '" for="' + k[1] + '" attr.name="' + k[0] + '" attr.type="' + (k[2] || "string") + '"/>');
    });
    out.push('<graph id="ruralkg" edgedefault="directed">');
    graph.nodes.forEach(function (n) {
      out.push('<node id="' + xml(n.id) + '"><data key="node_label">' + xml(n.label) + '</data><data key="node_name">' + xml(n.name) +
        '</data><data key="node_x">' + n.x + '</data><data key="node_y">' + n.y + "</data></node>");
    });
    graph.edges.forEach(function (e) {
      out.push('<edge id="' + xml(edgeKey(e)) + '" source="' + xml(e.start) + '" target="' + xml(e.end) + '"><data key="edge_type">' + xml(e.type) + "</data></edge>");
    });
    out.push("</graph></graphml>");
    return out.join("\n");
  }

  function hex(color) {
    var m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color || "");
    return m ? [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)] : [153, 153, 153];
  }

  function gexf(graph) {
    var out = ['<?xml version="1.0" encoding="UTF-8"?>',
      '<gexf xmlns="http://www.gexf.net/1.2draft" xmlns:viz="http://www.gexf.net/1.2draft/viz" version="1.2">',
      '<meta><creator>ruralkg</creator></meta>',
      '<graph defaultedgetype="directed" mode="static">',
      '<attributes class="node"><attribute id="kind" title="kind" type="string"/></attributes>',
      '<attributes class="edge"><attribute id="type" title="type" type="string"/></attributes>',
      "<nodes>"];
    graph.nodes.forEach(function (n) {
      var c = hex(n.color);
      out.push('<node id="' + xml(n.id) + '" label="' + xml(n.name) + '"><attvalues><attvalue for="kind" value="' + xml(n.label) + '"/></attvalues>' +
        '<viz:color r="' + c[0] + '" g="' + c[1] + '" b="' + c[2] + '"/><viz:position x="' + n.x + '" y="' + (-n.y) + '" z="0"/><viz:size value="' + (n.size || 10) + '"/></node>');
    });
    out.push("</nodes><edges>");
    graph.edges.forEach(function (e) {
      out.push('<edge id="' + xml(edgeKey(e)) + '" source="' + xml(e.start) + '" target="' + xml(e.end) + '" label="' + xml(e.label || e.type) + '"><attvalues><attvalue for="type" value="' + xml(e.type) + '"/></attvalues></edge>');
    });
    out.push("</edges></graph></gexf>");
    return out.join("\n");
  }

  function nodesCsv(graph) {
    return ["id,label,name,x,y"].concat(graph.nodes.map(function (n) {
      return [n.id, n.label, n.name, n.x, n.y].map(csv).join(",");
    })).join("\r\n") + "\r\n";
  }
  function edgesCsv(graph) {
    return ["start,type,end"].concat(graph.edges.map(function (e) {
      return [e.start, e.type, e.end].map(csv).join(",");
    })).join("\r\n") + "\r\n";
  }
  function rowsCsv(columns, rows, cell) {
    return [columns.map(csv).join(",")].concat(rows.map(function (r) {
      return columns.map(function (c) { return csv(cell(r[c])); }).join(",");
    })).join("\r\n") + "\r\n";
  }

  // Saves `text` (or a data: URL when `href` is true) as a download named `name`.
  function save(name, text, type, href) {
    var url = href ? text : URL.createObjectURL(new Blob([text], { type: type }));
    var a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    if (!href) setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  }

  global.ruralkgExports = { svg: svg, graphml: graphml, gexf: gexf, nodesCsv: nodesCsv, edgesCsv: edgesCsv, rowsCsv: rowsCsv, csv: csv, save: save };
})(window);
