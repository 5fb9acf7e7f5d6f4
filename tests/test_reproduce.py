"""sitegen reproduce: a real run recorded by the tracker in a temporary git repo with uncommitted changes,
its script executed in a fresh directory, and the output digest compared with the recorded one."""

from __future__ import annotations

import os
import shutil
import string
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from click.testing import CliRunner

from sitegen.cli import main
from sitegen.digest import path_digest
from sitegen.reproduce import reproduce_script
from sitegen.store.load import load_project

TRAIN = '''\
import hashlib, os
try:
    import sitegen
except ImportError:  # a rerun in a bare environment: no tracking, same computation
    sitegen = None

FACTOR = "{factor}"


def train():
    data = open("data/train.csv", encoding="utf-8").read()
    os.makedirs("out", exist_ok=True)
    with open("out/model.bin", "w", encoding="utf-8") as fh:
        fh.write(hashlib.sha256((FACTOR + data).encode()).hexdigest())


if sitegen is None:
    train()
else:
    with sitegen.start_run(experiment="demo", name="tiny", root=os.environ["STORE"],
                           capture={{"packages": False, "conda": False, "gpus": False}}) as run:
        run.log_input("data/train.csv", name="train", role="training")
        train()
        run.log_output("out/model.bin", name="model", kind="model")
'''


@pytest.fixture
def recorded_run(git_repo, tmp_path):
    """A run made by the tracker from a repo whose train.py has an uncommitted change."""
    git_repo.write("data/train.csv", "x,y\n1,2\n3,4\n")
    git_repo.write("requirements.txt", "# stdlib only\n")
    git_repo.write("train.py", TRAIN.format(factor="committed"))
    commit = git_repo.commit("tiny training script")
    git_repo.write("train.py", TRAIN.format(factor="uncommitted"))  # dirty work tree
    store = tmp_path / "store"
    env = {**os.environ, "STORE": str(store), "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    subprocess.run([sys.executable, "train.py"], cwd=git_repo.path, env=env, check=True, capture_output=True)
    project = load_project(store)
    (run,) = project.runs.values()
    return git_repo, commit, store, project, run


def test_script_records_commit_diff_and_digests(recorded_run):
    repo, commit, store, project, run = recorded_run
    script = reproduce_script(project, run)
    assert run.provenance["code"]["commit"] == commit and run.provenance["code"]["dirty"] is True
    assert f"COMMIT={commit}" in script
    assert "git apply" in script and "artifacts/code.diff" in script
    assert "ENV_MODE=\"${ENV_MODE:-venv}\"" in script  # requirements.txt next to train.py was captured
    (out,) = run.provenance["outputs"]
    assert f"verify 'output model'" in script and out["digest"] in script
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)


