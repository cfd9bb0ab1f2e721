// The console's behaviour: CSRF on every htmx request, the live stream, keyboard shortcuts.
// Plain script (no build step); htmx 2 is vendored beside it from the npm registry.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (meta) event.detail.headers["X-CSRF-Token"] = meta.content;
  });
})();
