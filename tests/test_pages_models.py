"""Registry, model and model-card pages: what they show, derived values marked and linked, escaping."""

from __future__ import annotations

import re

from cardsrc import make_source


def test_registry_page(sample_site):
    html = sample_site.read("models/index.html")
    assert "Churn classifier" in html and "CIFAR-10 classifier" in html
    assert "auc <strong>0.9006</strong>" in html  # the champion's key metric (churn's primary metric)
    assert "3 alerts" in html and "1 alert<" in html
    assert "9/9" in html
    assert 'href="churn/2/index.html"' in html  # relative links ending in a file name


def test_model_page(sample_site):
    html = sample_site.read("models/churn/index.html")
    for anchor in ('id="versions"', 'id="compare"', 'id="monitoring"', 'id="alias-history"'):
        assert anchor in html
    assert 'href="../../runs/churn/20261110-094409-d5a861/index.html"' in html
    assert "+0.07 AUC over v1" in html  # alias history note
    assert "auc (tenure &lt; 6 months)" in html  # slice charts, escaped
    assert html.count('<time datetime=') == 4


def test_card_page_sample(sample_site):
    html = sample_site.read("models/churn/3/index.html")
    assert 'id="card-quantitative_analyses"' in html and "auc by slice" in html
    assert 'id="training-procedure"' in html and "badge derived" in html
    assert 'href="../../../datasets/churn-2026q3/index.html#datasheet"' in html
    assert 'id="diff-previous"' in html and 'id="diff-champion"' not in html  # v2 is previous and champion
    assert "(the champion)" in html
    assert "https://github.com/example-org/vision-and-churn/compare/" in html
    assert 'href="README.md"' in html
    v1 = sample_site.read("models/churn/1/index.html")
    assert "required)" in v1 and 'id="diff-champion"' in v1  # the first version, against the champion


def test_derived_card_and_escaping(built_site, tmp_path):
    site = built_site(make_source(tmp_path / "src"))
    v1 = site.read("models/demo/1/index.html")
    assert len(re.findall(r'class="badge derived"', v1)) >= 8
    assert 'href="../../../runs/exp/r1/index.html#provenance"' in v1
    assert 'href="https://github.com/org/proj/commit/' + "1a" * 20 + '"' in v1
    assert "Sales &lt;2026&gt;" in v1
    assert "&#34;x&#34;: 1.5" in v1  # input example from the run
    assert "The first version" in v1
    v2 = site.read("models/demo/2/index.html")
    assert "<script>alert(1)</script>" not in v2
    assert "Demo &lt;model&gt;" in v2
    assert "lr" in v2 and 'class="num delta up"' in v2  # diff against v1
    index = site.read("models/index.html")
    assert "Demo &lt;model&gt;" in index and "<model>" not in index
