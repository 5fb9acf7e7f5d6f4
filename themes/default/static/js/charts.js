/* sitegen default theme: draws every chart on the page with the vendored vega-embed.
 *
 * Markup: <div class="chart" data-vega-spec="spec-1"></div>
 *         <script type="application/json" id="spec-1">{...Vega-Lite spec...}</script>
 * Needs vendor/vega-embed.js loaded first (a classic script defining window.vegaEmbed).
 * No network access: specs carry their data inline, so this works from file://.
 * Expressions are evaluated by Vega's interpreter (ast: true), never compiled with new Function,
 * so a Content-Security-Policy without 'unsafe-eval' is enough.
 */
(function () {
  "use strict";

  // Colours for a dark page; merged over the spec's own (light) config from sitegen/charts.py.
  var DARK_CONFIG = {
    axis: { labelColor: "#c9c9c9", titleColor: "#e2e2e2", domainColor: "#8f8f8f",
            tickColor: "#8f8f8f", gridColor: "#9a9a9a", gridOpacity: 0.22 },
    legend: { labelColor: "#c9c9c9", titleColor: "#e2e2e2" },
    title: { color: "#eeeeee", subtitleColor: "#c9c9c9" },
    text: { color: "#e2e2e2" },
    mark: { color: "#6ea8e0" }
  };

  var EMBED_OPTIONS = {
    actions: { export: true, source: false, compiled: false, editor: false },
    renderer: "svg",
    ast: true // use the expression interpreter: no eval / new Function (strict CSP)
  };

  var darkQuery = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  var views = [];

  function isObject(value) {
    return value !== null && typeof value === "object" && !Array.isArray(value);
  }

  function merge(base, extra) {
    var out = {};
    Object.keys(base || {}).forEach(function (k) { out[k] = base[k]; });
    Object.keys(extra).forEach(function (k) {
      out[k] = isObject(out[k]) && isObject(extra[k]) ? merge(out[k], extra[k]) : extra[k];
    });
    return out;
  }

  function showError(el, message) {
    var box = document.createElement("p");
    box.className = "chart-error";
    box.setAttribute("role", "alert");
    box.textContent = "This chart could not be drawn: " + message;
    el.replaceChildren(box);
  }

  function readSpec(el) {
    var id = el.getAttribute("data-vega-spec");
    var holder = id ? document.getElementById(id) : null;
    if (!holder || holder.tagName !== "SCRIPT" || holder.type !== "application/json") {
      throw new Error("no <script type=\"application/json\" id=\"" + id + "\"> holds its spec");
    }
    return JSON.parse(holder.textContent);
  }

  // The chart as a whole is described (its spec's description labels the SVG); its marks are not
  // announced one by one (Vega would make every point an unlabelled image for screen readers).
  function prepare(spec) {
    spec.config = merge(spec.config, { aria: false, mark: { aria: false }, axis: { aria: false },
                                       legend: { aria: false } });
    if (darkQuery && darkQuery.matches) {
      spec.config = merge(spec.config, DARK_CONFIG);
    }
  }

  function scheme() {
    return darkQuery && darkQuery.matches ? "dark" : "light";
  }

  // vega-embed's export menu is an icon-only <summary>: give it a name.
  function nameMenu(el) {
    var summary = el.querySelector("details > summary");
    if (summary && !summary.getAttribute("aria-label")) {
      summary.setAttribute("aria-label", "Chart menu: save as SVG or PNG");
    }
  }

  function draw(el) {
    var spec;
    try {
      if (typeof window.vegaEmbed !== "function") {
        throw new Error("vega-embed.js is not loaded");
      }
      spec = readSpec(el);
    } catch (err) {
      console.error("sitegen chart:", el, err);
      showError(el, err && err.message ? err.message : String(err));
      return Promise.resolve(null);
    }
    prepare(spec);
    // Specs use width "container"; vega-embed makes the element inline-block, which would shrink it
    // to nothing, so it gets the full width of its parent (size the parent to size the chart).
    if (!el.style.width) {
      el.style.width = "100%";
    }
    return window.vegaEmbed(el, spec, EMBED_OPTIONS).then(function (result) {
      nameMenu(el);
      el.setAttribute("data-vega-rendered", "true");
      el.setAttribute("data-vega-scheme", scheme());
      views.push(result);
      return result;
    }).catch(function (err) {
      console.error("sitegen chart:", el, err);
      showError(el, err && err.message ? err.message : String(err));
      return null;
    });
  }

  function drawAll() {
    views.forEach(function (result) { result.finalize(); });
    views = [];
    var elements = document.querySelectorAll("[data-vega-spec]");
    return Promise.all(Array.prototype.map.call(elements, draw));
  }

  // Charts built in the browser (embed below) are drawn again too, from the spec they were given.
  function redrawEmbedded() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-vega-rendered]"), function (el) {
      if (el._sitegenSource) embed(el, Object.assign({}, el._sitegenSource.spec), el._sitegenSource.extra);
    });
  }

  if (darkQuery && darkQuery.addEventListener) {
    darkQuery.addEventListener("change", function () { drawAll(); redrawEmbedded(); });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
  // Draw a spec built in the browser (runcharts.js) with Vega's canvas renderer; replaces the element's
  // previous chart. `extra`: more vega-embed options (runcharts.js passes a `patch` for dense charts).
  function embed(el, spec, extra) {
    if (typeof window.vegaEmbed !== "function") {
      showError(el, "vega-embed.js is not loaded");
      return Promise.resolve(null);
    }
    el._sitegenSource = { spec: Object.assign({}, spec), extra: extra };  // to redraw in the other colour scheme
    prepare(spec);
    if (el._sitegenView) {
      el._sitegenView.finalize();
      el._sitegenView = null;
    }
    if (!el.style.width) {
      el.style.width = "100%";
    }
    var options = merge(EMBED_OPTIONS, { renderer: "canvas" });
    if (extra) Object.keys(extra).forEach(function (k) { options[k] = extra[k]; });
    return window.vegaEmbed(el, spec, options).then(function (result) {
      nameMenu(el);
      el._sitegenView = result;
      el.setAttribute("data-vega-rendered", "true");
      el.setAttribute("data-vega-scheme", scheme());
      return result;
    }).catch(function (err) {
      console.error("sitegen chart:", el, err);
      showError(el, err && err.message ? err.message : String(err));
      return null;
    });
  }

  window.sitegenCharts = { redraw: drawAll, embed: embed, showError: showError };
}());
