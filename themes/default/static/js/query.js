/*
 * sitegen's query language (MLflow search_runs filter strings) for the browser.
 *
 * A port of sitegen/query.py: same grammar, same semantics, same error messages and positions
 * (tests/test_query_js.py checks the two against each other). Read the docstring of sitegen/query.py
 * for the definition; change both files together.
 *
 *   var q = SitegenQuery.parse("metrics.acc > 0.9 and params.model = 'cnn'");
 *   q.matches({"metrics.acc": 0.93, "params.model": "cnn"});   // true
 *   q.filter(rows);  q.fields();  String(q);
 *
 * Errors are SitegenQuery.QueryError with .position (0-based, in code points, as in Python) and
 * .offset (the same place as a JavaScript string index, for setSelectionRange).
 *
 * Works as a classic script (defines window.SitegenQuery) and as a CommonJS module. No dependencies.
 */
(function (root, factory) {
  "use strict";
  var api = factory();
  if (typeof module === "object" && module.exports) {
    module.exports = api;
  } else {
    root.SitegenQuery = api;
  }
})(typeof self !== "undefined" ? self : this, function () {
  "use strict";

  var ATTRIBUTES = ["duration", "end_time", "experiment", "id", "name", "start_time", "status", "user"];
  var ATTRIBUTE_NAMES = {
    run_name: "name", run_id: "id", user_id: "user", experiment_id: "experiment"
  };
  ATTRIBUTES.forEach(function (name) { ATTRIBUTE_NAMES[name] = name; });
  var PREFIXES = {
    metric: "metrics", metrics: "metrics",
    param: "params", params: "params", parameter: "params", parameters: "params",
    tag: "tags", tags: "tags",
    attribute: "attributes", attributes: "attributes", attr: "attributes"
  };
  var STATUS = "attributes.status";
  var MAX_DEPTH = 100;

  var WS = /[ \t\n\r\f\v\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]*/y;
  var WORD = /[A-Za-z_][A-Za-z0-9_]*/y;
  var SIGNED_WORD = /[+-]?[A-Za-z_][A-Za-z0-9_]*/y;
  var KEY = /[A-Za-z0-9_./-]+/y;
  var KEY_FULL = /^[A-Za-z0-9_./-]+$/;
  var NUMBER = /[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/y;
  var NUMBER_FULL = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
  var NUMBER_END = /[A-Za-z0-9_.]/;
  var OPERATOR = /<=|>=|<>|!=|==|=|<|>/y;
  var OPERATORS = { "=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">=" };
  var ESCAPES = { "\\": "\\", "'": "'", "\"": "\"", "`": "`", n: "\n", t: "\t", r: "\r" };
  var NON_FINITE = { nan: NaN, inf: Infinity, infinity: Infinity };
  var METRIC_TOKENS = { "NaN": null, "Infinity": Infinity, "-Infinity": -Infinity };
  var OTHER = { toString: function () { return "<non-scalar>"; } };

  function codePointLength(s) {
    var n = 0;
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
        var d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) i++;
      }
      n++;
    }
    return n;
  }

  function QueryError(detail, offset, text, hint) {
    var position = codePointLength(text.slice(0, offset));
    var message = detail + " at position " + position + (hint ? " (" + hint + ")" : "");
    var error = new Error(message);
    Object.setPrototypeOf(error, QueryError.prototype);
    error.name = "QueryError";
    error.detail = detail;
    error.hint = hint || "";
    error.position = position;
    error.offset = offset;
    return error;
  }
  QueryError.prototype = Object.create(Error.prototype, {
    constructor: { value: QueryError, writable: true, configurable: true }
  });

  function numeric(text) {
    return NUMBER_FULL.test(text) ? Number(text) : null;
  }

  // Code-point order (as Python compares str), not UTF-16 code-unit order.
  function compareStrings(a, b) {
    if (a === b) return 0;
    var n = Math.min(a.length, b.length);
    for (var i = 0; i < n; i++) {
      var x = a.charCodeAt(i), y = b.charCodeAt(i);
      if (x !== y) {
        if (x >= 0xd800 && y >= 0xd800) {
          x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
          y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
        }
        return x < y ? -1 : 1;
      }
    }
    return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
  }

  // What the engine sees of a row value: null, number, boolean, string, or OTHER.
  function queryValue(v) {
    var t = typeof v;
    if (t === "string" || t === "boolean") return v;
    if (t === "number") return v !== v ? null : v;
    if (v === null || v === undefined) return null;
    if (t === "bigint") return Number(v);
    return OTHER;
  }

  function metricValue(v) {
    v = queryValue(v);
    if (typeof v === "string" && Object.prototype.hasOwnProperty.call(METRIC_TOKENS, v)) return METRIC_TOKENS[v];
    return v;
  }

  function textOf(v) {
    if (typeof v === "string") return v;
    if (typeof v === "boolean") return v ? "true" : "false";
    return String(v);
  }

  var UNEQUAL = 2;  // a compare() result: different, but not ordered (a number against a text value)

  // Compare a non-null scalar row value with a literal: -1, 0 or 1; UNEQUAL when a number literal
  // meets a value that is not a number; null when nothing holds (a NaN literal).
  // `text` is the literal's text when it was quoted, null for a number literal.
  function compare(v, number, text) {
    var vnum = typeof v === "number" ? v : typeof v === "string" ? numeric(v) : null;
    if (vnum !== null && number !== null) {
      if (number !== number) return null;
      return vnum > number ? 1 : vnum < number ? -1 : 0;
    }
    if (text === null) return number !== number ? null : UNEQUAL;
    return compareStrings(typeof v === "string" ? v : textOf(v), text);
  }

  function escapeRegex(c) {
    return c.replace(/[\\^$.*+?()[\]{}|\/]/g, "\\$&");
  }

  function likeRegex(pattern) {
    var chars = Array.from(pattern);
    var out = [];
    for (var i = 0; i < chars.length; i++) {
      var c = chars[i];
      if (c === "\\" && i + 1 < chars.length) {
        out.push(escapeRegex(chars[i + 1]));
        i++;
      } else if (c === "%") {
        if (!out.length || out[out.length - 1] !== ".*") out.push(".*");
      } else if (c === "_") {
        out.push(".");
      } else {
        out.push(escapeRegex(c));
      }
    }
    return new RegExp("^(?:" + out.join("") + ")$", "su");
  }

  function numberLiteral(v) {
    if (v !== v) return "NaN";
    if (v === Infinity) return "inf";
    if (v === -Infinity) return "-inf";
    return String(v);
  }

  function quote(text, q) {
    var out = text.split("\\").join("\\\\").split(q).join("\\" + q);
    return q + out.split("\n").join("\\n").split("\r").join("\\r").split("\t").join("\\t") + q;
  }

  function literalString(v) {
    return typeof v === "number" ? numberLiteral(v) : quote(v, "'");
  }

  function fieldString(field) {
    var dot = field.indexOf(".");
    var key = field.slice(dot + 1);
    return KEY_FULL.test(key) ? field : field.slice(0, dot) + "." + quote(key, "`");
  }

  var ORDER = {
    "=": function (c) { return c === 0; }, "!=": function (c) { return c !== 0; },
    "<": function (c) { return c === -1; }, "<=": function (c) { return c === -1 || c === 0; },
    ">": function (c) { return c === 1; }, ">=": function (c) { return c === 0 || c === 1; }
  };

  // ---------------------------------------------------------------------------------------- AST

  function Comparison(field, op, values) {
    this.type = "comparison";
    this.field = field;
    this.op = op;
    this.values = values || [];
    this.isMetric = field.lastIndexOf("metrics.", 0) === 0;
    this.test = this.compile();
  }

  Comparison.prototype.compile = function () {
    var op = this.op;
    if (op === "IS NULL") return function (v) { return v === null; };
    if (op === "IS NOT NULL") return function (v) { return v !== null; };
    var status = this.field === STATUS;
    var lits = this.values.map(function (v) {
      if (typeof v === "number") return [v, null];
      return [numeric(v), status ? v.toLowerCase() : v];
    });
    if (op.slice(-4) === "LIKE") {
      var fold = op.indexOf("ILIKE") >= 0;
      var pattern = status ? this.values[0].toLowerCase() : this.values[0];
      var regex = likeRegex(fold ? pattern.toLowerCase() : pattern);
      var want = op.lastIndexOf("NOT", 0) !== 0;
      return function (v) {
        if (v === null || v === OTHER) return false;
        var s = textOf(v);
        if (fold || status) s = s.toLowerCase();
        return regex.test(s) === want;
      };
    }
    function prepare(v) { return status && typeof v === "string" ? v.toLowerCase() : v; }
    if (op === "IN" || op === "NOT IN") {
      var negate = op === "NOT IN";
      return function (v) {
        if (v === null || v === OTHER) return false;
        v = prepare(v);
        for (var i = 0; i < lits.length; i++) {
          var c = compare(v, lits[i][0], lits[i][1]);
          if (negate) {
            if (c === null || c === 0) return false;
          } else if (c === 0) {
            return true;
          }
        }
        return negate;
      };
    }
    var order = ORDER[op], number = lits[0][0], text = lits[0][1];
    return function (v) {
      if (v === null || v === OTHER) return false;
      var c = compare(prepare(v), number, text);
      return c !== null && order(c);
    };
  };

  Comparison.prototype.matches = function (row) {
    var raw = row[this.field];
    return this.test(this.isMetric ? metricValue(raw) : queryValue(raw));
  };

  Comparison.prototype.collect = function (out) { out[this.field] = true; };

  Comparison.prototype.toString = function () {
    var field = fieldString(this.field);
    if (this.op.lastIndexOf("IS", 0) === 0) return field + " " + this.op;
    if (this.op.slice(-2) === "IN") return field + " " + this.op + " (" + this.values.map(literalString).join(", ") + ")";
    return field + " " + this.op + " " + literalString(this.values[0]);
  };

  function BoolOp(op, children) {
    this.type = op;
    this.op = op;
    var flat = [];
    children.forEach(function (child) {
      if (child instanceof BoolOp && child.op === op) flat.push.apply(flat, child.children);
      else flat.push(child);
    });
    this.children = flat;
  }

  BoolOp.prototype.matches = function (row) {
    var children = this.children, i;
    if (this.op === "and") {
      for (i = 0; i < children.length; i++) if (!children[i].matches(row)) return false;
      return true;
    }
    for (i = 0; i < children.length; i++) if (children[i].matches(row)) return true;
    return false;
  };

  BoolOp.prototype.collect = function (out) {
    this.children.forEach(function (child) { child.collect(out); });
  };

  BoolOp.prototype.toString = function () {
    return this.children.map(function (child) {
      var text = child.toString();
      return child instanceof BoolOp ? "(" + text + ")" : text;
    }).join(" " + this.op + " ");
  };

  // -------------------------------------------------------------------------------------- parser

  function Parser(text) {
    this.text = text;
    this.pos = 0;
    this.n = text.length;
    this.wordPos = 0;
  }

  Parser.prototype.fail = function (detail, offset, hint) {
    return QueryError(detail, offset, this.text, hint);
  };

  Parser.prototype.match = function (re, at) {
    re.lastIndex = at;
    var m = re.exec(this.text);
    return m ? m[0] : null;
  };

  Parser.prototype.ws = function () {
    this.pos += this.match(WS, this.pos).length;
    return this.pos;
  };

  Parser.prototype.peek = function () {
    return this.pos < this.n ? this.text[this.pos] : "";
  };

  Parser.prototype.keyword = function (words) {
    this.ws();
    var m = this.match(WORD, this.pos);
    if (m !== null && words.indexOf(m.toLowerCase()) >= 0) {
      this.wordPos = this.pos;
      this.pos += m.length;
      return m.toLowerCase();
    }
    return null;
  };

  Parser.prototype.query = function () {
    this.ws();
    if (this.pos === this.n) return null;
    var node = this.orExpr(0);
    this.ws();
    if (this.pos !== this.n) throw this.fail("expected 'and', 'or' or end of query", this.pos);
    return node;
  };

  Parser.prototype.orExpr = function (depth) {
    var children = [this.andExpr(depth)];
    while (this.keyword(["or"])) children.push(this.andExpr(depth));
    return children.length === 1 ? children[0] : new BoolOp("or", children);
  };

  Parser.prototype.andExpr = function (depth) {
    var children = [this.primary(depth)];
    while (this.keyword(["and"])) children.push(this.primary(depth));
    return children.length === 1 ? children[0] : new BoolOp("and", children);
  };

  Parser.prototype.primary = function (depth) {
    this.ws();
    if (this.peek() === "(") {
      if (depth >= MAX_DEPTH) throw this.fail("parentheses nested too deeply", this.pos);
      this.pos++;
      var node = this.orExpr(depth + 1);
      this.ws();
      if (this.peek() !== ")") throw this.fail("expected 'and', 'or' or ')'", this.pos);
      this.pos++;
      return node;
    }
    return this.comparison();
  };

  Parser.prototype.comparison = function () {
    var start = this.ws();
    var field = this.field();
    var source = this.text.slice(start, this.pos);
    var opPos = this.ws();
    var m = this.match(OPERATOR, this.pos);
    if (m !== null) {
      this.pos += m.length;
      return new Comparison(field, OPERATORS[m], [this.value(field, "'" + m + "'")]);
    }
    var word = this.keyword(["like", "ilike", "in", "not", "is"]);
    var negate = "";
    if (word === "not") {
      negate = "NOT ";
      word = this.keyword(["like", "ilike", "in"]);
      if (word === null) throw this.fail("expected IN, LIKE or ILIKE after NOT", this.ws());
    }
    if (word === "like" || word === "ilike") {
      var keyword = word.toUpperCase();
      if (field.lastIndexOf("metrics.", 0) === 0) throw this.fail(keyword + " does not apply to metrics", this.wordPos);
      this.ws();
      if (this.peek() !== "'" && this.peek() !== "\"") throw this.fail("expected a quoted pattern after " + keyword, this.pos);
      return new Comparison(field, negate + keyword, [this.string()]);
    }
    if (word === "in") {
      this.ws();
      if (this.peek() !== "(") throw this.fail("expected '(' after IN", this.pos);
      this.pos++;
      var values = [this.value(field, "'('")];
      for (;;) {
        this.ws();
        var c = this.peek();
        if (c === ")") {
          this.pos++;
          return new Comparison(field, negate + "IN", values);
        }
        if (c !== ",") throw this.fail("expected ',' or ')' in the IN list", this.pos);
        this.pos++;
        values.push(this.value(field, "','"));
      }
    }
    if (word === "is") {
      if (this.keyword(["not"])) {
        if (!this.keyword(["null"])) throw this.fail("expected NULL or NOT NULL after IS", this.ws());
        return new Comparison(field, "IS NOT NULL");
      }
      if (!this.keyword(["null"])) throw this.fail("expected NULL or NOT NULL after IS", this.ws());
      return new Comparison(field, "IS NULL");
    }
    throw this.fail("expected an operator after '" + source + "'", opPos);
  };

  Parser.prototype.field = function () {
    var start = this.ws();
    var word = this.match(WORD, start);
    if (word === null) {
      throw this.fail("expected a field (metrics.<key>, params.<key>, tags.<key> or attributes.<name>)", start);
    }
    var lower = word.toLowerCase();
    this.pos = start + word.length;
    if (this.peek() === ".") {
      var kind = Object.prototype.hasOwnProperty.call(PREFIXES, lower) ? PREFIXES[lower] : null;
      if (kind === null) {
        throw this.fail("unknown field prefix '" + word + "'", start, "expected metrics, params, tags or attributes");
      }
      this.pos++;
      var keyPos = this.pos, key;
      if (this.peek() === "`" || this.peek() === "\"") {
        key = this.string();
        if (key === "") throw this.fail("empty key", keyPos);
      } else {
        key = this.match(KEY, keyPos);
        if (key === null) throw this.fail("expected a key after '" + word + ".'", keyPos);
        this.pos = keyPos + key.length;
      }
      if (kind === "attributes") {
        var lowerKey = key.toLowerCase();
        if (!Object.prototype.hasOwnProperty.call(ATTRIBUTE_NAMES, lowerKey)) {
          throw this.fail("unknown attribute '" + key + "'", keyPos, "expected one of " + ATTRIBUTES.join(", "));
        }
        return "attributes." + ATTRIBUTE_NAMES[lowerKey];
      }
      return kind + "." + key;
    }
    if (Object.prototype.hasOwnProperty.call(ATTRIBUTE_NAMES, lower)) return "attributes." + ATTRIBUTE_NAMES[lower];
    if (Object.prototype.hasOwnProperty.call(PREFIXES, lower)) throw this.fail("expected '.' after '" + word + "'", this.pos);
    throw this.fail("unknown field '" + word + "'", start, "use metrics." + word + ", params." + word + " or tags." + word);
  };

  Parser.prototype.value = function (field, after) {
    var start = this.ws();
    var c = this.peek(), lit;
    if (c === "'" || c === "\"") {
      lit = this.string();
    } else {
      var m = this.match(NUMBER, start);
      if (m !== null) {
        var end = start + m.length;
        if (end < this.n && NUMBER_END.test(this.text[end])) throw this.fail("invalid number", start);
        this.pos = end;
        lit = Number(m);
      } else {
        var word = this.match(SIGNED_WORD, start);
        if (word === null) throw this.fail("expected a value after " + after, start);
        var bare = word.replace(/^[+-]/, "").toLowerCase();
        if (!Object.prototype.hasOwnProperty.call(NON_FINITE, bare)) {
          throw this.fail("expected a value after " + after, start, "text values need quotes");
        }
        this.pos = start + word.length;
        lit = word[0] === "-" ? -NON_FINITE[bare] : NON_FINITE[bare];
      }
    }
    if (field.lastIndexOf("metrics.", 0) === 0 && typeof lit === "string") {
      var number = numeric(lit);
      if (number === null) throw this.fail("expected a number for '" + field + "'", start);
      lit = number;
    }
    return lit;
  };

  Parser.prototype.string = function () {
    var text = this.text, start = this.pos, n = this.n;
    var q = text[start], out = "", i = start + 1;
    for (;;) {
      var j = i;
      while (j < n && text[j] !== q && text[j] !== "\\") j++;
      out += text.slice(i, j);
      if (j >= n) throw this.fail("unterminated string", start);
      if (text[j] === "\\") {
        if (j + 1 >= n) throw this.fail("unterminated string", start);
        var d = text[j + 1];
        out += Object.prototype.hasOwnProperty.call(ESCAPES, d) ? ESCAPES[d] : "\\" + d;
        i = j + 2;
      } else if (j + 1 < n && text[j + 1] === q) {
        out += q;
        i = j + 2;
      } else {
        this.pos = j + 1;
        return out;
      }
    }
  };

  // -------------------------------------------------------------------------------------- public

  function Query(text, root) {
    this.text = text;
    this.root = root;
  }

  Query.prototype.matches = function (row) {
    return this.root === null ? true : this.root.matches(row);
  };

  Query.prototype.filter = function (rows) {
    if (this.root === null) return rows.slice();
    var root = this.root;
    return rows.filter(function (row) { return root.matches(row); });
  };

  Query.prototype.fields = function () {
    var out = {};
    if (this.root !== null) this.root.collect(out);
    return Object.keys(out).sort(compareStrings);
  };

  Query.prototype.toString = function () {
    return this.root === null ? "" : this.root.toString();
  };

  function parse(text) {
    if (typeof text !== "string") throw new TypeError("query must be a string");
    return new Query(text, new Parser(text).query());
  }

  return {
    parse: parse,
    QueryError: QueryError,
    numberText: textOf,
    ATTRIBUTES: ATTRIBUTES.slice()
  };
});
