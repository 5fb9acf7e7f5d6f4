/*
 * sitegen: Vega-Lite specs built in the browser for run comparisons (curves, grouped bands, parallel
 * coordinates, scatter), EMA smoothing, min/max downsampling and a line diff. Drawn with the vendored
 * vega-embed through charts.js (`sitegenCharts.embed`). No dependencies, no network.
 *
 * A series is {label, x: [...], y: [...], time: bool}; non-finite y values are drawn as dashed rules.
 *
 * Speed: pages must work under a CSP without 'unsafe-eval', so Vega evaluates expressions with its
 * interpreter, which is slow for per-point encodings. Dense charts therefore carry a prebuilt tooltip
 * object in each data row and are drawn through `lean()`, a vega-embed `patch` that reads that field
 * directly and drops Vega-Lite's per-point ARIA descriptions (the chart keeps its one description).
 */
(function (root) {
  "use strict";

  var HEIGHT = 260;
  var CONFIG = {
    background: "transparent", view: { stroke: null },
    axis: { labelColor: "#4a4a4a", titleColor: "#333333", domainColor: "#8a8a8a", tickColor: "#8a8a8a",
            gridColor: "#8a8a8a", gridOpacity: 0.25 },
    legend: { labelColor: "#4a4a4a", titleColor: "#333333", orient: "bottom", labelLimit: 220 },
    title: { color: "#222222", anchor: "start" }, text: { color: "#333333" },
    range: { category: { scheme: "tableau10" } }
  };

  // Debiased exponential moving average (as TensorBoard draws it); non-finite points pass through.
  function ema(y, alpha) {
    if (!alpha) return y;
    var out = new Array(y.length), last = 0, n = 0;
    for (var i = 0; i < y.length; i++) {
      var v = y[i];
      if (typeof v !== "number" || !isFinite(v)) { out[i] = v; continue; }
      last = last * alpha + (1 - alpha) * v;
      n++;
      out[i] = last / (1 - Math.pow(alpha, n));
    }
    return out;
  }

  // Indices kept by min/max buckets (first, last, and the extremes of each bucket; non-finite kept).
  function minmax(y, budget) {
    var n = y.length;
    if (n <= budget) return null;
    var buckets = Math.max(1, Math.floor((budget - 2) / 2)), size = (n - 2) / buckets, keep = [0];
    for (var b = 0; b < buckets; b++) {
      var s = 1 + Math.floor(b * size), e = Math.min(n - 1, 1 + Math.floor((b + 1) * size));
      var lo = -1, hi = -1, picked = [];
      for (var i = s; i < e; i++) {
        var v = y[i];
        if (typeof v !== "number" || !isFinite(v)) { picked.push(i); continue; }
        if (lo < 0 || v < y[lo]) lo = i;
        if (hi < 0 || v > y[hi]) hi = i;
      }
      if (lo >= 0) picked.push(lo);
      if (hi >= 0 && hi !== lo) picked.push(hi);
      picked.sort(function (a, c) { return a - c; });
      Array.prototype.push.apply(keep, picked);
    }
    keep.push(n - 1);
    return keep;
  }

  function flagOf(v) {
    return v !== v ? "NaN" : v > 0 ? "inf" : "-inf";
  }

  function xField(time) { return time ? { field: "x", type: "temporal" } : { field: "x", type: "quantitative" }; }

  // Short text of a number for tooltips (4 significant digits, as the table shows values).
  function short(v) {
    if (typeof v !== "number") return v === null || v === undefined ? "" : String(v);
    return root.SitegenRunData ? root.SitegenRunData.fmt(v) : String(v);
  }

  function xText(x, time) {
    return time ? new Date(x).toISOString().replace("T", " ").replace(/\.000Z$|Z$/, "") : short(x);
  }

  // A vega-embed `patch` for the charts built here: in line, area and point marks, the tooltip becomes a plain
  // field read of the row's prebuilt `tip` object, and per-point `description`/`ariaRoleDescription`
  // encodings (interpreted expressions evaluated for every point) are dropped. Line rows are finite
  // already, so their `defined` test goes too. Marks of other shapes are left as compiled.
  function lean(vg) {
    (function walk(marks) {
      (marks || []).forEach(function (m) {
        var u = m.encode && m.encode.update;
        if (u && (m.type === "line" || m.type === "area" || m.type === "symbol")) {
          delete u.description;
          delete u.ariaRoleDescription;
          if (u.tooltip) u.tooltip = { field: "tip" };
          if (m.type === "line") delete u.defined;
        }
        walk(m.marks);
      });
    }(vg.marks));
    return vg;
  }

  // A run's stored curve of `metric` (its data.js entry: {t0, curves: {key: [steps, values, ms since t0]}})
  // as a series {label, x, y, time} for the x axis `xMode` (step, time, rel), smoothed by EMA `alpha`; null
  // when the run has no such curve, or no times for a time axis.
  function seriesOf(stored, metric, xMode, alpha, label) {
    var c = stored && stored.curves ? stored.curves[metric] : null;
    if (!c || !c[0].length) return null;
    var x;
    if (xMode === "step") x = c[0];
    else if (!c[2] || stored.t0 === null) return null;
    else if (xMode === "time") x = c[2].map(function (dt) { return stored.t0 + dt; });
    else x = c[2].map(function (dt) { return dt / 1000; });
    return { label: label, x: x, y: ema(c[1], alpha), time: xMode === "time" };
  }

  // Points a series gets on a chart of `n` series: up to 1,000 for a few series; when many share a chart
  // the chart's budget is split between them (at least 50 each: 24 min/max buckets keep the spikes).
  var CHART_POINTS = 6000, MIN_SERIES_POINTS = 50, MAX_SERIES_POINTS = 1000;

  function seriesBudget(n, chartPoints) {
    return Math.max(MIN_SERIES_POINTS, Math.min(MAX_SERIES_POINTS, Math.floor((chartPoints || CHART_POINTS) / Math.max(1, n))));
  }

  // Overlaid curves; `opts`: {title, xTitle, yTitle, log, time, budget (points a chart), bands,
  // seriesTitle (what a series is, in tooltips; default "run"), legend (false: none)}.
  function curvesSpec(series, opts) {
    var budget = seriesBudget(series.length, opts.budget);
    var xName = opts.xTitle || "step", yName = opts.yTitle || "value", seriesTitle = opts.seriesTitle || "run";
    var rows = [], flags = [], total = 0, drawn = 0;
    series.forEach(function (s) {
      var keep = minmax(s.y, budget), n = keep ? keep.length : s.y.length;
      total += s.y.length;
      for (var j = 0; j < n; j++) {
        var i = keep ? keep[j] : j, v = s.y[i];
        if (v === null || v === undefined) continue;
        if (!isFinite(v)) { flags.push({ s: s.label, x: s.x[i], flag: flagOf(v) }); continue; }
        if (opts.log && v <= 0) continue;
        var tip = {};
        tip[seriesTitle] = s.label;
        tip[xName] = xText(s.x[i], opts.time);
        tip[yName] = short(v);
        rows.push({ s: s.label, x: s.x[i], y: v, tip: tip });
      }
      drawn += n;
    });
    var color = { field: "s", type: "nominal", title: null, sort: null };
    if ((series.length > 12 && !opts.bands) || opts.legend === false) color.legend = null;
    var yScale = opts.log ? { type: "log" } : { zero: false };
    var layers = [];
    if (opts.bands) {
      layers.push({
        data: { values: opts.bands, format: { parse: null } }, mark: { type: "area", opacity: 0.2, clip: true, aria: false },
        encoding: { x: xField(opts.time), y: { field: "lo", type: "quantitative", scale: yScale },
                    y2: { field: "hi" }, color: color }
      });
    }
    layers.push({
      data: { values: rows, format: { parse: null } }, mark: { type: "line", strokeWidth: 1.5, clip: true, aria: false },
      encoding: {
        x: Object.assign(xField(opts.time), { title: opts.xTitle || "step" }),
        y: { field: "y", type: "quantitative", title: opts.yTitle || "value", scale: yScale },
        color: color, detail: { field: "s", type: "nominal" },
        tooltip: [{ field: "s", title: seriesTitle }, Object.assign(xField(opts.time), { title: opts.xTitle || "step" }),
                  { field: "y", type: "quantitative", title: opts.yTitle || "value", format: ".4~g" }]
      }
    });
    if (flags.length) {
      layers.push({
        data: { values: flags, format: { parse: null } }, mark: { type: "rule", strokeDash: [4, 3] },
        encoding: { x: xField(opts.time), color: color,
                    tooltip: [{ field: "s", title: seriesTitle }, { field: "flag", title: "value" }] }
      });
    }
    var text = "Line chart of " + (opts.yTitle || "value") + " for " + series.length + " series by " +
      (opts.xTitle || "step") + (opts.log ? " (log scale)" : "") + "; " + drawn + " of " + total +
      " points drawn (min and max per bucket)";
    return { $schema: "https://vega.github.io/schema/vega-lite/v6.4.1.json", width: "container", height: HEIGHT,
             title: opts.title || undefined, description: text, layer: layers, config: CONFIG,
             usermeta: { sitegen: { points: [total, drawn], series: series.length } } };
  }

  // Resample each series on a common grid and reduce: mean line plus min/max or ±std band per group.
  function groupBands(groups, band, gridSize) {
    var lo = Infinity, hi = -Infinity;
    groups.forEach(function (g) {
      g.series.forEach(function (s) {
        if (s.x.length) { lo = Math.min(lo, +s.x[0]); hi = Math.max(hi, +s.x[s.x.length - 1]); }
      });
    });
    var lines = [], bands = [];
    if (!(hi >= lo)) return { lines: lines, bands: bands };
    var n = gridSize || 300, step = hi > lo ? (hi - lo) / (n - 1) : 1, time = false;
    groups.forEach(function (g) {
      var sums = [];
      for (var i = 0; i < n; i++) sums.push([]);
      g.series.forEach(function (s) {
        time = time || s.time;
        var j = 0;
        for (var k = 0; k < n; k++) {
          var x = lo + k * step;
          if (x < +s.x[0] || x > +s.x[s.x.length - 1]) continue;
          while (j < s.x.length - 1 && +s.x[j + 1] < x) j++;
          var x0 = +s.x[j], x1 = +s.x[Math.min(j + 1, s.x.length - 1)];
          var y0 = s.y[j], y1 = s.y[Math.min(j + 1, s.x.length - 1)];
          var y = x1 === x0 ? y0 : y0 + (y1 - y0) * (x - x0) / (x1 - x0);
          if (typeof y === "number" && isFinite(y)) sums[k].push(y);
        }
      });
      var mx = [], my = [];
      sums.forEach(function (vals, k) {
        if (!vals.length) return;
        var mean = vals.reduce(function (a, b) { return a + b; }, 0) / vals.length, l, h;
        if (band === "std") {
          var sd = vals.length > 1 ? Math.sqrt(vals.reduce(function (a, b) { return a + (b - mean) * (b - mean); }, 0) / (vals.length - 1)) : 0;
          l = mean - sd; h = mean + sd;
        } else {
          l = Math.min.apply(null, vals); h = Math.max.apply(null, vals);
        }
        var x = lo + k * step;
        mx.push(x);  // wall time stays in ms since the epoch: the time scale reads numbers
        my.push(mean);
        bands.push({ s: g.label, x: x, lo: l, hi: h });
      });
      lines.push({ label: g.label, x: mx, y: my, time: time });
    });
    return { lines: lines, bands: bands };
  }

  // Parallel coordinates: one line a run over `dims` ([{key, label, values: [..a run]}]), each axis
  // scaled to [0, 1] (categories spread evenly); colour by `color` values (numbers).
  function parallelSpec(names, dims, color, colorTitle) {
    var rows = [], ticks = [];
    dims.forEach(function (dim, d) {
      var nums = dim.values.filter(function (v) { return typeof v === "number" && isFinite(v); });
      var present = dim.values.filter(function (v) { return v !== null && v !== undefined; });
      var numeric = nums.length > 0 && present.every(function (v) { return typeof v === "number"; });
      var scale;
      if (numeric) {
        var mn = Math.min.apply(null, nums), mx = Math.max.apply(null, nums);
        scale = function (v) { return typeof v === "number" && isFinite(v) ? (mx > mn ? (v - mn) / (mx - mn) : 0.5) : null; };
        ticks.push({ dim: dim.label, y: 0, t: SitegenRunDataFmt(mn) }, { dim: dim.label, y: 1, t: SitegenRunDataFmt(mx) });
      } else {
        var cats = [];
        dim.values.forEach(function (v) { if (v !== null && v !== undefined && cats.indexOf(String(v)) < 0) cats.push(String(v)); });
        cats.sort();
        scale = function (v) {
          if (v === null || v === undefined) return null;
          return cats.length > 1 ? cats.indexOf(String(v)) / (cats.length - 1) : 0.5;
        };
        cats.forEach(function (c) { ticks.push({ dim: dim.label, y: scale(c), t: c }); });
      }
      dim.values.forEach(function (v, i) {
        var y = scale(v);
        if (y === null) return;
        rows.push({ run: names[i], dim: dim.label, y: y, raw: SitegenRunDataFmt(v),
                    c: typeof color[i] === "number" && isFinite(color[i]) ? color[i] : null,
                    tip: { run: names[i], axis: dim.label, value: SitegenRunDataFmt(v) } });
      });
    });
    var order = dims.map(function (d) { return d.label; });
    var x = { field: "dim", type: "nominal", sort: order, title: null, axis: { labelAngle: 0, labelLimit: 120, domain: false, ticks: false, grid: true, orient: "bottom" } };
    return {
      $schema: "https://vega.github.io/schema/vega-lite/v6.4.1.json", width: "container", height: HEIGHT, config: CONFIG,
      description: "Parallel coordinates of " + names.length + " runs over " + order.join(", "),
      layer: [
        { data: { values: rows, format: { parse: null } }, mark: { type: "line", strokeWidth: 1.2, opacity: 0.7, aria: false },
          encoding: { x: x, y: { field: "y", type: "quantitative", axis: null, scale: { domain: [0, 1] } },
                      detail: { field: "run", type: "nominal" },
                      color: { field: "c", type: "quantitative", title: colorTitle || null, scale: { scheme: "viridis" } },
                      tooltip: [{ field: "run" }, { field: "dim", title: "axis" }, { field: "raw", title: "value" }] } },
        { data: { values: ticks }, mark: { type: "text", align: "left", dx: 3, fontSize: 10, limit: 110 },
          encoding: { x: { field: "dim", type: "nominal", sort: order }, y: { field: "y", type: "quantitative" }, text: { field: "t" } } }
      ]
    };
  }

  function SitegenRunDataFmt(v) {
    return root.SitegenRunData ? root.SitegenRunData.fmt(v) : String(v);
  }

  function scatterSpec(points, xTitle, yTitle, xNumeric) {
    points.forEach(function (p) {
      p.tip = { run: p.run };
      p.tip[xTitle] = short(p.x);
      p.tip[yTitle] = short(p.y);
    });
    return {
      $schema: "https://vega.github.io/schema/vega-lite/v6.4.1.json", width: "container", height: HEIGHT, config: CONFIG,
      description: "Scatter of " + yTitle + " against " + xTitle + " for " + points.length + " runs",
      data: { values: points },
      mark: { type: "point", filled: true, size: 50, aria: false },
      encoding: {
        x: { field: "x", type: xNumeric ? "quantitative" : "nominal", title: xTitle, scale: xNumeric ? { zero: false } : undefined },
        y: { field: "y", type: "quantitative", title: yTitle, scale: { zero: false } },
        color: { field: "status", type: "nominal", title: null },
        shape: { field: "best", type: "nominal", title: null, legend: null },
        tooltip: [{ field: "run" }, { field: "x", title: xTitle }, { field: "y", title: yTitle, format: ".4~g" }]
      }
    };
  }

  function embed(el, spec) {
    var charts = root.sitegenCharts;
    if (charts && charts.embed) return charts.embed(el, spec, { patch: lean });
    el.textContent = "Charts need vega-embed.js.";
    return Promise.resolve(null);
  }

  // Line diff (LCS on lines; falls back to a plain listing beyond a size limit).
  // Returns [{op: " "|"-"|"+", a: lineNoOrNull, b: lineNoOrNull, text}].
  function lineDiff(textA, textB) {
    var a = textA.split("\n"), b = textB.split("\n"), n = a.length, m = b.length, out = [];
    if (n * m > 4e6) {
      a.forEach(function (t, i) { out.push({ op: "-", a: i + 1, b: null, text: t }); });
      b.forEach(function (t, i) { out.push({ op: "+", a: null, b: i + 1, text: t }); });
      return out;
    }
    var w = m + 1, table = new Uint32Array((n + 1) * w);
    for (var i = n - 1; i >= 0; i--) {
      for (var j = m - 1; j >= 0; j--) {
        table[i * w + j] = a[i] === b[j] ? table[(i + 1) * w + j + 1] + 1 : Math.max(table[(i + 1) * w + j], table[i * w + j + 1]);
      }
    }
    i = 0; j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && a[i] === b[j]) { out.push({ op: " ", a: i + 1, b: j + 1, text: a[i] }); i++; j++; }
      else if (j < m && (i >= n || table[i * w + j + 1] >= table[(i + 1) * w + j])) { out.push({ op: "+", a: null, b: j + 1, text: b[j] }); j++; }
      else { out.push({ op: "-", a: i + 1, b: null, text: a[i] }); i++; }
    }
    return out;
  }

  root.SitegenRunCharts = {
    ema: ema, minmax: minmax, seriesOf: seriesOf, seriesBudget: seriesBudget, lean: lean, curvesSpec: curvesSpec,
    groupBands: groupBands, parallelSpec: parallelSpec,
    scatterSpec: scatterSpec, embed: embed, lineDiff: lineDiff
  };
}(typeof self !== "undefined" ? self : this));
