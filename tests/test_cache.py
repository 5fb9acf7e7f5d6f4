"""Incremental builds: the cache and the manifest make rebuilds write and render only what changed,
and an incremental build always equals a cold build of the same source."""

import json
import os
import shutil
from pathlib import Path

import pytest
from conftest import tree_diff
from sources import write_run, write_yaml

import sitegen.pages.run as run_pages
from sitegen import output
from sitegen.build import build

SAMPLE = Path(__file__).resolve().parent.parent / "sample_runs"


@pytest.fixture
def source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    shutil.copytree(SAMPLE, src)
    return src


def count_renders(monkeypatch) -> list[str]:
    rendered: list[str] = []
    real = run_pages.run_page

    def counting(run, project):
        rendered.append(run.uid)
        return real(run, project)

    monkeypatch.setattr(run_pages, "run_page", counting)
    return rendered


def count_writes(monkeypatch) -> list[int]:
    written: list[int] = []
    real = output.SiteWriter.publish

    def publish(self):
        written.append(self.written)
        return real(self)

    monkeypatch.setattr(output.SiteWriter, "publish", publish)
    return written


def test_noop_rebuild_renders_and_writes_nothing(source, tmp_path, monkeypatch):
    first = build(source, tmp_path / "site", jobs=1)
    rendered, written = count_renders(monkeypatch), count_writes(monkeypatch)
    again = build(source, tmp_path / "site", jobs=1)
    # nothing changed: the build is not even started, and it reports what the last one did
    assert rendered == [] and written == [] and again.written == 0
    assert (again.pages, again.files, [str(d) for d in again.diagnostics]) == (
        first.pages, first.files, [str(d) for d in first.diagnostics])


def test_unchanged_source_with_a_damaged_site_is_rebuilt(source, tmp_path):
    site = tmp_path / "site"
    build(source, site, jobs=1)
    (site / "index.html").unlink()
    again = build(source, site, jobs=1)
    assert again.written > 0 and (site / "index.html").is_file()


def test_an_edit_to_the_theme_or_the_config_is_not_missed(source, tmp_path):
    site = tmp_path / "site"
    build(source, site, jobs=1)
    config = source / "sitegen.yaml"
    config.write_text(config.read_text() + "\ndescription: Added *later*.\n")
    build(source, site, jobs=1)
    assert "Added <em>later</em>" in (site / "index.html").read_text()


def test_one_changed_run_is_the_only_run_rendered_again(source, tmp_path, monkeypatch):
    build(source, tmp_path / "site", jobs=1)
    run_yaml = sorted((source / "runs" / "churn").glob("*/run.yaml"))[3]
    run_yaml.write_text(run_yaml.read_text().replace("user: ", "user: someone-", 1))
    rendered = count_renders(monkeypatch)
    build(source, tmp_path / "site", jobs=1)
    assert rendered == [f"churn/{run_yaml.parent.name}"]


def test_incremental_build_equals_a_cold_build(source, tmp_path):
    site = tmp_path / "site"
    build(source, site)
    changed = sorted((source / "runs" / "churn").glob("*/run.yaml"))[2]
    changed.write_text(changed.read_text().replace("name: ", "name: renamed-", 1))
    shutil.rmtree(sorted((source / "runs" / "cifar10-resnet").glob("*/run.yaml"))[4].parent)
    config = source / "sitegen.yaml"
    config.write_text(config.read_text().replace("title: ", "title: New ", 1))
    build(source, site)
    build(source, tmp_path / "cold", cache=False)
    assert tree_diff(site, tmp_path / "cold") == []


def test_cache_survives_being_deleted_or_corrupted(source, tmp_path):
    site = tmp_path / "site"
    build(source, site)
    cache_dir = tmp_path / ".site.cache"
    assert (cache_dir / "build.json").is_file()
    (cache_dir / "build.json").write_text("{not json")
    build(source, site)
    shutil.rmtree(cache_dir)
    build(source, site)
    build(source, tmp_path / "cold", cache=False)
    assert tree_diff(site, tmp_path / "cold") == []


