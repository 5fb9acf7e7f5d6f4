/* sitegen: the metric curves of a run page. The page carries no chart data; its run's data.js (loaded by
 * the page as a classic script, so this works from file://) files the curves in self.sitegenRunStore, and
 * each <div data-run-curve="key"> inside <div data-run-charts data-run-uid="..."> gets that metric's curve,
 * built by runcharts.js and drawn with charts.js. */
(function () {
  "use strict";

  function fail(el, message) {
    if (self.sitegenCharts && self.sitegenCharts.showError) {
      self.sitegenCharts.showError(el, message);
    } else {
      el.textContent = "This chart could not be drawn: " + message;
    }
  }

  function draw() {
    var box = document.querySelector("[data-run-charts]");
    if (!box) return;
    var data = (self.sitegenRunStore || {})[box.getAttribute("data-run-uid")];
    box.querySelectorAll("[data-run-curve]").forEach(function (el) {
      var key = el.getAttribute("data-run-curve"), C = self.SitegenRunCharts;
      if (!C) { fail(el, "runcharts.js is not loaded"); return; }
      var series = C.seriesOf(data, key, "step", 0, key);
      if (!series) { fail(el, "the run's data.js, beside this page, is missing or has no curve of " + key); return; }
      C.embed(el, C.curvesSpec([series], { xTitle: "step", yTitle: key, seriesTitle: "metric", legend: false }));
    });
  }

  // Deferred scripts run in order and this one comes before vega-embed.js and charts.js: wait for them.
  if (document.readyState === "complete") {
    draw();
  } else {
    document.addEventListener("DOMContentLoaded", draw);
  }
}());
