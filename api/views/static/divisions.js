// The home page's line on the official divisions while `ruralkg serve` loads them in the
// background: "official divisions: 312,000 of 665,271", read from /health until done.
(function () {
  "use strict";
  var line = document.getElementById("rk-divisions");
  if (!line) return;
  var POLL_MS = 2000;

  function show(d) {
    if (!d || d.state !== "loading" || !d.total) {
      line.hidden = true;
      return false;
    }
    var fmt = function (n) { return Number(n).toLocaleString("en-US"); };
    line.textContent = "正在载入行政区划 official divisions: " + fmt(d.done) + " of " + fmt(d.total);
    line.hidden = false;
    return true;
  }

  function poll() {
    fetch("/health", { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) {
        if (show(body && body.divisions)) window.setTimeout(poll, POLL_MS);
      })
      .catch(function () { line.hidden = true; });
  }
  poll();
})();
