/* A small Cypher highlighter: a tokenizer (comments, strings, numbers, $parameters,
   :Labels and :TYPES, keywords, functions), each token a <span> whose text is set as text. */
(function (global) {
  "use strict";
  var KEYWORDS = ("MATCH OPTIONAL WHERE RETURN WITH UNWIND ORDER BY SKIP LIMIT AS AND OR XOR NOT IN IS NULL " +
    "DISTINCT CASE WHEN THEN ELSE END ASC ASCENDING DESC DESCENDING CALL YIELD UNION ALL EXISTS COUNT COLLECT " +
    "STARTS ENDS CONTAINS TRUE FALSE CREATE MERGE DELETE DETACH SET REMOVE FOREACH LOAD CSV").split(" ");
  var KEYWORD = {};
  KEYWORDS.forEach(function (k) { KEYWORD[k] = true; });
  var RULES = [
    ["comment", /^\/\/[^\n]*/], ["comment", /^\/\*[\s\S]*?(\*\/|$)/],
    ["string", /^'(?:[^'\\]|\\.)*'?/], ["string", /^"(?:[^"\\]|\\.)*"?/],
    ["name", /^`[^`]*`?/],
    ["param", /^\$[A-Za-z_][A-Za-z0-9_]*/],
    ["label", /^:\s*[A-Za-z_][A-Za-z0-9_]*/],
    ["number", /^\d+(\.\d+)?([eE][+-]?\d+)?/],
    ["word", /^[A-Za-z_][A-Za-z0-9_]*/],
    ["space", /^\s+/],
    ["punct", /^[^\sA-Za-z0-9_$'"`:/]+|^[:/]/]
  ];

  // [[kind, text], ...] covering the whole text; a word is a keyword, a function (before "(")
  // or a plain name.
  function tokens(text) {
    var out = [], rest = text;
    while (rest.length) {
      for (var i = 0; i < RULES.length; i++) {
        var m = RULES[i][1].exec(rest);
        if (!m || !m[0].length) continue;
        var kind = RULES[i][0], word = m[0];
        if (kind === "word") {
          if (KEYWORD[word.toUpperCase()]) kind = "keyword";
          else if (/^\s*\(/.test(rest.slice(word.length))) kind = "function";
          else kind = "name";
        }
        out.push([kind, word]);
        rest = rest.slice(word.length);
        break;
      }
    }
    return out;
  }

  function render(pre, text) {
    pre.replaceChildren();
    tokens(text).forEach(function (t) {
      if (t[0] === "space" || t[0] === "punct" || t[0] === "name") { pre.appendChild(document.createTextNode(t[1])); return; }
      var span = document.createElement("span");
      span.className = "rk-cy-" + t[0];
      span.textContent = t[1];
      pre.appendChild(span);
    });
    pre.appendChild(document.createTextNode("\n"));  // keeps the last line's height
  }

  global.ruralkgCypher = { tokens: tokens, render: render };
})(window);
