/*
 * sitegen: the experiment page's run table and charts, drawn from the compact JSON in
 * <script type="application/json" id="runtable-data"> (sitegen/pages/experiment.py `table_data`).
 *
 * Table: columns chooser (remembered in localStorage), sort on any column (missing and NaN last),
 * filter box with the query language (query.js; errors show their position), nested runs under their
 * parent (collapsible), the best run marked, checkboxes -> "Compare selected", CSV of the filtered rows.
 * Charts: curves of selected / top-N / shown runs or group means with a band, EMA, log scale, x by
 * step / wall time / relative time; parallel coordinates; scatter of any column against any metric.
 * Needs rundata.js, runcharts.js, query.js; charts need vega-embed.js + charts.js.
 */
(function () {
  "use strict";

  var D, C;
  var STORAGE = "sitegen.columns.";
  var MAX_GROUP_RUNS = 300;
  var MAX_PARALLEL_RUNS = 300;

  function $(sel, el) { return (el || document).querySelector(sel); }

  function debounce(fn, ms) {
    var t = null;
    return function () { clearTimeout(t); t = setTimeout(fn, ms); };
  }

  function storageGet(key) {
    try { return window.localStorage ? window.localStorage.getItem(key) : null; } catch (e) { return null; }
  }

  function storageSet(key, value) {
    try { if (window.localStorage) window.localStorage.setItem(key, value); } catch (e) { /* private mode */ }
  }

  // ----------------------------------------------------------------------------- columns

  function makeColumns(data) {
    var raw = data.raw, esc = D.esc, cols = [];
    function attr(id, label, get, opts) {
      cols.push(Object.assign({ id: "attr:" + id, label: label, group: "Attributes", get: get }, opts || {}));
    }
    attr("name", "Run", function (r) { return r.name; }, { fixed: true });
    attr("status", "Status", function (r) { return r.status; }, {
      html: function (r) { return "<span class=\"badge status-" + esc(r.status) + "\">" + esc(r.status === "crashed" ? "running?" : r.status) + "</span>"; }
    });
    attr("user", "User", function (r) { return r.user; });
    attr("start", "Started", function (r) { return r.start; }, { text: function (r) { return D.fmtDate(r.start); } });
    attr("dur", "Duration", function (r) { return r.dur; }, { num: true, text: function (r) { return D.fmtDuration(r.dur); } });
    attr("id", "Run id", function (r) { return r.id; });
    data.keys.params.slice().sort().forEach(function (k) {
      cols.push({ id: "p:" + k, label: k, group: "Params", get: function (r) { return r.p[k]; } });
    });
    var metrics = (raw.metric_order || data.keys.metrics).slice();
    data.keys.metrics.forEach(function (k) { if (metrics.indexOf(k) < 0) metrics.push(k); });
    metrics.forEach(function (k) {
      cols.push({ id: "m:" + k, label: k, group: "Metrics", num: true, metric: k,
                  primary: k === raw.primary, get: function (r) { return r.m[k]; } });
    });
    data.keys.tags.slice().sort().forEach(function (k) {
      cols.push({ id: "t:" + k, label: k, group: "Tags", get: function (r) { return r.t[k]; } });
    });
    return cols;
  }

  function cellText(col, run) {
    if (col.text) return col.text(run);
    return D.fmt(col.get(run));
  }

  // ------------------------------------------------------------------------------- table

  function RunTable(section, data) {
    this.section = section;
    this.data = data;
    this.raw = data.raw;
    this.columns = makeColumns(data);
    this.colById = {};
    var self = this;
    this.columns.forEach(function (c) { self.colById[c.id] = c; });
    this.storageKey = STORAGE + this.raw.experiment;
    this.visible = this.loadColumns();
    this.sort = null; // {id, dir}
    this.query = null;
    this.queryText = "";
    this.collapsed = {};
    this.selected = {};
    this.children = {};
    this.roots = [];
    data.runs.forEach(function (run) {
      if (run.parent && data.byUid[run.parent]) (self.children[run.parent] = self.children[run.parent] || []).push(run);
      else self.roots.push(run);
    });
    this.table = $(".rt-table", section);
    this.wrap = $(".rt-wrap", section);
    this.thead = this.table.tHead;
    this.tbody = this.table.tBodies[0];
    this.status = $(".rt-status", section);
    this.input = $(".rt-query", section);
    this.listeners = [];
  }

  RunTable.prototype.loadColumns = function () {
    var saved = storageGet(this.storageKey), self = this, ids = null;
    if (saved) {
      try { ids = JSON.parse(saved); } catch (e) { ids = null; }
    }
    if (!Array.isArray(ids)) ids = this.raw.defaults;
    ids = ids.filter(function (id) { return self.colById[id]; });
    if (ids.indexOf("attr:name") < 0) ids.unshift("attr:name");
    return ids;
  };

  RunTable.prototype.saveColumns = function () {
    storageSet(this.storageKey, JSON.stringify(this.visible));
  };

  RunTable.prototype.shownColumns = function () {
    var self = this;
    return this.columns.filter(function (c) { return self.visible.indexOf(c.id) >= 0; });
  };

  // The rows to draw: [{run, depth, dim}] (tree order, siblings sorted, filtered keeping ancestors).
  RunTable.prototype.view = function (ignoreCollapse) {
    var self = this, q = this.query, matched = null, keep = null;
    if (q) {
      matched = {};
      keep = {};
      this.data.runs.forEach(function (run) { if (q.matches(run.row)) matched[run.uid] = true; });
      var mark = function (run) {
        var any = !!matched[run.uid];
        (self.children[run.uid] || []).forEach(function (kid) { if (mark(kid)) any = true; });
        if (any) keep[run.uid] = true;
        return any;
      };
      this.roots.forEach(mark);
    }
    var cmp = null;
    if (this.sort) {
      var col = this.colById[this.sort.id], dir = this.sort.dir;
      cmp = function (a, b) { return D.compareValues(col.get(a), col.get(b), dir) || a.index - b.index; };
    }
    var out = [];
    var walk = function (list, depth) {
      if (cmp) list = list.slice().sort(cmp);
      for (var i = 0; i < list.length; i++) {
        var run = list[i];
        if (keep && !keep[run.uid]) continue;
        out.push({ run: run, depth: depth, dim: matched ? !matched[run.uid] : false });
        var kids = self.children[run.uid];
        if (kids && (ignoreCollapse || !self.collapsed[run.uid])) walk(kids, depth + 1);
      }
    };
    walk(this.roots, 0);
    this.matchedCount = matched ? Object.keys(matched).length : this.data.runs.length;
    return out;
  };

  RunTable.prototype.renderHead = function () {
    var esc = D.esc, self = this, html = "<tr><th scope=\"col\" class=\"rt-sel\"><input type=\"checkbox\" class=\"rt-all\" aria-label=\"Select every run shown\"></th>";
    this.shownColumns().forEach(function (c) {
      var sort = self.sort && self.sort.id === c.id ? (self.sort.dir > 0 ? "ascending" : "descending") : "none";
      var cls = (c.num ? "num " : "") + (c.group === "Metrics" ? "metric" : c.group === "Params" ? "param" : "") + (c.primary ? " primary" : "");
      html += "<th scope=\"col\" class=\"" + cls + "\" aria-sort=\"" + sort + "\"><button type=\"button\" class=\"rt-sort\" data-col=\"" +
        esc(c.id) + "\" title=\"Sort by " + esc(c.label) + "\">" + esc(c.label) + "<span class=\"rt-arrow\" aria-hidden=\"true\">" +
        (sort === "ascending" ? "▲" : sort === "descending" ? "▼" : "") + "</span></button></th>";
    });
    this.thead.innerHTML = html + "</tr>";
  };

  // Rows are virtualised: only the rows near the scrolled window of .rt-wrap are in the DOM (with two
  // spacer rows keeping the scroll height), so sorting or filtering thousands of runs stays fast.
  // A new view (load, sort, filter, collapse) is drawn in two steps: at once only the rows in view
  // plus a few (`quick`, no measuring), then, once that frame is painted, the full window with its
  // overscan for smooth scrolling. Layout is read before the DOM is written (no forced layouts).
  var OVERSCAN = 30, QUICK_OVERSCAN = 5;

  // The scroll box's height and offset; read it before writing the DOM. Before the first rows are
  // drawn the box is empty: the window's height stands in for it (no layout needed).
  RunTable.prototype.geometry = function () {
    if (!this.drawn) return { height: window.innerHeight || 800, top: 0 };
    return { height: this.wrap.clientHeight || 800, top: this.wrap.scrollTop };
  };

  RunTable.prototype.renderBody = function (geometry) {
    var g = geometry || this.geometry();
    var rows = this.view(false), data = this.data, self = this;
    this.rows = rows;
    this.windowStart = -1;
    this.renderWindow(true, g, true);
    this.scheduleFull();
    var total = data.runs.length;
    if (!this.queryError) {
      this.status.textContent = this.query ? this.matchedCount + " of " + total + " runs match" : total + " runs";
    }
    var all = $(".rt-all", this.thead);
    if (all) all.checked = rows.length > 0 && rows.every(function (r) { return self.selected[r.run.uid]; });
  };

  // The full window once the quick one is on screen and the browser is idle (one pending at a time;
  // scrolling meanwhile draws its own window); `then` runs after it.
  RunTable.prototype.scheduleFull = function (then) {
    var self = this;
    if (then) (this.afterFull = this.afterFull || []).push(then);
    if (this.fullPending) return;
    this.fullPending = true;
    function full() {
      self.fullPending = false;
      self.renderWindow(true);
      var queue = self.afterFull || [];
      self.afterFull = [];
      queue.forEach(function (fn) { fn(); });
    }
    requestAnimationFrame(function () {
      if (window.requestIdleCallback) window.requestIdleCallback(full, { timeout: 300 });
      else setTimeout(full, 0);
    });
  };

  RunTable.prototype.renderWindow = function (force, geometry, quick) {
    var g = geometry || this.geometry(), rows = this.rows, rowH = this.rowHeight || 34;
    var overscan = quick ? QUICK_OVERSCAN : OVERSCAN;
    var visible = Math.ceil(g.height / rowH);
    var start = Math.max(0, Math.floor(g.top / rowH) - overscan);
    start -= start % 10;
    var end = Math.min(rows.length, start + visible + 2 * overscan);
    if (!force && start === this.windowStart && end === this.windowEnd) return;
    this.windowStart = start;
    this.windowEnd = end;
    this.drawn = true;
    var span = this.shownColumns().length + 1;
    this.tbody.innerHTML = "<tr class=\"rt-spacer\" aria-hidden=\"true\"><td colspan=\"" + span + "\"></td></tr>" +
      this.rowsHtml(start, end) + "<tr class=\"rt-spacer\" aria-hidden=\"true\"><td colspan=\"" + span + "\"></td></tr>";
    var spacers = this.tbody.querySelectorAll(".rt-spacer");
    if (!this.rowHeight && end > start && !quick) {
      // measured once, after the first frame (layout is clean then, so this read is cheap)
      var first = this.tbody.rows[1].getBoundingClientRect().height;
      if (first > 0) this.rowHeight = first;
      rowH = this.rowHeight || rowH;
    }
    spacers[0].style.height = start * rowH + "px";
    spacers[1].style.height = (rows.length - end) * rowH + "px";
    spacers[0].hidden = start === 0;
    spacers[1].hidden = end === rows.length;
  };

  RunTable.prototype.rowsHtml = function (from, to) {
    var rows = this.rows, cols = this.shownColumns(), esc = D.esc, data = this.data;
    var best = this.raw.best, parts = [];
    for (var i = from; i < to; i++) {
      var item = rows[i], run = item.run, isBest = run.uid === best, kids = this.children[run.uid];
      var html = "<tr data-uid=\"" + esc(run.uid) + "\" class=\"depth-" + Math.min(item.depth, 4) + (isBest ? " best" : "") +
        (item.dim ? " rt-dim" : "") + "\"><td class=\"rt-sel\"><input type=\"checkbox\" aria-label=\"Select " + esc(run.name) +
        "\"" + (this.selected[run.uid] ? " checked" : "") + "></td>";
      for (var j = 0; j < cols.length; j++) {
        var c = cols[j];
        if (c.id === "attr:name") {
          html += "<td class=\"name\">";
          if (kids) {
            var open = !this.collapsed[run.uid];
            html += "<button type=\"button\" class=\"rt-toggle\" aria-expanded=\"" + open + "\" aria-label=\"" +
              (open ? "Collapse" : "Expand") + " " + kids.length + " nested runs\">" + (open ? "▾" : "▸") + "</button>";
          }
          html += "<a href=\"" + esc(D.link(data, "run", run)) + "\">" + esc(run.name) + "</a>";
          if (kids) html += " <span class=\"muted rt-kids\">(" + kids.length + ")</span>";
          if (isBest) html += " <span class=\"badge best\" title=\"best " + esc(this.raw.primary || "") + "\">best</span>";
          html += "</td>";
        } else if (c.html) {
          html += "<td>" + c.html(run) + "</td>";
        } else {
          var v = c.get(run);
          html += "<td" + (c.num || typeof v === "number" ? " class=\"num\"" : "") + ">" + esc(cellText(c, run)) + "</td>";
        }
      }
      parts.push(html + "</tr>");
    }
    return parts.join("");
  };

  RunTable.prototype.render = function () {
    var g = this.geometry();
    this.renderHead();
    this.renderBody(g);
  };

  RunTable.prototype.changed = function (what) {
    this.listeners.forEach(function (fn) { fn(what); });
  };

  RunTable.prototype.setQuery = function (text) {
    var status = this.status, g = this.geometry();
    this.queryText = text;
    this.queryError = null;
    this.input.removeAttribute("aria-invalid");
    status.classList.remove("rt-error");
    try {
      var q = window.SitegenQuery.parse(text);
      this.query = q.root === null ? null : q;
    } catch (err) {
      if (!err || err.name !== "QueryError") throw err;
      this.queryError = err;
      this.input.setAttribute("aria-invalid", "true");
      status.classList.add("rt-error");
      var at = err.offset, esc = D.esc;
      status.innerHTML = esc(err.message) + "<br><code class=\"rt-where\">" + esc(text.slice(0, at)) +
        "<mark>" + (esc(text.slice(at, at + 1)) || "&nbsp;") + "</mark>" + esc(text.slice(at + 1)) + "</code>";
      if (document.activeElement === this.input) {
        try { this.input.setSelectionRange(at, Math.min(text.length, at + 1)); } catch (e) { /* type=search */ }
      }
      return;
    }
    try {
      history.replaceState(null, "", text ? "#q=" + encodeURIComponent(text) : location.pathname + location.search);
    } catch (e) { /* file:// in some browsers */ }
    this.renderBody(g);
    this.changed("filter");
  };

  RunTable.prototype.selectedRuns = function () {
    var self = this;
    return this.data.runs.filter(function (r) { return self.selected[r.uid]; });
  };

  RunTable.prototype.updateCompare = function () {
    var n = this.selectedRuns().length, button = $(".rt-compare", this.section);
    button.disabled = n < 1;
    button.textContent = n ? "Compare selected (" + n + ")" : "Compare selected";
  };

  RunTable.prototype.matchingRuns = function () {
    var q = this.query;
    return q ? this.data.runs.filter(function (r) { return q.matches(r.row); }) : this.data.runs.slice();
  };

  RunTable.prototype.downloadCsv = function () {
    var cols = this.shownColumns(), rows = this.view(true).filter(function (r) { return !r.dim; });
    var header = ["experiment", "id"].concat(cols.map(function (c) {
      return c.group === "Params" ? "params." + c.label : c.group === "Metrics" ? "metrics." + c.label :
        c.group === "Tags" ? "tags." + c.label : c.id.slice(5);
    }));
    var body = rows.map(function (r) {
      return [r.run.exp, r.run.id].concat(cols.map(function (c) { return c.get(r.run); }));
    });
    D.download(this.raw.experiment + "-runs.csv", D.csv(header, body));
  };

  RunTable.prototype.renderChooser = function () {
    var box = $(".rt-column-list", this.section), esc = D.esc, self = this, html = "", group = null;
    html += "<p class=\"rt-chooser-actions\"><button type=\"button\" class=\"rt-cols-reset\">Defaults</button> " +
      "<button type=\"button\" class=\"rt-cols-none\">Only name</button></p>";
    this.columns.forEach(function (c) {
      if (c.group !== group) {
        if (group !== null) html += "</fieldset>";
        group = c.group;
        html += "<fieldset><legend>" + esc(group) + "</legend>";
      }
      html += "<label><input type=\"checkbox\" data-col=\"" + esc(c.id) + "\"" + (self.visible.indexOf(c.id) >= 0 ? " checked" : "") +
        (c.fixed ? " disabled" : "") + "> " + esc(c.label) + "</label>";
    });
    box.innerHTML = html + "</fieldset>";
  };

  RunTable.prototype.bind = function () {
    var self = this, section = this.section;
    $(".rt-filter", section).addEventListener("submit", function (e) { e.preventDefault(); self.setQuery(self.input.value); });
    this.input.addEventListener("input", debounce(function () { self.setQuery(self.input.value); }, 150));
    this.thead.addEventListener("click", function (e) {
      var button = e.target.closest(".rt-sort");
      if (!button) return;
      var id = button.getAttribute("data-col");
      if (self.sort && self.sort.id === id) {
        self.sort = self.sort.dir < 0 ? { id: id, dir: 1 } : null;
        if (self.sort === null) { self.render(); return; }
      } else {
        self.sort = { id: id, dir: self.colById[id].num ? -1 : 1 };
      }
      self.render();
    });
    this.thead.addEventListener("change", function (e) {
      if (!e.target.classList.contains("rt-all")) return;
      var on = e.target.checked;
      self.rows.forEach(function (r) { if (on) self.selected[r.run.uid] = true; else delete self.selected[r.run.uid]; });
      self.renderBody();
      self.updateCompare();
      self.changed("selection");
    });
    this.tbody.addEventListener("change", function (e) {
      var tr = e.target.closest("tr[data-uid]");
      if (!tr || e.target.type !== "checkbox") return;
      var uid = tr.getAttribute("data-uid");
      if (e.target.checked) self.selected[uid] = true; else delete self.selected[uid];
      self.updateCompare();
      self.changed("selection");
    });
    this.tbody.addEventListener("click", function (e) {
      var button = e.target.closest(".rt-toggle");
      if (!button) return;
      var uid = button.closest("tr").getAttribute("data-uid");
      if (self.collapsed[uid]) delete self.collapsed[uid]; else self.collapsed[uid] = true;
      self.renderBody();
    });
    $(".rt-expand", section).addEventListener("click", function (e) {
      var collapse = e.target.getAttribute("aria-pressed") === "true";
      self.collapsed = {};
      if (collapse) Object.keys(self.children).forEach(function (uid) { self.collapsed[uid] = true; });
      self.renderBody();
      e.target.setAttribute("aria-pressed", collapse ? "false" : "true");
      e.target.textContent = collapse ? "Expand all" : "Collapse all";
    });
    $(".rt-column-list", section).addEventListener("change", function (e) {
      var id = e.target.getAttribute("data-col");
      if (!id) return;
      var pos = self.visible.indexOf(id);
      if (e.target.checked && pos < 0) {
        var order = self.columns.map(function (c) { return c.id; });
        self.visible.push(id);
        self.visible.sort(function (a, b) { return order.indexOf(a) - order.indexOf(b); });
      } else if (!e.target.checked && pos >= 0) {
        self.visible.splice(pos, 1);
      }
      self.saveColumns();
      self.render();
    });
    $(".rt-column-list", section).addEventListener("click", function (e) {
      if (e.target.classList.contains("rt-cols-reset")) self.visible = self.raw.defaults.slice();
      else if (e.target.classList.contains("rt-cols-none")) self.visible = ["attr:name"];
      else return;
      self.saveColumns();
      self.renderChooser();
      self.render();
    });
    $(".rt-compare", section).addEventListener("click", function () {
      var uids = self.selectedRuns().map(function (r) { return r.uid; });
      if (uids.length) location.href = self.data.root + self.data.links.compare + "?runs=" + uids.map(encodeURIComponent).join(",");
    });
    $(".rt-csv", section).addEventListener("click", function () { self.downloadCsv(); });
    var ticking = false;
    this.wrap.addEventListener("scroll", function () {
      if (ticking) return;
      ticking = true;
      requestAnimationFrame(function () { ticking = false; self.renderWindow(false); });
    }, { passive: true });
  };

  // ------------------------------------------------------------------------------ charts

  function option(value, label, selected) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    if (selected) o.selected = true;
    return o;
  }

  function primaryValue(raw, run) {
    var v = raw.primary ? run.m[raw.primary] : undefined;
    return typeof v === "number" && isFinite(v) ? v : null;
  }

  function ranked(table, runs) {
    var raw = table.raw, dir = raw.goal === "min" ? 1 : -1;
    return runs.filter(function (r) { return primaryValue(raw, r) !== null; }).sort(function (a, b) {
      return dir * (primaryValue(raw, a) - primaryValue(raw, b)) || a.index - b.index;
    });
  }

  // Params with at least two distinct values among the runs that have them (most complete first).
  function varyingParams(keys, runs) {
    var info = keys.map(function (k) {
      var seen = {}, n = 0;
      runs.forEach(function (r) {
        var v = r.p[k];
        if (v !== undefined && v !== null) { seen[String(v)] = true; n++; }
      });
      return { key: k, distinct: Object.keys(seen).length, n: n };
    }).filter(function (x) { return x.distinct > 1; });
    info.sort(function (a, b) { return b.n - a.n || (a.key < b.key ? -1 : 1); });
    return info.map(function (x) { return x.key; });
  }

  function Charts(section, table) {
    this.section = section;
    this.table = table;
    this.raw = table.raw;
    this.el = {};
    var self = this;
    ["metric", "runs", "group", "band", "x", "ema", "ema-value", "log", "sx", "sy", "curves", "parallel", "scatter", "curves-title"].forEach(function (k) {
      self.el[k] = $(".rc-" + k, section);
    });
    this.generation = 0;
  }

  Charts.prototype.setup = function () {
    var raw = this.raw, el = this.el, data = this.table.data;
    var metrics = this.table.columns.filter(function (c) { return c.metric; }).map(function (c) { return c.metric; });
    metrics.forEach(function (k) { el.metric.appendChild(option(k, k, k === raw.primary)); });
    data.keys.params.slice().sort().forEach(function (k) { el.group.appendChild(option("p:" + k, "params." + k)); });
    data.keys.tags.slice().sort().forEach(function (k) { el.group.appendChild(option("t:" + k, "tags." + k)); });
    var varying = varyingParams(data.keys.params, data.runs);
    data.keys.params.slice().sort().forEach(function (k) { el.sx.appendChild(option("p:" + k, "params." + k, k === varying[0])); });
    metrics.forEach(function (k) {
      el.sx.appendChild(option("m:" + k, "metrics." + k));
      el.sy.appendChild(option("m:" + k, "metrics." + k, k === raw.primary));
    });
    el.sx.appendChild(option("attr:dur", "duration"));
    el.sx.appendChild(option("attr:start", "start time"));
    var self = this, redraw = debounce(function () { self.drawCurves(); }, 250);
    var others = debounce(function () { self.drawParallel(); self.drawScatter(); }, 300);
    [el.metric, el.runs, el.group, el.band, el.x, el.log].forEach(function (s) { s.addEventListener("change", redraw); });
    el.ema.addEventListener("input", function () { el["ema-value"].textContent = el.ema.value; redraw(); });
    [el.sx, el.sy].forEach(function (s) { s.addEventListener("change", function () { self.drawScatter(); }); });
    this.table.listeners.push(function (what) {
      if (what === "selection" && el.runs.value !== "selected") return;
      redraw();
      if (what === "filter") others();
    });
    if (!metrics.length) el.curves.textContent = "No metrics logged.";
  };

  Charts.prototype.curveRuns = function () {
    var mode = this.el.runs.value, table = this.table, matching = table.matchingRuns();
    if (this.el.group.value) return matching.filter(function (r) { return r.hist; }).slice(0, MAX_GROUP_RUNS);
    if (mode === "selected") return table.selectedRuns();
    if (mode === "visible") return table.view(true).filter(function (r) { return !r.dim && r.run.hist; }).map(function (r) { return r.run; }).slice(0, 50);
    var top = ranked(table, matching.filter(function (r) { return r.hist; })).slice(0, 10);
    return top.length ? top : matching.filter(function (r) { return r.hist; }).slice(0, 10);
  };

  Charts.prototype.drawCurves = function () {
    var el = this.el, table = this.table, metric = el.metric.value, runs = this.curveRuns(), self = this;
    var generation = ++this.generation, xMode = el.x.value, alpha = +el.ema.value, log = el.log.checked;
    var group = el.group.value;
    if (!metric) return;
    el["curves-title"].textContent = metric + (group ? " by " + group.slice(2) : "") + " (" + runs.length + " runs)";
    if (!runs.length) {
      el.curves.textContent = el.runs.value === "selected" ? "Select runs in the table to draw their curves." : "No run has a metric history.";
      return;
    }
    D.load(table.data, runs).then(function (stored) {
      if (generation !== self.generation) return;
      var xTitle = xMode === "step" ? "step" : xMode === "time" ? "time" : "seconds since start";
      var opts = { yTitle: metric, xTitle: xTitle, log: log, time: xMode === "time" };
      var spec;
      if (group) {
        var col = table.colById[group], groups = {}, order = [];
        runs.forEach(function (run) {
          var s = C.seriesOf(stored[run.uid], metric, xMode, alpha, run.name);
          if (!s) return;
          var key = D.fmt(col.get(run));
          if (!groups[key]) { groups[key] = { label: group.slice(2) + "=" + key, series: [] }; order.push(key); }
          groups[key].series.push(s);
        });
        order.sort();
        var reduced = C.groupBands(order.map(function (k) { return groups[k]; }), el.band.value);
        opts.bands = reduced.bands;
        spec = C.curvesSpec(reduced.lines, opts);
      } else {
        var series = [];
        runs.forEach(function (run) {
          var s = C.seriesOf(stored[run.uid], metric, xMode, alpha, run.name);
          if (s) series.push(s);
        });
        if (!series.length) {
          el.curves.textContent = "None of these runs logged " + metric + (xMode === "step" ? "" : " with timestamps") + ".";
          return;
        }
        spec = C.curvesSpec(series, opts);
      }
      C.embed(el.curves, spec);
    });
  };

  Charts.prototype.drawParallel = function () {
    var table = this.table, raw = this.raw, runs = table.matchingRuns();
    var metric = raw.primary || (table.data.keys.metrics[0] || null);
    var top = ranked(table, runs);
    runs = (top.length ? top : runs).slice(0, MAX_PARALLEL_RUNS);
    var params = varyingParams(table.data.keys.params, runs).slice(0, 10);
    if (!runs.length || (!params.length && !metric)) {
      this.el.parallel.textContent = "Nothing to draw: no params differ between these runs.";
      return;
    }
    var dims = params.map(function (k) { return { label: k, values: runs.map(function (r) { return r.p[k]; }) }; });
    var colors = runs.map(function (r) { return metric ? r.m[metric] : null; });
    if (metric) dims.push({ label: metric, values: colors });
    C.embed(this.el.parallel, C.parallelSpec(runs.map(function (r) { return r.name + " (" + r.id + ")"; }), dims, colors, metric));
  };

  Charts.prototype.drawScatter = function () {
    var table = this.table, xcol = table.colById[this.el.sx.value], ycol = table.colById[this.el.sy.value];
    if (!xcol || !ycol) { this.el.scatter.textContent = "No metrics to plot."; return; }
    var points = [], numeric = true, best = this.raw.best;
    table.matchingRuns().forEach(function (r) {
      var x = xcol.get(r), y = ycol.get(r);
      if (x === null || x === undefined || typeof y !== "number" || !isFinite(y)) return;
      if (typeof x !== "number") numeric = false;
      if (typeof x === "number" && !isFinite(x)) return;
      points.push({ run: r.name, x: x, y: y, status: r.status, best: r.uid === best ? "best" : "run" });
    });
    if (xcol.id === "attr:start") { numeric = false; }
    if (!points.length) { this.el.scatter.textContent = "No run has both values."; return; }
    C.embed(this.el.scatter, C.scatterSpec(points, xcol.label, ycol.label, numeric));
  };

  // One chart a task (curves, parallel coordinates, scatter), so the table takes input in between.
  Charts.prototype.drawAll = function () {
    var self = this, steps = [this.drawCurves, this.drawParallel, this.drawScatter];
    steps.reduce(function (chain, step, i) {
      return chain.then(function () {
        step.call(self);
        return i + 1 < steps.length ? new Promise(function (resolve) { setTimeout(resolve, 0); }) : null;
      });
    }, Promise.resolve());
  };

  // Draw the charts when their section comes near the viewport or the browser is idle, whichever is
  // first: the table is what the reader sees first and must not wait behind the chart runtime.
  function whenWanted(section, fn) {
    var done = false, observer = null;
    function go() {
      if (done) return;
      done = true;
      if (observer) observer.disconnect();
      fn();
    }
    if (window.IntersectionObserver) {
      observer = new IntersectionObserver(function (entries) {
        if (entries.some(function (e) { return e.isIntersecting; })) go();
      }, { rootMargin: "0px" });
      observer.observe(section);
    }
    if (window.requestIdleCallback) window.requestIdleCallback(go, { timeout: 1000 });
    else setTimeout(go, 200);
  }

  // -------------------------------------------------------------------------------- init

  function init() {
    D = window.SitegenRunData;
    C = window.SitegenRunCharts;
    var section = document.querySelector("[data-runtable]");
    if (!section || !D || !window.SitegenQuery) return;
    var holder = document.getElementById(section.getAttribute("data-runtable"));
    if (!holder) return;
    // The runs themselves are in the experiment's summary script (data/summaries/<exp>.js), loaded by the
    // page before this one.
    var meta = JSON.parse(holder.textContent);
    var part = (self.sitegenSummaries || {})[meta.experiment];
    if (!part) {
      var note = document.createElement("p");
      note.className = "notice warn";
      note.setAttribute("role", "alert");
      note.textContent = "The run data of this experiment (data/summaries/" + meta.experiment + ".js) could not be loaded.";
      $(".rt-wrap", section).replaceWith(note);
      return;
    }
    var data = D.decode(Object.assign({}, meta, { keys: part.keys, runs: part.runs }), section.getAttribute("data-root"));
    var table = new RunTable(section, data);
    window.sitegenRunTable = table;
    $(".rt-toolbar", section).hidden = false;
    table.renderChooser();
    table.bind();
    var initial = /^#q=/.test(location.hash) ? decodeURIComponent(location.hash.slice(3)) : "";
    if (initial) {
      table.input.value = initial;
      table.setQuery(initial);
      table.renderHead();
    } else {
      table.render();
    }
    table.updateCompare();
    table.scheduleFull(function () { section.setAttribute("data-ready", "true"); });
    var chartSection = document.getElementById("charts");
    if (chartSection && C) {
      var startCharts = function () {
        chartSection.hidden = false;
        var charts = new Charts(chartSection, table);
        charts.setup();
        whenWanted(chartSection, function () { charts.drawAll(); });
      };
      // the chart runtime (vega-embed.js) is a deferred script after this one: wait for it
      if (document.readyState === "complete") startCharts();
      else document.addEventListener("DOMContentLoaded", startCharts);
    }
  }

  // A deferred script runs once the document is parsed: draw the table at once (it needs only
  // rundata.js and query.js, loaded before this script); the charts wait for DOMContentLoaded.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
}());
