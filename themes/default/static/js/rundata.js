/*
 * sitegen: run data for the run table and comparison pages (no dependencies, works from file://).
 *
 * Pages embed a compact summary of runs (sitegen/pages/compare.py `summaries`) in a
 * <script type="application/json"> block: column tables `keys.params|metrics|tags` and one record a run
 * whose `p`, `m`, `t` map a column index to a value (metrics may be the tokens "NaN", "Infinity").
 * Curves and small text artifacts of a run live in `runs/<exp>/<id>/data.js`, a classic script that
 * files them in `self.sitegenRunStore[uid]`; `load()` adds those <script> tags on demand (no fetch).
 *
 *   var d = SitegenRunData.decode(JSON.parse(el.textContent), root);
 *   d.runs[0].m["val/acc"]; d.runs[0].row["params.lr"]; SitegenRunData.load(d.runs.slice(0, 5)).then(...)
 */
(function (root) {
  "use strict";

  var TOKENS = { "NaN": NaN, "Infinity": Infinity, "-Infinity": -Infinity };

  function metricNumber(v) {
    if (typeof v === "string" && Object.prototype.hasOwnProperty.call(TOKENS, v)) return TOKENS[v];
    return v;
  }

  function byIndex(table, names, convert) {
    var out = {};
    for (var k in table) {
      if (Object.prototype.hasOwnProperty.call(table, k)) {
        out[names[+k]] = convert ? convert(table[k]) : table[k];
      }
    }
    return out;
  }

  // The row the query language (query.js) sees; the same keys as sitegen.pages.compare.query_row.
  function queryRow(run) {
    var row = {
      "attributes.status": run.statusRaw, "attributes.name": run.name, "attributes.id": run.id,
      "attributes.experiment": run.exp, "attributes.user": run.user,
      "attributes.start_time": run.start, "attributes.end_time": run.end, "attributes.duration": run.dur
    };
    var k;
    for (k in run.p) row["params." + k] = run.p[k];
    for (k in run.m) row["metrics." + k] = run.m[k];
    for (k in run.t) row["tags." + k] = run.t[k];
    return row;
  }

  function decode(data, siteRoot) {
    var keys = data.keys;
    var runs = data.runs.map(function (r, i) {
      var run = {
        index: i, uid: r.uid, id: r.id, exp: r.exp, name: r.name, status: r.status,
        statusRaw: r.status === "crashed" ? "running" : r.status, user: r.user, start: r.start, end: r.end,
        dur: r.dur, parent: r.parent, hist: r.hist, artifacts: r.a || [],
        p: byIndex(r.p, keys.params), m: byIndex(r.m, keys.metrics, metricNumber), t: byIndex(r.t, keys.tags),
        lower: {}
      };
      (r.lower || []).forEach(function (k) { run.lower[keys.metrics[+k]] = true; });
      run.row = queryRow(run);
      return run;
    });
    var byUid = {};
    runs.forEach(function (run) { byUid[run.uid] = run; });
    return { keys: keys, runs: runs, byUid: byUid, links: data.links, root: siteRoot || "", raw: data };
  }

  // ---------------------------------------------------------------------------------- links

  function link(data, kind, run, path) {
    var template = data.links[kind];
    var out = template.replace("{exp}", encodeURIComponent(run.exp)).replace("{id}", encodeURIComponent(run.id));
    if (path !== undefined) {
      out = out.replace("{path}", path.split("/").map(encodeURIComponent).join("/"));
    }
    return data.root + out;
  }

  // ------------------------------------------------------------------------------ formatting

  function fmtNumber(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v !== "number") return String(v);
    if (v !== v) return "NaN";
    if (v === Infinity) return "inf";
    if (v === -Infinity) return "-inf";
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return Math.abs(v) >= 10000 ? v.toLocaleString("en-US") : String(v);
    var mag = Math.abs(v);
    if (mag >= 1e6 || mag < 1e-4) return v.toExponential(3);
    return String(Number(v.toPrecision(mag < 1 ? 4 : Math.max(4, String(Math.floor(mag)).length))));
  }

  // A param or tag value as text (as sitegen.pages.common.display_value writes scalars).
  function fmtParam(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "boolean") return v ? "true" : "false";
    return String(v);
  }

  function fmtDuration(seconds) {
    if (seconds === null || seconds === undefined || seconds < 0) return "";
    var s = Math.round(seconds), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600);
    var m = Math.floor(s % 3600 / 60), sec = s % 60;
    if (d) return d + "d " + h + "h";
    if (h) return h + "h " + (m < 10 ? "0" : "") + m + "m";
    if (m) return m + "m " + (sec < 10 ? "0" : "") + sec + "s";
    return sec + "s";
  }

  function fmtDate(iso) {
    return iso ? iso.slice(0, 10) + " " + iso.slice(11, 16) : "";
  }

  var ESC = { "&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;" };
  function esc(text) {
    return String(text).replace(/[&<>"']/g, function (c) { return ESC[c]; });
  }

  // ------------------------------------------------------------------------------- ordering

  // Sort order with missing values and NaN last in either direction; numbers before text.
  function rank(v) {
    if (v === null || v === undefined || (typeof v === "number" && v !== v)) return 2;
    return typeof v === "number" || typeof v === "boolean" ? 0 : 1;
  }

  function compareValues(a, b, dir) {
    var ra = rank(a), rb = rank(b);
    if (ra !== rb || ra === 2) return ra - rb;
    var c;
    if (ra === 0) c = (+a) - (+b);
    else c = String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0;
    return dir * c;
  }

  // ------------------------------------------------------------------------- run data files

  var pending = {};

  function store() {
    return root.sitegenRunStore || (root.sitegenRunStore = {});
  }

  function loadOne(data, run) {
    if (store()[run.uid]) return Promise.resolve(store()[run.uid]);
    if (pending[run.uid]) return pending[run.uid];
    pending[run.uid] = new Promise(function (resolve) {
      var script = document.createElement("script");
      script.src = link(data, "data", run);
      script.async = true;
      script.onload = function () { resolve(store()[run.uid] || null); };
      script.onerror = function () { delete pending[run.uid]; resolve(null); };
      document.head.appendChild(script);
    });
    return pending[run.uid];
  }

  // Resolves to {uid: data or null} for the runs that have a history or artifacts to diff.
  function load(data, runs) {
    return Promise.all(runs.map(function (run) { return loadOne(data, run); })).then(function (items) {
      var out = {};
      runs.forEach(function (run, i) { out[run.uid] = items[i]; });
      return out;
    });
  }

  // ---------------------------------------------------------------------------------- CSV

  function csvCell(v) {
    if (v === null || v === undefined) return "";
    var s = typeof v === "number" ? (v !== v ? "NaN" : v === Infinity ? "inf" : v === -Infinity ? "-inf" : String(v)) : String(v);
    if (/^[=+\-@\t\r]/.test(s) && typeof v !== "number") s = "'" + s;  // no formulas in spreadsheets
    return /[",\r\n]/.test(s) ? "\"" + s.replace(/"/g, "\"\"") + "\"" : s;
  }

  function csv(header, rows) {
    var lines = [header.map(csvCell).join(",")];
    rows.forEach(function (r) { lines.push(r.map(csvCell).join(",")); });
    return lines.join("\n") + "\n";
  }

  // A Blob download: works from file:// (no server round trip).
  function download(filename, text, type) {
    var blob = new Blob([text], { type: type || "text/csv;charset=utf-8" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = filename;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 0);
  }

  root.SitegenRunData = {
    decode: decode, link: link, load: load, fmt: fmtNumber, fmtParam: fmtParam, fmtDuration: fmtDuration, fmtDate: fmtDate,
    esc: esc, compareValues: compareValues, csv: csv, download: download, queryRow: queryRow
  };
}(typeof self !== "undefined" ? self : this));
