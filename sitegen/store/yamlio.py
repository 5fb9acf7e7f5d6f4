"""Safe YAML reading with positions: duplicate keys rejected, alias bombs refused, line numbers kept.

Loading uses libyaml's C parser (``CSafeLoader``) when it is available. Positions of fields are looked up
lazily: only when a diagnostic needs one is the document composed again, so valid files cost one parse.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Sequence

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_YAML_BYTES = 10 * 1024 * 1024  # a metadata file larger than this is refused, not parsed
MAX_NODES = 1_000_000  # expanded size limit: aliases may not multiply a document past this


class YamlProblem(Exception):
    """A YAML file that cannot be used; carries the position of the problem."""

    def __init__(self, message: str, line: int = 0, col: int = 0):
        super().__init__(message)
        self.message = message
        self.line = line
        self.col = col


class _StrictLoader(_Loader):  # type: ignore[misc, valid-type]
    """Safe loader that rejects duplicate mapping keys and documents that aliases blow up."""

    def construct_mapping(self, node, deep=False):  # noqa: D401 - PyYAML hook
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise YamlProblem("a mapping key must be a plain value", *_pos(key_node)) from None
            if key in seen:
                line, col = _pos(key_node)
                raise YamlProblem(f"duplicate key {key!r} (first defined on line {seen[key][0]})", line, col)
            seen[key] = _pos(key_node)
        return super().construct_mapping(node, deep=deep)

    def get_single_node(self):
        node = super().get_single_node()
        if node is not None:
            _check_expanded_size(node)
        return node


# Timestamps stay strings: the schema checks their form and the model parses them once, with offsets.
_StrictLoader.yaml_implicit_resolvers = {
    ch: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for ch, resolvers in _Loader.yaml_implicit_resolvers.items()
}
# YAML 1.1 (PyYAML) reads `1e-4` and `1e308` as strings: a float needs a dot there. People write learning
# rates and metrics that way, so accept the YAML 1.2 form of a float with an exponent and no dot.
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"))


def _pos(node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _check_expanded_size(root) -> None:
    """Refuse documents whose aliases expand past MAX_NODES (the 'billion laughs' attack)."""
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, bool]] = [(root, False)]
    while stack:
        node, done = stack.pop()
        nid = id(node)
        if nid in sizes and not done:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[nid] = 1
            continue
        children = [c for pair in node.value for c in pair] if isinstance(node, yaml.MappingNode) else node.value
        if not done:
            sizes[nid] = 0  # marks "in progress": a recursive alias counts as one node
            stack.append((node, True))
            stack.extend((c, False) for c in children if id(c) not in sizes)
            continue
        total = 1 + sum(sizes.get(id(c), 1) for c in children)
        if total > MAX_NODES:
            line, col = _pos(node)
            raise YamlProblem(f"document expands to more than {MAX_NODES:,} values through aliases", line, col)
        sizes[nid] = total


@dataclass
class YamlDoc:
    """A loaded YAML document and the text it came from (for positions)."""

    data: Any
    text: str

    def position(self, path: Sequence[Any], *, key: bool = False) -> tuple[int, int]:
        """Line and column (1-based) of the value at ``path`` (keys and list indexes), or of its key.

        Falls back to the deepest existing parent, then to 1:1.
        """
        try:
            node = yaml.compose(self.text, Loader=_Loader)
        except yaml.YAMLError:
            return (1, 1)
        best = node
        for depth, part in enumerate(path, 1):
            if node is None:
                break
            nxt = None
            if isinstance(node, yaml.MappingNode):
                for k, v in node.value:
                    if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                        nxt = k if (key and depth == len(path)) else v
                        break
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                nxt = node.value[part]
            if nxt is None:
                break
            node = best = nxt
        if best is None:
            return (1, 1)
        return _pos(best)


def decode_text(raw: bytes) -> str:
    """UTF-8 text with an optional BOM; anything else raises YamlProblem at the first bad byte."""
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlProblem(f"not UTF-8 text (byte 0x{raw[exc.start]:02x})", line, col) from None


def parse_yaml(text: str) -> YamlDoc:
    """Parse one YAML document from text; raise YamlProblem with the position of any problem."""
    if "\t" in text:
        # YAML forbids tabs for indentation; libyaml's message for it is obscure, so say it plainly.
        for lineno, line in enumerate(text.splitlines(), 1):
            stripped = line.lstrip(" ")
            if stripped.startswith("\t"):
                raise YamlProblem("tab character used for indentation (YAML allows only spaces)", lineno,
                                  len(line) - len(stripped) + 1)
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a safe loader subclass
    except YamlProblem:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
        raise YamlProblem(f"invalid YAML: {msg}", (mark.line + 1) if mark else 0,
                          (mark.column + 1) if mark else 0) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        col = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        raise YamlProblem(f"invalid YAML: character U+{exc.character:04X} is not allowed ({exc.reason})",
                          line, col) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(f"invalid YAML: {exc}") from None
    except RecursionError:
        raise YamlProblem("document is nested too deeply") from None
    return YamlDoc(data, text)


def read_yaml(path: str | os.PathLike[str]) -> YamlDoc:
    """Read and parse a YAML file (size-capped, UTF-8, duplicate keys and alias bombs refused)."""
    size = os.stat(path).st_size
    if size > MAX_YAML_BYTES:
        raise YamlProblem(f"file is {size:,} bytes; metadata files are limited to {MAX_YAML_BYTES:,} bytes")
    with open(path, "rb") as fh:
        raw = fh.read(MAX_YAML_BYTES + 1)
    return parse_yaml(decode_text(raw))
