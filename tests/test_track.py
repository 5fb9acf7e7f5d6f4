"""sitegen.track: start_run / Run writing format 1, nesting, resume, joining, crash safety."""

from __future__ import annotations

import contextvars
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

import sitegen
from sitegen.digest import path_digest
from sitegen.track import ENV_RUN, start_run

REPO = Path(__file__).resolve().parents[1]
ISO_Z = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"
NO_CAPTURE = {"packages": False, "git": False, "conda": False, "env_files": False}


def read_yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def child_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != ENV_RUN}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


def validate_store(root: Path) -> list:
    load = pytest.importorskip("sitegen.store.load")
    project = load.load_project(root)
    return [str(d) for d in project.diagnostics if d.is_error]


def test_a_finished_run_is_format_1(tmp_path):
    with start_run("mnist", "baseline", params={"lr": 1e-3, "opt": {"name": "adamw"}}, tags={"team": "cv"},
                   root=tmp_path, capture=NO_CAPTURE) as run:
        running = read_yaml(run.dir / "run.yaml")
        for step in range(3):
            run.log_metric("loss", 1.0 / (step + 1))
        run.log_metrics({"acc": 0.5, "f1": 0.25}, step=7)
        run.log_summary({"test/acc": 0.91})
        run.note("First *run*.")
    assert run.dir == tmp_path / "runs" / "mnist" / run.id
    assert running["status"] == "running" and "end_time" not in running
    text = (run.dir / "run.yaml").read_text()
    data = yaml.safe_load(text)
    assert list(data) == ["format", "id", "name", "status", "start_time", "end_time", "user", "tags",
                          "params", "metrics", "notes", "provenance"]
    assert data["format"] == "sitegen.run/1" and data["id"] == run.id and data["name"] == "baseline"
    assert data["status"] == "finished"
    for key in ("start_time", "end_time"):
        assert __import__("re").match(ISO_Z, data[key])
    assert data["params"] == {"lr": 1e-3, "opt": {"name": "adamw"}} and data["tags"] == {"team": "cv"}
    assert data["metrics"] == {"test/acc": 0.91}  # only summaries: series live in the Parquet
    assert data["notes"] == "First *run*.\n"
    t = pq.read_table(run.dir / "metrics.parquet").to_pydict()
    assert list(zip(t["key"], t["step"])) == [("acc", 7), ("f1", 7), ("loss", 0), ("loss", 1), ("loss", 2)]
    assert not (run.dir / "metrics.journal.jsonl").exists()
    assert validate_store(tmp_path) == []


def test_run_ids_are_sortable_utc_ids_and_names_default_to_them(tmp_path):
    run = start_run(root=tmp_path, capture=False)
    run.end()
    assert __import__("re").fullmatch(r"\d{8}-\d{6}-[0-9a-f]{6}", run.id)
    assert run.experiment == "default" and read_yaml(run.dir / "run.yaml")["name"] == run.id


def test_secret_params_and_tags_are_redacted_before_reaching_disk(tmp_path):
    (tmp_path / "sitegen.yaml").write_text("redact: ['*wandb*']\n")
    with start_run("e", root=tmp_path, capture=False,
                   params={"db": {"password": "hunter2"}, "lr": 0.1, "wandb_entity": "me"},
                   tags={"API_TOKEN": "tok", "team": "x"}) as run:
        run.log_param("aws_secret_access_key", "abc")
        run.set_tag("url", "https://u:pw@example.org/x")
    text = (run.dir / "run.yaml").read_text()
    for secret in ("hunter2", "tok", "abc", "pw@", "'me'"):
        assert secret not in text
    data = read_yaml(run.dir / "run.yaml")
    assert data["params"] == {"db": {"password": "[redacted]"}, "lr": 0.1, "wandb_entity": "[redacted]",
                              "aws_secret_access_key": "[redacted]"}
    assert data["tags"] == {"API_TOKEN": "[redacted]", "team": "x", "url": "https://example.org/x"}


def test_an_exception_marks_the_run_failed_saves_the_traceback_and_propagates(tmp_path):
    with pytest.raises(ZeroDivisionError):
        with start_run("e", root=tmp_path, capture=False) as run:
            run.log_metric("x", 1.0)
            1 / 0  # noqa: B018
    data = read_yaml(run.dir / "run.yaml")
    assert data["status"] == "failed" and data["end_time"]
    tb = (run.dir / "artifacts" / "traceback.txt").read_text()
    assert "ZeroDivisionError" in tb and "1 / 0" in tb
    assert pq.read_table(run.dir / "metrics.parquet").num_rows == 1
    assert validate_store(tmp_path) == []


