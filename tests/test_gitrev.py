"""--rev: a source as of a git revision, extracted without touching the working tree or the index."""

from __future__ import annotations

import pytest

from sitegen.build import build
from sitegen.diagnostics import SitegenError
from sitegen.gitrev import checkout, repo_root, resolve

RUN = """format: sitegen.run/1
id: {id}
name: {name}
status: finished
start_time: 2026-01-0{day}T10:00:00Z
params: {{lr: {lr}}}
metrics: {{acc: {acc}}}
"""


def write_run(repo, exp, run_id, *, name="r", lr=0.1, acc=0.5, day=1, root="proj"):
    repo.write(f"{root}/runs/{exp}/{run_id}/run.yaml",
               RUN.format(id=run_id, name=name, lr=lr, acc=acc, day=day))


def test_checkout_of_a_subdirectory_at_an_old_revision(git_repo):
    write_run(git_repo, "mnist", "run-a", name="first")
    git_repo.write("other/file.txt", "not part of the source\n")
    first = git_repo.commit("first run")
    write_run(git_repo, "mnist", "run-b", name="second")
    git_repo.commit("second run")
    write_run(git_repo, "mnist", "run-c", name="uncommitted")  # working tree only
    status_before = git_repo.git("status", "--porcelain")

    with checkout(git_repo.path / "proj", first) as tree:
        assert sorted(p.name for p in (tree / "runs" / "mnist").iterdir()) == ["run-a"]
        assert not (tree / "other").exists()
        assert "first" in (tree / "runs/mnist/run-a/run.yaml").read_text()
    assert not tree.exists()  # the temporary copy is removed
    assert git_repo.git("status", "--porcelain") == status_before
    assert (git_repo.path / "proj/runs/mnist/run-c/run.yaml").is_file()


def test_resolve_names_the_commit_and_its_date(git_repo):
    write_run(git_repo, "mnist", "run-a")
    sha = git_repo.commit("first", date="2026-03-04T05:06:07+00:00")
    git_repo.git("tag", "v1.0")
    rev = resolve(git_repo.path, "v1.0")
    assert rev.commit == sha
    assert rev.time.startswith("2026-03-04T05:06:07")
    assert rev.subject == "first"
    assert repo_root(git_repo.path / "proj") == (git_repo.path.resolve(), "proj")


def test_unknown_revision_and_missing_subdirectory_are_clear_errors(git_repo, tmp_path):
    write_run(git_repo, "mnist", "run-a")
    first = git_repo.commit("first")
    git_repo.write("late/runs/x/r1/run.yaml", "x: 1\n")
    git_repo.commit("second")
    with pytest.raises(SitegenError, match="unknown git revision 'no-such-tag'"):
        resolve(git_repo.path, "no-such-tag")
    with pytest.raises(SitegenError, match="invalid git revision"):
        resolve(git_repo.path, "--output=/tmp/x")
    with pytest.raises(SitegenError, match="late/ does not exist at revision"):
        with checkout(git_repo.path / "late", first):
            pass
    plain = tmp_path / "not-a-repo"
    plain.mkdir()
    with pytest.raises(SitegenError, match="not inside a git repository"):
        resolve(plain, "HEAD")


def test_build_with_rev_shows_the_old_state(git_repo, tmp_path):
    write_run(git_repo, "mnist", "run-a", name="old-name")
    first = git_repo.commit("first")
    write_run(git_repo, "mnist", "run-a", name="new-name")
    write_run(git_repo, "mnist", "run-b", name="later")
    git_repo.commit("second")
    out = tmp_path / "site"
    result = build(git_repo.path / "proj", out, rev=first, search=False)
    assert result.output == out
    page = (out / "runs/mnist/run-a/index.html").read_text()
    assert "old-name" in page and "new-name" not in page
    assert not (out / "runs/mnist/run-b").exists()
    assert git_repo.git("status", "--porcelain") == ""
