"""Registry operations: register, alias, stage; text patches keep comments; CLI; concurrency checks."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import pytest

from sitegen.diagnostics import SitegenError
from sitegen.registry import register, set_alias, set_stage
from sitegen.store.load import load_project
from sitegen.store.yamlio import read_yaml

AT = datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)

RUN_YAML = """format: sitegen.run/1
id: r1
name: first
status: finished
start_time: 2026-11-30T10:00:00Z
end_time: 2026-11-30T10:30:00Z
user: alice
params: {lr: 0.1, model: {type: gbm}}
metrics: {auc: 0.9}
provenance:
  code: {repo: https://github.com/org/proj, commit: 0123456789abcdef0123456789abcdef01234567}
  outputs:
    - name: model
      kind: model
      path: artifacts/model.bin
      signature: {inputs: [{name: x, type: double}], outputs: [{name: y, type: double}]}
      input_example: {x: 1.5}
"""

MODEL_YAML = """format: sitegen.model/1
name: Demo  # display name
# who to ask
owners: [alice]
aliases:
  champion: 1   # promoted after review
alias_history:
  # the first promotion
  - alias: champion
    version: 1
    at: 2025-11-30T12:00:00Z
    by: alice
monitoring: {auc: {min: 0.8}}
"""


def make_source(tmp_path: Path, *, model: bool = True) -> Path:
    src = tmp_path / "src"
    (src / "runs" / "exp" / "r1").mkdir(parents=True)
    (src / "runs" / "exp" / "r1" / "run.yaml").write_text(RUN_YAML)
    if model:
        (src / "models" / "demo" / "versions").mkdir(parents=True)
        (src / "models" / "demo" / "model.yaml").write_text(MODEL_YAML)
        (src / "models" / "demo" / "versions" / "1.yaml").write_text(
            "format: sitegen.model-version/1\nversion: 1\nsource_run: exp/r1\n"
            "created: 2026-11-30T11:00:00Z\nstage: production  # live\ncard: {}\n")
    return src


def test_register_creates_next_version_with_run_facts(tmp_path):
    src = make_source(tmp_path)
    result = register(src, "exp/r1", "demo", stage="staging", at=AT)
    assert result.version == 2 and not result.created_model
    data = read_yaml(result.path).data
    assert data["source_run"] == "exp/r1"
    assert data["created"] == "2026-12-01T09:30:00Z"
    assert data["stage"] == "staging"
    assert data["signature"]["inputs"] == [{"name": "x", "type": "double"}]
    assert data["input_example"] == {"x": 1.5}
    project = load_project(src)
    assert [v.version for v in project.models["demo"].versions] == [1, 2]
    assert not project.diagnostics.errors


def test_register_new_model_and_alias(tmp_path):
    src = make_source(tmp_path, model=False)
    result = register(src, "exp/r1", "fresh", aliases=("champion",), note="first", user="bob", at=AT)
    assert result.created_model and result.version == 1
    project = load_project(src)
    model = project.models["fresh"]
    assert model.aliases == {"champion": 1}
    assert [(e.alias, e.version, e.by, e.note) for e in model.alias_history] == [("champion", 1, "bob", "first")]
    assert not project.diagnostics.errors


def test_register_rejects_unknown_run_and_bad_names(tmp_path):
    src = make_source(tmp_path)
    with pytest.raises(SitegenError, match="no run"):
        register(src, "exp/nope", "demo")
    with pytest.raises(SitegenError, match="not valid"):
        register(src, "exp/r1", "Bad Name")
    with pytest.raises(SitegenError, match="stage"):
        register(src, "exp/r1", "demo", stage="prod")


def test_alias_move_keeps_comments_and_appends_history(tmp_path):
    src = make_source(tmp_path)
    register(src, "exp/r1", "demo", at=AT)
    set_alias(src, "demo", "champion", 2, note="better: +0.01 auc", user="chen", at=AT)
    text = (src / "models/demo/model.yaml").read_text()
    for comment in ("# display name", "# who to ask", "# promoted after review", "# the first promotion"):
        assert comment in text
    assert "  champion: 2   # promoted after review" in text
    data = read_yaml(src / "models/demo/model.yaml").data
    assert data["aliases"] == {"champion": 2}
    assert data["alias_history"][-1] == {"alias": "champion", "version": 2, "at": "2026-12-01T09:30:00Z",
                                         "by": "chen", "note": "better: +0.01 auc"}
    assert data["monitoring"] == {"auc": {"min": 0.8}}
    assert not load_project(src).diagnostics.errors


def test_alias_add_and_delete(tmp_path):
    src = make_source(tmp_path)
    set_alias(src, "demo", "shadow", 1, user="u", at=AT)
    assert read_yaml(src / "models/demo/model.yaml").data["aliases"] == {"champion": 1, "shadow": 1}
    set_alias(src, "demo", "champion", None, user="u", at=AT)
    data = read_yaml(src / "models/demo/model.yaml").data
    assert data["aliases"] == {"shadow": 1}
    assert data["alias_history"][-1]["version"] is None
    set_alias(src, "demo", "shadow", None, user="u", at=AT)
    assert read_yaml(src / "models/demo/model.yaml").data["aliases"] == {}
    with pytest.raises(SitegenError, match="no alias"):
        set_alias(src, "demo", "shadow", None, user="u", at=AT)
    with pytest.raises(SitegenError, match="no version 9"):
        set_alias(src, "demo", "champion", 9, user="u", at=AT)
    project = load_project(src)
    assert project.models["demo"].aliases == {}
    assert not [d for d in project.diagnostics if "alias" in d.message]


def test_alias_on_flow_style_blocks(tmp_path):
    src = make_source(tmp_path)
    path = src / "models/demo/model.yaml"
    path.write_text("format: sitegen.model/1\n# keep me\naliases: {champion: 1}\nalias_history: []\n")
    set_alias(src, "demo", "challenger", 1, user="u", at=AT)
    text = path.read_text()
    assert "# keep me" in text
    data = read_yaml(path).data
    assert data["aliases"] == {"champion": 1, "challenger": 1}
    assert len(data["alias_history"]) == 1


def test_stage_patches_in_place(tmp_path):
    src = make_source(tmp_path)
    set_stage(src, "demo", 1, "archived")
    text = (src / "models/demo/versions/1.yaml").read_text()
    assert "stage: archived  # live" in text
    register(src, "exp/r1", "demo", at=AT)
    set_stage(src, "demo", 2, "production")
    assert read_yaml(src / "models/demo/versions/2.yaml").data["stage"] == "production"
    with pytest.raises(SitegenError, match="not one of"):
        set_stage(src, "demo", 1, "live")


def test_unusual_layout_is_refused_not_mangled(tmp_path):
    src = make_source(tmp_path)
    path = src / "models/demo/model.yaml"
    # a flow list continued at column 0: the second line looks like a top-level key to a line patcher
    original = ("format: sitegen.model/1\naliases: {champion: 1}\nalias_history: [{alias: champion, version: 1,\n"
                "at: 2025-01-01T00:00:00Z}]\n")
    path.write_text(original)
    with pytest.raises(SitegenError):
        set_alias(src, "demo", "challenger", 1, user="u", at=AT)
    assert path.read_text() == original


def test_cli_register_alias_stage(tmp_path):
    src = make_source(tmp_path)
    subprocess.run(["git", "init", "-q", str(src)], check=True)
    subprocess.run(["git", "-C", str(src), "config", "user.name", "Dana Tester"], check=True)

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "sitegen", "model", *args, "--source", str(src)],
                              capture_output=True, text=True)

    out = cli("register", "exp/r1", "--model", "demo", "--stage", "staging")
    assert out.returncode == 0, out.stderr
    assert "version 2" in out.stdout
    out = cli("alias", "demo", "champion", "2", "--note", "ship it")
    assert out.returncode == 0, out.stderr
    out = cli("stage", "demo", "2", "production")
    assert out.returncode == 0, out.stderr
    model = load_project(src).models["demo"]
    assert model.aliases["champion"] == 2
    assert model.alias_history[-1].by == "Dana Tester" and model.alias_history[-1].note == "ship it"
    assert model.version(2).stage == "production"
    assert cli("alias", "demo", "champion").returncode == 2  # neither VERSION nor --delete
    out = cli("stage", "demo", "7", "staging")
    assert out.returncode == 1 and "no version 7" in out.stderr
    out = cli("alias", "demo", "champion", "--delete")
    assert out.returncode == 0 and "champion" not in load_project(src).models["demo"].aliases
