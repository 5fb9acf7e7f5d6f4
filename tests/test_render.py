"""The Jinja environment's page bindings and cached page chrome (sitegen.render)."""

import shutil
from pathlib import Path

import markupsafe
from hypothesis import given, settings
from conftest import tree_diff
from hypothesis import strategies as st
from sources import small_source, write_run

import sitegen.render as render
from sitegen.build import build

THEME = Path(__file__).resolve().parent.parent / "themes" / "default"


def never_cached(monkeypatch) -> None:
    """Partials that render their template for every page, as the templates would without them."""
    def call(self, name, section=None):
        return render.Markup(self.env.get_template(f"_partial_{name}.html").render(site=self.site, section=section))

    monkeypatch.setattr(render.Partials, "__call__", call)


def test_url_and_asset_are_bound_to_the_page_being_rendered():
    with render.rendering("runs/e/r1/index.html", {"css/site.css": "assets/css/site.0123.css"}):
        assert render.url("index.html") == "../../../index.html" and render.url("runs/e/r1/data.js") == "data.js"
        assert render.asset("css/site.css") == "../../../assets/css/site.0123.css"
        with render.rendering("404.html", {}, "https://example.org/site/"):  # absolute links, then back
            assert render.url("index.html") == "https://example.org/site/index.html"
        assert render.url("runs/e/r2/index.html") == "../r2/index.html"


def test_chrome_is_made_once_for_pages_alike_and_the_site_is_what_it_would_be_without(tmp_path, monkeypatch):
    src = small_source(tmp_path / "src")
    for i in range(5):
        write_run(src, "exp", f"extra-{i}", name=f"Extra {i}")
    made: list[str] = []
    real = render.Partials.__call__

    def counting(self, name, section=None):
        key_count = len(self._made)
        out = real(self, name, section)
        if len(self._made) > key_count:
            made.append(name)
        return out

    monkeypatch.setattr(render.Partials, "__call__", counting)
    build(src, tmp_path / "cached", jobs=1, search=False, cache=False)
    assert made.count("topbar") < 12  # one a (depth, section, first folder): not one a page (22 pages)
    monkeypatch.undo()
    never_cached(monkeypatch)
    build(src, tmp_path / "plain", jobs=1, search=False, cache=False)
    assert tree_diff(tmp_path / "cached", tmp_path / "plain") == []


def test_a_theme_whose_chrome_links_into_a_pages_own_folder_gets_it_right(tmp_path, monkeypatch):
    src = small_source(tmp_path / "src")
    theme = tmp_path / "theme"
    shutil.copytree(THEME / "templates", theme / "templates")
    footer = theme / "templates" / "_partial_footer.html"
    footer.write_text(footer.read_text() + "<a href=\"{{ url('runs/exp/parent-run/index.html') }}\">parent</a>\n"
                      "<a href=\"{{ url('models/m/index.html') }}\">model</a>\n")
    (src / "sitegen.yaml").write_text((src / "sitegen.yaml").read_text() + f"theme: {theme}\n")
    build(src, tmp_path / "cached", jobs=1, search=False, cache=False)
    parent = (tmp_path / "cached" / "runs" / "exp" / "parent-run" / "index.html").read_text()
    child = (tmp_path / "cached" / "runs" / "exp" / "child-run" / "index.html").read_text()
    assert '<a href="index.html">parent</a>' in parent and '<a href="../parent-run/index.html">parent</a>' in child
    assert '<a href="../../../models/m/index.html">model</a>' in child
    never_cached(monkeypatch)
    build(src, tmp_path / "plain", jobs=1, search=False, cache=False)
    assert tree_diff(tmp_path / "cached", tmp_path / "plain") == []


@given(st.one_of(st.text(), st.integers(), st.floats(allow_nan=True), st.none(), st.text().map(render.Markup)))
@settings(max_examples=500, deadline=None)
def test_printed_values_are_escaped_as_markupsafe_does(value):
    assert str(render._escape_output(value)) == str(markupsafe.escape(value))


def test_templates_print_through_the_quick_escape():
    from sitegen.theme import Theme

    env = render.make_environment(Theme((THEME,)))
    template = env.from_string("{{ a }}|{{ b }}|{{ c }}|{% set d %}<i>{{ a }}</i>{% endset %}{{ d }}")
    assert template.render(a="<x & 'y'>", b=render.Markup("<b>"), c=1.5) == \
        "&lt;x &amp; &#39;y&#39;&gt;|<b>|1.5|<i>&lt;x &amp; &#39;y&#39;&gt;</i>"
    assert template.root_render_func.__globals__["escape"] is render._escape_output
