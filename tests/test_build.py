import re
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from conftest import tree_diff

from sitegen.build import BuildFailed, build
from sitegen.diagnostics import SitegenError
from sources import small_source

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "sample_runs"


def sitegen(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sitegen", *args], capture_output=True, text=True, cwd=cwd)


class Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("href", "src") and value:
                self.links.append(value)


def test_two_builds_of_the_sample_are_identical(sample_site, tmp_path: Path):
    again = build(SAMPLE, tmp_path / "again")
    assert again.pages == sample_site.pages
    assert tree_diff(sample_site.output, tmp_path / "again") == []


# The sample keeps one deliberately incomplete model card (churn v1) so completeness checks show.
KNOWN_SAMPLE_WARNINGS = ("models/churn/versions/1.yaml:",)


def unexpected(diagnostics) -> list[str]:
    return [str(d) for d in diagnostics if not str(d).startswith(KNOWN_SAMPLE_WARNINGS)]


def test_sample_builds_without_problems(sample_site):
    assert unexpected(sample_site.warnings) == []
    for page in ("index.html", "404.html", "models/index.html", "datasets/index.html", "data/runs.csv"):
        assert sample_site.path(page).is_file(), page


def test_every_internal_link_resolves(sample_site):
    """Every href/src of every page is relative, ends in a file name and points at a file of the site."""
    out = sample_site.output
    broken = []
    pages = sorted(out.rglob("*.html"))
    assert len(pages) >= 40
    for page in pages:
        parser = Links()
        parser.feed(page.read_text(encoding="utf-8"))
        for link in parser.links:
            parts = urlsplit(link)
            if parts.scheme in ("http", "https", "mailto", "data") or link.startswith("#"):
                continue
            assert not link.startswith("/"), f"{page.relative_to(out)}: root-relative link {link}"
            if page.name == "404.html":
                continue
            if not parts.path:
                continue  # "?runs=..." on the page itself
            target = (page.parent / unquote(parts.path)).resolve()
            if not target.is_file():
                broken.append(f"{page.relative_to(out)} -> {link}")
    assert broken == []


def test_no_remote_loads_in_pages(sample_site):
    for page in sample_site.output.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r'<(script|link|img|iframe)[^>]+(src|href)="(https?:)?//', text), page


def test_assets_are_content_hashed(sample_site):
    assets = [p for p in (sample_site.output / "assets").rglob("*") if p.is_file() and "LICENSE" not in p.name]
    assert assets and all(re.search(r"\.[0-9a-f]{12}\.[a-z]+$", p.name) for p in assets)


def test_broken_run_yaml_builds_the_rest_with_a_warning(tmp_path: Path):
    src = tmp_path / "src"
    shutil.copytree(SAMPLE, src)
    run_yaml = sorted((src / "runs" / "churn").glob("*/run.yaml"))[0]
    run_id = run_yaml.parent.name
    text = run_yaml.read_text()
    run_yaml.write_text(text.replace("status: finished", "status: [finished", 1))
    rel = f"runs/churn/{run_id}/run.yaml"

    result = sitegen("build", str(src), "-o", str(tmp_path / "site"))
    assert result.returncode == 0, result.stderr
    assert re.search(rf"{re.escape(rel)}:\d+:\d+: error: invalid YAML", result.stderr)
    assert (tmp_path / "site" / "index.html").is_file()
    assert not (tmp_path / "site" / "runs" / "churn" / run_id).exists()
    assert len(list((tmp_path / "site" / "runs" / "churn").iterdir())) == 7

    strict = sitegen("build", str(src), "-o", str(tmp_path / "strict"), "--strict")
    assert strict.returncode == 1 and rel in strict.stderr and not (tmp_path / "strict").exists()

    validate = sitegen("validate", str(src))
    assert validate.returncode == 1
    lines = validate.stdout.strip().splitlines()
    assert any(re.fullmatch(rf"{re.escape(rel)}:\d+:\d+: error: invalid YAML.+", line) for line in lines)


def test_validate_clean_sample_exits_zero():
    result = sitegen("validate", str(SAMPLE))
    assert result.returncode == 0
    assert [line for line in result.stdout.splitlines() if not line.startswith(KNOWN_SAMPLE_WARNINGS)] == []


def test_usage_error_exits_two():
    assert sitegen("build", "--no-such-option").returncode == 2


