"""The Jinja environment: theme lookup (user theme over default), autoescaping, formatting filters.

Templates format; they do not compute. Every value a template shows arrives in the page context.
"""

from __future__ import annotations

import math
import posixpath
import re
from contextvars import ContextVar
from io import StringIO
from datetime import datetime
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape
from jinja2 import (ChoiceLoader, Environment, FileSystemBytecodeCache, FileSystemLoader, StrictUndefined,
                    Template, nodes)
from jinja2.compiler import CodeGenerator, Frame, optimizeconst

from . import urls
from .jsonutil import dumps_for_script
from .theme import Theme


def fmt_number(value, digits: int = 4) -> str:
    """Numbers for people: NaN and infinities spelled out, integers as integers, floats to ``digits``
    significant digits (scientific notation for very large or small magnitudes)."""
    if type(value) is float and 1e-4 <= abs(value) < 1:  # most metrics: no NaN, infinity or whole number
        return f"{value:.{digits}g}"
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
    if not value:
        return ""
    if value.year >= 1000:  # isoformat is strftime's text, made quicker (it pads years below 1000)
        return value.isoformat(" ")[:16] + " UTC"  # the offset and seconds cut off
    return value.strftime("%Y-%m-%d %H:%M UTC")


def fmt_iso(value: datetime | None) -> str:
    if not value:
        return ""
    if value.year >= 1000:
        return value.isoformat()[:19] + "Z"
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


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


# The page being rendered: (absolute base URL or None, its folder, the assets' published names, the first
# segment of its folder, how many folders deep it is). ``url`` and ``asset`` read it, so they are plain
# functions that macros imported without the page's context can call: Jinja then keeps the imported macro
# module instead of running it again for every page, and calls them without going through the context.
_page: ContextVar[tuple[str | None, str, dict[str, str], str, int]] = ContextVar("sitegen_page")


class rendering:  # noqa: N801 - used as a function: ``with rendering(page_url, assets):``
    """Bind ``url`` and ``asset`` to the page at ``page_url`` while it is rendered (``absolute_base``: links
    are absolute, for pages served at any path, like 404)."""

    __slots__ = ("_value", "_token")

    def __init__(self, page_url: str, assets: dict[str, str], absolute_base: str | None = None):
        folder = posixpath.dirname(page_url)
        self._value = (absolute_base, folder, assets, folder.split("/", 1)[0], folder.count("/") + 1 if folder else 0)

    def __enter__(self) -> None:
        self._token = _page.set(self._value)

    def __exit__(self, *exc: Any) -> None:
        _page.reset(self._token)


_used: ContextVar[list[str] | None] = ContextVar("sitegen_links_used", default=None)  # see Partials


def url(target: str) -> str:
    """A link from the page being rendered to a site path."""
    used = _used.get()
    if used is not None:
        used.append(target)
    base, folder, _assets, _top, _depth = _page.get()
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
        base, _folder, _assets, top, depth = _page.get()
        key = (name, section, base, depth)
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


_SPECIAL = re.compile("[&<>'\"]")  # the characters markupsafe's escape replaces


def _escape_output(value: Any) -> Any:
    """markupsafe's ``escape`` for what a template prints: the same text, but a plain string without special
    characters (most values: names, ids, formatted numbers) and an integer are given back as text, not
    wrapped in a Markup (they are only joined into the page). Compiled templates test for a plain string
    without special characters in place (see :class:`SiteCodeGenerator`) and call this for the rest."""
    if type(value) is str:
        return value if _SPECIAL.search(value) is None else escape(value)
    if type(value) is int:
        return str(value)
    return escape(value)


_DICT_ATTRIBUTES = frozenset(dir(dict))


def _bind_call(context: Any, func: Any, extra: dict[str, Any]) -> Any:
    """What Jinja calls a template's function with when it is not one of the plain ones (see below)."""
    return lambda *args, **kwargs: context.call(func, *args, **kwargs, **extra)


