"""Relative links: every link of the site is relative, so it works from file:// and under any path."""

import posixpath
from urllib.parse import quote

from hypothesis import given, settings
from hypothesis import strategies as st

from sitegen import urls

SEGMENT = st.sampled_from(["a", "b", "runs", "exp-1", "x y", "é", "..", ".", "", "index.html", "c%d", "q?"])
PATHS = st.lists(SEGMENT, max_size=5).map("/".join)


@settings(max_examples=3000, deadline=None)
@given(start=PATHS, path=PATHS.filter(bool))
def test_relative_path_is_posix_relpath_quoted(start, path):
    try:
        expected = quote(posixpath.relpath(path, start or "."), safe="/._-~+=,;:@!$'()*&")
    except ValueError:
        return
    assert urls._relative_path(start, path) == expected


@settings(max_examples=3000, deadline=None)
@given(start=PATHS, path=PATHS.filter(bool), inside=st.booleans())
def test_links_by_a_folders_depth_are_posix_relpath_quoted(start, path, inside):
    """relative_from's shortcuts (into the page's folder; outside its first segment) give what relpath does."""
    target = f"{start}/{path}" if inside and start else path
    if "?" in target or "#" in target:
        return
    try:
        expected = quote(posixpath.relpath(target, start or "."), safe="/._-~+=,;:@!$'()*&")
    except ValueError:
        return
    assert urls.relative_from(start, target) == expected


def test_relative_links_keep_query_and_fragment_and_leave_external_links_alone():
    page = "runs/exp/r1/index.html"
    assert urls.relative(page, "index.html") == "../../../index.html"
    assert urls.relative(page, "runs/exp/r1/data.js") == "data.js"
    assert urls.relative(page, "runs/exp/r2/index.html#metrics") == "../r2/index.html#metrics"
    assert urls.relative(page, "compare/index.html?runs=exp/r1,exp/r2") == "../../../compare/index.html?runs=exp/r1,exp/r2"
    assert urls.relative(page, "runs/exp/r1/index.html") == "index.html"
    assert urls.relative("index.html", "runs/a b/index.html") == "runs/a%20b/index.html"
    assert urls.relative(page, "runs/exp") == ".."
    assert urls.relative(page, "runs") == "../.."
    assert urls.relative(page, "https://example.org/x") == "https://example.org/x"
    assert urls.relative(page, "#top") == "#top"
