"""Checking a loaded YAML document against its published JSON Schema (sitegen/schemas/)."""

from __future__ import annotations

import json
import re
from functools import lru_cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator

from ..diagnostics import Diagnostics
from .yamlio import YamlDoc

KINDS = {
    "run": "sitegen.run",
    "experiment": "sitegen.experiment",
    "model": "sitegen.model",
    "model-version": "sitegen.model-version",
    "dataset": "sitegen.dataset",
    "config": None,
}
SUPPORTED_FORMAT = 1
_FORMAT_RE = re.compile(r"^(?P<kind>[a-z.-]+)/(?P<version>\d+)$")


@lru_cache(maxsize=None)
def schema(kind: str) -> dict[str, Any]:
    """The published JSON Schema of a file kind (run, experiment, model, model-version, dataset, config)."""
    text = resources.files("sitegen.schemas").joinpath(f"{kind}.schema.json").read_text("utf-8")
    return json.loads(text)


@lru_cache(maxsize=None)
def _validator(kind: str) -> Draft202012Validator:
    return Draft202012Validator(schema(kind))


def _describe(error) -> str:
    where = ".".join(str(p) for p in error.absolute_path)
    field = f"field '{where}'" if where else "the document"
    if error.validator == "required":
        return f"{field}: {error.message}"
    if error.validator == "pattern":
        hint = error.schema.get("description") or f"a value matching {error.validator_value}"
        return f"{field}: {error.instance!r} is not valid; expected {hint}"
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"{field}: expected {expected}, got {type(error.instance).__name__} {_short(error.instance)}"
    if error.validator == "enum":
        options = ", ".join(str(v) for v in error.validator_value)
        return f"{field}: {_short(error.instance)} is not one of: {options}"
    return f"{field}: {error.message}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def check(kind: str, doc: YamlDoc, relpath: str, diags: Diagnostics) -> bool:
    """Validate ``doc`` as a file of ``kind``; add diagnostics; return True when the document is usable.

    A document is usable when it is a mapping of a supported format version and has no schema errors.
    Unknown top-level keys are warnings (likely typos), never errors: newer minor additions stay readable.
    """
    data = doc.data
    if not isinstance(data, dict):
        got = "an empty file" if data is None else f"a {type(data).__name__}"
        diags.error(relpath, f"expected a mapping of fields at the top level, found {got}", 1, 1)
        return False
    prefix = KINDS[kind]
    if prefix is not None:
        fmt = data.get("format")
        if fmt is None:
            pass  # format 1 is assumed; the tracker always writes it
        elif not isinstance(fmt, str) or not (m := _FORMAT_RE.match(fmt)) or m["kind"] != prefix:
            line, col = doc.position(["format"])
            diags.error(relpath, f"field 'format': expected '{prefix}/{SUPPORTED_FORMAT}', got {_short(fmt)}",
                        line, col)
            return False
        elif int(m["version"]) > SUPPORTED_FORMAT:
            line, col = doc.position(["format"])
            diags.error(relpath, f"format {fmt} is newer than this sitegen understands ({prefix}/"
                                 f"{SUPPORTED_FORMAT}); upgrade sitegen to read it", line, col)
            return False
    ok = True
    errors = sorted(_validator(kind).iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        line, col = doc.position(list(error.absolute_path))
        diags.error(relpath, _describe(error), line, col)
        ok = False
    known = schema(kind).get("properties", {})
    for key in data:
        if key not in known:
            line, col = doc.position([key], key=True)
            diags.warning(relpath, f"unknown field {_short(key)} (known fields: {', '.join(known)})", line, col)
    return ok
