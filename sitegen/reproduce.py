"""``sitegen reproduce RUN``: a bash script that recreates a run from what it recorded.

The script checks out the recorded commit, applies the recorded diff when the work tree was dirty,
recreates the environment the way it was recorded (``docker run`` of the image digest, ``conda env
create`` from the saved spec, or a venv from the lockfile or the recorded package versions), locates
the inputs and verifies their digests with ``sha256sum``, runs the command, and verifies the outputs it
can find. Every recorded value is shell-quoted; free text only appears in comments, on one line.

Knobs (environment variables of the script): ``WORKDIR`` (where the code is checked out), ``REPO``
(the code repository), ``RUN_FILES`` (the run's folder, or its published URL, for the diff, the
lockfile and the conda spec), ``ENV_MODE`` (docker | conda | venv | none), ``PYTHON`` (for the venv),
``INPUT_<n>`` (a local copy of input n).
"""

from __future__ import annotations

import re
import shlex
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import unquote, urlparse

from . import urls
from .model import Project, Run

_PY = re.compile(r"^(?:.*/)?python[0-9.]*$")

HELPERS = r'''fetch() {  # fetch NAME DEST: a file recorded with the run (from RUN_FILES, a folder or a URL)
  case "$RUN_FILES" in
    http://*|https://*) curl -fsSL "$RUN_FILES/$1" -o "$2" ;;
    *) cp -- "$RUN_FILES/$1" "$2" ;;
  esac
}
digest_of() {  # sha256:<hex> of a file, or of a folder as sitegen's tree digest (path<TAB>sha256 lines)
  if [ -d "$1" ]; then
    (cd "$1" && find . -type f -printf '%P\n' | LC_ALL=C sort | while IFS= read -r f; do
      printf '%s\t%s\n' "$f" "$(sha256sum -- "$f" | cut -d' ' -f1)"; done) | sha256sum | sed 's/ .*//; s/^/sha256:/'
  else
    sha256sum -- "$1" | sed 's/ .*//; s/^/sha256:/'
  fi
}
verify() {  # verify LABEL PATH DIGEST
  local actual
  actual=$(digest_of "$2")
  if [ "$actual" = "$3" ]; then
    echo "ok: $1 matches $3"
  else
    echo "MISMATCH: $1 ($2): recorded $3, found $actual" >&2
    FAILED=1
  fi
}
locate() {  # locate ABSOLUTE_PATH: the same file inside the checkout (longest matching suffix), else itself
  local rest="${1#/}"
  while [ -n "$rest" ]; do
    if [ -e "$WORKDIR/$rest" ]; then echo "$WORKDIR/$rest"; return; fi
    case "$rest" in */*) rest="${rest#*/}" ;; *) rest="" ;; esac
  done
  echo "$1"
}'''

SPECIAL_LOCKS = {
    "uv.lock": "uv sync --frozen",
    "poetry.lock": "poetry install --no-root",
    "Pipfile.lock": "pipenv sync",
}


def _q(value: Any) -> str:
    return shlex.quote(str(value))


def _comment(text: Any) -> str:
    """Free text for a ``#`` comment: one line, no control characters."""
    text = str(text)
    if text.isprintable():  # no control character or line separator (most ids, names and paths)
        return text.strip()
    return _CONTROL.sub(" ", text).strip()


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


def _local_path(uri: str) -> str | None:
    parsed = urlparse(uri)
    return unquote(parsed.path) if parsed.scheme == "file" else None


def _command(run: Run) -> str | None:
    command = run.provenance.get("command")
    if isinstance(command, list):
        command = shlex.join(str(c) for c in command)
    if not isinstance(command, str) or not command.strip():
        return None
    if command.isascii() and command.isprintable() and not any(c in command for c in "'\"\\"):
        parts = command.split()  # no quotes, escapes or whitespace but spaces: what shlex.split gives, quicker
    else:
        try:
            parts = shlex.split(command)
        except ValueError:
            return command
    if parts and _PY.match(parts[0]):
        # the recorded interpreter path belongs to the original machine: use the recreated environment's
        parts[0] = "python"
        return shlex.join(parts)
    return command


