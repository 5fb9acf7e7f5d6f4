"""Secret redaction shared by the tracker (before anything reaches disk) and the site build.

A key is secret when its last dotted part, or the whole dotted key, matches one of the glob patterns
(case-insensitive). A secret's value is replaced by :data:`REDACTED`. Independently of keys, string
values that look like credentials (AWS access key ids, private key blocks, ``sk-`` API tokens) are
redacted too, and ``user:password@`` is stripped from URLs.
"""

from __future__ import annotations

import fnmatch
import functools
import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REDACTED = "[redacted]"

DEFAULT_PATTERNS: tuple[str, ...] = (
    "*password*",
    "*passwd*",
    "*secret*",
    "*token*",
    "*api_key*",
    "*api-key*",
    "*apikey*",
    "*credential*",
    "*private_key*",
    "*access_key*",
    "*auth_key*",
)

_SECRET_VALUE_RES = (  # searched as one alternation (_SECRET_VALUE)
    re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),                       # AWS access key id
    re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"),          # PEM private key block
    re.compile(r"\bsk-(?:[A-Za-z0-9_-]+-)?[A-Za-z0-9_-]{20,}"),         # OpenAI-style sk-... tokens
    re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"),                      # GitHub tokens
    re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),                      # Slack tokens
)
_SECRET_VALUE = re.compile("|".join(f"(?:{r.pattern})" for r in _SECRET_VALUE_RES))


@functools.lru_cache(maxsize=64)
def _compiled(extra_patterns: tuple[str, ...]) -> re.Pattern[str]:
    """Every pattern in one regular expression (an alternation), matched once per key."""
    return re.compile("|".join(f"(?:{fnmatch.translate(p.lower())})" for p in (*DEFAULT_PATTERNS, *extra_patterns)))


@functools.lru_cache(maxsize=8192)
def _is_secret(full: str, extra: tuple[str, ...]) -> bool:
    pattern = _compiled(extra)
    last = full.rsplit(".", 1)[-1]
    return bool(pattern.fullmatch(last) or pattern.fullmatch(full))


def is_secret_key(key: str, extra_patterns: Iterable[str] = ()) -> bool:
    """True when ``key`` (possibly dotted, ``db.password``) names a secret.

    Both the last dotted part and the full key are matched against the patterns, case-insensitively.
    """
    return _is_secret(str(key).lower(), tuple(extra_patterns))


def looks_like_secret_value(value: object) -> bool:
    """True when a string value looks like a credential whatever its key is called."""
    if not isinstance(value, str):
        return False
    if _SECRET_VALUE.search(value):
        return True
    return strip_url_credentials(value) != value


def strip_url_credentials(url: str) -> str:
    """``url`` without credentials: ``https://user:pass@host/x`` becomes ``https://host/x``.

    For http(s) any user info is dropped (a token is often passed as the user name); for other schemes
    (``ssh://git@host``) only a password is. Strings that are not URLs are returned unchanged.
    """
    if not isinstance(url, str) or "://" not in url or "@" not in url:
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    if parts.scheme.lower() in ("http", "https") or ":" in userinfo:
        user = "" if parts.scheme.lower() in ("http", "https") else userinfo.split(":", 1)[0]
        netloc = f"{user}@{hostport}" if user else hostport
        return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return url


_PLAIN = frozenset({int, float, bool, type(None)})


def redact_mapping(obj: Any, extra_patterns: Iterable[str] = (), _prefix: str = "") -> tuple[Any, list[str]]:
    """A copy of ``obj`` with secret values replaced by :data:`REDACTED`, and the dotted paths redacted.

    Mappings are walked recursively (their keys joined with dots), lists element by element (paths
    get ``[i]``). A value is redacted when its key is secret (:func:`is_secret_key`) or the value itself
    looks like a credential (:func:`looks_like_secret_value`); URLs lose their ``user:pass@``.
    The input is never modified.
    """
    patterns = tuple(extra_patterns)
    redacted: list[str] = []

    def walk(value: Any, path: str, key_is_secret: bool) -> Any:
        if key_is_secret:
            redacted.append(path)
            return REDACTED
        kind = type(value)
        if kind in _PLAIN:  # numbers, booleans, None: the most common values, nothing to look at
            return value
        if kind is dict or (kind is not str and isinstance(value, Mapping)):
            out = {}
            for k, v in value.items():
                child = f"{path}.{k}" if path else str(k)
                out[k] = walk(v, child, is_secret_key(child, patterns))
            return out
        if kind is list or kind is tuple or (kind is not str and isinstance(value, (list, tuple))):
            return [walk(v, f"{path}[{i}]", False) for i, v in enumerate(value)]
        if isinstance(value, str):
            if _SECRET_VALUE.search(value):
                redacted.append(path)
                return REDACTED
            stripped = strip_url_credentials(value)
            if stripped != value:
                redacted.append(path)
                return stripped
        return value

    result = walk(obj, _prefix, False)
    return result, redacted


def redact_text(text: str) -> str:
    """``text`` with credential-looking substrings replaced and URL credentials stripped (for diffs, logs)."""
    for pattern in _SECRET_VALUE_RES:
        text = pattern.sub(REDACTED, text)
    return _URL_RE.sub(lambda m: strip_url_credentials(m.group(0)), text)


_URL_RE = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]+@[^\s'\"<>]+")


def redact_command(argv: Iterable[str], extra_patterns: Iterable[str] = ()) -> list[str]:
    """A command line with secret option values hidden.

    ``--password X``, ``--api-key=X`` and ``db.password=X`` (Hydra-style overrides) lose their values
    when the option or key name is secret; any argument that looks like a credential is redacted and
    URLs lose their ``user:pass@``.
    """
    patterns = tuple(extra_patterns)
    out: list[str] = []
    hide_next = False
    for arg in argv:
        arg = str(arg)
        if hide_next:
            hide_next = False
            if not arg.startswith("-"):
                out.append(REDACTED)
                continue
        name, eq, _value = arg.lstrip("-").partition("=")
        is_option = arg.startswith("-")
        if (is_option or eq) and name and is_secret_key(name.replace("-", "_"), patterns):
            if eq:
                out.append(arg[: len(arg) - len(_value)] + REDACTED)
            else:
                out.append(arg)
                hide_next = is_option
            continue
        out.append(REDACTED if any(r.search(arg) for r in _SECRET_VALUE_RES) else strip_url_credentials(arg))
    return out
