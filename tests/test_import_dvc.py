"""`sitegen import dvc`: a DVC repository with two experiments made by the real `dvc` and `dvclive`
(test extra; `dvc exp run` in a temporary git repo), and a plain DVCLive folder made without DVC."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import shutil
import subprocess
import sys
import struct
import textwrap
import zlib
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml
from click.testing import CliRunner

import dvclive  # noqa: F401 - the test extra; a missing package must fail, not skip

from sitegen.cli import main
from sitegen.importers.dvc import import_dvc
from sitegen.store.load import load_project

DVC = shutil.which("dvc") or str(Path(sys.executable).with_name("dvc"))


def _png(width: int = 4, height: int = 3) -> bytes:
    """A valid RGB PNG (DVCLive opens images with Pillow)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\0" + bytes(v for x in range(width) for v in (x * 60, y * 80, 128)) for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


PNG = _png()

TRAIN = textwrap.dedent("""\
    import yaml
    from pathlib import Path
    from dvclive import Live

    params = yaml.safe_load(open("params.yaml"))
    Path("confusion.png").write_bytes(bytes.fromhex("{png}"))
    with Live(save_dvc_exp=False) as live:
        live.log_param("seed", 7)
        for step in range(6):
            live.log_metric("train/loss", 1.0 / (step + 1 + params["lr"]))
            live.log_metric("acc", 0.5 + step * params["lr"], timestamp=True)
            live.next_step()
        live.summary["test_score"] = 0.5 + params["lr"]
        live.log_image("confusion.png", "confusion.png")
    Path("model.bin").write_text(f"model lr={{params['lr']}}")
    """).format(png=PNG.hex())

DVC_YAML = textwrap.dedent("""\
    stages:
      train:
        cmd: python train.py
        deps: [train.py, data.csv]
        params: [lr]
        outs: [model.bin]
        metrics:
          - dvclive/metrics.json:
              cache: false
        plots:
          - dvclive/plots:
              cache: false
    """)


