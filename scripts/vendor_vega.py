#!/usr/bin/env python3
"""Write the theme's offline Vega runtime: themes/default/static/vendor/vega-embed.js + LICENSES.txt.

The bundle (vega, vega-lite, vega-embed and their dependencies) comes from the installed
``vl-convert-python`` (``vl_convert.javascript_bundle()``), so no network is needed. It is run by hand
when the Vega versions should change and its output is committed; site builds only copy it.

The bundle is an ES module body without import/export statements; it is wrapped in a strict-mode
function so that it loads as a classic ``<script src=...>`` (also from ``file://``) without leaking its
hundreds of minified top-level names (``n``, ``t`` ...) into the page's global scope, where a second
script declaring the same name with ``let``/``const`` would fail. It exposes ``window.vegaEmbed``,
``window.vega`` and ``window.vegaLite``.

Usage: python scripts/vendor_vega.py [--check]
  --check  exit 1 if the committed files differ from what would be written (for CI)
"""

from __future__ import annotations

import argparse
import functools
import re
import sys
from pathlib import Path

import vl_convert as vlc

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "themes" / "default" / "static" / "vendor"

_MODULE_SYNTAX = re.compile(r"(?m)^\s*(import|export)\b[\s{*\"']")

# Packages whose code ends up in the browser bundle, with their licences, as resolved from the npm
# dependency trees of vega, vega-lite and vega-embed at the versions bundled (node-only dependencies such
# as yargs, commander, iconv-lite and rw, used by command-line tools, are left out). Best effort: the
# bundle carries no licence comments of its own, so this list is the record.
_RUNTIME_PACKAGES: list[tuple[str, str, str]] = [
    # (package or family, licence, copyright holder)
    ("vega and its modules (vega-canvas, vega-crossfilter, vega-dataflow, vega-encode, vega-event-selector, "
     "vega-expression, vega-force, vega-format, vega-functions, vega-geo, vega-hierarchy, vega-interpreter, "
     "vega-label, vega-loader, vega-parser, vega-projection, vega-regression, vega-runtime, vega-scale, "
     "vega-scenegraph, vega-selections, vega-statistics, vega-time, vega-transforms, vega-util, vega-view, "
     "vega-view-transforms, vega-voronoi, vega-wordcloud)", "BSD-3-Clause",
     "University of Washington Interactive Data Lab"),
    ("vega-lite", "BSD-3-Clause", "University of Washington Interactive Data Lab"),
    ("vega-embed, vega-themes, vega-tooltip, vega-schema-url-parser", "BSD-3-Clause",
     "University of Washington Interactive Data Lab"),
    ("d3-array, d3-color, d3-delaunay, d3-dispatch, d3-dsv, d3-force, d3-format, d3-geo, d3-geo-projection, "
     "d3-hierarchy, d3-interpolate, d3-path, d3-quadtree, d3-scale, d3-scale-chromatic, d3-shape, d3-time, "
     "d3-time-format, d3-timer, internmap", "ISC", "Mike Bostock"),
    ("d3-ease", "BSD-3-Clause", "Mike Bostock"),
    ("topojson-client", "ISC", "Mike Bostock"),
    ("delaunator", "ISC", "Mapbox"),
    ("robust-predicates", "Unlicense (public domain)", "Vladimir Agafonkin"),
    ("fast-json-patch", "MIT", "Joachim Wester"),
    ("json-stringify-pretty-compact", "MIT", "Simon Lydell"),
    ("semver", "ISC", "Isaac Z. Schlueter and Contributors"),
    ("tslib", "0BSD", "Microsoft Corporation"),
]


@functools.lru_cache(maxsize=None)
def versions() -> dict[str, str]:
    vl = vlc.get_vegalite_versions()[-1]  # javascript_bundle() uses the newest by default
    # vl-convert names only major.minor; the bundle's own version string gives the patch level.
    full = re.search(r'"(%s\.\d+)"' % re.escape(vl), vlc.javascript_bundle())
    return {
        "vega": vlc.get_vega_version(),
        "vega-lite": full.group(1) if full else vl,
        "vega-embed": vlc.get_vega_embed_version(),
        "vega-themes": vlc.get_vega_themes_version(),
        "vl-convert-python": vlc.__version__,
    }


def build_bundle() -> str:
    body = vlc.javascript_bundle()
    if _MODULE_SYNTAX.search(body):
        raise SystemExit("vendor_vega: the bundle has top-level import/export; it cannot be a classic script")
    if "window.vegaEmbed" not in body:
        raise SystemExit("vendor_vega: the bundle does not assign window.vegaEmbed; check vl-convert's snippet")
    v = versions()
    header = (
        "/*! Offline Vega runtime for sitegen's default theme, written by scripts/vendor_vega.py; do not edit.\n"
        f" * vega {v['vega']}, vega-lite {v['vega-lite']}, vega-embed {v['vega-embed']}, "
        f"vega-themes {v['vega-themes']}\n"
        f" * bundled by vl-convert-python {v['vl-convert-python']} (javascript_bundle()).\n"
        " * Licences: see LICENSES.txt beside this file (BSD-3-Clause, ISC, MIT, 0BSD, Unlicense).\n"
        " * Defines window.vegaEmbed, window.vega, window.vegaLite. */\n"
    )
    return header + '(function () {\n"use strict";\n' + body.rstrip() + "\n}());\n"


