// Reads a JSON batch on stdin, evaluates it with themes/default/static/js/query.js, writes JSON results.
// Driven by tests/test_query_js.py (one node process for the whole batch).
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");
const SCRIPT = path.join(__dirname, "..", "themes", "default", "static", "js", "query.js");
const SitegenQuery = require(SCRIPT);

// Load the file the way a page does: a classic script in a global scope with window/self and no module.
function asClassicScript() {
  const window = {};
  window.self = window;
  const context = vm.createContext({ window, self: window });
  vm.runInContext(fs.readFileSync(SCRIPT, "utf8"), context, { filename: "query.js" });
  const api = window.SitegenQuery;
  if (!api) return { defined: false };
  const q = api.parse("metrics.acc > 0.5 and status = 'FINISHED'");
  let position = null;
  try { api.parse("status = finished"); } catch (error) { position = error.position; }
  return {
    defined: true,
    canonical: String(q),
    matches: q.matches({ "metrics.acc": 0.7, "attributes.status": "finished" }),
    errorPosition: position,
  };
}

const FLOATS = { nan: NaN, inf: Infinity, "-inf": -Infinity };

function decode(value) {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.length === 1 && keys[0] === "$float") return FLOATS[value.$float];
  }
  return value;
}

function decodeRow(row) {
  const out = {};
  for (const key of Object.keys(row)) out[key] = decode(row[key]);
  return out;
}

function run(batch) {
  const rowSets = batch.row_sets.map((rows) => rows.map(decodeRow));
  const results = batch.cases.map((c) => {
    let query;
    try {
      query = SitegenQuery.parse(c.query);
    } catch (error) {
      if (!(error instanceof SitegenQuery.QueryError)) {
        return { crash: String(error && error.stack) };
      }
      return { error: { position: error.position, message: error.message } };
    }
    try {
      return {
        canonical: String(query),
        fields: query.fields(),
        matches: rowSets[c.rows].map((row) => query.matches(row)),
      };
    } catch (error) {
      return { crash: String(error && error.stack) };
    }
  });
  const numbers = batch.numbers.map((x) => SitegenQuery.numberText(decode(x)));

  // Timing: filter the perf rows with the perf query, best of a few runs after warm-up.
  const perfRows = batch.perf.rows.map(decodeRow);
  const perfQuery = SitegenQuery.parse(batch.perf.query);
  let best = Infinity, count = 0;
  for (let i = 0; i < 7; i++) {
    const start = process.hrtime.bigint();
    count = perfQuery.filter(perfRows).length;
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (i > 1) best = Math.min(best, ms);
  }
  return { results, numbers, perf: { best_ms: best, count }, classic: asClassicScript() };
}

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  process.stdout.write(JSON.stringify(run(JSON.parse(input))));
});
