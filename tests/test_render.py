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


# -- the code generator: the same text as Jinja's own, for every construct it changes -------------------
TEMPLATES = {
    "base.html": "<{% block a %}base-a{% endblock %}|{% block b scoped %}{% endblock %}|"
                 "{% for i in r %}{% block c scoped %}{{ i }}{% endblock %}{% endfor %}>",
    "inc.html": "[{{ q }}{{ d.k }}{{ url('models/m/index.html') }}]",
    "_partial_x.html": "<nav>{{ url('index.html') }}</nav>",
    "macros.html": "{% macro link(t) %}<a href=\"{{ url(t) }}\">{{ t }}</a>{% endmacro %}",
    "attrs": "{{ d.k }}|{{ d.items() | list }}|{{ d.get('k') }}|{{ d.missing is defined }}|{{ o.real }}|"
             "{{ nested.a.b }}|{{ (d if n else o).k is defined }}|{{ d['k'] }}",
    "values": "{{ q }}|{{ s }}|{{ n }}|{{ t }}|{{ f }}|{{ none }}|{{ m }}|{{ n ~ q }}|{{ [q, n] }}",
    "links": "{{ url('experiments/a/index.html') }} {{ asset('css/site.css') }} {{ url('runs/e/r/data.js') }} "
             "{{ url('#top') }} {{ url('models/index.html?x=1#y') }} {{ url('https://example.org/a b') }} "
             "{{ url('../index.html') }} {{ url('runs/x y/index.html') }}",
    "loop": "{% for i in r %}{{ url('models/m/index.html') }}{{ loop.index }}{% if loop.last %}!{% endif %}"
            "{% endfor %}",
    "loop_set": "{% for i in r %}{% set j = i %}{{ url('x') }}|{% endfor %}",
    "shadowed": "{% set url = shout %}{{ url('x') }}|{% for asset in [shout] %}{{ asset('y') }}{% endfor %}",
    "context_fn": "{{ ctx_fn('z') }}|{% for i in r %}{% set j = i %}{{ ctx_fn(j) }}{% endfor %}",
    "macro": "{% from 'macros.html' import link %}{{ link('models/index.html') }}"
             "{% macro p(x) %}<{{ x }}>{% endmacro %}{{ p('a&b') }}"
             "{% macro m(x) %}<{{ x }}{{ caller() }}>{% endmacro %}{% call m(1) %}in {{ q }}{% endcall %}",
    "buffer": "{% set buf %}{{ q }}{{ url('index.html') }}{% endset %}{{ buf }}|{% filter upper %}{{ q }}"
              "{% endfilter %}",
    "include": "{% include 'inc.html' %}|{% include ['nope.html', 'inc.html'] %}|"
               "{% include 'nope.html' ignore missing %}|{% for i in r %}{% include 'inc.html' %}{% endfor %}",
    "extends": "{% extends 'base.html' %}{% block a %}A{{ super() }}{{ q }}{% endblock %}"
               "{% block b %}{{ d.k }}{% endblock %}{% block c %}<{{ i }}>{% endblock %}",
    "partial": "{{ partial('x') }}",
    "undefined_attr": "{{ d.nope.deeper }}",
    "undefined_name": "{{ nope }}",
    "undefined_call": "{{ nope('x') }}",
}


def _environments():
    from jinja2 import DictLoader, StrictUndefined
    from jinja2.compiler import CodeGenerator

    class Stock(render.SiteEnvironment):
        code_generator_class = CodeGenerator

    made = []
    for cls in (Stock, render.SiteEnvironment):
        env = cls(loader=DictLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined, cache_size=-1)
        env.globals.update(url=render.url, asset=render.asset)
        env.globals["partial"] = render.Partials(env, {"title": "t"})
        made.append(env)
    return made


def _outcome(env, name, values):
    try:
        return env.get_template(name).render(values)
    except Exception as exc:  # noqa: BLE001 - the same failure is the same outcome
        return f"{type(exc).__name__}: {exc}"


