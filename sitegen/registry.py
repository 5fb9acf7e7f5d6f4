"""Registry operations: register a run as a model version, move aliases, set stages.

The files are YAML that people also edit by hand, so they are patched as text: a changed value is
replaced on its own line (its trailing comment kept), an alias event is appended after the last entry
of ``alias_history``, and every other line, comment and blank stays as it was. Only a block written in
flow style (``aliases: {champion: 2}``) is re-emitted as a whole, which drops comments inside that one
block. After each patch the new text is parsed again and compared with the intended data; if the patch
would change anything else, nothing is written and the error says so. Files are replaced atomically
(temporary file + rename); a new version file is created with an exclusive link, so two registrations
never overwrite each other.

Concurrency across branches: two branches that register the same number both create
``versions/<n>.yaml``, which git reports as an add/add conflict; versions under two different file
names that claim one number are reported by ``sitegen validate`` (see :mod:`sitegen.registry_checks`).
"""

from __future__ import annotations

import getpass
import os
import re
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

import yaml

from .diagnostics import SitegenError
from .store.paths import is_run_id, is_slug
from .store.yamlio import YamlProblem, parse_yaml, read_yaml

STAGES = ("none", "staging", "production", "archived")
ALIAS_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
_TOP_KEY = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)[ \t]*:(?:[ \t]|$)")
_ISO_UTC = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_VERSION_FILE = re.compile(r"^(\d+)\.ya?ml$")


@dataclass
class Registered:
    model: str
    version: int
    path: Path
    created_model: bool


# ---------------------------------------------------------------------------------------- small helpers

def now_utc() -> datetime:
    """The current time (or SOURCE_DATE_EPOCH, for reproducible tests), whole seconds, UTC."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch and epoch.isdigit():
        return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
    return datetime.now(timezone.utc).replace(microsecond=0)


def iso(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def current_user(source: Path) -> str:
    """``git config user.name`` in the source, else $USER / the login name, else ``unknown``."""
    try:
        out = subprocess.run(["git", "config", "user.name"], cwd=source, capture_output=True, text=True,
                             timeout=10, check=False)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        return os.environ.get("USER") or getpass.getuser() or "unknown"
    except (OSError, KeyError):
        return "unknown"


def scalar(value: Any) -> str:
    """One YAML scalar as text: plain when that is safe, quoted otherwise (never folded).

    A UTC time written by this module stays plain, like the hand-written files (sitegen reads
    times as strings).
    """
    if isinstance(value, str) and _ISO_UTC.match(value):
        return value
    text = yaml.safe_dump([value], default_flow_style=True, allow_unicode=True, width=1 << 30).strip()
    return text[1:-1]


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _create_exclusive(path: Path, text: str) -> None:
    """Write a new file atomically; fail (FileExistsError) if it already exists."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.link(tmp, path)  # atomic and exclusive
    finally:
        Path(tmp).unlink(missing_ok=True)


# ------------------------------------------------------------------------------------ text patching

def _blocks(lines: list[str]) -> dict[str, tuple[int, int]]:
    """Top-level key -> (first line, one past its last content line) of a block-style mapping document."""
    starts = [(i, m.group(1)) for i, line in enumerate(lines) if (m := _TOP_KEY.match(line))]
    out: dict[str, tuple[int, int]] = {}
    for n, (i, key) in enumerate(starts):
        stop = starts[n + 1][0] if n + 1 < len(starts) else len(lines)
        end = i + 1
        for j in range(i + 1, stop):
            line = lines[j]
            if line.strip() and not line.startswith("#") and not line.startswith(("---", "...")):
                end = j + 1
        out[key] = (i, end)
    return out


def _value_part(line: str) -> str:
    """What follows ``key:`` on a top-level line, without a trailing comment."""
    rest = line.split(":", 1)[1]
    return re.sub(r"\s+#.*$", "", rest).strip()


def _ensure_newline(lines: list[str]) -> None:
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"


def _emit_block(key: str, value: Any) -> list[str]:
    text = yaml.safe_dump({key: value}, sort_keys=False, allow_unicode=True, default_flow_style=False,
                          width=1 << 30, indent=2)
    return text.splitlines(keepends=True)