def test_script_reproduces_the_output_digest(recorded_run, tmp_path):
    repo, commit, store, project, run = recorded_run
    result = CliRunner().invoke(main, ["reproduce", run.uid, "--source", str(store)])
    assert result.exit_code == 0, result.output
    script = tmp_path / "reproduce.sh"
    script.write_text(result.output)
    workdir = tmp_path / "elsewhere" / "checkout"
    workdir.parent.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update({"REPO": str(repo.path), "WORKDIR": str(workdir), "PYTHON": sys.executable,
                "STORE": str(tmp_path / "rerun-store")})
    done = subprocess.run(["bash", str(script)], cwd=workdir.parent, env=env, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr
    (recorded,) = run.provenance["outputs"]
    assert path_digest(workdir / "out" / "model.bin")[0] == recorded["digest"]
    assert f"ok: output model matches {recorded['digest']}" in done.stdout
    assert "ok: input train matches" in done.stdout
    # the recorded diff was applied: the committed code alone gives another model
    assert "uncommitted" in (workdir / "train.py").read_text()


def test_changed_input_fails_verification(recorded_run, tmp_path):
    repo, commit, store, project, run = recorded_run
    script = tmp_path / "reproduce.sh"
    script.write_text(reproduce_script(project, run))
    changed = tmp_path / "other.csv"
    changed.write_text("x,y\n9,9\n")
    env = {**os.environ, "REPO": str(repo.path), "WORKDIR": str(tmp_path / "co"), "ENV_MODE": "none",
           "INPUT_1": str(changed), "STORE": str(tmp_path / "rerun-store"),
           "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "python").symlink_to(sys.executable)
    env["PATH"] = f"{bindir}{os.pathsep}{env['PATH']}"
    done = subprocess.run(["bash", str(script)], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert "MISMATCH: input train" in done.stderr


def test_environment_choices_and_quoting(tmp_path):
    run_dir = tmp_path / "runs" / "exp" / "r1"
    run_dir.mkdir(parents=True)
    (run_dir / "run.yaml").write_text(
        "format: sitegen.run/1\nid: r1\nstatus: finished\nname: \"evil\\nrm -rf /\"\n"
        "provenance:\n"
        "  code: {repo: 'git@github.com:org/proj.git', commit: 0123456789abcdef0123456789abcdef01234567,\n"
        "         dirty: false, entry_point: train.py}\n"
        "  command: \"python train.py --msg \\\"$(touch /tmp/pwned)\\\"\"\n"
        "  environment: {python: 3.11.9, container: {image: 'ghcr.io/org/img:1', digest: 'sha256:" + "a" * 64 + "'},\n"
        "                packages: {numpy: 2.1.3}}\n"
        "  inputs: [{name: d, uri: 's3://bucket/data/', digest: 'sha256:" + "b" * 64 + "'}]\n")
    project = load_project(tmp_path)
    script = reproduce_script(project, project.runs["exp/r1"])
    assert "ENV_MODE=\"${ENV_MODE:-docker}\"" in script
    assert "IMAGE=ghcr.io/org/img@sha256:" + "a" * 64 in script
    assert "numpy==2.1.3" in script
    assert "aws s3 cp --recursive s3://bucket/data/" in script
    # the display name with a newline stays inside a comment; the command stays one quoted word
    assert "\nrm -rf /" not in script
    (line,) = [ln for ln in script.splitlines() if ln.startswith("COMMAND=")]
    marker = tmp_path / "pwned"
    shown = subprocess.run(["bash", "-c", line.replace("/tmp/pwned", str(marker)) + '; printf %s "$COMMAND"'],
                           capture_output=True, text=True, check=True).stdout
    assert "$(touch" in shown and not marker.exists()
    subprocess.run(["bash", "-n"], input=script, text=True, check=True)


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_unknown_run_exits_1(tmp_path):
    result = CliRunner().invoke(main, ["reproduce", "exp/nope", "--source", str(tmp_path)])
    assert result.exit_code == 1
    assert "no run 'exp/nope'" in result.output


@given(st.text(alphabet=string.printable + "'\"\\é\xa0\u2003", max_size=40))
@settings(max_examples=300, deadline=None)
def test_a_commands_words_are_split_as_a_shell_does(command):
    """The quick split of plain commands gives what shlex.split does (the interpreter is swapped on both)."""
    import shlex
    from types import SimpleNamespace

    from sitegen.reproduce import _command

    try:
        parts = shlex.split(command)
    except ValueError:
        parts = None
    expected = command if not command.strip() or parts is None or not parts or not _PY_NAME(parts[0]) \
        else shlex.join(["python", *parts[1:]])
    got = _command(SimpleNamespace(provenance={"command": command}))
    assert got == (None if not command.strip() else expected)


def _PY_NAME(word):
    from sitegen.reproduce import _PY

    return _PY.match(word) is not None


@given(st.text())
@settings(max_examples=300, deadline=None)
def test_comments_are_one_line_without_control_characters(text):
    import re

    from sitegen.reproduce import _comment

    assert _comment(text) == re.sub(r"[\x00-\x1f\x7f\u2028\u2029]+", " ", text).strip()
