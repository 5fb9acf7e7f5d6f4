"""One git log pass: who added and last changed each file; what each commit changed; subdirectory
sources, shallow clones, sources outside git."""

from __future__ import annotations

import subprocess

from conftest import GitRepo

from sitegen.githistory import summarize
from sitegen.gitinfo import commit_url, parse_log, read_git, web_repo

RUN = "format: sitegen.run/1\nid: {rid}\nstatus: finished\nname: {name}\n"
MODEL = "format: sitegen.model/1\nname: M\naliases: {aliases}\n"
VERSION = "format: sitegen.model-version/1\nversion: {n}\n"


def make_history(repo: GitRepo, prefix: str = "") -> dict[str, str]:
    shas = {}
    repo.write(prefix + "runs/e/r1/run.yaml", RUN.format(rid="r1", name="one"))
    repo.write("outside.txt", "not in the source")
    shas["first"] = repo.commit("add r1")
    repo.git("config", "user.name", "Mallory & \"Eve\" Smith")
    repo.write(prefix + "runs/e/r2/run.yaml", RUN.format(rid="r2", name="two"))
    repo.write(prefix + "runs/e/r1/artifacts/a.txt", "x")
    repo.write(prefix + "models/m/model.yaml", MODEL.format(aliases="{champion: 1}"))
    repo.write(prefix + "models/m/versions/1.yaml", VERSION.format(n=1))
    shas["second"] = repo.commit("add r2 <img src=x onerror=alert(1)>")
    repo.git("config", "user.name", "Test Author")
    repo.write(prefix + "runs/e/r1/run.yaml", RUN.format(rid="r1", name="one again"))
    repo.write(prefix + "models/m/versions/2.yaml", VERSION.format(n=2))
    repo.write(prefix + "models/m/model.yaml", MODEL.format(aliases="{champion: 2, challenger: 1}"))
    (repo.path / prefix / "runs/e/r2/run.yaml").unlink()
    shas["third"] = repo.commit("change r1, remove r2, v2 champion")
    return shas


def test_added_and_changed_per_file(git_repo):
    shas = make_history(git_repo)
    info = read_git(git_repo.path)
    assert info is not None and not info.shallow and info.prefix == ""
    r1 = info.file("runs/e/r1/run.yaml")
    assert r1.added.sha == shas["first"] and r1.changed.sha == shas["third"]
    assert r1.added.author == "Test Author" and r1.added.date.year == 2026
    assert info.file("models/m/versions/1.yaml").added.author == "Mallory & \"Eve\" Smith"
    assert info.file("runs/e/r2/run.yaml") is None  # removed
    assert [c.commit.sha for c in info.commits] == [shas["third"], shas["second"], shas["first"]]


def test_summary_of_each_commit(git_repo):
    shas = make_history(git_repo)
    first, second, third = reversed(summarize(read_git(git_repo.path)))
    assert first.runs == {"added": ["e/r1"]} and first.other == 1
    assert second.runs == {"added": ["e/r2"], "changed": ["e/r1"]}
    assert second.versions == {"added": [("m", 1)]}
    assert [(a.alias, a.old, a.new) for a in second.aliases] == [("champion", None, 1)]
    assert third.runs == {"changed": ["e/r1"], "removed": ["e/r2"]}
    assert sorted((a.alias, a.old, a.new) for a in third.aliases) == [("challenger", None, 1), ("champion", 1, 2)]
    assert third.commit.sha == shas["third"]


def test_source_in_a_subdirectory(git_repo):
    make_history(git_repo, prefix="store/")
    info = read_git(git_repo.path / "store")
    assert info.prefix == "store/"
    assert info.file("runs/e/r1/run.yaml") is not None and info.file("outside.txt") is None
    assert all(not path.startswith("store/") for c in info.commits for _, path in c.changes)
    (*_, first) = summarize(info)
    assert first.other == 0  # outside.txt is outside the source


def test_shallow_clone_and_outside_git(git_repo, tmp_path):
    make_history(git_repo)
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{git_repo.path}", str(clone)], check=True)
    info = read_git(clone)
    assert info.shallow and len(info.commits) == 1 and info.commits[0].boundary
    hist = info.file("runs/e/r1/run.yaml")
    assert hist.added is None and hist.before_shallow and hist.changed is not None
    plain = tmp_path / "plain"
    plain.mkdir()
    assert read_git(plain) is None


def test_parse_log_ignores_hostile_subjects():
    sha = "a" * 40
    data = (f"\x1e{sha}\x1f\x1f2026-01-01T00:00:00+00:00\x1fme\x1fM\0\nM\0runs/e/r/run.yaml\0A\0datasets/d.yaml\0"
            f"\n\x1e{'b' * 40}\x1f{sha}\x1f2026-01-02T00:00:00Z\x1fyou\x1fsubject with \x1f inside\0").encode()
    first, second = parse_log(data)
    assert first.changes == [("M", "runs/e/r/run.yaml"), ("A", "datasets/d.yaml")]
    assert first.commit.subject == "M"
    assert second.commit.subject == "subject with \x1f inside" and second.commit.parents == (sha,)


def test_commit_urls():
    assert web_repo("git@github.com:org/proj.git") == "https://github.com/org/proj"
    assert commit_url("https://gitlab.com/g/p.git", "abc123") == "https://gitlab.com/g/p/-/commit/abc123"
    assert commit_url("https://github.com/o/p", "abc123") == "https://github.com/o/p/commit/abc123"
    assert commit_url("https://github.com/o/p", "x\"><script>") is None
    assert web_repo("javascript:alert(1)") is None