def _environment_mode(env: dict[str, Any]) -> str:
    container = env.get("container") if isinstance(env.get("container"), dict) else {}
    if container.get("image") or (container.get("digest") and container.get("image")):
        return "docker"
    if isinstance(env.get("conda"), str):
        return "conda"
    if isinstance(env.get("lockfile"), str) or env.get("packages"):
        return "venv"
    return "none"


def _image(container: dict[str, Any]) -> str | None:
    image, digest = container.get("image"), container.get("digest")
    if not isinstance(image, str):
        return None
    if isinstance(digest, str) and digest.startswith("sha256:") and "@" not in image:
        name = image.rsplit(":", 1)[0] if ":" in image.rsplit("/", 1)[-1] else image
        return f"{name}@{digest}"
    return image


def _run_file(run: Run, rel: str) -> str | None:
    """A path recorded relative to the run folder, if it stays inside it."""
    pure = PurePosixPath(rel)
    if pure.is_absolute() or ".." in pure.parts or not pure.parts:
        return None
    return pure.as_posix()


def default_run_files(project: Project, run: Run, *, site: bool = False) -> str:
    """Where the script finds the run's files: its folder (absolute for the CLI; relative to the store's
    root on the site) or, on a site with ``base_url``, the published folder."""
    if site:
        base = project.config.base_url
        if base:
            return urls.absolute(base, urls.run_dir(run.experiment, run.id))
        return run.file.rsplit("/", 1)[0]
    return str(run.directory.resolve())


def reproduce_script(project: Project, run: Run, *, run_files: str | None = None) -> str:
    """The bash script that recreates ``run`` (see the module docstring)."""
    prov = run.provenance or {}
    code = prov.get("code") if isinstance(prov.get("code"), dict) else {}
    env = prov.get("environment") if isinstance(prov.get("environment"), dict) else {}
    repo = code.get("repo") or project.config.repo_url
    commit = code.get("commit")
    run_files = run_files if run_files is not None else default_run_files(project, run)
    lines = [
        "#!/usr/bin/env bash",
        f"# Reproduce run {_comment(run.uid)} ({_comment(run.name)}), recorded in {_comment(run.file)}.",
        "# Made by `sitegen reproduce` from what the run recorded. Read it before you run it.",
        "# Settings (environment variables): WORKDIR, REPO, RUN_FILES, ENV_MODE (docker|conda|venv|none),",
        "# PYTHON, INPUT_<n>.",
        "set -euo pipefail",
        "",
        f"REPO=\"${{REPO:-}}\"; [ -n \"$REPO\" ] || REPO={_q(repo or '')}",
        f"COMMIT={_q(commit or '')}",
        f"RUN_FILES=\"${{RUN_FILES:-}}\"; [ -n \"$RUN_FILES\" ] || RUN_FILES={_q(run_files)}",
        f"WORKDIR=\"${{WORKDIR:-$PWD/reproduce-{run.id}}}\"",
        f"ENV_MODE=\"${{ENV_MODE:-{_environment_mode(env)}}}\"",
        "FAILED=0",
        "case \"$RUN_FILES\" in http://*|https://*) ;; *) RUN_FILES=$(cd \"$RUN_FILES\" && pwd) ;; esac",
        "",
        HELPERS,
        "",
        "# 1. The code",
    ]
    if commit:
        lines += [
            "if [ ! -d \"$WORKDIR/.git\" ]; then",
            "  [ -n \"$REPO\" ] || { echo \"set REPO to the code repository\" >&2; exit 2; }",
            "  git clone --quiet \"$REPO\" \"$WORKDIR\"",
            "fi",
            "cd \"$WORKDIR\"",
            "git checkout --quiet --detach \"$COMMIT\"",
        ]
        if code.get("branch"):
            lines.append(f"# (the run was on branch {_comment(code['branch'])})")
    else:
        lines += ["# The run recorded no commit: the code in WORKDIR is used as it is.",
                  "mkdir -p \"$WORKDIR\"", "cd \"$WORKDIR\""]
    scratch = "SCRATCH=\"$WORKDIR/.sitegen-reproduce\"; mkdir -p \"$SCRATCH\""
    lines.append(scratch)
    diff = _run_file(run, code["diff"]) if isinstance(code.get("diff"), str) else None
    if code.get("dirty"):
        lines.append("# 2. The uncommitted changes the run was made with")
        if diff:
            lines += [f"fetch {_q(diff)} \"$SCRATCH/code.diff\"",
                      "git apply --whitespace=nowarn \"$SCRATCH/code.diff\""]
            if code.get("diff_truncated"):
                lines.append("echo 'warning: the recorded diff was truncated; the code may differ' >&2")
        else:
            lines.append("echo 'warning: the run had uncommitted changes that were not recorded' >&2")
    lines += ["", "# 3. The environment" + (f" (recorded: Python {_comment(env['python'])}"
                                              f"{', ' + _comment(env['platform']) if env.get('platform') else ''})"
                                              if env.get("python") else "")]
    lines += _environment(env, run)
    lines += ["", "# 4. The inputs"]
    lines += _inputs(run)
    command = _command(run)
    lines += ["", "# 5. The command"]
    if command:
        if code.get("entry_point"):
            lines.append(f"# entry point: {_comment(code['entry_point'])}")
        lines += [f"COMMAND={_q(command)}", "run_recorded \"$COMMAND\""]
    else:
        lines.append("echo 'the run recorded no command: nothing to run' >&2; exit 2")
    lines += ["", "# 6. The outputs"]
    lines += _outputs(run)
    lines += ["", "if [ \"$FAILED\" != 0 ]; then echo 'some digests differ (see above)' >&2; exit 1; fi",
              "echo 'reproduced: every checked digest matches'", ""]
    return "\n".join(lines)


