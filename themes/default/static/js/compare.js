/*
 * sitegen: comparison pages. Configured comparisons (compare/<name>/index.html) come with static tables;
 * this script adds the "only differences" switch, the curves per metric (grouped means with a band when
 * the comparison has group_by), parallel coordinates and side-by-side diffs of text artifacts.
 * The ad-hoc page (compare/index.html?runs=exp/id,exp/id[&baseline=exp/id]) draws the same tables from
 * the summary of every run embedded in the page. Curves and texts come from each run's data.js.
 * Needs rundata.js and runcharts.js; charts need vega-embed.js + charts.js.
 */
(function () {
  "use strict";

  var D, C;
  var MAX_CURVE_METRICS = 12;
  var MAX_DIFFS = 10;
  var CONTEXT = 3;

  function $(sel, el) { return (el || document).querySelector(sel); }

  function isNum(v) { return typeof v === "number" && isFinite(v); }

  // Resolves in a later task, so the page can paint and take input between two charts.
  function nextTask() { return new Promise(function (resolve) { setTimeout(resolve, 0); }); }

  // ------------------------------------------------------------------ ad-hoc tables (markup as compare_tables.html)

  function runHeader(data, run, baseline, withExp) {
    var esc = D.esc;
    return "<th scope=\"col\"" + (withExp ? "" : " class=\"num\"") + "><a href=\"" + esc(D.link(data, "run", run)) + "\">" + esc(run.name) + "</a>" +
      (run.uid === baseline ? " <span class=\"badge\">baseline</span>" : "") +
      (withExp ? "<br><span class=\"muted cmp-exp\">" + esc(run.exp) + "</span>" : "") + "</th>";
  }

  function paramsTable(data, runs, baseline) {
    var esc = D.esc, keys = {};
    runs.forEach(function (r) { Object.keys(r.p).forEach(function (k) { keys[k] = true; }); });
    var names = Object.keys(keys).sort();
    if (!names.length) return "<p class=\"empty\">These runs have no parameters.</p>";
    var html = "<div class=\"table-wrap\"><table class=\"cmp-table cmp-params\"><thead><tr><th scope=\"col\">Parameter</th>" +
      runs.map(function (r) { return runHeader(data, r, baseline, true); }).join("") + "</tr></thead><tbody>";
    names.forEach(function (k) {
      var texts = runs.map(function (r) { return k in r.p ? D.fmtParam(r.p[k]) : null; });
      var differ = texts.some(function (t) { return t !== texts[0]; });
      html += "<tr class=\"" + (differ ? "differ" : "same") + "\"><th scope=\"row\">" + esc(k) + "</th>" + texts.map(function (t) {
        return "<td>" + (t === null ? "<span class=\"muted\">—</span>" : esc(t)) + "</td>";
      }).join("") + "</tr>";
    });
    return html + "</tbody></table></div><p class=\"muted cmp-note\">Rows where the runs differ are highlighted.</p>";
  }

  function metricsTable(data, runs, baseline, keys) {
    var esc = D.esc, base = baseline ? data.byUid[baseline] : null;
    if (!keys.length) return "<p class=\"empty\">These runs have no metrics.</p>";
    var html = "<div class=\"table-wrap\"><table class=\"cmp-table cmp-metrics\"><thead><tr><th scope=\"col\">Metric</th>" +
      runs.map(function (r) { return runHeader(data, r, baseline, false); }).join("") + "</tr></thead><tbody>";
    keys.forEach(function (k) {
      var values = runs.map(function (r) { return k in r.m ? r.m[k] : null; });
      var lower = runs.some(function (r) { return r.lower[k]; });
      var finite = values.filter(isNum);
      var best = finite.length >= 2 ? (lower ? Math.min.apply(null, finite) : Math.max.apply(null, finite)) : null;
      var differ = values.some(function (v) { return D.fmt(v) !== D.fmt(values[0]); });
      var b = base ? base.m[k] : null;
      html += "<tr class=\"" + (differ ? "differ" : "same") + "\"><th scope=\"row\">" + esc(k) + " <span class=\"muted\" title=\"" +
        (lower ? "lower" : "higher") + " is better\">" + (lower ? "↓" : "↑") + "</span></th>";
      values.forEach(function (v, i) {
        var isBest = best !== null && v === best;
        html += "<td class=\"num" + (isBest ? " cmp-best" : "") + "\">" + (v === null ? "<span class=\"muted\">—</span>" : esc(D.fmt(v))) +
          (isBest ? " <span class=\"badge best\" title=\"best of these runs\">best</span>" : "");
        if (base && runs[i].uid !== baseline && isNum(v) && isNum(b)) {
          var delta = v - b, better = delta === 0 ? "" : (delta < 0) === lower ? "better" : "worse";
          html += "<br><span class=\"cmp-delta " + better + "\" title=\"against the baseline\">" + (delta > 0 ? "+" : "") + esc(D.fmt(delta)) + "</span>";
        }
        html += "</td>";
      });
      html += "</tr>";
    });
    return html + "</tbody></table></div>";
  }

  function imagesSection(data, runs) {
    var esc = D.esc, byPath = {};
    runs.forEach(function (r) {
      r.artifacts.forEach(function (a) { if (a[1] === "image") (byPath[a[0]] = byPath[a[0]] || {})[r.uid] = true; });
    });
    var paths = Object.keys(byPath).filter(function (p) { return Object.keys(byPath[p]).length >= 2; }).sort();
    if (!paths.length) return "";
    var html = "<section id=\"cmp-images\"><h2>Images</h2>";
    paths.forEach(function (p) {
      html += "<h3>" + esc(p) + "</h3><div class=\"cmp-side\">" + runs.map(function (r) {
        return byPath[p][r.uid] ? "<figure><img src=\"" + esc(D.link(data, "artifact", r, p)) + "\" alt=\"" + esc(p + " of " + r.name) +
          "\" loading=\"lazy\"><figcaption>" + esc(r.name) + "</figcaption></figure>" :
          "<figure><figcaption class=\"muted\">" + esc(r.name) + ": none</figcaption></figure>";
      }).join("") + "</div>";
    });
    return html + "</section>";
  }

  function textPaths(runs) {
    var count = {};
    runs.forEach(function (r) {
      r.artifacts.forEach(function (a) { if (a[1] !== "image") count[a[0]] = (count[a[0]] || 0) + 1; });
    });
    return Object.keys(count).filter(function (p) { return count[p] >= 2; }).sort();
  }

  function adhoc(root, data) {
    var params = new URLSearchParams(location.search);
    var wanted = (params.get("runs") || "").split(",").map(function (s) { return s.trim(); }).filter(Boolean);
    if (!wanted.length) return null;
    var runs = [], missing = [], seen = {};
    wanted.forEach(function (uid) {
      if (seen[uid]) return;
      seen[uid] = true;
      if (data.byUid[uid]) runs.push(data.byUid[uid]); else missing.push(uid);
    });
    var baseline = params.get("baseline");
    if (!baseline || !data.byUid[baseline] || !seen[baseline]) baseline = runs.length ? runs[0].uid : null;
    var keys = {};
    runs.forEach(function (r) { Object.keys(r.m).forEach(function (k) { keys[k] = true; }); });
    var metricKeys = Object.keys(keys).sort();
    var esc = D.esc, box = $(".cmp-adhoc", root), texts = textPaths(runs);
    var html = "<p class=\"meta\">" + runs.length + " runs · baseline <strong>" + esc(baseline ? data.byUid[baseline].name : "none") + "</strong></p>";
    if (missing.length) html += "<p class=\"notice warn\" role=\"alert\">Not in this site: " + esc(missing.join(", ")) + "</p>";
    if (runs.length) {
      html += "<p class=\"cmp-toolbar\" hidden><label><input type=\"checkbox\" class=\"cmp-only-diff\"> Only differences</label></p>" +
        "<section id=\"cmp-params\"><h2>Parameters</h2>" + paramsTable(data, runs, baseline) + "</section>" +
        "<section id=\"cmp-metrics\"><h2>Metrics</h2>" + metricsTable(data, runs, baseline, metricKeys) + "</section>" +
        "<section id=\"cmp-charts\" class=\"cmp-charts\" hidden><h2>Curves</h2><div class=\"rc-controls\">" +
        "<label>X axis <select class=\"rc-x\"><option value=\"step\">step</option><option value=\"time\">wall time</option><option value=\"rel\">relative time</option></select></label> " +
        "<label>Smoothing <input class=\"rc-ema\" type=\"range\" min=\"0\" max=\"0.99\" step=\"0.01\" value=\"0\"></label> <output class=\"rc-ema-value\">0</output> " +
        "<label><input class=\"rc-log\" type=\"checkbox\"> log scale</label></div><div class=\"charts cmp-curves\"></div>" +
        "<h2>Parallel coordinates</h2><div class=\"vega cmp-parallel\"></div></section>" + imagesSection(data, runs) +
        (texts.length ? "<section id=\"cmp-texts\"><h2>Text artifacts</h2><p class=\"muted\">Side-by-side differences against the baseline.</p><div class=\"cmp-diffs\"></div></section>" : "");
    }
    box.innerHTML = html;
    box.hidden = false;
    $(".cmp-index", root).hidden = true;
    document.title = "Compare " + runs.length + " runs · " + document.title.split(" · ").slice(1).join(" · ");
    if (baseline) runs = [data.byUid[baseline]].concat(runs.filter(function (r) { return r.uid !== baseline; }));
    return { runs: runs, metrics: metricKeys, groupBy: [], texts: texts, baseline: baseline };
  }

  // ------------------------------------------------------------------------------- charts

  function groupLabel(run, fields) {
    return fields.map(function (f) {
      var v = run.row[f];
      return f.replace(/^[a-z]+\./, "") + "=" + (v === null || v === undefined ? "" : D.fmtParam(v));
    }).join(", ");
  }

  function Comparison(root, data, plan) {
    this.root = root;
    this.data = data;
    this.plan = plan;
    this.stored = null;
    this.charts = $(".cmp-charts", root);
  }

  Comparison.prototype.labels = function () {
    var names = {}, out = {};
    this.plan.runs.forEach(function (r) { names[r.name] = (names[r.name] || 0) + 1; });
    this.plan.runs.forEach(function (r) { out[r.uid] = names[r.name] > 1 ? r.name + " (" + r.id + ")" : r.name; });
    return out;
  };

  Comparison.prototype.drawParallel = function () {
    var runs = this.plan.runs, el = $(".cmp-parallel", this.root);
    if (!el) return;
    var params = {};
    runs.forEach(function (r) { Object.keys(r.p).forEach(function (k) { params[k] = true; }); });
    var dims = Object.keys(params).sort().filter(function (k) {
      var seen = {};
      runs.forEach(function (r) { seen[String(r.p[k])] = true; });
      return Object.keys(seen).length > 1;
    }).slice(0, 10).map(function (k) {
      return { label: k, values: runs.map(function (r) { return r.p[k]; }) };
    });
    var metrics = this.plan.metrics.slice(0, 4), color = metrics.length ? runs.map(function (r) { return r.m[metrics[0]]; }) : runs.map(function () { return null; });
    metrics.forEach(function (m) { dims.push({ label: m, values: runs.map(function (r) { return r.m[m]; }) }); });
    if (runs.length < 2 || !dims.length) { el.textContent = "Nothing to draw: fewer than two runs or nothing differs."; return Promise.resolve(); }
    var labels = this.labels();
    return C.embed(el, C.parallelSpec(runs.map(function (r) { return labels[r.uid]; }), dims, color, metrics[0] || null));
  };

  // One chart a task, top to bottom (the first charts are the ones in view), so the page stays
  // responsive while a hundred runs' curves are drawn; a newer call (a control changed) cancels the rest.
  Comparison.prototype.drawCurves = function () {
    var plan = this.plan, stored = this.stored, box = $(".cmp-curves", this.root), charts = this.charts;
    var xMode = $(".rc-x", charts).value, alpha = +$(".rc-ema", charts).value, log = $(".rc-log", charts).checked;
    var band = $(".rc-band", charts) ? $(".rc-band", charts).value : "minmax";
    var labels = this.labels(), generation = this.generation = (this.generation || 0) + 1, self = this;
    var xTitle = xMode === "step" ? "step" : xMode === "time" ? "time" : "seconds since start";
    if (!box.children.length) {
      box.innerHTML = plan.metrics.map(function (m, i) {
        return "<figure class=\"chart\"><figcaption>" + D.esc(m) + "</figcaption><div class=\"vega cmp-curve\" data-metric-index=\"" + i + "\"></div></figure>";
      }).join("");
    }
    function drawOne(metric, i) {
      var el = box.querySelector("[data-metric-index=\"" + i + "\"]"), spec, opts = { yTitle: metric, xTitle: xTitle, log: log, time: xMode === "time" };
      if (plan.groupBy.length) {
        var groups = {}, order = [];
        plan.runs.forEach(function (run) {
          var s = C.seriesOf(stored[run.uid], metric, xMode, alpha, labels[run.uid]);
          if (!s) return;
          var key = groupLabel(run, plan.groupBy);
          if (!groups[key]) { groups[key] = { label: key, series: [] }; order.push(key); }
          groups[key].series.push(s);
        });
        if (!order.length) { el.textContent = "No run logged " + metric + (xMode === "step" ? "" : " with timestamps") + "."; return null; }
        order.sort();
        var reduced = C.groupBands(order.map(function (k) { return groups[k]; }), band);
        opts.bands = reduced.bands;
        spec = C.curvesSpec(reduced.lines, opts);
      } else {
        var series = [];
        plan.runs.forEach(function (run) {
          var s = C.seriesOf(stored[run.uid], metric, xMode, alpha, labels[run.uid]);
          if (s) series.push(s);
        });
        if (!series.length) { el.textContent = "No run logged " + metric + (xMode === "step" ? "" : " with timestamps") + "."; return null; }
        spec = C.curvesSpec(series, opts);
      }
      return C.embed(el, spec);
    }
    var chain = Promise.resolve();
    plan.metrics.forEach(function (metric, i) {
      chain = chain.then(function () {
        if (generation !== self.generation) return null;
        return drawOne(metric, i);
      }).then(function () { return i + 1 < plan.metrics.length ? nextTask() : null; });
    });
    return chain;
  };

  Comparison.prototype.drawDiffs = function () {
    var box = $(".cmp-diffs", this.root), plan = this.plan, stored = this.stored, esc = D.esc;
    if (!box) return;
    var html = "";
    plan.texts.forEach(function (path) {
      var having = plan.runs.filter(function (r) { return stored[r.uid] && stored[r.uid].texts && path in stored[r.uid].texts; });
      if (having.length < 2) {
        html += "<h3>" + esc(path) + "</h3><p class=\"muted\">Too large to compare here; open it from the run pages.</p>";
        return;
      }
      var base = having[0], baseText = stored[base.uid].texts[path];
      html += "<h3>" + esc(path) + "</h3>";
      having.slice(1, 1 + MAX_DIFFS).forEach(function (run) {
        var text = stored[run.uid].texts[path];
        html += "<details class=\"cmp-diff\"" + (having.length <= 3 ? " open" : "") + "><summary>" + esc(base.name) + " → " + esc(run.name) +
          (text === baseText ? " <span class=\"muted\">(identical)</span>" : "") + "</summary>" +
          (text === baseText ? "" : diffTable(C.lineDiff(baseText, text))) + "</details>";
      });
      if (having.length - 1 > MAX_DIFFS) html += "<p class=\"muted\">and " + (having.length - 1 - MAX_DIFFS) + " more runs with this file.</p>";
    });
    box.innerHTML = html;

    function diffTable(ops) {
      // pair removals with the additions that follow them, so changed lines sit side by side
      var rows = [], i = 0;
      while (i < ops.length) {
        if (ops[i].op === " ") { rows.push([ops[i], ops[i]]); i++; continue; }
        var minus = [], plus = [];
        while (i < ops.length && ops[i].op !== " ") (ops[i].op === "-" ? minus : plus).push(ops[i++]);
        for (var k = 0; k < Math.max(minus.length, plus.length); k++) rows.push([minus[k] || null, plus[k] || null]);
      }
      var changed = rows.map(function (r) { return !(r[0] && r[1] && r[0] === r[1]); });
      var out = "<div class=\"table-wrap\"><table class=\"cmp-difftable\"><tbody>", skipped = 0;
      rows.forEach(function (r, n) {
        var near = false;
        for (var d = Math.max(0, n - CONTEXT); d <= Math.min(rows.length - 1, n + CONTEXT); d++) if (changed[d]) near = true;
        if (!near) { skipped++; return; }
        if (skipped) { out += "<tr class=\"gap\"><td colspan=\"4\">… " + skipped + " unchanged lines</td></tr>"; skipped = 0; }
        var same = !changed[n];
        out += "<tr>" + side(r[0], "a", same ? "" : "del") + side(r[1], "b", same ? "" : "add") + "</tr>";
      });
      if (skipped) out += "<tr class=\"gap\"><td colspan=\"4\">… " + skipped + " unchanged lines</td></tr>";
      return out + "</tbody></table></div>";
    }

    function side(op, which, cls) {
      if (!op) return "<td class=\"ln\"></td><td class=\"empty-side\"></td>";
      return "<td class=\"ln\">" + op[which] + "</td><td class=\"" + cls + "\"><code>" + esc(op.text) + "</code></td>";
    }
  };

  // Loads the runs' data.js files; called as soon as the plan is known, before the chart runtime runs.
  Comparison.prototype.load = function () {
    if (!this.loading) this.loading = this.charts && this.plan.runs.length ? D.load(this.data, this.plan.runs) : Promise.resolve({});
    return this.loading;
  };

  Comparison.prototype.start = function () {
    var self = this, root = this.root, toolbar = $(".cmp-toolbar", root);
    if (toolbar) {
      toolbar.hidden = false;
      $(".cmp-only-diff", toolbar).addEventListener("change", function (e) {
        root.classList.toggle("cmp-only-differences", e.target.checked);
      });
    }
    if (!this.charts || !this.plan.runs.length) return Promise.resolve();
    this.charts.hidden = false;
    var loading = this.load();
    // data-*-ms: milliseconds since navigation start when that part was drawn (read by benchmarks)
    var parallel = Promise.resolve(this.drawParallel()).then(function () {
      root.setAttribute("data-parallel-ms", String(Math.round(performance.now())));
    });
    var curves = Promise.all([loading, parallel.then(nextTask)]).then(function (got) {
      var stored = got[0];
      self.stored = stored;
      // curves only for metrics some run has a history of (summary-only metrics stay in the table)
      self.plan.metrics = self.plan.metrics.filter(function (m) {
        return self.plan.runs.some(function (r) { return stored[r.uid] && stored[r.uid].curves && stored[r.uid].curves[m]; });
      }).slice(0, MAX_CURVE_METRICS);
      if (!self.plan.metrics.length) $(".cmp-curves", root).innerHTML = "<p class=\"empty\">None of these runs has a metric history.</p>";
      var redraw = function () { self.drawCurves(); };
      ["rc-x", "rc-log", "rc-band"].forEach(function (cls) {
        var el = $("." + cls, self.charts);
        if (el) el.addEventListener("change", redraw);
      });
      var ema = $(".rc-ema", self.charts), timer = null;
      ema.addEventListener("input", function () {
        $(".rc-ema-value", self.charts).textContent = ema.value;
        clearTimeout(timer);
        timer = setTimeout(redraw, 80);
      });
      return self.drawCurves().then(function () {
        root.setAttribute("data-charts-ms", String(Math.round(performance.now())));
        return nextTask();
      }).then(function () { self.drawDiffs(); });
    });
    return Promise.all([parallel, curves]).then(function () {
      root.setAttribute("data-ready", "true");
    });
  };

  // The ad-hoc page names each experiment's summary script (data/summaries/<exp>.js): load those of the
  // runs asked for (classic scripts, so this works from file://), decode each and put them together.
  function loadAdhoc(raw, siteRoot) {
    var asked = {}, exps = {};
    (new URLSearchParams(location.search).get("runs") || "").split(",").forEach(function (uid) {
      uid = uid.trim();
      if (!uid) return;
      asked[uid] = true;
      var exp = uid.split("/")[0];
      if (Object.prototype.hasOwnProperty.call(raw.summaries || {}, exp)) exps[exp] = true;
    });
    var names = Object.keys(exps).sort();
    function store() { return self.sitegenSummaries || {}; }
    return Promise.all(names.map(function (exp) {
      if (store()[exp]) return null;
      return new Promise(function (resolve) {
        var script = document.createElement("script");
        script.src = siteRoot + raw.summaries[exp];
        script.onload = resolve;
        script.onerror = resolve;  // its runs are then reported as not in this site
        document.head.appendChild(script);
      });
    })).then(function () {
      var merged = { keys: { params: [], metrics: [], tags: [] }, runs: [], byUid: {}, links: raw.links,
                     root: siteRoot, raw: raw };
      names.forEach(function (exp) {
        var part = store()[exp];
        if (!part) return;
        var data = D.decode({ keys: part.keys, links: raw.links,
                              runs: part.runs.filter(function (r) { return asked[r.uid]; }) }, siteRoot);
        data.runs.forEach(function (run) {
          run.index = merged.runs.length;
          merged.runs.push(run);
          merged.byUid[run.uid] = run;
        });
        Object.keys(merged.keys).forEach(function (kind) {
          data.keys[kind].forEach(function (name) {
            if (merged.keys[kind].indexOf(name) < 0) merged.keys[kind].push(name);
          });
        });
      });
      return merged;
    });
  }

  function begin(root, raw, data) {
    var plan;
    if (raw.mode === "adhoc") {
      plan = adhoc(root, data);
      if (!plan) { root.setAttribute("data-ready", "true"); return; }
    } else {
      plan = { runs: data.runs, metrics: raw.metrics, groupBy: raw.group_by || [],
               texts: raw.texts || [], baseline: raw.baseline };
    }
    var cmp = new Comparison(root, data, plan);
    window.sitegenComparison = cmp;
    cmp.load();
    if (document.readyState === "loading" || document.readyState === "interactive" && typeof window.vegaEmbed !== "function") {
      document.addEventListener("DOMContentLoaded", function () { cmp.start(); });
    } else {
      cmp.start();
    }
  }

  // The tables and the data loads start when this deferred script runs (the document is parsed);
  // the charts wait for the chart runtime, a deferred script after this one (DOMContentLoaded).
  function init() {
    D = window.SitegenRunData;
    C = window.SitegenRunCharts;
    var root = document.querySelector("[data-compare]");
    if (!root || !D || !C) return;
    var raw = JSON.parse(document.getElementById(root.getAttribute("data-compare")).textContent);
    var siteRoot = root.getAttribute("data-root");
    if (raw.mode === "adhoc") {
      loadAdhoc(raw, siteRoot).then(function (data) { begin(root, raw, data); });
    } else {
      begin(root, raw, D.decode(raw, siteRoot));
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
}());
