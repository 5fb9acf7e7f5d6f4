"""feed.xml: a valid, deterministic Atom feed of runs and model versions, dated from the data."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from conftest import SAMPLE_RUNS

from sitegen.export.feed import ATOM, to_atom
from sitegen.store.load import load_project

NS = {"a": ATOM}


def test_sample_feed(sample_site, monkeypatch):
    text = sample_site.read("feed.xml")
    root = ET.fromstring(text)
    entries = root.findall("a:entry", NS)
    assert entries
    updated = [e.find("a:updated", NS).text for e in entries]
    assert updated == sorted(updated, reverse=True)  # newest first
    assert root.find("a:updated", NS).text == updated[0]  # the feed's date is its newest item's, not the clock
    kinds = {e.find("a:category", NS).get("term") for e in entries}
    assert kinds == {"run", "model-version"}
    for e in entries:
        assert e.find("a:id", NS).text.startswith("tag:sitegen,2024:")
        href = e.find("a:link", NS).get("href")
        assert not href.startswith("/") and href.endswith("index.html")
        assert (sample_site.output / href).is_file()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1")
    assert to_atom(load_project(SAMPLE_RUNS)) == text  # same bytes, another day


def test_absolute_links_with_base_url_and_escaping(tmp_path):
    run = tmp_path / "runs/e1/r1"
    run.mkdir(parents=True)
    (run / "run.yaml").write_text("format: sitegen.run/1\nid: r1\nname: '<b>&co</b>'\nstatus: finished\n"
                                  "start_time: 2026-02-03T04:05:06Z\n")
    (tmp_path / "runs/e1/r2").mkdir()
    (tmp_path / "runs/e1/r2/run.yaml").write_text("format: sitegen.run/1\nid: r2\nstatus: finished\n")  # no date
    (tmp_path / "sitegen.yaml").write_text("title: T\nbase_url: https://example.org/x/\n")
    text = to_atom(load_project(tmp_path))
    root = ET.fromstring(text)
    (entry,) = root.findall("a:entry", NS)  # the run without a date is left out
    assert entry.find("a:title", NS).text == "Run <b>&co</b> (e1)"
    assert "&lt;b&gt;&amp;co" in text
    assert entry.find("a:link", NS).get("href") == "https://example.org/x/runs/e1/r1/index.html"
    assert root.find("a:updated", NS).text == "2026-02-03T04:05:06Z"
