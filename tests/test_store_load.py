import json
import math
import os
from pathlib import Path

import pytest

from sitegen.store.load import flatten, load_project, parse_time
from sources import small_source, write_metrics, write_run, write_yaml


def messages(project) -> list[str]:
    return [str(d) for d in project.diagnostics]


def test_small_source_loads_everything(tmp_path: Path):
    project = load_project(small_source(tmp_path))
    assert messages(project) == []
    assert sorted(project.experiments) == ["exp", "other"]
    parent = project.runs["exp/parent-run"]
    child = project.runs["exp/child-run"]
    assert child.parent == "exp/parent-run" and parent.children == ["exp/child-run"]
    assert parent.params_flat == {"lr": 0.1, "opt.name": "sgd"}
    assert parent.metrics["loss"].last == pytest.approx(0.1) and parent.metrics["loss"].count == 10
    assert parent.metrics["loss"].min == pytest.approx(0.1) and parent.metrics["loss"].max == 1.0
    # run.yaml summary values add to and override what the history says
    assert child.metrics["acc"].last == 0.9 and child.metrics["loss"].last_step == 9
    assert project.experiments["exp"].primary_metric == "acc"
    assert project.models["m"].version(1).source_run == "exp/child-run"
    assert project.datasets["d"].digest.startswith("sha256:")


def test_journal_is_merged_with_parquet_and_torn_line_tolerated(tmp_path: Path):
    run_dir = write_run(tmp_path, "e", "r", status="running")
    write_metrics(run_dir, [("loss", 0, 1.0), ("loss", 1, 0.5)])
    lines = [json.dumps({"key": "loss", "step": 1, "value": 0.5, "timestamp": None}),  # duplicate of parquet?
             json.dumps({"key": "loss", "step": 2, "value": 0.25}),
             '{"key": "loss", "step": 3, "value": NaN}',
             '{"key": "acc", "step": 3, "va']
    (run_dir / "metrics.journal.jsonl").write_text("\n".join(lines))
    project = load_project(tmp_path)
    run = project.runs["e/r"]
    assert run.possibly_crashed
    assert math.isnan(run.metrics["loss"].last) and run.metrics["loss"].last_step == 3
    assert "acc" not in run.metrics
    (d,) = project.diagnostics
    assert d.path == "runs/e/r/metrics.journal.jsonl" and d.line == 4 and "incomplete" in d.message


def test_broken_run_is_skipped_and_others_load(tmp_path: Path):
    small_source(tmp_path)
    bad = tmp_path / "runs" / "exp" / "bad-run"
    bad.mkdir()
    (bad / "run.yaml").write_text("id: bad-run\nstatus: finished\nparams: {lr: [1, 2\n")
    project = load_project(tmp_path)
    assert "exp/bad-run" not in project.runs and "exp/parent-run" in project.runs
    (d,) = project.diagnostics
    assert d.path == "runs/exp/bad-run/run.yaml" and d.line == 4 and d.is_error


def test_id_must_equal_folder(tmp_path: Path):
    write_run(tmp_path, "e", "folder", id="other")
    project = load_project(tmp_path)
    assert not project.runs
    assert "differs from its folder name" in messages(project)[0]
    assert messages(project)[0].startswith("runs/e/folder/run.yaml:2:5:")


def test_invalid_folder_names_are_errors_not_paths(tmp_path: Path):
    (tmp_path / "runs" / "Bad Exp").mkdir(parents=True)
    write_run(tmp_path, "ok", "r")
    (tmp_path / "runs" / "ok" / "-bad").mkdir()
    project = load_project(tmp_path)
    assert list(project.runs) == ["ok/r"]
    text = "\n".join(messages(project))
    assert "experiment folder name 'Bad Exp' is not valid" in text
    assert "run folder name '-bad' is not a valid run id" in text