def test_output_is_the_same_for_any_number_of_jobs(source, tmp_path):
    build(source, tmp_path / "one", jobs=1, cache=False)
    build(source, tmp_path / "two", jobs=2, cache=False)
    assert tree_diff(tmp_path / "one", tmp_path / "two") == []


def test_tree_digest_parts_are_the_digests_of_each_folder(source):
    from sitegen.cache import tree_digest

    runs = source / "runs"
    parts: dict[str, str] = {}
    whole = tree_digest(runs, parts, depth=2)
    folders = sorted(p for p in runs.glob("*/*") if p.is_dir())
    assert sorted(parts) == [f"{p.parent.name}/{p.name}" for p in folders]
    assert all(parts[f"{p.parent.name}/{p.name}"] == tree_digest(p) for p in folders)
    (folders[0] / "notes.txt").write_text("changed")
    again: dict[str, str] = {}
    assert tree_digest(runs, again, depth=2) != whole
    assert [k for k in parts if parts[k] != again[k]] == [f"{folders[0].parent.name}/{folders[0].name}"]


def test_a_cached_run_keeps_its_artifacts_and_their_warnings(source, tmp_path):
    """The artifact listing (and a skipped symlink's warning) come from the cache on a rebuild."""
    run_dir = next(p for p in sorted((source / "runs").glob("*/*")) if (p / "artifacts").is_dir()
                   and p.name != "20261110-094409-d5a861")  # not the run edited below: this one comes from the cache
    (run_dir / "artifacts" / "elsewhere").symlink_to(tmp_path)
    out = tmp_path / "site"
    first = build(source, out)
    (source / "runs" / "churn" / "20261110-094409-d5a861" / "run.yaml").write_text(
        (source / "runs" / "churn" / "20261110-094409-d5a861" / "run.yaml").read_text() + "\n# edited\n")
    second = build(source, out)
    warned = [d for d in second.diagnostics if "artifacts/elsewhere" in d.path]
    assert warned and warned == [d for d in first.diagnostics if "artifacts/elsewhere" in d.path]
    cold = build(source, tmp_path / "cold", cache=False)
    assert tree_diff(out, tmp_path / "cold") == []
    assert sorted(map(str, second.diagnostics)) == sorted(map(str, cold.diagnostics))


def _settled(monkeypatch) -> None:
    """Let the memo remember files written a moment ago (by default only those untouched for two seconds,
    and a test cannot set a change time back)."""
    import time

    from sitegen.cache import DigestMemo

    monkeypatch.setattr(DigestMemo, "RACY_NS", 0)
    time.sleep(0.05)


def _memo_pass(runs: Path, memo_file: Path, monkeypatch) -> tuple[str, list[str]]:
    """tree_digest of ``runs`` with a DigestMemo, and the files it had to read; the memo is saved."""
    from sitegen import cache

    read: list[str] = []
    real = cache.file_digest

    def counting(path, size=None):
        read.append(Path(path).name)
        return real(path, size)

    monkeypatch.setattr(cache, "file_digest", counting)
    memo = cache.DigestMemo(memo_file)
    digest = cache.tree_digest(runs, {}, depth=2, memo=memo)
    memo.save()
    return digest, read


def test_digest_memo_reads_only_files_whose_identity_changed(source, tmp_path, monkeypatch):
    from sitegen.cache import DigestMemo, tree_digest

    runs = source / "runs"
    files = sorted(p for p in runs.rglob("*") if p.is_file() and not p.is_symlink())
    memo_file = tmp_path / "cache" / "digests.json"
    plain = tree_digest(runs, {}, depth=2)
    # Files changed in the last two seconds are digested but not remembered (coarse file times).
    first, read = _memo_pass(runs, memo_file, monkeypatch)
    assert first == plain and len(read) == len(files)
    assert DigestMemo(memo_file).known == {}
    _settled(monkeypatch)
    _memo_pass(runs, memo_file, monkeypatch)
    again, read = _memo_pass(runs, memo_file, monkeypatch)
    assert again == plain and read == []
    # An edit that keeps the size and sets the modification time back is still seen: the change time moved.
    target = next(p for p in files if p.name == "run.yaml")
    st = target.stat()
    text = target.read_bytes()
    target.write_bytes(text.replace(b"a", b"b", 1) if b"a" in text else text[:-1] + b"!")
    import os
    import time

    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert target.stat().st_size == st.st_size and target.stat().st_mtime_ns == st.st_mtime_ns
    time.sleep(0.05)
    edited, read = _memo_pass(runs, memo_file, monkeypatch)
    assert read == ["run.yaml"]
    assert edited == tree_digest(runs, {}, depth=2) != plain