def test_compiled_templates_give_what_jinjas_own_code_does():
    from jinja2 import pass_context

    stock, ours = _environments()
    values = {"q": "<q & 'a'>", "s": "plain", "n": 42, "t": True, "f": 0.5, "none": None, "m": render.Markup("<b>"),
              "d": {"k": "v<", "items": "shadow", "get": "shadow"}, "o": 1.5, "nested": {"a": {"b": "deep"}},
              "r": [1, 2, 3], "shout": lambda x: x.upper() + "!",
              "ctx_fn": pass_context(lambda ctx, x: f"{x}:{ctx.get('s')}:{ctx.get('j', '-')}")}
    for name in [n for n in TEMPLATES if not n.endswith(".html")]:
        with render.rendering("runs/e/r/index.html", {"css/site.css": "assets/css/site.1.css"}):
            expected, got = _outcome(stock, name, values), _outcome(ours, name, values)
        assert got == expected, name
    # url shadowed by a function that wants the context, called in a loop and a block: Jinja's way, loop
    # variables included
    shadowing = {**values, "url": values["ctx_fn"]}
    for name in ("loop", "loop_set", "extends"):
        with render.rendering("runs/e/r/index.html", {}):
            assert _outcome(ours, name, shadowing) == _outcome(stock, name, shadowing), name
    with render.rendering("runs/e/r/index.html", {}):
        assert _outcome(ours, "loop_set", shadowing) == "x:plain:1|x:plain:2|x:plain:3|"
        assert _outcome(ours, "macro", values).endswith('<a&amp;b><1in &lt;q &amp; &#39;a&#39;&gt;>')
    assert "v&lt;" in _outcome(ours, "attrs", values) and "Undefined" in _outcome(ours, "undefined_name", values)


def test_the_code_generator_calls_sitegens_link_functions_directly_and_reads_dicts_in_place():
    _stock, ours = _environments()
    code = ours.compile(TEMPLATES["links"] + "{{ d.k }}", raw=True)
    assert "context.call" not in code and "environment.getattr(_sg_o, 'k')" in code


@given(folder=st.lists(st.sampled_from(["runs", "e", "r 1", "models", "a%b", ".", ".."]), max_size=4),
       target=st.lists(st.sampled_from(["runs", "e", "r 1", "models", "index.html", "x.js", "", "..", "."]),
                       min_size=1, max_size=4),
       suffix=st.sampled_from(["", "#top", "?q=1", "?q#f"]), inside=st.booleans())
@settings(max_examples=500, deadline=None)
def test_links_from_the_page_being_rendered_are_its_relative_links(folder, target, suffix, inside):
    page = "/".join([*folder, "index.html"])
    link = "/".join([*folder, *target] if inside else target) + suffix  # inside: into the page's own folder
    from sitegen import urls

    def outcome(make):
        try:
            return make()
        except ValueError as exc:  # an empty link from the site root: the same error either way
            return f"ValueError: {exc}"

    with render.rendering(page, {}):
        assert outcome(lambda: render.url(link)) == outcome(lambda: urls.relative(page, link))


@given(st.datetimes(timezones=st.one_of(st.none(), st.timezones())))
@settings(max_examples=300, deadline=None)
def test_dates_are_formatted_as_strftime_does(value):
    assert render.fmt_datetime(value) == value.strftime("%Y-%m-%d %H:%M UTC")
    assert render.fmt_iso(value) == value.strftime("%Y-%m-%dT%H:%M:%SZ")



@given(st.floats(allow_nan=True, allow_infinity=True))
@settings(max_examples=500, deadline=None)
def test_a_float_is_formatted_as_the_same_number_of_another_float_type(value):
    import numpy as np

    # a plain float may take the quick path; numpy's float64 (a float subclass) always takes the general one
    assert render.fmt_number(value) == render.fmt_number(np.float64(value))