def test_failed_build_keeps_the_previous_site(tmp_path: Path, monkeypatch):
    src = small_source(tmp_path / "src")
    out = tmp_path / "site"
    build(src, out)
    before = (out / "index.html").read_bytes()

    import sitegen.pages.dashboard as dashboard

    def boom(project):
        raise RuntimeError("render failed")

    monkeypatch.setattr(dashboard, "pages", boom)
    with pytest.raises(RuntimeError):
        build(src, out, cache=False)  # the cache would rightly find nothing to rebuild
    assert (out / "index.html").read_bytes() == before
    assert not list(tmp_path.glob(".site.staging-*"))


def test_a_failing_export_fails_the_build_and_keeps_the_previous_site(tmp_path: Path, monkeypatch):
    """Exports are written by a forked process beside the pages; its error is the build's error."""
    src = small_source(tmp_path / "src")
    out = tmp_path / "site"
    build(src, out)
    before = sorted(p.relative_to(out) for p in out.rglob("*"))

    import sitegen.export.feed as feed

    def boom(project):
        raise ValueError("feed failed")

    monkeypatch.setattr(feed, "to_atom", boom)
    with pytest.raises(ValueError, match="feed failed"):
        build(src, out, cache=False)
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    assert not list(tmp_path.glob(".site.staging-*"))


def test_timings_flag_prints_each_stage(tmp_path: Path):
    src = small_source(tmp_path / "src")
    out = tmp_path / "site"
    first = sitegen("build", "-q", "--timings", "--no-search", str(src), "-o", str(out))
    assert first.returncode == 0, first.stderr
    line = next(x for x in first.stderr.splitlines() if x.startswith("timings: "))
    stages = dict(item.split("=") for item in line[len("timings: "):].split())
    assert list(stages) == ["load", "facts", "site_pages", "run_pages", "exports_and_search", "publish"]
    assert all(v.endswith("s") and float(v[:-1]) >= 0 for v in stages.values())
    again = sitegen("build", "-q", "--timings", "--no-search", str(src), "-o", str(out))
    assert "timings: unchanged=" in again.stderr


def test_summary_is_a_plain_line_without_a_terminal_and_rich_is_not_imported(tmp_path: Path):
    src = small_source(tmp_path / "src")
    out = tmp_path / "site"
    script = ("import sys\nfrom sitegen.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
              "    print('rich' in sys.modules, e.code)\n")
    for what in ("built", "unchanged:"):
        proc = subprocess.run([sys.executable, "-c", script, "build", "--no-search", str(src), "-o", str(out)],
                              capture_output=True, text=True)
        assert proc.stdout.split() == ["False", "0"], proc.stderr
        summary = proc.stderr.strip().splitlines()[-1]
        assert re.fullmatch(rf"{what} \d+ pages, \d+ files, [\d.]+ MB in .*site.* in [\d.]+ s", summary), summary


def test_a_rebuild_after_a_yaml_edit_loads_neither_pyarrow_numpy_nor_networkx(tmp_path: Path):
    """pyarrow, numpy and networkx took 0.3 s of every command-line build to import; a rebuild that reads no
    metric history needs neither pyarrow nor numpy (model pages' charts are kept in the build cache), and
    the lineage graph no longer uses networkx. Markdown's extensions (and Pygments, which they import) are
    loaded only to render Markdown the build cache does not hold."""
    src = small_source(tmp_path / "src")
    out = tmp_path / "site"
    script = ("import sys\nfrom sitegen.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit as e:\n"
              "    print(sorted(m for m in ('pyarrow', 'numpy', 'networkx', 'pygments') if m in sys.modules), e.code)\n")
    first = subprocess.run([sys.executable, "-c", script, "build", "-q", "--no-search", str(src), "-o", str(out)],
                           capture_output=True, text=True)
    assert first.stdout.split() == ["['numpy',", "'pyarrow',", "'pygments']", "0"], first.stderr  # reads histories
    run_yaml = src / "runs" / "exp" / "parent-run" / "run.yaml"
    run_yaml.write_text(run_yaml.read_text().replace("name: Parent", "name: Parent renamed"))
    again = subprocess.run([sys.executable, "-c", script, "build", "-q", "--no-search", str(src), "-o", str(out)],
                           capture_output=True, text=True)
    assert again.stdout.split() == ["[]", "0"], again.stderr
    assert "Parent renamed" in (out / "runs" / "exp" / "parent-run" / "index.html").read_text()
    build(src, tmp_path / "cold", search=False, cache=False)  # kept charts and drawings: the same site
    assert tree_diff(out, tmp_path / "cold") == []