def _environment(env: dict[str, Any], run: Run) -> list[str]:
    container = env.get("container") if isinstance(env.get("container"), dict) else {}
    image = _image(container)
    conda = _run_file(run, env["conda"]) if isinstance(env.get("conda"), str) else None
    lockfile = _run_file(run, env["lockfile"]) if isinstance(env.get("lockfile"), str) else None
    packages = env.get("packages") if isinstance(env.get("packages"), dict) else {}
    python = env.get("python")
    want = f"python{'.'.join(str(python).split('.')[:2])}" if python else "python3"
    out = ["case \"$ENV_MODE\" in"]
    out.append("  docker)")
    if image:
        out += [f"    IMAGE={_q(image)}",
                "    run_recorded() { docker run --rm -v \"$WORKDIR\":/work -w /work \"$IMAGE\" sh -c \"$1\"; } ;;"]
    else:
        out.append("    echo 'the run recorded no container image' >&2; exit 2 ;;")
    out.append("  conda)")
    if conda:
        out += [f"    fetch {_q(conda)} \"$SCRATCH/conda.yaml\"",
                "    conda env create --quiet --prefix \"$SCRATCH/conda-env\" --file \"$SCRATCH/conda.yaml\"",
                "    run_recorded() { conda run --no-capture-output --prefix \"$SCRATCH/conda-env\" sh -c \"$1\"; } ;;"]
    else:
        out.append("    echo 'the run recorded no conda environment' >&2; exit 2 ;;")
    out += ["  venv)",
            f"    PYTHON=\"${{PYTHON:-$(command -v {want} || command -v python3)}}\""]
    make_venv = ["    \"$PYTHON\" -m venv \"$SCRATCH/venv\"", "    . \"$SCRATCH/venv/bin/activate\""]
    if lockfile:
        name = PurePosixPath(lockfile).name
        out.append(f"    fetch {_q(lockfile)} \"$SCRATCH/{name}\"")
        if name in SPECIAL_LOCKS:
            out += make_venv + [f"    cp \"$SCRATCH/{name}\" {_q(name)} && {SPECIAL_LOCKS[name]}"]
        else:
            out += [f"    if grep -qvE '^[[:space:]]*(#|$)' \"$SCRATCH/{name}\"; then",
                    "  " + make_venv[0], "  " + make_venv[1],
                    f"      python -m pip install --quiet -r \"$SCRATCH/{name}\"",
                    "    else  # nothing to install: a bare venv is enough",
                    "      \"$PYTHON\" -m venv --without-pip \"$SCRATCH/venv\"",
                    "      . \"$SCRATCH/venv/bin/activate\"",
                    "    fi"]
    elif packages:
        out += make_venv
        out.append("    cat > \"$SCRATCH/requirements.txt\" <<'SITEGEN_REQUIREMENTS'")
        for pkg, version in sorted(packages.items()):
            if re.fullmatch(r"[A-Za-z0-9._-]+", str(pkg)) and re.fullmatch(r"[A-Za-z0-9.+!_-]+", str(version)):
                out.append(f"{pkg}=={version}")
        out += ["SITEGEN_REQUIREMENTS", "    python -m pip install --quiet -r \"$SCRATCH/requirements.txt\""]
    else:
        out += make_venv
    out += ["    run_recorded() { sh -c \"$1\"; } ;;",
            "  none) run_recorded() { sh -c \"$1\"; } ;;",
            "  *) echo \"ENV_MODE must be docker, conda, venv or none\" >&2; exit 2 ;;",
            "esac"]
    return out


