// The dashboard refreshes itself: poll the JSON, and when it changed, swap in the
// board as the server renders it (no build step, no framework).
(function () {
  var board = document.getElementById("board");
  if (!board) return;
  var every = parseInt(board.dataset.refresh, 10) || 5000;
  var last = null;
  function tick() {
    fetch("api/reviews", { cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        delete data.now; // the clock moves every time; only the reviews matter
        var seen = JSON.stringify(data);
        var changed = last !== null && seen !== last;
        last = seen;
        if (!changed) return;
        return fetch("reviews/board", { cache: "no-store" })
          .then(function (r) { return r.text(); })
          .then(function (html) { board.innerHTML = html; board.dataset.updated = Date.now(); });
      })
      .catch(function () { /* the bot restarts: try again at the next tick */ })
      .finally(function () { setTimeout(tick, every); });
  }
  tick();
})();