def _run(cwd: Path, *args: str) -> str:
    result = subprocess.run(list(args), cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def dvc_repo(tmp_path_factory) -> Path:
    repo = tmp_path_factory.mktemp("dvc-project") / "churn-project"
    repo.mkdir()
    _run(repo, "git", "init", "-q", "-b", "main")
    _run(repo, "git", "config", "user.name", "Dee Vee")
    _run(repo, "git", "config", "user.email", "dee@example.org")
    _run(repo, DVC, "init", "-q")
    _run(repo, DVC, "config", "--local", "core.analytics", "false")
    (repo / "train.py").write_text(TRAIN)
    (repo / "dvc.yaml").write_text(DVC_YAML)
    (repo / "params.yaml").write_text("lr: 0.01\nmodel: {depth: 3}\n")
    (repo / "data.csv").write_text("tenure,churn\n1,0\n5,1\n")
    (repo / ".gitignore").write_text("/confusion.png\n")
    _run(repo, "git", "add", "-A")
    _run(repo, "git", "commit", "-qm", "project")
    _run(repo, DVC, "repro", "-q")
    _run(repo, "git", "add", "-A")
    _run(repo, "git", "commit", "-qm", "baseline results")
    _run(repo, DVC, "exp", "run", "-q", "-S", "lr=0.1", "-n", "fast-lr")
    _run(repo, DVC, "exp", "run", "-q", "-S", "lr=0.2", "-n", "faster-lr")
    return repo


@pytest.fixture(scope="module")
def dvc_imported(dvc_repo, tmp_path_factory):
    target = tmp_path_factory.mktemp("sitegen-from-dvc")
    result = CliRunner().invoke(main, ["import", "dvc", str(dvc_repo), str(target)])
    assert result.exit_code == 0, result.output
    return target, result.output


def _exp_refs(repo: Path) -> dict[str, str]:
    out = _run(repo, "git", "for-each-ref", "--format=%(refname) %(objectname)", "refs/exps")
    return {ref.rsplit("/", 1)[1]: sha for ref, sha in (line.split() for line in out.splitlines())
            if not ref.startswith("refs/exps/exec/")}


def _show(repo: Path, rev: str, path: str) -> str:
    return _run(repo, "git", "show", f"{rev}:{path}")


def _tsv_points(text: str, key: str) -> list[tuple]:
    rows = list(csv.DictReader(io.StringIO(text), delimiter="\t"))
    name = key.rsplit("/", 1)[-1]
    return [(key, int(r["step"]), float(r[name]), int(r["timestamp"]) if r.get("timestamp") else None)
            for r in rows]


def _parquet_points(path: Path) -> list[tuple]:
    t = pq.read_table(path)
    stamps = [None if s is None else int(s.timestamp() * 1000) for s in t.column("timestamp").to_pylist()]
    return list(zip(t.column("key").to_pylist(), t.column("step").to_pylist(), t.column("value").to_pylist(), stamps))


def test_experiments_and_workspace_are_runs(dvc_imported, dvc_repo):
    target, output = dvc_imported
    exp_dir = target / "runs" / "churn-project"
    head = _run(dvc_repo, "git", "rev-parse", "HEAD").strip()
    assert sorted(p.name for p in exp_dir.iterdir() if p.is_dir()) == ["fast-lr", "faster-lr", f"workspace-{head[:7]}"]
    assert "runs: 3 imported, 0 updated, 0 skipped, 0 failed" in output
    assert yaml.safe_load((exp_dir / "experiment.yaml").read_text())["title"] == "churn-project"


def test_experiment_runs_match_their_commits(dvc_imported, dvc_repo):
    target, _ = dvc_imported
    for name, sha in _exp_refs(dvc_repo).items():
        run_dir = target / "runs" / "churn-project" / name
        rec = yaml.safe_load((run_dir / "run.yaml").read_text())
        params = yaml.safe_load(_show(dvc_repo, sha, "params.yaml"))
        live_params = yaml.safe_load(_show(dvc_repo, sha, "dvclive/params.yaml"))
        assert rec["params"] == {**params, **live_params}
        assert rec["tags"]["dvc.rev"] == sha and rec["user"] == "Dee Vee"
        assert rec["provenance"]["code"]["commit"] == sha
        assert rec["provenance"]["command"] == "python train.py"
        metrics = json.loads(_show(dvc_repo, sha, "dvclive/metrics.json"))
        assert rec["metrics"] == {"test_score": metrics["test_score"]}
        want = sorted(_tsv_points(_show(dvc_repo, sha, "dvclive/plots/metrics/train/loss.tsv"), "train/loss")
                      + _tsv_points(_show(dvc_repo, sha, "dvclive/plots/metrics/acc.tsv"), "acc"))
        assert _parquet_points(run_dir / "metrics.parquet") == want
        lock = yaml.safe_load(_show(dvc_repo, sha, "dvc.lock"))["stages"]["train"]
        inputs = {i["name"]: i for i in rec["provenance"]["inputs"]}
        for dep in lock["deps"]:
            assert inputs[dep["path"]]["digest"] == f"md5:{dep['md5']}"
            assert inputs[dep["path"]]["size"] == dep["size"]
        (model,) = [o for o in rec["provenance"]["outputs"] if o["name"] == "model.bin"]
        (out,) = [o for o in lock["outs"] if o["path"] == "model.bin"]
        assert model["digest"] == f"md5:{out['md5']}"
        logged = subprocess.run(["git", "cat-file", "blob", f"{sha}:dvclive/plots/images/confusion.png"],
                                cwd=dvc_repo, capture_output=True, check=True).stdout
        assert (run_dir / "artifacts" / "plots" / "images" / "confusion.png").read_bytes() == logged


def test_shared_data_links_runs_by_digest(dvc_imported):
    target, _ = dvc_imported
    digests = set()
    for name in ("fast-lr", "faster-lr"):
        rec = yaml.safe_load((target / "runs" / "churn-project" / name / "run.yaml").read_text())
        digests |= {i["digest"] for i in rec["provenance"]["inputs"] if i["name"] == "data.csv"}
    assert len(digests) == 1  # both experiments read the same data: one lineage node
    outs = set()
    for name in ("fast-lr", "faster-lr"):
        rec = yaml.safe_load((target / "runs" / "churn-project" / name / "run.yaml").read_text())
        outs |= {o["digest"] for o in rec["provenance"]["outputs"] if o["name"] == "model.bin"}
    assert len(outs) == 2


def test_workspace_run_reads_the_files_on_disk(dvc_imported, dvc_repo):
    target, _ = dvc_imported
    head = _run(dvc_repo, "git", "rev-parse", "HEAD").strip()
    rec = yaml.safe_load((target / "runs" / "churn-project" / f"workspace-{head[:7]}" / "run.yaml").read_text())
    assert rec["provenance"]["code"]["branch"] == "main"
    assert rec["provenance"]["code"]["dirty"] is True  # `dvc exp run` leaves the last results in the workspace
    assert rec["params"]["lr"] == yaml.safe_load((dvc_repo / "params.yaml").read_text())["lr"]


def test_dvc_import_validates_builds_and_reimport_is_a_no_op(dvc_imported, dvc_repo, built_site, tmp_path):
    target = tmp_path / "store"
    shutil.copytree(dvc_imported[0], target, copy_function=shutil.copy2)
    project = load_project(target)
    assert [str(d) for d in project.diagnostics if d.is_error] == []
    assert len(project.runs) == 3
    site = built_site(target)
    assert site.path("index.html").is_file()
    before = {p: (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
              for p in sorted(target.rglob("*")) if p.is_file()}
    summary = import_dvc(dvc_repo, target)
    after = {p: (p.stat().st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest())
             for p in sorted(target.rglob("*")) if p.is_file()}
    assert after == before
    assert summary.count("run", "skipped") == 3 and not summary.failed


def test_plain_dvclive_folder_without_dvc(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    (work / "img.png").write_bytes(PNG)
    script = textwrap.dedent("""\
        from dvclive import Live
        with Live("results/dvclive", save_dvc_exp=False, dvcyaml=None) as live:
            live.log_params({"lr": 0.3, "model": {"depth": 4}})
            for step in range(4):
                live.log_metric("val/loss", 2.0 - step, timestamp=True)
                live.next_step()
            live.summary["final"] = 1.5
            live.log_image("img.png", "img.png")
        """)
    _run(work, sys.executable, "-c", script)
    live = work / "results" / "dvclive"
    assert not (work / ".dvc").exists() and not (work / ".git").exists()
    store = tmp_path / "store"
    result = CliRunner().invoke(main, ["import", "dvc", str(live), str(store)])
    assert result.exit_code == 0, result.output
    run_dir = store / "runs" / "results" / "results"
    rec = yaml.safe_load((run_dir / "run.yaml").read_text())
    assert rec["params"] == {"lr": 0.3, "model": {"depth": 4}}
    assert rec["metrics"] == {"final": 1.5}
    want = _tsv_points((live / "plots" / "metrics" / "val" / "loss.tsv").read_text(), "val/loss")
    assert _parquet_points(run_dir / "metrics.parquet") == want
    assert rec["start_time"] <= rec["end_time"]
    assert (run_dir / "artifacts" / "plots" / "images" / "img.png").read_bytes() == \
        (live / "plots" / "images" / "img.png").read_bytes()
    assert [d for d in load_project(store).diagnostics if d.is_error] == []