def set_top_scalar(text: str, key: str, value: Any, *, after: tuple[str, ...] = ()) -> str:
    """``key: value`` at the top level: the value replaced in place (comment kept), or a new line."""
    lines = text.splitlines(keepends=True)
    blocks = _blocks(lines)
    if key in blocks:
        start, end = blocks[key]
        if end - start > 1:  # a multi-line value: replace the whole block
            lines[start:end] = [f"{key}: {scalar(value)}\n"]
        else:
            line = lines[start]
            comment = re.search(r"(\s+#.*)$", line.rstrip("\n"))
            lines[start] = f"{key}: {scalar(value)}{comment.group(1) if comment else ''}\n"
        return "".join(lines)
    _ensure_newline(lines)
    at = len(lines)
    for anchor in after:
        if anchor in blocks:
            at = blocks[anchor][1]
            break
    lines[at:at] = [f"{key}: {scalar(value)}\n"]
    return "".join(lines)


def set_mapping_entry(text: str, key: str, entry: str, value: Any, data: dict[str, Any],
                      *, before: tuple[str, ...] = ()) -> str:
    """``key: {entry: value}`` set (``value`` None deletes the entry); other entries and comments kept."""
    lines = text.splitlines(keepends=True)
    blocks = _blocks(lines)
    current = dict(data.get(key) or {})
    if value is None:
        current.pop(entry, None)
    else:
        current[entry] = value
    if key in blocks:
        start, end = blocks[key]
        if _value_part(lines[start]) == "":  # block style: patch one line
            pat = re.compile(rf"^([ \t]+){re.escape(entry)}[ \t]*:[ \t]*([^#\n]*?)([ \t]+#.*)?$")
            for j in range(start + 1, end):
                m = pat.match(lines[j].rstrip("\n"))
                if m:
                    if value is None:
                        del lines[j]
                    else:
                        lines[j] = f"{m.group(1)}{entry}: {scalar(value)}{m.group(3) or ''}\n"
                    break
            else:
                if value is not None:
                    indent = next((re.match(r"^([ \t]+)\S", lines[j]).group(1) for j in range(start + 1, end)
                                   if re.match(r"^[ \t]+[^\s#]", lines[j])), "  ")
                    _ensure_newline(lines)
                    lines[end:end] = [f"{indent}{entry}: {scalar(value)}\n"]
            if not current:
                blocks = _blocks(lines)
                start, end = blocks[key]
                lines[start:end] = [f"{key}: {{}}\n"]
            return "".join(lines)
        lines[start:end] = _emit_block(key, current) if current else [f"{key}: {{}}\n"]
        return "".join(lines)
    if value is None:
        return text
    _ensure_newline(lines)
    at = next((blocks[b][0] for b in before if b in blocks), len(lines))
    lines[at:at] = _emit_block(key, current)
    return "".join(lines)


def append_list_item(text: str, key: str, item: dict[str, Any], data: dict[str, Any]) -> str:
    """Append ``item`` to the top-level list ``key``; earlier entries and their comments stay as written."""
    lines = text.splitlines(keepends=True)
    blocks = _blocks(lines)
    if key in blocks and _value_part(lines[blocks[key][0]]) == "":
        start, end = blocks[key]
        indent = next((m.group(1) for j in range(start + 1, end) if (m := re.match(r"^([ \t]*)- ", lines[j]))),
                      "  ")
        entry = []
        for n, (k, v) in enumerate(item.items()):
            lead = f"{indent}- " if n == 0 else f"{indent}  "
            entry.append(f"{lead}{k}: {scalar(v)}\n")
        _ensure_newline(lines)
        lines[end:end] = entry
        return "".join(lines)
    items = list(data.get(key) or []) + [item]
    if key in blocks:
        start, end = blocks[key]
        lines[start:end] = _emit_block(key, items)
    else:
        _ensure_newline(lines)
        lines.extend(_emit_block(key, items))
    return "".join(lines)


def _checked(path: Path, new_text: str, expected: dict[str, Any]) -> str:
    """``new_text`` if it parses to exactly ``expected``; otherwise a SitegenError (nothing written)."""
    try:
        got = parse_yaml(new_text).data
    except YamlProblem as exc:
        raise SitegenError(f"{path}: the edit would make the file invalid YAML ({exc.message}); edit it by hand")
    if got != expected:
        raise SitegenError(f"{path}: the file's layout is unusual and a text edit would change more than "
                           f"intended; nothing was written, edit it by hand")
    return new_text


def _edit(path: Path, change: Callable[[str, dict[str, Any]], tuple[str, dict[str, Any]]]) -> None:
    try:
        doc = read_yaml(path)
    except YamlProblem as exc:
        raise SitegenError(f"{path}:{exc.line}:{exc.col}: {exc.message}") from None
    except OSError as exc:
        raise SitegenError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if not isinstance(doc.data, dict):
        raise SitegenError(f"{path}: expected a YAML mapping")
    new_text, expected = change(doc.text, doc.data)
    _atomic_write(path, _checked(path, new_text, expected))