def test_keyboard_interrupt_marks_the_run_killed(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        with start_run("e", root=tmp_path, capture=False) as run:
            raise KeyboardInterrupt
    assert read_yaml(run.dir / "run.yaml")["status"] == "killed"
    assert sitegen.track.active_run() is None


def test_nested_runs_get_their_parent_and_experiment(tmp_path):
    with start_run("sweep", root=tmp_path, capture=False) as parent:
        with start_run(name="fold-1", root=tmp_path, capture=False) as child:
            assert sitegen.track.active_run() is child
        assert sitegen.track.active_run() is parent
        other = start_run("other-exp", root=tmp_path, capture=False, parent=parent)
        other.end()
    assert sitegen.track.active_run() is None
    assert read_yaml(child.dir / "run.yaml")["parent"] == parent.id
    assert child.experiment == "sweep"
    assert read_yaml(other.dir / "run.yaml")["parent"] == f"sweep/{parent.id}"
    assert validate_store(tmp_path) == []


def test_resume_continues_steps_and_keeps_old_points(tmp_path):
    with start_run("e", root=tmp_path, capture=False, params={"lr": 1}) as run:
        run.log_metric("loss", 3.0)
        run.log_metric("loss", 2.0)
    with start_run(run_id=run.id, resume=True, root=tmp_path, capture=False, params={"epochs": 2}) as again:
        assert read_yaml(again.dir / "run.yaml")["status"] == "running"
        again.log_metric("loss", 1.0)
    assert again.dir == run.dir
    data = read_yaml(run.dir / "run.yaml")
    assert data["status"] == "finished" and data["params"] == {"lr": 1, "epochs": 2}
    t = pq.read_table(run.dir / "metrics.parquet").to_pydict()
    assert list(zip(t["step"], t["value"])) == [(0, 3.0), (1, 2.0), (2, 1.0)]
    with pytest.raises(sitegen.diagnostics.SitegenError, match="not found"):
        start_run(run_id="nope", resume=True, root=tmp_path)


def test_sitegen_run_env_var_makes_start_run_join_that_run(tmp_path, monkeypatch):
    # The wrapper lives in another process in real use: start it in a fresh context so it is not active here.
    wrapper = contextvars.Context().run(start_run, "e", root=tmp_path, capture=False, join=False)
    monkeypatch.setenv(ENV_RUN, str(wrapper.dir))
    monkeypatch.chdir(tmp_path)
    with start_run(params={"lr": 0.5}) as joined:  # no experiment, no root: the env var decides
        joined.log_metric("loss", 1.0)
        with start_run(capture=False, root=tmp_path) as nested:  # inside a joined run: a real child
            pass
    assert joined.dir == wrapper.dir
    data = read_yaml(wrapper.dir / "run.yaml")
    assert data["status"] == "running" and data["params"] == {"lr": 0.5}  # the wrapper decides the status
    assert read_yaml(nested.dir / "run.yaml")["parent"] == wrapper.id
    wrapper.refresh_from_disk()
    wrapper.end("finished")
    data = read_yaml(wrapper.dir / "run.yaml")
    assert data["status"] == "finished" and data["params"] == {"lr": 0.5}
    assert pq.read_table(wrapper.dir / "metrics.parquet").num_rows == 1


def test_sitegen_run_may_name_the_run_as_experiment_slash_id(tmp_path, monkeypatch):
    wrapper = contextvars.Context().run(start_run, "e", root=tmp_path, capture=False, join=False)
    monkeypatch.setenv(ENV_RUN, wrapper.ref)
    monkeypatch.setenv("SITEGEN_ROOT", str(tmp_path))
    with start_run() as joined:
        joined.log_param("a", 1)
    assert joined.dir == wrapper.dir
    monkeypatch.setenv(ENV_RUN, "e/missing")
    with pytest.raises(sitegen.diagnostics.SitegenError, match="SITEGEN_RUN"):
        start_run()
    wrapper.end()


def test_artifacts_files_directories_and_external_ones(tmp_path):
    src = tmp_path / "src"
    (src / "plots").mkdir(parents=True)
    (src / "plots" / "a.png").write_bytes(b"\x89PNG fake")
    (src / "report.txt").write_text("hello")
    (src / "big.bin").write_bytes(b"x" * 2048)
    with start_run("e", root=tmp_path, capture=False, artifact_size_limit=1024) as run:
        small = run.log_artifact(src / "report.txt")
        folder = run.log_artifact(src / "plots", artifact_path="figs")
        big = run.log_artifact(src / "big.bin")
        again = run.log_artifact(src / "report.txt")  # listed once
        (run.artifacts_dir / "own.txt").write_text("written by the script")
        own = run.log_artifact(run.artifacts_dir / "own.txt")  # recorded in place
    assert (run.dir / "artifacts" / "report.txt").read_text() == "hello"
    assert (run.dir / "artifacts" / "figs" / "plots" / "a.png").exists()
    assert not (run.dir / "artifacts" / "big.bin").exists()
    assert small == again == {"path": "artifacts/report.txt", "digest": path_digest(src / "report.txt")[0], "size": 5}
    assert folder["digest"] == path_digest(src / "plots")[0]
    data = read_yaml(run.dir / "run.yaml")
    assert own == {"path": "artifacts/own.txt", "digest": path_digest(run.artifacts_dir / "own.txt")[0], "size": 21}
    assert data["provenance"]["artifacts"] == [small, folder, own]
    assert data["artifacts"] == [big] and big["uri"].startswith("file:///") and big["size"] == 2048
    with pytest.raises(ValueError, match="inside artifacts"):
        run2 = start_run("e", root=tmp_path, capture=False)
        try:
            run2.log_artifact(src / "report.txt", artifact_path="../escape")
        finally:
            run2.end()
    assert validate_store(tmp_path) == []


def test_inputs_and_outputs_are_digested_and_uris_recorded_without_download(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "b.csv").write_text("2\n")
    (data_dir / "a.csv").write_text("1\n")
    (tmp_path / "model.pt").write_bytes(b"weights")
    with start_run("e", root=tmp_path, capture=False) as run:
        inp = run.log_input(data_dir, name="train", role="training", rows=2)
        uri = run.log_input("s3://bucket/imagenet/train/", name="imagenet", digest="sha256:" + "0" * 64)
        out = run.log_output(tmp_path / "model.pt", name="model", kind="model", copy=True)
    assert inp["digest"] == path_digest(data_dir)[0] and inp["kind"] == "dataset" and inp["rows"] == 2
    assert uri == {"name": "imagenet", "kind": "dataset", "uri": "s3://bucket/imagenet/train/",
                   "digest": "sha256:" + "0" * 64}
    assert out["path"] == "artifacts/model.pt" and out["digest"] == path_digest(tmp_path / "model.pt")[0]
    prov = read_yaml(run.dir / "run.yaml")["provenance"]
    assert prov["inputs"] == [inp, uri] and prov["outputs"] == [out]
    # the tree digest depends on names and contents only
    (data_dir / "a.csv").write_text("changed\n")
    assert path_digest(data_dir)[0] != inp["digest"]


def test_params_logged_mid_run_reach_disk_within_about_a_second(tmp_path):
    run = start_run("e", root=tmp_path, capture=False)
    try:
        run.log_param("late", 42)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline and read_yaml(run.dir / "run.yaml")["params"] != {"late": 42}:
            time.sleep(0.05)
        assert read_yaml(run.dir / "run.yaml")["params"] == {"late": 42}
    finally:
        run.end()


def test_threads_log_into_one_run(tmp_path):
    with start_run("e", root=tmp_path, capture=False, flush_points=500) as run:
        threads = [threading.Thread(target=lambda i=i: [run.log_metric(f"t{i}", float(j)) for j in range(2000)])
                   for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    t = pq.read_table(run.dir / "metrics.parquet")
    assert t.num_rows == 8000 and t.column("step").to_pylist() == list(range(2000)) * 4


KILL_CHILD = textwrap.dedent("""
    import sys, time, sitegen
    run = sitegen.start_run("crash", root=sys.argv[1], params={"lr": 0.1}, capture=False)
    print(run.dir, flush=True)
    step = 0
    while True:
        run.log_metric("loss", 1.0 / (step + 1))
        run.log_metric("acc", step * 0.001)
        step += 1
        if step % 50 == 0:
            time.sleep(0.005)  # about 10,000 points a second: enough to see what a kill loses
""")


def test_sigkill_loses_at_most_about_a_second_and_leaves_readable_files(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", KILL_CHILD, str(tmp_path)], stdout=subprocess.PIPE,
                            env=child_env(), text=True)
    try:
        run_dir = Path(proc.stdout.readline().strip())
        journal = run_dir / "metrics.journal.jsonl"
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and (not journal.exists() or journal.stat().st_size < 1_000):
            time.sleep(0.05)
        time.sleep(1.3)  # let it log (and journal) for a while longer
        killed_ms = time.time() * 1000
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        if proc.poll() is None:
            proc.kill()
    data = read_yaml(run_dir / "run.yaml")
    assert data["status"] == "running" and data["params"] == {"lr": 0.1}
    lines = journal.read_bytes().split(b"\n")
    tail = lines.pop()  # b"" or a torn line: the only one allowed not to parse
    points = [json.loads(line) for line in lines]
    assert tail == b"" or not tail.endswith(b"}")
    assert len(points) > 1000 and not (run_dir / "metrics.parquet").exists()
    last_ms = max(p["timestamp"] for p in points)
    assert killed_ms - last_ms < 1600, f"lost {killed_ms - last_ms:.0f} ms of points"
    steps = [p["step"] for p in points if p["key"] == "loss"]
    assert steps == list(range(len(steps)))  # no gaps, no duplicates
    assert validate_store(tmp_path) == []
    history = pytest.importorskip("sitegen.store.metrics").read_history(run_dir, "runs/crash/x")
    assert len(history) == len(points)


TWO_PROCESSES = textwrap.dedent("""
    import sys, sitegen
    with sitegen.start_run("shared", root=sys.argv[1], name=sys.argv[2], capture=False) as run:
        for i in range(20000):
            run.log_metric("loss", float(i))
        run.log_param("who", sys.argv[2])
""")


def test_two_processes_logging_into_one_store_do_not_clash(tmp_path):
    procs = [subprocess.Popen([sys.executable, "-c", TWO_PROCESSES, str(tmp_path), name], env=child_env())
             for name in ("first", "second")]
    assert [p.wait(60) for p in procs] == [0, 0]
    runs = sorted((tmp_path / "runs" / "shared").iterdir())
    assert len(runs) == 2
    for run_dir in runs:
        data = read_yaml(run_dir / "run.yaml")
        assert data["status"] == "finished" and data["params"]["who"] == data["name"]
        assert pq.read_table(run_dir / "metrics.parquet").column("value").to_pylist() == [float(i) for i in range(20000)]
    assert validate_store(tmp_path) == []


def test_a_script_that_never_calls_end_is_finished_at_exit(tmp_path):
    script = "import sys, sitegen\nrun = sitegen.start_run('e', root=sys.argv[1], capture=False)\n" \
             "run.log_metric('x', 1.0)\nprint(run.dir)\n"
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], env=child_env(), capture_output=True,
                         text=True, check=True).stdout.strip()
    assert read_yaml(Path(out) / "run.yaml")["status"] == "finished"
    assert pq.read_table(Path(out) / "metrics.parquet").num_rows == 1
    crash = script + "1/0\n"
    done = subprocess.run([sys.executable, "-c", crash, str(tmp_path)], env=child_env(), capture_output=True, text=True)
    assert done.returncode == 1
    assert read_yaml(Path(done.stdout.strip()) / "run.yaml")["status"] == "failed"


