/* sitegen serve: live reload. Injected into pages by `sitegen serve` only (built files never load it).
   Listens to server-sent events and reloads the page when a rebuild has finished. */
(function () {
  "use strict";
  if (!window.EventSource) { return; }
  var source = new EventSource("/__sitegen__/events");
  var first = null;
  source.addEventListener("hello", function (e) {
    if (first === null) { first = e.data; return; }
    if (e.data !== first) { window.location.reload(); } /* a rebuild happened while disconnected */
  });
  source.addEventListener("reload", function () { window.location.reload(); });
})();
