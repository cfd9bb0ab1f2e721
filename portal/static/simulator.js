// Delivery happens in the background worker. Poll until nothing is waiting to be sent,
// and reload when a status differs from what the page shows.
(function () {
  var tries = 0;
  function refresh() {
    if (tries++ > 40) return;
    fetch("/simulator/conversation", {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (lines) {
        var shown = Array.prototype.map.call(
          document.querySelectorAll("#conversation .status"),
          function (s) { return s.dataset.status; });
        var now = lines.map(function (l) { return l.status; });
        if (now.join() !== shown.join()) { location.reload(); return; }
        if (now.some(function (s) { return s === "pending" || s === "sending"; })) {
          setTimeout(refresh, 1000);
        }
      })
      .catch(function () { setTimeout(refresh, 2000); });
  }
  setTimeout(refresh, 700);
})();
