"""HTTP response headers the published site is served with: one source of truth.

The build writes them as ``_headers`` (Netlify, Cloudflare Pages) into the site root; ``netlify.toml``
repeats them and a test checks that both say the same.
"""

from __future__ import annotations

# The theme uses no inline scripts or event-handler attributes; the only inline <script> elements are JSON
# data blocks (type="application/json"), which browsers never run. 'wasm-unsafe-eval': Pagefind's search
# runs WebAssembly. Vega is embedded with its expression interpreter, so no 'unsafe-eval'. style-src keeps
# 'unsafe-inline' for the styles vega-embed sets on elements. img-src data: is for SVG artifact previews.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "frame-ancestors 'none'; form-action 'self'"
)

HEADERS: dict[str, dict[str, str]] = {
    "/*": {
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    },
    # Asset file names carry a content hash, so they never change: cache them for a year.
    "/assets/*": {"Cache-Control": "public, max-age=31536000, immutable"},
}

HEADERS_FILE = "_headers"


def headers_file() -> str:
    """The ``_headers`` file: a path pattern, then its headers indented below it."""
    lines: list[str] = []
    for pattern, values in HEADERS.items():
        lines.append(pattern)
        lines.extend(f"  {name}: {value}" for name, value in values.items())
    return "\n".join(lines) + "\n"
