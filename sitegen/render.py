"""The Jinja environment: theme lookup (user theme over default), autoescaping, formatting filters.

Templates format; they do not compute. Every value a template shows arrives in the page context.
"""

from __future__ import annotations

import contextlib
import math
import posixpath
import re
from contextvars import ContextVar
from datetime import datetime
from pathlib import Path
from typing import Any, Iterator

from markupsafe import Markup, escape
from jinja2 import (ChoiceLoader, Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined,
                    Template)

from . import urls
from .jsonutil import dumps_for_script
from .theme import Theme


def fmt_number(value, digits: int = 4) -> str:
    """Numbers for people: NaN and infinities spelled out, integers as integers, floats to ``digits``
    significant digits (scientific notation for very large or small magnitudes)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        if value == int(value) and abs(value) < 1e15:
            return str(int(value))
        mag = abs(value)
        if mag >= 1e6 or mag < 1e-4:
            return f"{value:.{digits - 1}e}"
        return f"{value:.{digits}g}" if mag < 1 else f"{value:.{max(digits, len(str(int(mag))))}g}"
    return str(value)


def fmt_datetime(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else ""


def fmt_iso(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""


def fmt_duration(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return ""
    seconds = int(round(seconds))
    days, rem = divmod(seconds, 86400)
    hours, rem = divmod(rem, 3600)
    minutes, secs = divmod(rem, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def fmt_size(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


def script_json(value) -> Markup:
    """JSON for a ``<script type="application/json">`` block: ``<``, ``>`` and ``&`` are escaped as \\u
    sequences, so no user string can close the element; safe to insert unescaped."""
    return Markup(dumps_for_script(value))


# The page being rendered: (absolute base URL or None, its folder, the assets' published names). ``url`` and
# ``asset`` read it, so they are plain functions that macros imported without the page's context can call:
# Jinja then keeps the imported macro module instead of running it again for every page, and calls them
# without going through the context (a run page has about thirty links).
_page: ContextVar[tuple[str | None, str, dict[str, str]]] = ContextVar("sitegen_page")


@contextlib.contextmanager
def rendering(page_url: str, assets: dict[str, str], absolute_base: str | None = None) -> Iterator[None]:
    """Bind ``url`` and ``asset`` to the page at ``page_url`` while it is rendered (``absolute_base``: links
    are absolute, for pages served at any path, like 404)."""
    token = _page.set((absolute_base, posixpath.dirname(page_url), assets))
    try:
        yield
    finally:
        _page.reset(token)


_used: ContextVar[list[str] | None] = ContextVar("sitegen_links_used", default=None)  # see Partials


def url(target: str) -> str:
    """A link from the page being rendered to a site path."""
    used = _used.get()
    if used is not None:
        used.append(target)
    base, folder, _assets = _page.get()
    return urls.absolute(base, target) if base else urls.relative_from(folder, target)


def asset(name: str) -> str:
    """A link to a theme static file, by its logical name, through its content-hashed published name."""
    return url(_page.get()[2][name])


# C0 control characters but tab, newline and carriage return, and DEL: in UTF-8 each is its own byte, never
# part of another character's bytes.
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


def printable(html: str) -> bytes:
    """A rendered page as UTF-8, without the control characters HTML forbids (NUL from YAML's ``"\\0"``, say).
    Done once on the whole page rather than on each value a template prints: no template writes them,
    escaping leaves them as they are, and JSON in script blocks has them as ``\\u`` escapes. Deleting them
    from the bytes is one pass in C (6 µs for a run page, against 0.04 ms for a call on each of its ~170
    values, or 28 µs for a regular expression's search)."""
    return html.encode("utf-8").translate(None, _CONTROL_BYTES)


def _first_segment(target: str) -> str:
    return target.partition("#")[0].partition("?")[0].split("/", 1)[0]


class Partials:
    """``partial(name, section)`` in a template: the page chrome in ``_partial_<name>.html`` (head links, top
    bar, search box, footer), rendered once for all the pages it is the same on, as Hugo's
    ``partialCached`` does. Its context is ``site`` and ``section`` alone, and its links come from ``url()``
    and ``asset()``: a relative link to a target whose first folder is not the page's own first folder is
    ``../`` for each folder of the page, then the target. So the chrome made for one page stands for every
    page as deep, with the same section, unless the page's first folder is one its links go into (such
    pages get their own). A run page's chrome was a fifth of its rendering."""

    def __init__(self, env: Environment, site: dict[str, Any]):
        self.env, self.site = env, site
        self._made: dict[tuple[Any, ...], tuple[Markup, frozenset[str]]] = {}

    def __call__(self, name: str, section: str | None = None) -> Markup:
        base, folder, _assets = _page.get()
        top = folder.split("/", 1)[0]
        key = (name, section, base, folder.count("/") + 1 if folder else 0)
        made = self._made.get(key)
        if made is not None and (base or top not in made[1]):
            return made[0]
        token = _used.set([])
        try:
            html = Markup(self.env.get_template(f"_partial_{name}.html").render(site=self.site, section=section))
            firsts = frozenset(_first_segment(t) for t in _used.get() or ())
        finally:
            _used.reset(token)
        if base or top not in firsts:  # made with links that hold for every page as deep
            self._made[key] = (html, firsts)
        return html


# What markupsafe's escape turns each special character into ("&" first, so no entity is escaped twice).
_SPECIAL = re.compile("[&<>'\"]")
_ENTITIES = [(c, str(escape(c))) for c in "&<>'\""]


def _escape_output(value: Any) -> Any:
    """markupsafe's ``escape`` for what a template prints: the same text, but a plain string without special
    characters (most values: numbers, names, ids) is given back as it is, and a string is not wrapped in a
    Markup (only joined into the page). markupsafe's is a Python function making a Markup for each of the
    ~150 values of a run page: an eighth of its rendering."""
    if type(value) is str:
        if _SPECIAL.search(value) is None:
            return value
        for char, entity in _ENTITIES:
            value = value.replace(char, entity)
        return value
    return escape(value)


class SiteTemplate(Template):
    """A template whose printed values go through :func:`_escape_output` (in its compiled code's globals:
    Jinja emits ``escape(...)`` around each printed value, and nothing else does with it but join)."""

    @classmethod
    def from_code(cls, environment: Environment, code: Any, globals: Any, uptodate: Any = None) -> Template:
        template = super().from_code(environment, code, globals, uptodate)
        template.root_render_func.__globals__["escape"] = _escape_output
        return template


_DICT_ATTRIBUTES = frozenset(dir(dict))


class SiteEnvironment(Environment):
    """Jinja's environment, with ``d.key`` on a plain dict looked up as ``d["key"]`` straight away. Jinja
    first asks for an attribute, which for a dict raises (and catches) an exception; a page context is
    mostly dicts, read that way dozens of times a page. Names of dict attributes (``items``, ``get``,
    ...) still go to Jinja, so ``d.items()`` means the method even when the dict has an "items" key."""

    template_class = SiteTemplate

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)


def make_environment(theme: Theme, bytecode_dir: Path | None = None) -> Environment:
    """The Jinja environment of ``theme``. With ``bytecode_dir``, compiled templates are kept there between
    builds (Jinja checks each against its template's source, so an edited template is compiled again)."""
    cache = None
    if bytecode_dir is not None:
        try:
            bytecode_dir.mkdir(parents=True, exist_ok=True)
            cache = FileSystemBytecodeCache(str(bytecode_dir))
        except OSError:
            cache = None
    env = SiteEnvironment(
        loader=ChoiceLoader([FileSystemLoader(d) for d in theme.template_dirs]),
        autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True,
        keep_trailing_newline=True, auto_reload=False, bytecode_cache=cache,
    )
    env.filters.update(num=fmt_number, datetime=fmt_datetime, iso=fmt_iso, duration=fmt_duration,
                       filesize=fmt_size, script_json=script_json)
    env.globals.update(url=url, asset=asset)
    return env
