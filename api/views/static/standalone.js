/* Draws the standalone network document's data (no inline script: the CSP allows none). */
window.ruralkgNetwork.draw(document.getElementById("rk-network"), JSON.parse(document.getElementById("rk-data").textContent));