def test_written_runs_build_into_a_site(tmp_path, built_site):
    with start_run("mnist", "built", root=tmp_path, params={"lr": 0.1}, capture=False) as run:
        for i in range(50):
            run.log_metric("loss", 1 / (i + 1))
        (tmp_path / "cm.txt").write_text("matrix")
        run.log_artifact(tmp_path / "cm.txt")
    site = built_site(tmp_path)
    assert (site.output / "runs" / "mnist" / run.id / "index.html").exists()


def test_the_read_api_reads_back_what_was_written(tmp_path):
    pytest.importorskip("sitegen.store.api")
    with start_run("mnist", root=tmp_path, params={"lr": 0.1}, capture=False) as run:
        for i in range(5):
            run.log_metric("loss", float(i))
    store = sitegen.open(tmp_path)
    frame = store.runs_frame(experiment="mnist")
    assert len(frame) == 1 and frame["params.lr"].tolist() == [0.1] and frame["metrics.loss"].tolist() == [4.0]
    history = store.metric_history(f"mnist/{run.id}", "loss")
    assert history["value"].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


def test_parquet_timestamps_are_utc_milliseconds(tmp_path):
    before = int(time.time() * 1000)
    with start_run("e", root=tmp_path, capture=False) as run:
        run.log_metric("x", 1.0)
    after = int(time.time() * 1000)
    ts = pq.read_table(run.dir / "metrics.parquet").column("timestamp")
    assert ts.type == pa.timestamp("ms", tz="UTC")
    assert before <= ts.cast(pa.int64()).to_pylist()[0] <= after