def _inputs(run: Run) -> list[str]:
    out: list[str] = []
    items = [e for e in run.provenance.get("inputs") or [] if isinstance(e, dict)]
    if not items:
        return ["# (none recorded)"]
    for n, item in enumerate(items, 1):
        var = f"INPUT_{n}"
        name = item.get("name") or f"input {n}"
        uri, path, digest = item.get("uri"), item.get("path"), item.get("digest")
        out.append(f"# {_comment(name)}" + (f" ({_comment(item['role'])})" if item.get("role") else ""))
        local = _local_path(uri) if isinstance(uri, str) else None
        if local:
            out.append(f"{var}=\"${{{var}:-$(locate {_q(local)})}}\"")
        elif isinstance(path, str) and _run_file(run, path):
            out += [f"{var}=\"${{{var}:-$SCRATCH/input-{n}}}\"",
                    f"[ -e \"${var}\" ] || fetch {_q(_run_file(run, path))} \"${var}\""]
        elif isinstance(uri, str):
            scheme = urlparse(uri).scheme
            fetch = {"http": "curl -fsSL {u} -o \"${v}\"", "https": "curl -fsSL {u} -o \"${v}\"",
                     "s3": "aws s3 cp " + ("--recursive " if uri.endswith("/") else "") + "{u} \"${v}\"",
                     "gs": "gsutil -m cp -r {u} \"${v}\""}.get(scheme)
            out.append(f"{var}=\"${{{var}:-$SCRATCH/input-{n}}}\"")
            if fetch:
                out.append(f"[ -e \"${var}\" ] || " + fetch.format(u=_q(uri), v=var))
            else:
                out.append(f"[ -e \"${var}\" ] || {{ echo {_q(f'fetch {uri} into')} \"${var}\" >&2; exit 2; }}")
        else:
            out.append(f"# recorded without a location; set {var} to use it")
            continue
        if isinstance(digest, str) and digest.startswith("sha256:"):
            out.append(f"verify {_q('input ' + str(name))} \"${var}\" {_q(digest)}")
        else:
            out.append("# (no digest recorded: not verified)")
    return out


def _outputs(run: Run) -> list[str]:
    out: list[str] = []
    for item in [e for e in run.provenance.get("outputs") or [] if isinstance(e, dict)]:
        name, uri, digest = item.get("name") or "output", item.get("uri"), item.get("digest")
        local = _local_path(uri) if isinstance(uri, str) else None
        if local and isinstance(digest, str) and digest.startswith("sha256:"):
            out.append(f"verify {_q('output ' + str(name))} \"$(locate {_q(local)})\" {_q(digest)}")
        else:
            where = uri or item.get("path") or "?"
            out.append(f"# not verified here: {_comment(name)} was recorded at {_comment(where)}"
                       + (f" ({_comment(digest)})" if digest else ""))
    return out or ["# (none recorded)"]
