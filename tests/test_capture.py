"""sitegen.capture: provenance in real git repositories, environment files, conda, GPUs, containers."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path

import pytest
import yaml

from sitegen.capture import (CaptureOptions, capture_provenance, entry_point_of, installed_packages)
from sitegen.digest import path_digest


def _script(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def repo(git_repo):
    git_repo.write("train.py", "print('train')\n")
    git_repo.write("requirements.txt", "numpy==2.0\n")
    git_repo.git("remote", "add", "origin", "https://alice:s3cr3t@git.example.org/team/proj.git")
    git_repo.commit("first")
    return git_repo


def _capture(tmp_path, repo, **opts):
    arts = tmp_path / "run" / "artifacts"
    prov = capture_provenance(arts, CaptureOptions(**opts), command=["python", "train.py", "--lr", "1"],
                              entry_point=repo.path / "train.py")
    return prov, arts


def test_clean_repo_records_commit_branch_and_remote_without_credentials(tmp_path, repo):
    prov, arts = _capture(tmp_path, repo)
    code = prov["code"]
    assert code == {"repo": "https://git.example.org/team/proj.git", "commit": repo.git("rev-parse", "HEAD"),
                    "branch": "main", "dirty": False, "entry_point": "train.py"}
    assert prov["command"] == "python train.py --lr 1"
    assert not (arts / "code.diff").exists()
    assert "s3cr3t" not in yaml.safe_dump(prov)


def test_dirty_repo_saves_the_diff_with_secrets_scrubbed(tmp_path, repo):
    repo.write("train.py", "print('changed')\nKEY = 'AKIAABCDEFGHIJKLMNOP'\n")
    repo.write("untracked.txt", "not part of the diff\n")
    prov, arts = _capture(tmp_path, repo)
    assert prov["code"]["dirty"] is True and prov["code"]["diff"] == "artifacts/code.diff"
    diff = (arts / "code.diff").read_text()
    assert "+print('changed')" in diff and "AKIA" not in diff and "untracked" not in diff


def test_untracked_files_alone_do_not_make_the_repo_dirty(tmp_path, repo):
    repo.write("runs/x/run.yaml", "format: sitegen.run/1\n")
    prov, _ = _capture(tmp_path, repo)
    assert prov["code"]["dirty"] is False


def test_the_diff_is_size_capped(tmp_path, repo):
    repo.write("train.py", "x = 1\n" * 5000)
    prov, arts = _capture(tmp_path, repo, diff_max_bytes=1000)
    text = (arts / "code.diff").read_text()
    assert prov["code"]["diff_truncated"] is True
    assert len(text.encode()) < 1100 and "diff truncated at 1000 bytes" in text


def test_diff_can_be_switched_off_and_git_entirely(tmp_path, repo):
    repo.write("train.py", "print('changed')\n")
    prov, arts = _capture(tmp_path, repo, diff=False)
    assert prov["code"]["dirty"] is True and "diff" not in prov["code"] and not (arts / "code.diff").exists()
    prov, _ = _capture(tmp_path, repo, git=False)
    assert prov["code"] == {"entry_point": "train.py"}


def test_outside_a_repository_there_is_no_git_info(tmp_path):
    (tmp_path / "job.py").write_text("pass\n")
    prov = capture_provenance(tmp_path / "a", CaptureOptions(packages=False), command=["python", "job.py"],
                              entry_point=tmp_path / "job.py")
    assert prov["code"] == {"entry_point": "job.py"}


def test_environment_files_next_to_the_entry_point_are_copied_with_digests(tmp_path, repo):
    repo.write("Dockerfile", "FROM python:3.11\n")
    repo.write("poetry.lock", "# lock\n")
    repo.write("notes.txt", "not an environment file\n")
    prov, arts = _capture(tmp_path, repo)
    env = prov["environment"]
    names = [f["name"] for f in env["files"]]
    assert names == ["Dockerfile", "poetry.lock", "requirements.txt"]
    assert env["lockfile"] == "artifacts/environment/poetry.lock"
    for f in env["files"]:
        assert (arts / "environment" / f["name"]).read_bytes() == (repo.path / f["name"]).read_bytes()
        assert f["digest"] == path_digest(repo.path / f["name"])[0]


def test_python_platform_packages_and_hardware(tmp_path, repo):
    prov, _ = _capture(tmp_path, repo)
    env = prov["environment"]
    assert env["python"] == ".".join(map(str, sys.version_info[:3]))
    assert env["platform"] and env["packages"]["pyyaml"] == installed_packages()["pyyaml"]
    assert list(env["packages"]) == sorted(env["packages"])
    assert prov["hardware"]["cpu_count"] == os.cpu_count() and prov["hardware"]["memory_gb"] > 0


def test_environment_variables_are_never_recorded(tmp_path, repo, monkeypatch):
    monkeypatch.setenv("MY_DB_PASSWORD", "do-not-record-me")
    prov, _ = _capture(tmp_path, repo)
    assert "do-not-record-me" not in yaml.safe_dump(prov)


def test_container_image_and_digest_from_environment_variables(tmp_path, repo, monkeypatch):
    monkeypatch.setenv("SITEGEN_CONTAINER_IMAGE", "ghcr.io/org/train:1.2")
    monkeypatch.setenv("SITEGEN_CONTAINER_DIGEST", "sha256:" + "ab" * 32)
    prov, _ = _capture(tmp_path, repo)
    container = prov["environment"]["container"]
    assert container["image"] == "ghcr.io/org/train:1.2" and container["digest"] == "sha256:" + "ab" * 32
    prov, _ = _capture(tmp_path, repo, container=False)
    assert "container" not in prov["environment"]


def test_conda_environment_is_exported_without_its_local_prefix(tmp_path, repo, monkeypatch):
    fake = _script(tmp_path / "conda", "#!/bin/sh\nprintf 'name: ml\\ndependencies:\\n  - python=3.11\\n"
                                       "prefix: /home/alice/conda/envs/ml\\n'\n")
    monkeypatch.setenv("CONDA_PREFIX", "/home/alice/conda/envs/ml")
    monkeypatch.setenv("CONDA_DEFAULT_ENV", "ml")
    monkeypatch.setenv("CONDA_EXE", str(fake))
    prov, arts = _capture(tmp_path, repo)
    env = prov["environment"]
    assert env["conda"] == "artifacts/conda.yaml" and env["conda_env"] == "ml"
    exported = (arts / "conda.yaml").read_text()
    assert "python=3.11" in exported and "/home/alice" not in exported


def test_gpus_come_from_nvidia_smi_when_it_exists(tmp_path, repo, monkeypatch):
    bindir = tmp_path / "bin"
    bindir.mkdir()
    _script(bindir / "nvidia-smi", "#!/bin/sh\necho 'NVIDIA A100-SXM4-80GB, 81920 MiB'\n")
    monkeypatch.setenv("PATH", f"{bindir}{os.pathsep}{os.environ['PATH']}")
    prov, _ = _capture(tmp_path, repo)
    assert prov["hardware"]["gpus"] == ["NVIDIA A100-SXM4-80GB (81920 MiB)"]
    prov, _ = _capture(tmp_path, repo, gpus=False)
    assert "gpus" not in prov["hardware"]


def test_everything_off_captures_nothing(tmp_path, repo):
    prov, arts = _capture(tmp_path, repo, **{k: False for k in ("git", "diff", "command", "python", "platform",
                                                                 "packages", "hardware", "gpus", "conda",
                                                                 "env_files", "container")})
    assert prov == {} and not arts.exists()
    assert CaptureOptions.from_arg(False) == CaptureOptions.off()


def test_capture_options_from_a_mapping_name_unknown_parts():
    assert CaptureOptions.from_arg({"packages": False}).packages is False
    with pytest.raises(ValueError, match="unknown part.*pakages"):
        CaptureOptions.from_arg({"pakages": False})


def test_command_line_secrets_are_hidden(tmp_path):
    prov = capture_provenance(tmp_path / "a", CaptureOptions(packages=False),
                              command=["python", "train.py", "--api-key", "abc123"], entry_point=None)
    assert prov["command"] == "python train.py --api-key '[redacted]'"


def test_entry_point_of_a_command(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train.py").write_text("")
    (tmp_path / "run.sh").write_text("")
    assert entry_point_of(["python3", "-u", "train.py", "--x"]) == tmp_path / "train.py"
    assert entry_point_of(["./run.sh"]) == tmp_path / "run.sh"
    assert entry_point_of(["python", "-m", "pkg.train"]) is None
    assert entry_point_of(["echo", "hi"]) is None