def test_digest_memo_forgets_removed_files_and_survives_corruption(source, tmp_path, monkeypatch):
    from sitegen.cache import DigestMemo, tree_digest

    runs = source / "runs"
    _settled(monkeypatch)
    memo_file = tmp_path / "digests.json"
    _memo_pass(runs, memo_file, monkeypatch)
    gone = next(p for p in sorted(runs.glob("*/*")) if p.is_dir())
    shutil.rmtree(gone)
    digest, read = _memo_pass(runs, memo_file, monkeypatch)
    assert read == [] and digest == tree_digest(runs, {}, depth=2)
    assert not any(str(gone) in path for path in DigestMemo(memo_file).known)
    memo_file.write_text("{not json")
    digest, read = _memo_pass(runs, memo_file, monkeypatch)
    assert digest == tree_digest(runs, {}, depth=2) and read  # read again, same result


def test_a_rebuild_keeps_the_cache_lines_of_unchanged_runs_and_a_damaged_line_means_a_cold_build(source, tmp_path,
                                                                                               monkeypatch):
    site, cache = tmp_path / "site", tmp_path / ".site.cache" / "build.json"
    build(source, site, search=False)
    before = cache.read_text().splitlines()
    run_yaml = sorted((source / "runs").glob("*/*/run.yaml"))[0]
    uid = f"{run_yaml.parent.parent.name}/{run_yaml.parent.name}"
    text = run_yaml.read_text()
    assert "\nname: " in text
    run_yaml.write_text(text.replace("\nname: ", "\nname: Edited ", 1))
    build(source, site, search=False)
    after = cache.read_text().splitlines()
    changed = [json.loads(line)[:2] for line in sorted(set(after) - set(before))]
    changed = [(kind, uid) for kind, uid in changed if kind != "markup"]  # rendered Markdown, see below

    def records(lines: list[str]) -> int:
        return sum(1 for line in lines if line.startswith(('["run"', '["page"')))

    assert records(after) == records(before) and records(after) > 0
    # the edited run's record, and the page records of it and of the runs whose pages show its name
    assert [u for kind, u in changed if kind == "run"] == [uid]
    pages = [u for kind, u in changed if kind == "page"]
    assert uid in pages and len(pages) < (len(before) - 1) / 4
    # a torn record line: the whole cache is dropped, every run is rendered again, and the site is unchanged
    cache.write_text(cache.read_text()[:-40])
    (cache.parent / "fastpath.json").unlink()  # or the build would see nothing changed and stop there
    rendered = count_renders(monkeypatch)
    build(source, site, search=False, jobs=1)
    assert len(rendered) == len(list((source / "runs").glob("*/*/run.yaml")))
    build(source, tmp_path / "cold", cache=False, search=False)
    assert tree_diff(site, tmp_path / "cold") == []