class SiteCodeGenerator(CodeGenerator):
    """Jinja's code generator, with what a page repeats most made cheaper in the compiled code (the text it
    renders is the same; a test compares it with Jinja's own code for each construct changed):

    - a printed plain string without special characters, or a Markup, is given as it is, tested in place;
      anything else goes through :func:`_escape_output` (a run page prints ~150 values, nearly all such);
    - ``d.key`` reads a plain dict's key in place, ``(o[key] if type(o := d) is dict and key in o else
      environment.getattr(o, key))``, instead of calling the environment's ``getattr``;
    - ``url(...)``, ``asset(...)`` and ``partial(...)`` call sitegen's functions directly when the name still
      means them, instead of through ``Context.call``, which first checks whether the function wants the
      context (a microsecond for each of a run page's ~25 calls). Any other value is called as Jinja does;
    - a block or an included template is rendered into one string that the page yields, instead of handing
      its pieces up one by one through every template and loop above it (a run page has ~400 pieces, most
      of them in a block or an include, two or three levels down).
    """

    def _plain(self) -> bool:
        return not (self.environment.is_async or self.environment.sandboxed)

    def _inline_escape(self, frame: Frame, finalize: Any) -> bool:
        return not frame.eval_ctx.volatile and frame.eval_ctx.autoescape and finalize.src is None

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        if self._inline_escape(frame, finalize):
            self.write("(_sg_v if type(_sg_v := ")
        else:
            super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        if self._inline_escape(frame, finalize):
            self.write(") is str and _sg_special(_sg_v) is None or type(_sg_v) is _sg_Markup else escape(_sg_v))")
        else:
            super()._output_child_post(node, frame, finalize)

    def visit_Block(self, node: nodes.Block, frame: Frame) -> None:
        if node.required or not self._plain() or frame.buffer is not None:
            return super().visit_Block(node, frame)
        nested = False
        if frame.toplevel:
            if self.has_known_extends:  # a child template's blocks are called by its parent
                return
            if self.extends_so_far > 0:
                self.writeline("if parent_template is None:")
                self.indent()
                nested = True
        context = self.derive_context(frame) if node.scoped else self.get_context_ref()
        self.writeline(f"yield _sg_join(context.blocks[{node.name!r}][0]({context}))", node)
        if nested:
            self.outdent()

    def visit_Include(self, node: nodes.Include, frame: Frame) -> None:
        if not (self._plain() and node.with_context and not node.ignore_missing and frame.buffer is None
                and isinstance(node.template, nodes.Const) and isinstance(node.template.value, str)):
            return super().visit_Include(node, frame)
        self.writeline(f"template = environment.get_template({node.template.value!r}, {self.name!r})", node)
        self.writeline("yield _sg_join(template.root_render_func(template.new_context(context.get_all(), True, "
                       f"{self.dump_local_context(frame)})))")

    @optimizeconst
    def visit_Getattr(self, node: nodes.Getattr, frame: Frame) -> None:
        if not self._plain() or node.attr in _DICT_ATTRIBUTES:
            return super().visit_Getattr(node, frame)
        key = repr(node.attr)
        self.write(f"(_sg_o[{key}] if type(_sg_o := ")
        self.visit(node.node, frame)
        self.write(f") is dict and {key} in _sg_o else environment.getattr(_sg_o, {key}))")

    @optimizeconst
    def visit_Call(self, node: nodes.Call, frame: Frame, forward_caller: bool = False) -> None:
        if (forward_caller or not self._plain() or not isinstance(node.node, nodes.Name)
                or node.node.name not in ("url", "asset", "partial")):
            return super().visit_Call(node, frame, forward_caller=forward_caller)
        extra = {}
        if frame.loop_frame:
            extra["_loop_vars"] = "_loop_vars"
        if frame.block_frame:
            extra["_block_vars"] = "_block_vars"
        self.write("(_sg_f if (_sg_f := ")
        self.visit(node.node, frame)
        self.write(") is _sg_url or _sg_f is _sg_asset or type(_sg_f) is _sg_Partials "
                   "else _sg_bind(context, _sg_f, {")
        self.write(", ".join(f"{k!r}: {v}" for k, v in extra.items()))
        self.write("}))(")
        stream, self.stream = self.stream, StringIO()  # the arguments, without signature()'s leading comma
        try:
            self.signature(node, frame)
            args = self.stream.getvalue()
        finally:
            self.stream = stream
        self.write(args.removeprefix(", ") + ")")


class SiteTemplate(Template):
    """A template compiled by :class:`SiteCodeGenerator`, whose printed values go through
    :func:`_escape_output` (in its compiled code's globals: Jinja emits ``escape(...)`` around each printed
    value, and nothing else does with it but join)."""

    @classmethod
    def from_code(cls, environment: Environment, code: Any, globals: Any, uptodate: Any = None) -> Template:
        template = super().from_code(environment, code, globals, uptodate)
        template.root_render_func.__globals__.update(escape=_escape_output, _sg_url=url, _sg_asset=asset,
                                                     _sg_bind=_bind_call, _sg_Partials=Partials, _sg_Markup=Markup,
                                                     _sg_special=_SPECIAL.search,
                                                     _sg_join="".join)
        return template


class SiteEnvironment(Environment):
    """Jinja's environment, with ``d.key`` on a plain dict looked up as ``d["key"]`` straight away. Jinja
    first asks for an attribute, which for a dict raises (and catches) an exception; a page context is
    mostly dicts, read that way dozens of times a page. Names of dict attributes (``items``, ``get``,
    ...) still go to Jinja, so ``d.items()`` means the method even when the dict has an "items" key."""

    template_class = SiteTemplate
    # The generator overrides methods of Jinja 3.1's; another Jinja compiles with its own (slower, same text).
    code_generator_class = SiteCodeGenerator if jinja2.__version__.split(".")[:2] == ["3", "1"] else CodeGenerator

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._by_name: dict[tuple[str, str | None], Template] = {}

    def make_globals(self, d: Any) -> Any:
        """A template's globals as one plain dict, the environment's (all set before templates are loaded)
        and the template's own. Jinja's ChainMap of the two is copied key by key in Python for every context
        made: three times a run page (the page, its base template, an include)."""
        return {**self.globals, **(d or {})}

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        try:
            return getattr(obj, attribute)  # what Jinja tries first, without the call through super()
        except AttributeError:
            return super().getattr(obj, attribute)

    def get_template(self, name: Any, parent: str | None = None, globals: Any = None) -> Template:
        """Jinja's ``get_template``, with the templates a page asks for by name (its base, includes, macro
        imports: five a run page) kept in a plain dict: templates are never reloaded (``auto_reload`` is
        off), and Jinja's own lookup makes a weak reference to the loader for each."""
        if globals is not None or type(name) is not str or self.auto_reload:
            return super().get_template(name, parent, globals)
        key = (name, parent)
        template = self._by_name.get(key)
        if template is None:
            template = self._by_name[key] = super().get_template(name, parent)
        return template


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
        cache_size=-1,  # a theme's templates, all kept, in a plain dict (not Jinja's LRU cache with its lock)
    )
    env.filters.update(num=fmt_number, datetime=fmt_datetime, iso=fmt_iso, duration=fmt_duration,
                       filesize=fmt_size, script_json=script_json)
    env.globals.update(url=url, asset=asset)
    return env
