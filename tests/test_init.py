"""sitegen init: config, .gitignore, netlify.toml and the GitHub Actions workflow; the pre-commit hook."""

from __future__ import annotations

import subprocess
import sys
import tomllib

import yaml

from conftest import REPO_ROOT
from sitegen import __version__
from sitegen.config import load_config
from sitegen.diagnostics import Diagnostics
from sitegen.init import init


def test_init_in_a_subdirectory_of_a_repo(git_repo):
    project = git_repo.path / "experiments"
    written = init(project, title="Churn: models")
    assert [(w.path.relative_to(git_repo.path).as_posix(), w.action) for w in written] == [
        ("experiments/sitegen.yaml", "created"), ("experiments/.gitignore", "created"),
        ("netlify.toml", "created"), (".github/workflows/sitegen.yml", "created")]
    diags = Diagnostics()
    config = load_config(project, diags)
    assert not diags and config.title == "Churn: models" and config.output == "site"
    assert "/site/" in (project / ".gitignore").read_text().splitlines()

    workflow = yaml.safe_load((git_repo.path / ".github/workflows/sitegen.yml").read_text())
    assert workflow["env"]["SITEGEN_SOURCE"] == "experiments"
    assert workflow[True]["push"]["branches"] == ["main"]  # YAML 1.1 reads the key `on` as True
    steps = workflow["jobs"]["build"]["steps"]
    runs = "\n".join(s.get("run", "") for s in steps)
    assert f"pip install 'sitegen=={__version__}'" in runs
    assert 'sitegen diff "$BASE_SHA" HEAD --source "$SITEGEN_SOURCE" --format markdown >> "$GITHUB_STEP_SUMMARY"' in runs
    assert '--base-url "$BASE_URL/"' in runs
    assert any(s.get("uses", "").startswith("actions/upload-pages-artifact") for s in steps)
    assert workflow["jobs"]["deploy"]["permissions"] == {"pages": "write", "id-token": "write"}

    netlify = tomllib.loads((git_repo.path / "netlify.toml").read_text())
    assert netlify["build"]["publish"] == "experiments/site"
    assert "sitegen build experiments -o experiments/site" in netlify["build"]["command"]
    assert "'wasm-unsafe-eval'" in netlify["headers"][0]["values"]["Content-Security-Policy"]


def test_existing_files_are_kept_and_gitignore_merged(tmp_path):
    (tmp_path / "sitegen.yaml").write_text("title: Mine\n")
    (tmp_path / ".gitignore").write_text("*.log")
    written = {w.path.name: w.action for w in init(tmp_path)}
    assert written["sitegen.yaml"] == "kept" and (tmp_path / "sitegen.yaml").read_text() == "title: Mine\n"
    assert written[".gitignore"] == "updated"
    lines = (tmp_path / ".gitignore").read_text().splitlines()
    assert lines[0] == "*.log" and "/site/" in lines
    assert {w.path.name: w.action for w in init(tmp_path)}[".gitignore"] == "kept"
    assert {w.path.name: w.action for w in init(tmp_path, force=True)}["sitegen.yaml"] == "overwritten"


def test_cli_and_the_workflow_commands_exist(tmp_path):
    done = subprocess.run([sys.executable, "-m", "sitegen", "init", str(tmp_path / "new")], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    assert "created" in done.stdout and (tmp_path / "new/.github/workflows/sitegen.yml").is_file()
    for command in (["diff", "--help"], ["build", "--help"], ["validate", "--help"]):
        assert subprocess.run([sys.executable, "-m", "sitegen", *command], capture_output=True).returncode == 0
    build_help = subprocess.run([sys.executable, "-m", "sitegen", "build", "--help"], capture_output=True, text=True)
    assert "--base-url" in build_help.stdout and "--version" in build_help.stdout


def test_pre_commit_hook_definition():
    hooks = yaml.safe_load((REPO_ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = next(h for h in hooks if h["id"] == "sitegen-validate")
    assert hook["entry"] == "sitegen validate" and hook["language"] == "python" and hook["pass_filenames"] is False
    import re
    assert re.search(hook["files"], "runs/mnist/r1/run.yaml") and re.search(hook["files"], "sub/sitegen.yaml")
    assert not re.search(hook["files"], "src/train.py")
