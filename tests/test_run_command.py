"""`sitegen run -- CMD`: a run recorded around any command, joined by Python children."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from sitegen.run_command import status_for

REPO = Path(__file__).resolve().parents[1]


def sitegen_run(tmp_path: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("SITEGEN_RUN", "SITEGEN_ROOT")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return subprocess.run([sys.executable, "-m", "sitegen", "run", "--root", str(tmp_path), *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout)


def only_run(tmp_path: Path, experiment: str) -> Path:
    runs = [p for p in (tmp_path / "runs" / experiment).iterdir() if p.is_dir()]
    assert len(runs) == 1, runs
    return runs[0]


def read(run_dir: Path) -> dict:
    return yaml.safe_load((run_dir / "run.yaml").read_text())


CHILD = textwrap.dedent("""
    import sys, sitegen
    with sitegen.start_run(params={"lr": 0.25}, tags={"stage": "train"}) as run:
        for i in range(10):
            run.log_metric("loss", 1.0 / (i + 1))
        print("to stdout", flush=True)
        print("to stderr", file=sys.stderr, flush=True)
        if len(sys.argv) > 1:
            sys.exit(int(sys.argv[1]))
""")


def test_a_python_child_joins_the_run_and_output_is_teed(tmp_path):
    (tmp_path / "train.py").write_text(CHILD)
    done = sitegen_run(tmp_path, "-e", "mnist", "-n", "wrapped", "--", sys.executable, "train.py")
    assert done.returncode == 0, done.stderr
    assert "to stdout" in done.stdout and "to stderr" in done.stderr  # teed to the terminal
    run_dir = only_run(tmp_path, "mnist")  # the child joined: no second run
    data = read(run_dir)
    assert data["status"] == "finished" and data["name"] == "wrapped"
    assert data["params"] == {"lr": 0.25} and data["tags"] == {"stage": "train"}
    assert data["provenance"]["command"].endswith("train.py")
    assert data["provenance"]["code"]["entry_point"] == "train.py"
    log = (run_dir / "artifacts" / "output.log").read_text()
    assert "to stdout" in log and "to stderr" in log
    assert {"path": "artifacts/output.log"}.items() <= data["provenance"]["artifacts"][-1].items()
    assert pq.read_table(run_dir / "metrics.parquet").num_rows == 10
    assert not (run_dir / "metrics.journal.jsonl").exists()


def test_a_failing_command_marks_the_run_failed_and_passes_its_exit_code_on(tmp_path):
    (tmp_path / "train.py").write_text(CHILD)
    done = sitegen_run(tmp_path, "-e", "mnist", "--", sys.executable, "train.py", "3")
    assert done.returncode == 3
    run_dir = only_run(tmp_path, "mnist")
    data = read(run_dir)
    assert data["status"] == "failed" and data["end_time"] and data["params"] == {"lr": 0.25}
    assert pq.read_table(run_dir / "metrics.parquet").num_rows == 10


def test_any_command_not_only_python(tmp_path):
    done = sitegen_run(tmp_path, "--", "sh", "-c", "echo out; echo err >&2; exit 2")
    assert done.returncode == 2
    run_dir = only_run(tmp_path, "default")
    assert read(run_dir)["status"] == "failed"
    assert read(run_dir)["provenance"]["command"] == "sh -c 'echo out; echo err >&2; exit 2'"
    assert sorted((run_dir / "artifacts" / "output.log").read_text().split()) == ["err", "out"]


def test_a_command_killed_by_a_signal_is_killed(tmp_path):
    done = sitegen_run(tmp_path, "--", "sh", "-c", "kill -9 $$")
    assert done.returncode == 137
    assert read(only_run(tmp_path, "default"))["status"] == "killed"


def test_a_missing_command_fails_with_127(tmp_path):
    done = sitegen_run(tmp_path, "--", "no-such-command-sitegen-test")
    assert done.returncode == 127 and "cannot start" in done.stderr
    assert read(only_run(tmp_path, "default"))["status"] == "failed"


def test_a_killed_python_child_still_gets_its_metrics_compacted(tmp_path):
    (tmp_path / "die.py").write_text(textwrap.dedent("""
        import os, signal, sitegen
        run = sitegen.start_run(params={"x": 1})
        for i in range(100):
            run.log_metric("loss", float(i))
        run.flush()
        os.kill(os.getpid(), signal.SIGKILL)
    """))
    done = sitegen_run(tmp_path, "-e", "crash", "--", sys.executable, "die.py")
    assert done.returncode == 137
    run_dir = only_run(tmp_path, "crash")
    data = read(run_dir)
    assert data["status"] == "killed" and data["params"] == {"x": 1}
    assert pq.read_table(run_dir / "metrics.parquet").column("value").to_pylist() == [float(i) for i in range(100)]
    assert not (run_dir / "metrics.journal.jsonl").exists()


def test_everything_written_validates(tmp_path):
    load = pytest.importorskip("sitegen.store.load")
    (tmp_path / "train.py").write_text(CHILD)
    assert sitegen_run(tmp_path, "-e", "mnist", "--", sys.executable, "train.py").returncode == 0
    assert sitegen_run(tmp_path, "-e", "mnist", "--", "sh", "-c", "exit 1").returncode == 1
    assert [str(d) for d in load.load_project(tmp_path).diagnostics if d.is_error] == []


def test_usage_errors_exit_2(tmp_path):
    assert sitegen_run(tmp_path).returncode == 2  # no command
    assert sitegen_run(tmp_path, "-e", "Bad Name", "--", "true").returncode == 2


@pytest.mark.parametrize("code, status", [(0, "finished"), (1, "failed"), (2, "failed"), (-9, "killed"),
                                          (-15, "killed"), (130, "killed"), (143, "killed")])
def test_status_for_exit_codes(code, status):
    assert status_for(code) == status