# ------------------------------------------------------------------------------------------ lookups

def _model_dir(source: Path, model: str) -> Path:
    if not is_slug(model):
        raise SitegenError(f"model name {model!r} is not valid; expected lowercase letters, digits, '.', '_' "
                           f"or '-', starting with a letter or digit")
    return source / "models" / model


def version_numbers(model_dir: Path) -> dict[int, list[Path]]:
    """Every number claimed under versions/, by file name or by its ``version`` field."""
    claims: dict[int, list[Path]] = {}
    vdir = model_dir / "versions"
    if not vdir.is_dir():
        return claims
    for path in sorted(vdir.iterdir()):
        if not path.name.endswith((".yaml", ".yml")) or not path.is_file():
            continue
        numbers = set()
        m = _VERSION_FILE.match(path.name)
        if m:
            numbers.add(int(m.group(1)))
        try:
            data = read_yaml(path).data
            if isinstance(data, dict) and isinstance(data.get("version"), int):
                numbers.add(data["version"])
        except (YamlProblem, OSError):
            pass
        for n in numbers:
            claims.setdefault(n, []).append(path)
    return claims


def _version_file(source: Path, model: str, version: int) -> Path:
    mdir = _model_dir(source, model)
    if not (mdir / "model.yaml").is_file():
        raise SitegenError(f"no model {model!r}: {mdir / 'model.yaml'} does not exist")
    for suffix in (".yaml", ".yml"):
        path = mdir / "versions" / f"{version}{suffix}"
        if path.is_file():
            return path
    raise SitegenError(f"model {model!r} has no version {version} (expected {mdir / 'versions' / f'{version}.yaml'})")


def _run_signature(run_dir: Path, run_data: dict[str, Any]) -> tuple[dict[str, Any] | None, Any]:
    """A signature / input example the run recorded: on its model output, or as artifacts."""
    signature, example = None, None
    for out in (run_data.get("provenance") or {}).get("outputs") or []:
        if isinstance(out, dict) and out.get("kind") == "model":
            if isinstance(out.get("signature"), dict) and signature is None:
                signature = out["signature"]
            if out.get("input_example") is not None and example is None:
                example = out["input_example"]
    for name in ("signature.yaml", "signature.json"):
        path = run_dir / "artifacts" / name
        if signature is None and path.is_file() and not path.is_symlink():
            try:
                data = read_yaml(path).data
            except (YamlProblem, OSError):
                data = None
            if isinstance(data, dict):
                signature = data
    for name in ("input_example.json", "input_example.yaml"):
        path = run_dir / "artifacts" / name
        if example is None and path.is_file() and not path.is_symlink() and path.stat().st_size <= 64 * 1024:
            try:
                example = read_yaml(path).data
            except (YamlProblem, OSError):
                pass
    return signature, example


# ------------------------------------------------------------------------------------------ operations

def register(source: str | Path, run: str, model: str, *, stage: str | None = None, note: str | None = None,
             aliases: tuple[str, ...] = (), user: str | None = None, at: datetime | None = None) -> Registered:
    """Create the next version of ``model`` from ``run`` (``<experiment>/<run-id>``).

    Creates ``models/<model>/model.yaml`` when the model is new. The version file records the source
    run, the time, the run's signature and input example when it recorded them, and a card skeleton
    whose commented sections say what to write by hand (the rest is derived from the run on the site).
    """
    source = Path(source)
    if "/" not in run:
        raise SitegenError(f"run {run!r}: expected <experiment>/<run-id>")
    exp, rid = run.split("/", 1)
    if not is_slug(exp) or not is_run_id(rid):
        raise SitegenError(f"run {run!r}: expected <experiment>/<run-id> with a valid experiment and run id")
    run_file = source / "runs" / exp / rid / "run.yaml"
    if not run_file.is_file():
        raise SitegenError(f"no run {run!r}: {run_file} does not exist")
    if stage is not None and stage not in STAGES:
        raise SitegenError(f"stage {stage!r} is not one of {', '.join(STAGES)}")
    try:
        run_data = read_yaml(run_file).data
    except YamlProblem as exc:
        raise SitegenError(f"{run_file}:{exc.line}:{exc.col}: {exc.message}") from None
    mdir = _model_dir(source, model)
    created_model = False
    if not (mdir / "model.yaml").exists():
        (mdir / "versions").mkdir(parents=True, exist_ok=True)
        try:
            _create_exclusive(mdir / "model.yaml", f"format: sitegen.model/1\nname: {scalar(model)}\n"
                                                   f"# description: what the model is for (Markdown)\n"
                                                   f"# owners: [you]\n")
            created_model = True
        except FileExistsError:
            pass
    (mdir / "versions").mkdir(parents=True, exist_ok=True)
    at = at or now_utc()
    signature, example = _run_signature(run_file.parent, run_data if isinstance(run_data, dict) else {})
    for _attempt in range(20):
        claims = version_numbers(mdir)
        number = max(claims, default=0) + 1
        text = _version_text(number, run, at, stage, signature, example)
        try:
            _create_exclusive(mdir / "versions" / f"{number}.yaml", text)
            break
        except FileExistsError:
            continue
    else:  # pragma: no cover - would need 20 concurrent registrations
        raise SitegenError(f"could not pick a free version number under {mdir / 'versions'}")
    for alias in aliases:
        set_alias(source, model, alias, number, note=note, user=user, at=at)
    return Registered(model, number, mdir / "versions" / f"{number}.yaml", created_model)


