// The conversation follows the hub live: the server sends it again (server-sent events)
// whenever a message or a delivery status changes, and the page reloads to show it. The
// page works without this script; without EventSource it checks a few times instead.
(function () {
  function shownStatuses() {
    return Array.prototype.map.call(
      document.querySelectorAll("#conversation .status"),
      function (s) { return s.dataset.status; }).join();
  }
  function differs(lines) {
    return lines.map(function (l) { return l.status; }).join() !== shownStatuses();
  }
  if (window.EventSource) {
    var live = new EventSource("/simulator/live");
    live.addEventListener("conversation", function (message) {
      if (differs(JSON.parse(message.data))) { live.close(); location.reload(); }
    });
    return;
  }
  var tries = 0;
  function refresh() {
    if (tries++ > 40) return;
    fetch("/simulator/conversation", {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (lines) {
        if (differs(lines)) { location.reload(); return; }
        setTimeout(refresh, 2000);
      })
      .catch(function () { setTimeout(refresh, 2000); });
  }
  setTimeout(refresh, 700);
})();