_LICENCE_TEXTS = {
    "BSD-3-Clause": (
        "Redistribution and use in source and binary forms, with or without modification, are permitted\n"
        "provided that the following conditions are met:\n"
        "1. Redistributions of source code must retain the above copyright notice, this list of conditions\n"
        "   and the following disclaimer.\n"
        "2. Redistributions in binary form must reproduce the above copyright notice, this list of\n"
        "   conditions and the following disclaimer in the documentation and/or other materials provided\n"
        "   with the distribution.\n"
        "3. Neither the name of the copyright holder nor the names of its contributors may be used to\n"
        "   endorse or promote products derived from this software without specific prior written\n"
        "   permission.\n"
        "THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS \"AS IS\" AND ANY EXPRESS OR\n"
        "IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE IMPLIED WARRANTIES OF MERCHANTABILITY AND\n"
        "FITNESS FOR A PARTICULAR PURPOSE ARE DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR\n"
        "CONTRIBUTORS BE LIABLE FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL\n"
        "DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR SERVICES; LOSS OF USE,\n"
        "DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER\n"
        "IN CONTRACT, STRICT LIABILITY, OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF\n"
        "THE USE OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.\n"
    ),
    "ISC": (
        "Permission to use, copy, modify, and/or distribute this software for any purpose with or without\n"
        "fee is hereby granted, provided that the above copyright notice and this permission notice appear\n"
        "in all copies.\n"
        "THE SOFTWARE IS PROVIDED \"AS IS\" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH REGARD TO THIS\n"
        "SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE\n"
        "AUTHOR BE LIABLE FOR ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES\n"
        "WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT,\n"
        "NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE USE OR PERFORMANCE\n"
        "OF THIS SOFTWARE.\n"
    ),
    "MIT": (
        "Permission is hereby granted, free of charge, to any person obtaining a copy of this software and\n"
        "associated documentation files (the \"Software\"), to deal in the Software without restriction,\n"
        "including without limitation the rights to use, copy, modify, merge, publish, distribute,\n"
        "sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is\n"
        "furnished to do so, subject to the following conditions:\n"
        "The above copyright notice and this permission notice shall be included in all copies or\n"
        "substantial portions of the Software.\n"
        "THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT\n"
        "NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND\n"
        "NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM,\n"
        "DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT\n"
        "OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.\n"
    ),
    "0BSD": (
        "Permission to use, copy, modify, and/or distribute this software for any purpose with or without\n"
        "fee is hereby granted.\n"
        "THE SOFTWARE IS PROVIDED \"AS IS\" AND THE AUTHOR DISCLAIMS ALL WARRANTIES WITH REGARD TO THIS\n"
        "SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS. IN NO EVENT SHALL THE\n"
        "AUTHOR BE LIABLE FOR ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL DAMAGES OR ANY DAMAGES\n"
        "WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION OF CONTRACT,\n"
        "NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE USE OR PERFORMANCE\n"
        "OF THIS SOFTWARE.\n"
    ),
}


def build_licenses() -> str:
    v = versions()
    lines = [
        "Third-party software in vega-embed.js",
        "=====================================",
        "",
        f"vega-embed.js bundles vega {v['vega']}, vega-lite {v['vega-lite']} and vega-embed {v['vega-embed']}",
        f"(built by vl-convert-python {v['vl-convert-python']}, itself BSD-3-Clause, Copyright Jon Mease) together",
        "with the packages below. The list was resolved from the npm dependency trees of those three packages;",
        "packages only used by their command-line tools are left out. It is a best-effort record: the bundle",
        "itself carries no licence comments.",
        "",
    ]
    for name, licence, holder in _RUNTIME_PACKAGES:
        lines.append(f"- {name}")
        lines.append(f"  Licence: {licence}; Copyright (c) {holder}.")
    lines.append("")
    for licence, text in _LICENCE_TEXTS.items():
        holders = sorted({h for _, lic, h in _RUNTIME_PACKAGES if lic == licence}
                         | ({"Jon Mease (vl-convert)"} if licence == "BSD-3-Clause" else set()))
        lines += [f"{licence} licence text (applies with the copyright notices of: {'; '.join(holders)})",
                  "-" * 72, text]
    lines += ["Unlicense: robust-predicates is released into the public domain by its author.", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed files are out of date")
    args = parser.parse_args(argv)
    outputs = {VENDOR / "vega-embed.js": build_bundle(), VENDOR / "LICENSES.txt": build_licenses()}
    stale = []
    for path, text in outputs.items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(path)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8", newline="\n")
            print(f"wrote {path.relative_to(ROOT)} ({len(text.encode('utf-8'))} bytes)")
    for path in stale:
        print(f"{path.relative_to(ROOT)} is out of date; run python scripts/vendor_vega.py", file=sys.stderr)
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
