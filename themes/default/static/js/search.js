/* sitegen: the search box. Over HTTP(S) it queries the Pagefind index (pagefind/ beside the pages, with
   the run shards it lists merged in);
   opened from file://, where browsers cannot load Pagefind, it searches the small title and tag index
   in data/search-index.js (window.SITEGEN_SEARCH) and says so. Filters are typed into the query:
   kind:run, experiment:churn, tag:team=vision, model:churn, status:failed (matched against the
   metadata each page carries; a query of filters alone searches the small index). */
(function () {
  "use strict";
  var FILTERS = ["kind", "experiment", "tag", "model", "status"];
  var form = document.querySelector("[data-sitegen-search]");
  if (!form) { return; }
  var input = form.querySelector("input[type=search]");
  var list = form.querySelector(".search-results");
  var root = new URL(form.getAttribute("data-root"), window.location.href);
  var engine = null;
  var fallback = null;
  var latest = 0;
  form.hidden = false;

  function parse(text) {
    var filters = {}, words = [];
    text.trim().split(/\s+/).forEach(function (token) {
      var m = /^([a-z]+):(.+)$/.exec(token);
      if (m && FILTERS.indexOf(m[1]) >= 0) {
        (filters[m[1]] = filters[m[1]] || []).push(m[2]);
      } else if (token) {
        words.push(token);
      }
    });
    return { filters: filters, words: words };
  }

  /* Pages carry their kind, experiment, model, status and tags as Pagefind metadata ("; "-separated). */
  function matchesFilters(meta, filters) {
    return Object.keys(filters).every(function (name) {
      var have = String(meta[name] || "").toLowerCase().split("; ");
      return filters[name].every(function (v) { return have.indexOf(v.toLowerCase()) >= 0; });
    });
  }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var el = document.createElement("script");
      el.src = src;
      el.onload = resolve;
      el.onerror = function () { reject(new Error("cannot load " + src)); };
      document.head.appendChild(el);
    });
  }

  function fallbackEngine(reason) {
    return loadScript(new URL(form.getAttribute("data-fallback"), window.location.href).href).then(function () {
      var records = window.SITEGEN_SEARCH || [];
      return {
        note: reason,
        search: function (q) {
          var words = q.words.map(function (w) { return w.toLowerCase(); });
          var hits = records.filter(function (r) {
            var hay = (r.title + " " + r.kind + " " + r.words).toLowerCase();
            var ok = words.every(function (w) { return hay.indexOf(w) >= 0; });
            Object.keys(q.filters).forEach(function (name) {
              q.filters[name].forEach(function (value) {
                var v = value.toLowerCase();
                if (name === "kind") { ok = ok && r.kind === value; } else { ok = ok && hay.indexOf(v) >= 0; }
              });
            });
            return ok;
          });
          return Promise.resolve(hits.slice(0, 20).map(function (r) {
            return { url: new URL(r.url, root).href, title: r.title, detail: r.kind };
          }));
        }
      };
    });
  }

  /* The index comes in shards: pagefind/ (the site's other pages), the model registry's (pagefind/models/<n>/)
     and one per slice of an experiment's runs, listed in pagefind/sitegen-shards.json; they are merged into
     the main one. */
  function mergeShards(pf, src, baseUrl) {
    return fetch(new URL("sitegen-shards.json", src).href).then(function (res) {
      if (!res.ok) { throw new Error("cannot load the search shard list (" + res.status + ")"); }
      return res.json();
    }).then(function (manifest) {
      return Promise.all((manifest.shards || []).map(function (shard) {
        return pf.mergeIndex(new URL(shard.path, src).pathname, { baseUrl: baseUrl });
      }));
    });
  }

  function pagefindEngine() {
    var src = new URL(form.getAttribute("data-pagefind"), window.location.href).href;
    var baseUrl = new URL(".", root).pathname;
    return import(src).then(function (pf) {
      return Promise.resolve(pf.options({ baseUrl: baseUrl })).then(function () {
        return pf.init ? pf.init() : null;
      }).then(function () {
        return mergeShards(pf, src, baseUrl);
      }).then(function () {
        return {
          note: null,
          search: function (q) {
            return pf.search(q.words.join(" ")).then(function (res) {
              return Promise.all(res.results.slice(0, 60).map(function (r) { return r.data(); }));
            }).then(function (items) {
              return items.filter(function (d) { return matchesFilters(d.meta || {}, q.filters); })
                .slice(0, 20).map(function (d) {
                  var text = new DOMParser().parseFromString(d.excerpt || "", "text/html").body.textContent;
                  return { url: d.url, title: (d.meta && d.meta.title) || d.url, detail: text };
                });
            });
          }
        };
      });
    });
  }

  function getEngine(q) {
    if (q && !q.words.length) {  /* filters alone: Pagefind needs words, the small index does not */
      fallback = fallback || fallbackEngine(null);
      return fallback;
    }
    if (!engine) {
      if (window.location.protocol === "file:") {
        engine = fallbackEngine("Opened from a file: searching page titles, tags and params only " +
                                "(full-text search needs the site served over HTTP).");
      } else {
        engine = pagefindEngine().catch(function () {
          return fallbackEngine("Full-text search is unavailable here: searching titles, tags and params only.");
        });
      }
    }
    return engine;
  }

  function item(cls, title, url, detail) {
    var li = document.createElement("li");
    if (cls) { li.className = cls; }
    if (url) {
      var a = document.createElement("a");
      a.href = url;
      a.textContent = title;
      li.appendChild(a);
    } else {
      li.textContent = title;
    }
    if (detail) {
      var small = document.createElement("small");
      small.textContent = detail;
      li.appendChild(small);
    }
    return li;
  }

  function run() {
    var q = parse(input.value);
    var ticket = ++latest;
    if (!q.words.length && !Object.keys(q.filters).length) {
      list.replaceChildren();
      return;
    }
    getEngine(q).then(function (eng) {
      return eng.search(q).then(function (hits) {
        if (ticket !== latest) { return; }
        var nodes = [];
        if (eng.note) { nodes.push(item("search-note", eng.note)); }
        hits.forEach(function (h) { nodes.push(item("", h.title, h.url, h.detail)); });
        if (!hits.length) { nodes.push(item("search-empty", "No results")); }
        list.replaceChildren.apply(list, nodes);
      });
    }).catch(function (err) {
      if (ticket === latest) { list.replaceChildren(item("search-note", "Search failed: " + err.message)); }
    });
  }

  var timer = null;
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(run, 150);
  });
  input.addEventListener("focus", function () { getEngine(); }, { once: true });
  form.addEventListener("submit", function (e) { e.preventDefault(); run(); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Escape") { input.value = ""; list.replaceChildren(); }
  });
})();
