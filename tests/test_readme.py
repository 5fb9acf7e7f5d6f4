"""The README's examples work as written."""

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"


def code_blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_opens_with_the_install_and_build_command_and_the_test_command():
    commands = [line for line in code_blocks("bash")[0].splitlines() if line and not line.startswith("#")]
    first, second = commands[:2]
    assert "pip install" in first and "sitegen build sample_runs" in first
    assert second.strip() == "bash scripts/test"


def test_logging_example_runs_and_validates(tmp_path: Path):
    example = code_blocks("python")[0]
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.parquet").write_bytes(b"rows")
    (tmp_path / "confusion.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (tmp_path / "model.pt").write_bytes(b"weights")
    subprocess.run([sys.executable, "-c", example], cwd=tmp_path, check=True)
    runs = list((tmp_path / "runs" / "mnist").iterdir())
    assert len(runs) == 1 and (runs[0] / "metrics.parquet").is_file()
    assert (runs[0] / "artifacts" / "confusion.png").is_file()
    result = subprocess.run([sys.executable, "-m", "sitegen", "validate", str(tmp_path)], capture_output=True,
                            text=True)
    assert result.returncode == 0, result.stdout
    reader = code_blocks("python")[1].replace("<run-id>", runs[0].name)
    subprocess.run([sys.executable, "-c", "import sitegen\n" + reader], cwd=tmp_path, check=True)