def test_the_command_ends_without_teardown_after_a_build_with_its_output_flushed(tmp_path: Path):
    src = small_source(tmp_path / "src")
    script = ("import atexit, sys\n"
              "atexit.register(lambda: print('torn down', file=sys.stderr))\n"
              "from sitegen.cli import run\n"
              "sys.argv = ['sitegen', *sys.argv[1:]]\n"
              "print('before', flush=False)\n"
              "run()\n")
    done = subprocess.run([sys.executable, "-c", script, "build", "--no-search", str(src), "-o", str(tmp_path / "s")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "before\n"  # flushed before the process ended
    assert "built " in done.stderr and "torn down" not in done.stderr
    assert (tmp_path / "s" / "index.html").is_file()
    failed = subprocess.run([sys.executable, "-c", script, "build", str(tmp_path / "missing")],
                            capture_output=True, text=True)
    assert failed.returncode == 2 and "does not exist" in failed.stderr  # a mistyped source is not built
    assert "torn down" in failed.stderr and not (tmp_path / "missing").exists()  # and ends as usual


def test_building_a_missing_source_is_an_error_that_writes_nothing(tmp_path: Path):
    with pytest.raises(SitegenError, match="is not a directory"):
        build(tmp_path / "missing", tmp_path / "missing" / "site")
    assert not (tmp_path / "missing").exists()


def test_strict_raises_before_writing(tmp_path: Path):
    src = small_source(tmp_path / "src")
    (src / "runs" / "exp" / "parent-run" / "run.yaml").write_text("id: parent-run\nstatsu: x\n")
    with pytest.raises(BuildFailed) as info:
        build(src, tmp_path / "site", strict=True)
    assert "statsu" in str(info.value.diagnostics[0])
    assert not (tmp_path / "site").exists()


def test_refuses_to_replace_a_foreign_directory_or_the_source(tmp_path: Path):
    src = small_source(tmp_path / "src")
    foreign = tmp_path / "docs"
    foreign.mkdir()
    (foreign / "precious.txt").write_text("keep me")
    with pytest.raises(SitegenError, match="not a site built by sitegen"):
        build(src, foreign)
    with pytest.raises(SitegenError, match="would replace the source"):
        build(src, src)
    with pytest.raises(SitegenError, match="inside the source's runs/"):
        build(src, src / "runs" / "site")
    assert (foreign / "precious.txt").read_text() == "keep me"


def test_base_url_gives_sitemap_canonical_links_and_absolute_404(tmp_path: Path):
    src = small_source(tmp_path / "src")
    out = tmp_path / "site"
    build(src, out, base_url="https://reports.example.org/team")
    sitemap = (out / "sitemap.xml").read_text()
    assert "<loc>https://reports.example.org/team/runs/exp/parent-run/index.html</loc>" in sitemap
    assert "404.html" not in sitemap
    run_page = (out / "runs" / "exp" / "parent-run" / "index.html").read_text()
    assert '<link rel="canonical" href="https://reports.example.org/team/runs/exp/parent-run/index.html">' in run_page
    assert 'href="https://reports.example.org/team/index.html"' in (out / "404.html").read_text()
    assert not (tmp_path / "plain").exists()
    build(src, tmp_path / "plain")
    assert not (tmp_path / "plain" / "sitemap.xml").exists()


def test_user_strings_are_escaped(tmp_path: Path):
    from sources import write_run

    src = small_source(tmp_path / "src")
    write_run(src, "exp", "x1", name='<script>alert(1)</script>', notes="<img src=x onerror=alert(1)> *ok*",
              params={"<b>": "</script><script>alert(2)</script>"})
    out = tmp_path / "site"
    build(src, out)
    page = (out / "runs" / "exp" / "x1" / "index.html").read_text()
    assert "<script>alert" not in page and "onerror" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<em>ok</em>" in page


def test_a_build_puts_the_callers_garbage_collector_settings_back(tmp_path: Path, monkeypatch):
    """A build collects cyclic garbage less often while it runs (large projects), and only then: the
    process that called it (a notebook, sitegen serve) keeps its own settings, after a failed build too."""
    import gc

    import sitegen.build as build_module

    before = gc.get_threshold()
    seen = []
    real = build_module.load_project

    def spy(*args, **kwargs):
        seen.append(gc.get_threshold())
        return real(*args, **kwargs)

    monkeypatch.setattr(build_module, "load_project", spy)
    gc.set_threshold(1234, 11, 12)
    try:
        source = small_source(tmp_path / "src")
        build(source, tmp_path / "site", search=False)
        broken = source / "runs" / "broken" / "r1"
        broken.mkdir(parents=True)
        (broken / "run.yaml").write_text("id: [unclosed\n")
        with pytest.raises(BuildFailed):
            build(source, tmp_path / "site", search=False, strict=True)
        assert len(seen) == 2 and all(t[0] >= 100_000 for t in seen)
        assert gc.get_threshold() == (1234, 11, 12)
    finally:
        gc.set_threshold(*before)