def test_symlinks_are_never_followed(tmp_path: Path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret")
    src = tmp_path / "src"
    run_dir = write_run(src, "e", "r")
    (run_dir / "artifacts").mkdir()
    os.symlink(outside / "secret.txt", run_dir / "artifacts" / "link.txt")
    os.symlink(outside, run_dir / "artifacts" / "dirlink")
    os.symlink(run_dir, src / "runs" / "e" / "loop")
    project = load_project(src)
    assert project.runs["e/r"].artifacts == []
    text = "\n".join(messages(project))
    assert "runs/e/r/artifacts/link.txt" in text and "runs/e/r/artifacts/dirlink" in text
    assert "runs/e/loop" in text and "not followed" in text


def test_secrets_are_redacted_at_load(tmp_path: Path):
    write_yaml(tmp_path / "sitegen.yaml", {"redact": ["*internal*"]})
    write_run(tmp_path, "e", "r", params={"db": {"password": "hunter2"}, "internal_id": 7, "lr": 1},
              tags={"api_token": "t0k"},
              provenance={"code": {"repo": "https://alice:pw@git.example.org/x.git"}})
    run = load_project(tmp_path).runs["e/r"]
    assert run.params_flat["db.password"] == "[redacted]" and run.params_flat["internal_id"] == "[redacted]"
    assert run.params_flat["lr"] == 1 and run.tags["api_token"] == "[redacted]"
    assert run.provenance["code"]["repo"] == "https://git.example.org/x.git"
    assert "params.db.password" in run.redacted


def test_corrupt_parquet_keeps_the_run_with_an_error(tmp_path: Path):
    run_dir = write_run(tmp_path, "e", "r", metrics={"acc": 0.5})
    (run_dir / "metrics.parquet").write_bytes(b"PAR1 not really")
    project = load_project(tmp_path)
    run = project.runs["e/r"]
    assert run.metrics["acc"].last == 0.5
    (d,) = project.diagnostics
    assert d.path == "runs/e/r/metrics.parquet" and "cannot read Parquet" in d.message


def test_models_version_checks(tmp_path: Path):
    small_source(tmp_path)
    write_yaml(tmp_path / "models" / "m" / "versions" / "2.yaml", {"version": 3})
    write_yaml(tmp_path / "models" / "m" / "model.yaml", {"name": "M", "aliases": {"champion": 5}})
    project = load_project(tmp_path)
    text = "\n".join(messages(project))
    assert "differs from the file name '2.yaml'" in text
    assert "field 'aliases.champion': version 5 does not exist" in text


def test_helpers():
    assert flatten({"a": {"b": 1, "c": {"d": 2}}, "e": [1], "f": {}}) == {"a.b": 1, "a.c.d": 2, "e": [1], "f": {}}
    assert parse_time("2026-11-27T06:12:00+01:00").isoformat() == "2026-11-27T05:12:00+00:00"
    assert parse_time("2026-11-27T06:12:00Z").tzinfo is not None


def test_many_runs_load_in_worker_processes_with_the_same_result(tmp_path: Path):
    """Above a few dozen runs the folders are read in forked processes; runs, summaries, diagnostics and
    their order are the same as when one process reads them all."""
    from sitegen.cache import BuildCache
    from sitegen.store import load as load_module

    for e in range(2):
        for i in range(load_module.LOAD_CHUNK * 2):
            run_dir = write_run(tmp_path, f"exp{e}", f"r{i:03d}", params={"lr": i / 100, "api_key": "s3cr3t"},
                                start_time=f"2026-11-{1 + i % 20:02d}T10:00:00Z")
            write_metrics(run_dir, [("loss", s, 1.0 / (s + i + 1)) for s in range(5)])
    (tmp_path / "runs" / "exp0" / "r007" / "run.yaml").write_text("id: r007\nstatus: [\n")  # broken YAML
    (tmp_path / "runs" / "exp1" / "Bad Name").mkdir()

    def snapshot(jobs: int):
        cache = BuildCache(tmp_path / f"cache-{jobs}.json", "scope")
        project = load_project(tmp_path, jobs=jobs, cache=cache)
        runs = [(uid, r.name, r.params, r.redacted, {k: vars(m) for k, m in r.metrics.items()})
                for uid, r in project.runs.items()]
        return runs, list(project.diagnostics), project.run_digests, cache.new_runs

    one, two = snapshot(1), snapshot(2)
    assert one == two
    runs, diags, digests, records = two
    assert len(runs) == 2 * 2 * load_module.LOAD_CHUNK - 1
    assert [r[0] for r in runs[:3]] == ["exp0/r000", "exp0/r020", "exp0/r040"]  # by start time, then id
    assert any("exp0/r007/run.yaml" in d.path for d in diags) and any("Bad Name" in d.path for d in diags)
    assert runs[0][2]["api_key"] != "s3cr3t" and runs[0][4]["loss"]["count"] == 5
    assert len(digests) == len(records) + 1  # the broken run has a digest but no cache record


def test_a_cached_load_reads_only_changed_runs_and_matches_a_fresh_load(tmp_path: Path):
    from sitegen.cache import BuildCache
    from sitegen.store import load as load_module

    for i in range(load_module.LOAD_CHUNK * 3):
        run_dir = write_run(tmp_path, "exp", f"r{i:03d}", params={"lr": i / 100})
        write_metrics(run_dir, [("loss", s, 1.0 / (s + i + 1)) for s in range(5)])
    first = BuildCache(tmp_path / "cache.json", "scope")
    load_project(tmp_path, cache=first, jobs=2)
    first.save()
    write_metrics(tmp_path / "runs" / "exp" / "r005", [("loss", 0, 9.0), ("acc", 1, 0.5)])
    write_run(tmp_path, "exp", "r006", params={"lr": 42})

    cached = load_project(tmp_path, cache=BuildCache(tmp_path / "cache.json", "scope"), jobs=2)
    fresh = load_project(tmp_path, jobs=1)
    assert list(cached.runs) == list(fresh.runs)
    for uid, run in fresh.runs.items():
        other = cached.runs[uid]
        assert (other.params, {k: vars(m) for k, m in other.metrics.items()}) == \
            (run.params, {k: vars(m) for k, m in run.metrics.items()}), uid
    assert cached.runs["exp/r005"].metrics["acc"].last == 0.5 and cached.runs["exp/r006"].params == {"lr": 42}


def test_histories_with_null_timestamps_and_values_read_as_before(tmp_path: Path):
    """metrics.parquet columns are read from Arrow's buffers: nulls become -1 (times) and NaN (values)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from sitegen.store.metrics import read_history

    run_dir = write_run(tmp_path, "exp", "r1")
    table = pa.table({"key": ["b", "a", "a", "b"], "step": [1, 0, 1, 0], "value": [2.0, None, 1.5, 0.5],
                      "timestamp": pa.array([None, 1_700_000_000_000, None, 1_700_000_001_000],
                                            pa.timestamp("ms", tz="UTC"))})
    pq.write_table(table, run_dir / "metrics.parquet", row_group_size=2)  # two chunks
    history = read_history(run_dir, "runs/exp/r1")
    assert history.key_names == ["a", "b"]
    assert history.steps.tolist() == [0, 1, 0, 1]
    assert np.isnan(history.values[0]) and history.values[1:].tolist() == [1.5, 0.5, 2.0]
    assert history.timestamps.tolist() == [1_700_000_000_000, -1, 1_700_000_001_000, -1]
