"""Markdown written by users, rendered and then sanitized with nh3 (an allow-list HTML sanitizer)."""

from __future__ import annotations

import functools
import posixpath

import markdown as md
import nh3
from markupsafe import Markup

from . import cache

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "dl", "dt", "em", "h1", "h2",
    "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "kbd", "li", "ol", "p", "pre", "q", "s", "small",
    "span", "strong", "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    "div", "section",
}
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "td": {"align"}, "th": {"align", "scope"},
    "ol": {"start"},
    "code": {"class"},
    "div": {"class"}, "span": {"class"}, "sup": {"id"}, "li": {"id"},
}
_SCHEMES = {"http", "https", "mailto"}


def _no_remote_images(tag: str, attribute: str, value: str) -> str | None:
    # The site loads nothing from elsewhere: a remote image would leak the reader's visit (and break CSP).
    if tag == "img" and attribute == "src" and ("://" in value or value.startswith("//")):
        return None
    return value


def _rebase(base: str):
    """An attribute filter that also makes relative links point into ``base`` (a folder, ending in /)."""
    def rewrite(tag: str, attribute: str, value: str) -> str | None:
        value = _no_remote_images(tag, attribute, value)
        if value is None or attribute not in ("src", "href"):
            return value
        if value.startswith(("#", "/", "?")) or ":" in value.split("/", 1)[0]:
            return value
        target = posixpath.normpath(base + value)
        return None if target.startswith("..") else target
    return rewrite


def sanitize(html: str, base: str | None = None) -> str:
    """Allow-listed HTML: no scripts, no event handlers, no javascript: or data: URLs, no styles,
    no remote images. With ``base``, relative links are made relative to that folder."""
    return nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES, url_schemes=_SCHEMES,
                     link_rel="noopener noreferrer nofollow", strip_comments=True,
                     attribute_filter=_rebase(base) if base else _no_remote_images)


@functools.lru_cache(maxsize=4)
def _converter(level: int) -> md.Markdown:
    """One Markdown converter per heading level per process, reset between documents (building one costs
    ~1 ms). ``level``: what a ``#`` heading becomes, so user headings fit under the page's own."""
    # Imported here, when a build first renders Markdown its cache does not hold (22 ms with Pygments, which
    # fenced code imports); as classes: named by strings, Markdown looks each name up among every installed
    # package's entry points first (14 ms a process).
    from markdown.extensions.abbr import AbbrExtension
    from markdown.extensions.def_list import DefListExtension
    from markdown.extensions.fenced_code import FencedCodeExtension
    from markdown.extensions.footnotes import FootnoteExtension
    from markdown.extensions.sane_lists import SaneListExtension
    from markdown.extensions.tables import TableExtension
    from markdown.extensions.toc import TocExtension

    extensions = [TableExtension(), FencedCodeExtension(), SaneListExtension(), DefListExtension(),
                  AbbrExtension(), FootnoteExtension(), TocExtension(baselevel=level, anchorlink=False,
                                                                     permalink=False)]
    return md.Markdown(extensions=extensions, output_format="html")


def render(text: str | None, base: str | None = None, level: int = 3) -> Markup:
    """Markdown to sanitized HTML, safe to place in a page. ``base``: folder that relative links are in;
    ``level``: the HTML heading level of a Markdown ``#`` heading (3 under a section's h2; 2 right under
    the page's h1)."""
    if not text:
        return Markup("")
    return _render(str(text), base, level)


def forget() -> None:
    """Empty the in-process cache of rendered Markdown (a build starts with it empty, so that what it uses
    reaches its memo)."""
    _render.cache_clear()


def versions() -> list[str]:
    """The versions of the libraries that make this module's output (for cache scopes)."""
    return [f"markdown {md.__version__}", f"nh3 {getattr(nh3, '__version__', '?')}"]


@functools.lru_cache(maxsize=4096)
def _render(text: str, base: str | None, level: int) -> Markup:
    """:func:`render`, remembered: the same card section or note often appears on several pages."""
    def make() -> str:
        return sanitize(_converter(level).reset().convert(text), base)

    memo = cache.memo("markup")  # kept between builds: model cards are mostly the same from build to build
    if memo is None:
        return Markup(make())
    key = cache.digest_bytes(f"{level}\0{base}\0{text}".encode("utf-8", "surrogatepass"))
    return Markup(memo.get(key, make))


_DOC_TAGS = set(nh3.ALLOWED_TAGS) | {"style"}
_DOC_ATTRIBUTES = {tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()}
_DOC_ATTRIBUTES["*"] = {"class", "id", "title", "style", "lang", "dir"}


def sanitize_document(html: str) -> str:
    """A user's HTML report made inert: scripts, handlers, forms, frames and remote loads removed; its
    markup and styles kept. Shown in a sandboxed frame on top of this, so nothing in it can run."""
    return nh3.clean(html, tags=_DOC_TAGS, clean_content_tags={"script"}, attributes=_DOC_ATTRIBUTES,
                     url_schemes=_SCHEMES, link_rel="noopener noreferrer nofollow", strip_comments=True,
                     attribute_filter=_no_remote_images)