def test_a_run_taken_from_the_cache_is_redacted_as_when_it_was_read(tmp_path):
    src, site = tmp_path / "src", tmp_path / "site"
    write_yaml(src / "sitegen.yaml", {"title": "Secrets", "card": {"required_sections": []}})
    write_run(src, "exp", "secret-run", name="Secret", params={"lr": 0.1, "api_token": "hunter2-hunter2"},
              provenance={"code": {"repo": "https://alice:pa55word@git.example.org/r.git"}})
    write_run(src, "exp", "plain-run", name="Plain", params={"lr": 0.2}, tags={"team": "a"})
    build(src, site, search=False)
    records = {rec[1]: rec[2] for rec in map(json.loads, (tmp_path / ".site.cache" / "build.json").read_text()
                                               .splitlines()[1:]) if rec[0] == "run"}
    assert records["exp/secret-run"]["clean"] is False and records["exp/plain-run"]["clean"] is True
    write_run(src, "exp", "plain-run", name="Plain", params={"lr": 0.3}, tags={"team": "a"})
    build(src, site, search=False)  # the secret run comes from the cache this time
    page = (site / "runs" / "exp" / "secret-run" / "index.html").read_text()
    assert "hunter2" not in page and "pa55word" not in page and "REDACTED" in page.upper()
    build(src, tmp_path / "cold", cache=False, search=False)
    assert tree_diff(site, tmp_path / "cold") == []


def test_a_change_to_a_runs_lineage_drawing_renders_the_run_again(source, tmp_path, monkeypatch):
    """The key of a run page holds what its lineage drawing is made from (not the drawing): a model renamed
    relabels the drawing on its source runs' pages, so those are rendered again, and only those."""
    site = tmp_path / "site"
    build(source, site, jobs=1)
    model = source / "models" / "churn" / "model.yaml"
    model.write_text(model.read_text().replace("name: Churn classifier", "name: Churn scorer", 1))
    rendered = count_renders(monkeypatch)
    build(source, site, jobs=1)
    sources = {f"{p.parent.name}/{p.name}" for p in (site / "runs").glob("*/*")
               if "Churn scorer v" in (p / "index.html").read_text().partition('id="lineage-run"')[2]}
    assert sources and set(rendered) == sources
    build(source, tmp_path / "cold", cache=False)
    assert tree_diff(site, tmp_path / "cold") == []


_COUNT_RENDERS = """
import sys
from pathlib import Path
import sitegen.build as b
rendered = []
real = b.run_pages.run_page
b.run_pages.run_page = lambda run, project: (rendered.append(run.uid), real(run, project))[1]
b.build(Path(sys.argv[1]), Path(sys.argv[2]), jobs=1, search=False)
print(len(rendered))
"""


