/* sitegen: filter a table by the text typed in an <input data-filter-table="TABLE-ID">. The table works
   without it; the filter box is hidden until this script shows it. */
(function () {
  "use strict";
  function setup(input) {
    var table = document.getElementById(input.getAttribute("data-filter-table"));
    if (!table || !table.tBodies.length) { return; }
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var holder = input.closest("[hidden]");
    if (holder) { holder.hidden = false; }
    var count = holder ? holder.querySelector("[data-filter-count]") : null;
    function apply() {
      var terms = input.value.toLowerCase().split(/\s+/).filter(Boolean);
      var shown = 0;
      rows.forEach(function (row) {
        var text = row.textContent.toLowerCase();
        var match = terms.every(function (t) { return text.indexOf(t) !== -1; });
        row.hidden = !match;
        if (match) { shown += 1; }
      });
      if (count) { count.textContent = terms.length ? shown + " of " + rows.length : ""; }
    }
    input.addEventListener("input", apply);
    apply();
  }
  function init() {
    document.querySelectorAll("input[data-filter-table]").forEach(setup);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