def _version_text(number: int, run: str, at: datetime, stage: str | None, signature: Any, example: Any) -> str:
    head: dict[str, Any] = {"format": "sitegen.model-version/1", "version": number, "source_run": run,
                            "created": iso(at)}
    if stage:
        head["stage"] = stage
    parts = ["".join(f"{k}: {scalar(v)}\n" for k, v in head.items())]
    if signature is not None:
        parts.append("# signature and input example as recorded by the run\n")
        parts.append(yaml.safe_dump({"signature": signature}, sort_keys=False, allow_unicode=True, width=120))
    if example is not None:
        parts.append(yaml.safe_dump({"input_example": example}, sort_keys=False, allow_unicode=True, width=120))
    parts.append(
        "# The model card (Mitchell et al. 2019). Sections left out are filled on the site from the source run\n"
        "# where it can (metrics, training and evaluation data, training regime, environment, code); these\n"
        "# need a person:\n"
        "card: {}\n"
        "#   details: {developers: ..., model_type: ..., license: ..., citation: ...}\n"
        "#   intended_use: {primary_uses: ..., primary_users: ..., out_of_scope: ...}\n"
        "#   factors: {relevant: [...], evaluation: [...]}\n"
        "#   ethical_considerations: [{name: ..., mitigation: ...}]\n"
        "#   caveats_and_recommendations: ...\n")
    return "".join(parts)


def set_alias(source: str | Path, model: str, alias: str, version: int | None, *, note: str | None = None,
              user: str | None = None, at: datetime | None = None) -> None:
    """Point ``alias`` at ``version`` (None removes it) and append the event to ``alias_history``."""
    source = Path(source)
    if not ALIAS_RE.match(alias or ""):
        raise SitegenError(f"alias {alias!r} is not valid; expected letters, digits, '.', '_' or '-'")
    mfile = _model_dir(source, model) / "model.yaml"
    if not mfile.is_file():
        raise SitegenError(f"no model {model!r}: {mfile} does not exist")
    if version is not None:
        _version_file(source, model, version)  # must exist
    event: dict[str, Any] = {"alias": alias, "version": version, "at": iso(at or now_utc()),
                             "by": user or current_user(source)}
    if note:
        event["note"] = note

    def change(text: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        if version is None and alias not in (data.get("aliases") or {}):
            raise SitegenError(f"model {model!r} has no alias {alias!r} to delete")
        expected = dict(data)
        aliases = dict(data.get("aliases") or {})
        if version is None:
            aliases.pop(alias, None)
        else:
            aliases[alias] = version
        expected["aliases"] = aliases
        expected["alias_history"] = list(data.get("alias_history") or []) + [event]
        text = set_mapping_entry(text, "aliases", alias, version, data, before=("alias_history", "monitoring"))
        text = append_list_item(text, "alias_history", event, data)
        return text, expected

    _edit(mfile, change)


def set_stage(source: str | Path, model: str, version: int, stage: str) -> Path:
    """Set a version's ``stage``; the rest of its file is kept as written."""
    if stage not in STAGES:
        raise SitegenError(f"stage {stage!r} is not one of {', '.join(STAGES)}")
    path = _version_file(Path(source), model, version)

    def change(text: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        return set_top_scalar(text, "stage", stage, after=("created", "source_run", "version")), {**data,
                                                                                                  "stage": stage}

    _edit(path, change)
    return path