def test_run_page_keys_do_not_depend_on_the_process(source, tmp_path):
    """Keys made in another process (another string hash seed, so other set orders) still match: a
    rebuild after one edit renders that run alone."""
    import os
    import subprocess
    import sys

    def build_in_process(seed: int) -> int:
        proc = subprocess.run([sys.executable, "-c", _COUNT_RENDERS, str(source), str(tmp_path / "site")],
                              capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": str(seed)})
        assert proc.returncode == 0, proc.stderr
        return int(proc.stdout.split()[-1])

    assert build_in_process(1) == len(list((source / "runs").glob("*/*/run.yaml")))
    run_yaml = sorted((source / "runs" / "churn").glob("*/run.yaml"))[3]
    run_yaml.write_text(run_yaml.read_text().replace("user: ", "user: someone-", 1))
    assert build_in_process(2) == 1


def test_rendered_markdown_is_kept_for_the_next_build_and_a_library_upgrade_makes_it_cold(source, tmp_path,
                                                                                         monkeypatch):
    from sitegen import markup

    site, cache = tmp_path / "site", tmp_path / ".site.cache" / "build.json"
    build(source, site, search=False)
    kept = {uid: html for kind, uid, html in map(json.loads, cache.read_text().splitlines()[1:])
            if kind == "markup"}
    assert kept and all(isinstance(html, str) for html in kept.values())
    converted: list[str] = []
    real = markup._converter

    def converter(level):
        converted.append(level)
        return real(level)

    monkeypatch.setattr(markup, "_converter", converter)
    run_yaml = sorted((source / "runs" / "churn").glob("*/run.yaml"))[3]
    run_yaml.write_text(run_yaml.read_text().replace("user: ", "user: someone-", 1))
    build(source, site, search=False, jobs=1)
    assert len(converted) <= 2  # the changed run's own notes at most: model cards and the rest were kept
    # another Markdown version is another scope: nothing is reused
    monkeypatch.setattr(markup.md, "__version__", "0.0.0-test")
    run_yaml.write_text(run_yaml.read_text().replace("user: someone-", "user: other-", 1))
    converted.clear()
    build(source, site, search=False, jobs=1)
    assert len(converted) > 2
    build(source, tmp_path / "cold", cache=False, search=False)
    assert tree_diff(site, tmp_path / "cold") == []


def test_lineage_drawings_are_kept_for_the_next_build(source, tmp_path, monkeypatch):
    from sitegen import lineage_svg

    site = tmp_path / "site"
    build(source, site, search=False, jobs=2)  # what worker processes draw (run pages) is kept too
    laid_out: list[int] = []
    real = lineage_svg.layout

    def layout(graph):
        laid_out.append(graph.number_of_nodes())
        return real(graph)

    monkeypatch.setattr(lineage_svg, "layout", layout)
    run_yaml = sorted((source / "runs" / "churn").glob("*/run.yaml"))[3]
    run_yaml.write_text(run_yaml.read_text().replace("user: ", "user: someone-", 1))
    build(source, site, search=False, jobs=1)
    assert laid_out == []  # every drawing (lineage page, model versions, datasets, the run) was kept
    model = source / "models" / "churn" / "model.yaml"
    model.write_text(model.read_text().replace("name: Churn classifier", "name: Churn scorer", 1))
    build(source, site, search=False, jobs=1)
    assert laid_out  # relabelled: drawn again
    build(source, tmp_path / "cold", cache=False, search=False)
    assert tree_diff(site, tmp_path / "cold") == []


def test_model_card_front_matter_is_kept_for_the_next_build(source, tmp_path, monkeypatch):
    from sitegen.export import hf_card

    site, log = tmp_path / "site", tmp_path / "dumped"
    build(source, site)  # cards are written by a forked export process: what it made is sent back
    real = hf_card.yaml.dump

    def dump(data, *args, **kwargs):
        with log.open("a") as out:  # a file: the export process is another process
            out.write("dump\n")
        return real(data, *args, **kwargs)

    monkeypatch.setattr(hf_card.yaml, "dump", dump)
    run_yaml = sorted((source / "runs" / "cifar10-resnet").glob("*/run.yaml"))[0]
    run_yaml.write_text(run_yaml.read_text().replace("user: ", "user: someone-", 1))
    build(source, site)
    assert not log.exists()
    model = source / "models" / "churn" / "model.yaml"
    model.write_text(model.read_text().replace("name: Churn classifier", "name: Churn scorer", 1))
    build(source, site)
    assert log.read_text().count("dump") > 0  # the churn cards' front matter changed
    build(source, tmp_path / "cold", cache=False)
    assert tree_diff(site, tmp_path / "cold") == []


def test_a_memo_record_that_is_not_text_drops_the_whole_cache(tmp_path):
    from sitegen.cache import BuildCache

    path = tmp_path / "build.json"
    path.write_text(json.dumps({"format": "sitegen.cache/2", "scope": "s"}) + "\n"
                    + json.dumps(["markup", "k1", "<p>ok</p>"]) + "\n")
    assert BuildCache(path, "s").memos["markup"].known == {"k1": "<p>ok</p>"}
    path.write_text(path.read_text() + json.dumps(["svg", "k2", {"not": "text"}]) + "\n")
    cache = BuildCache(path, "s")
    assert cache.memos["markup"].known == {} and cache.runs == {} and cache.pages == {}


def test_data_digests_leave_out_the_run_yaml_alone(source):
    from sitegen.cache import run_folder_digests, tree_digest

    runs = source / "runs"
    parts: dict[str, str] = {}
    data: dict[str, str] = {}
    tree_digest(runs, parts, depth=2, data_parts=data)
    folder = sorted(p for p in runs.glob("*/*") if (p / "metrics.parquet").is_file())[0]
    name = f"{folder.parent.name}/{folder.name}"
    assert run_folder_digests(folder) == (parts[name], data[name])
    (folder / "run.yaml").write_text((folder / "run.yaml").read_text() + "\n# edited\n")
    edited = run_folder_digests(folder)
    assert edited[0] != parts[name] and edited[1] == data[name]  # the YAML is not the run's data
    (folder / "metrics.parquet").write_bytes((folder / "metrics.parquet").read_bytes() + b"\0")
    assert run_folder_digests(folder)[1] != data[name]


def history_reads(monkeypatch) -> list[str]:
    import sitegen.store.metrics as metrics

    reads: list[str] = []
    real = metrics.read_history

    def counting(run_dir, relroot):
        reads.append(relroot)
        return real(run_dir, relroot)

    monkeypatch.setattr(metrics, "read_history", counting)
    return reads


def test_a_yaml_edit_reads_no_metric_history_and_keeps_the_run_data_files(source, tmp_path, monkeypatch):
    site = tmp_path / "site"
    build(source, site, jobs=1)
    folder = sorted(p.parent for p in (source / "runs" / "churn").glob("*/metrics.parquet"))[1]
    files = {name: (site / "runs" / "churn" / folder.name / name).read_bytes() for name in ("data.js", "metrics.csv")}
    run_yaml = folder / "run.yaml"
    run_yaml.write_text(run_yaml.read_text().replace("user: ", "user: someone-", 1))
    reads, rendered = history_reads(monkeypatch), count_renders(monkeypatch)
    build(source, site, jobs=1)
    assert rendered == [f"churn/{folder.name}"] and reads == []  # the page again, its history not read
    assert {name: (site / "runs" / "churn" / folder.name / name).read_bytes() for name in files} == files
    assert "someone-" in (site / "runs" / "churn" / folder.name / "index.html").read_text()
    build(source, tmp_path / "cold", cache=False)
    assert tree_diff(site, tmp_path / "cold") == []


def test_a_changed_metric_history_is_read_again(source, tmp_path, monkeypatch):
    import pyarrow.parquet as pq

    site = tmp_path / "site"
    build(source, site, jobs=1)
    folder = sorted(p.parent for p in (source / "runs" / "churn").glob("*/metrics.parquet"))[1]
    table = pq.read_table(folder / "metrics.parquet")
    pq.write_table(table.slice(0, table.num_rows // 2), folder / "metrics.parquet")
    reads = history_reads(monkeypatch)
    build(source, site, jobs=1)
    assert reads.count(f"runs/churn/{folder.name}") >= 1
    build(source, tmp_path / "cold", cache=False)
    assert tree_diff(site, tmp_path / "cold") == []


def test_history_problems_are_still_reported_when_the_history_is_not_read_again(tmp_path, monkeypatch):
    src = tmp_path / "src"
    write_run(src, "exp", "r1", metrics={"loss": 0.5})
    journal = src / "runs" / "exp" / "r1" / "metrics.journal.jsonl"
    journal.write_text('{"key": "loss", "step": 0, "value": 1.0}\nnot json\n{"key": "loss", "step": 1, "value": 0.5}\n')
    first = build(src, tmp_path / "site", jobs=1)
    problems = sorted(str(d) for d in first.diagnostics if "journal" in d.path)
    assert problems
    run_yaml = src / "runs" / "exp" / "r1" / "run.yaml"
    run_yaml.write_text(run_yaml.read_text() + "\nnotes: edited\n")
    reads = history_reads(monkeypatch)
    again = build(src, tmp_path / "site", jobs=1)
    assert reads == [] and sorted(str(d) for d in again.diagnostics if "journal" in d.path) == problems


def test_templates_compiled_by_another_sitegen_are_not_run(source, tmp_path, monkeypatch):
    """Jinja's bytecode cache checks a template's source, not the environment it was compiled for: an older
    sitegen's compiled templates (here: compiled with a finalize this one has not) must not be loaded."""
    import sitegen.build as build_module
    import sitegen.cache as cache_module
    import sitegen.render as render_module

    machine = tmp_path / "machine-cache"
    monkeypatch.setenv("SITEGEN_CACHE_DIR", str(machine))
    real_make, real_digest = render_module.make_environment, cache_module.code_digest

    def older_environment(theme, bytecode_dir=None):
        env = real_make(theme, bytecode_dir)
        env.finalize = lambda value: value  # compiled in as environment.finalize(...)
        return env

    monkeypatch.setattr(build_module, "make_environment", older_environment)
    monkeypatch.setattr(cache_module, "code_digest", lambda: "an older sitegen")
    site = tmp_path / "site"
    build(source, site, jobs=1)
    older = list((machine / "templates").iterdir())
    assert len(older) == 1 and list(older[0].iterdir())
    monkeypatch.setattr(build_module, "make_environment", real_make)
    monkeypatch.setattr(cache_module, "code_digest", real_digest)
    run_yaml = sorted((source / "runs" / "churn").glob("*/run.yaml"))[3]
    run_yaml.write_text(run_yaml.read_text().replace("user: ", "user: someone-", 1))
    build(source, site, jobs=2)  # the parent renders beside a worker: templates from the cache, if any
    assert len(list((machine / "templates").iterdir())) == 2  # each sitegen its own folder
    build(source, tmp_path / "cold", cache=False)
    assert tree_diff(site, tmp_path / "cold") == []


def test_compiled_templates_are_kept_for_the_machine_and_loaded_by_the_next_build(source, tmp_path, monkeypatch):
    import jinja2

    machine = tmp_path / "machine-cache"
    monkeypatch.setenv("SITEGEN_CACHE_DIR", str(machine))
    (tmp_path / ".a.cache" / "templates" / "old-scope").mkdir(parents=True)  # where older sitegens kept them
    build(source, tmp_path / "a", jobs=1)
    assert not (tmp_path / ".a.cache" / "templates").exists()
    (folder,) = (machine / "templates").iterdir()
    assert len(list(folder.iterdir())) >= 5
    compiled = []
    real_compile = jinja2.Environment.compile

    def counting(self, source, name=None, filename=None, raw=False, defer_init=False):
        compiled.append(name)
        return real_compile(self, source, name, filename, raw, defer_init)

    monkeypatch.setattr(jinja2.Environment, "compile", counting)
    build(source, tmp_path / "b", cache=False)  # a new site, without a build cache
    assert compiled == []  # every template from the machine's cache
    assert tree_diff(tmp_path / "a", tmp_path / "b") == []


def test_the_machine_cache_keeps_the_most_recently_used_other_sitegens_and_is_optional(tmp_path, monkeypatch):
    from sitegen.cache import KEPT_TEMPLATE_SCOPES, template_cache

    monkeypatch.setenv("SITEGEN_CACHE_DIR", str(tmp_path / "machine"))
    root = tmp_path / "machine" / "templates"
    for i in range(KEPT_TEMPLATE_SCOPES + 3):
        (root / f"other-{i:02d}").mkdir(parents=True)
        os.utime(root / f"other-{i:02d}", (1_000_000 + i, 1_000_000 + i))
    mine = template_cache("jinja2 test")
    assert mine is not None and mine.parent == root
    assert sorted(p.name for p in root.iterdir() if p != mine) == [
        f"other-{i:02d}" for i in range(3, KEPT_TEMPLATE_SCOPES + 3)]  # the three least recently used went
    assert template_cache("jinja2 test") == mine
    (tmp_path / "a-file").write_text("not a folder")
    monkeypatch.setenv("SITEGEN_CACHE_DIR", str(tmp_path / "a-file"))
    assert template_cache("jinja2 test") is None
    shared = tmp_path / "shared"
    (shared / "templates").mkdir(parents=True)
    (shared / "templates").chmod(0o777)  # others could put code there: not used
    monkeypatch.setenv("SITEGEN_CACHE_DIR", str(shared))
    assert template_cache("jinja2 test") is None
    (shared / "templates").chmod(0o755)
    assert template_cache("jinja2 test") is not None
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "linked" / "templates").mkdir(parents=True)
    mine.rename(tmp_path / "elsewhere" / mine.name)
    (tmp_path / "linked" / "templates" / mine.name).symlink_to(tmp_path / "elsewhere" / mine.name)
    monkeypatch.setenv("SITEGEN_CACHE_DIR", str(tmp_path / "linked"))
    assert template_cache("jinja2 test") is None  # a link, wherever it points
    old_umask = os.umask(0o002)  # a user-private-group system: new folders are group-writable
    try:
        monkeypatch.setenv("SITEGEN_CACHE_DIR", str(tmp_path / "umask-002"))
        made = template_cache("jinja2 test")
    finally:
        os.umask(old_umask)
    assert made is not None and (made.stat().st_mode & 0o777) == 0o700


def _log_calls(monkeypatch, log: Path) -> None:
    """Record each experiment's summaries and each model-card pass made, in any process (exports are
    written by forked processes)."""
    import sitegen.build as build_module

    real_script, real_cards = build_module.summaries_export.script, build_module.hf_card.files

    def script(slug, project):
        with open(log, "a") as fh:
            fh.write(f"summaries {slug}\n")
        return real_script(slug, project)

    def cards(project, only=None):
        with open(log, "a") as fh:
            fh.write(f"model-cards {only}\n")
        return real_cards(project, only)

    real_version = build_module.prov_export.version_document

    def version_document(project, slug, version):
        with open(log, "a") as fh:
            fh.write(f"model-prov {slug} {version.version}\n")
        return real_version(project, slug, version)

    monkeypatch.setattr(build_module.summaries_export, "script", script)
    monkeypatch.setattr(build_module.hf_card, "files", cards)
    monkeypatch.setattr(build_module.prov_export, "version_document", version_document)


def test_exports_made_from_unchanged_inputs_are_carried_over(source, tmp_path, monkeypatch):
    """After one run changed, only its experiment's summaries are made again; a model's cards and PROV-JSON are
    made again when its folder, a dataset or one of its versions' source runs changed; a file gone from the site is
    made again. Each rebuild equals a cold build."""
    site, log = tmp_path / "site", tmp_path / "made.log"
    build(source, site, jobs=2)
    _log_calls(monkeypatch, log)

    def rebuild() -> list[str]:
        log.unlink(missing_ok=True)
        build(source, site, jobs=2)
        made = sorted(log.read_text().split("\n")[:-1]) if log.exists() else []
        provs = {line.split()[1] for line in made if line.startswith("model-prov ")}
        made = [line for line in made if not line.startswith("model-prov ")]
        assert provs == {line.split()[1] for line in made if line.startswith("model-cards ")}  # kept alike
        shutil.rmtree(tmp_path / "cold", ignore_errors=True)
        build(source, tmp_path / "cold", cache=False)
        assert tree_diff(site, tmp_path / "cold") == []
        return made

    sources = {line.split(": ", 1)[1].strip(): path.parent.parent.name
               for path in (source / "models").glob("*/versions/*.yaml")
               for line in path.read_text().splitlines() if line.startswith("source_run: ")}
    plain = next(p for p in sorted((source / "runs" / "churn").glob("*/run.yaml"))
                 if f"churn/{p.parent.name}" not in sources)
    plain.write_text(plain.read_text().replace("user: ", "user: someone-", 1))
    assert rebuild() == ["summaries churn"]
    used = sorted(sources)[0]
    (source / "runs" / used / "run.yaml").write_text(
        (source / "runs" / used / "run.yaml").read_text().replace("user: ", "user: another-", 1))
    assert rebuild() == [f"model-cards {sources[used]}", f"summaries {used.split('/')[0]}"]
    version = sorted((source / "models").glob("*/versions/*.yaml"))[-1]
    version.write_text(version.read_text() + "\n# edited\n")
    assert rebuild() == [f"model-cards {version.parent.parent.name}"]
    (source / "datasets" / "added.yaml").write_text("name: Added\nuri: s3://bucket/added\n")
    assert rebuild() == sorted(f"model-cards {slug}" for slug in set(sources.values()))
    (site / "data" / "summaries" / "feature-pipeline.js").unlink()
    assert rebuild() == ["summaries feature-pipeline"]
    assert (site / "data" / "summaries" / "feature-pipeline.js").is_file()
