"""Chart specs: valid Vega-Lite, data filled in, downsampled, non-finite values flagged, deterministic."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

import altair as alt
import numpy as np
import pytest

from sitegen import charts
from sitegen.charts import rows_of, Series, bar_chart, metric_chart, monitoring_chart, slice_chart


def strict_json(spec: dict) -> str:
    return json.dumps(spec, allow_nan=False, sort_keys=True)


def assert_valid(spec: dict) -> None:
    """Valid against the Vega-Lite JSON schema (through Altair), and compiles to Vega."""
    strict_json(spec)
    alt.LayerChart.from_dict(copy.deepcopy(spec), validate=True)
    vl_convert = pytest.importorskip("vl_convert")
    vega = vl_convert.vegalite_to_vega(spec)
    assert vega["marks"], "compiled Vega spec has no marks"


def training_curve(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return 2.0 * np.exp(-np.arange(n) / (n / 5)) + rng.normal(scale=0.02, size=n)


def test_metric_chart_is_valid_and_filled():
    spec = metric_chart([("loss", [1, 2, 3], [0.9, 0.5, 0.25]), Series("val/loss", [1, 3], [1.0, 0.4])],
                        title="Loss", x="epoch")
    assert_valid(spec)
    rows = rows_of(spec)
    assert rows[:3] == [{"series": "loss", "x": 1, "y": 0.9}, {"series": "loss", "x": 2, "y": 0.5},
                        {"series": "loss", "x": 3, "y": 0.25}]
    assert rows[3:] == [{"series": "val/loss", "x": 1, "y": 1.0}, {"series": "val/loss", "x": 3, "y": 0.4}]
    assert spec["title"] == "Loss"
    assert spec["width"] == "container"
    assert spec["layer"][0]["encoding"]["x"]["title"] == "epoch"
    assert "downsampled" not in spec["description"]
    # the user's names never become field paths (a dot or slash would be read as nesting)
    fields = {enc.get("field") for layer in spec["layer"] for enc in layer["encoding"].values()
              if isinstance(enc, dict)}
    assert fields <= {"series", "x", "y", "flag"}


def test_metric_chart_sorts_by_x():
    spec = metric_chart([("acc", [3, 1, 2], [0.3, 0.1, 0.2])])
    assert [r["x"] for r in rows_of(spec)] == [1, 2, 3]
    assert [r["y"] for r in rows_of(spec)] == [0.1, 0.2, 0.3]


def test_metric_chart_downsamples_long_series_and_says_so():
    y = training_curve(50_000)
    y[31_337] = 25.0  # a loss spike
    spec = metric_chart([("loss", np.arange(50_000), y)], max_points=400)
    assert_valid(spec)
    rows = rows_of(spec)
    assert len(rows) <= 400
    assert any(r["x"] == 31_337 and r["y"] == 25.0 for r in rows)
    assert rows[0]["x"] == 0 and rows[-1]["x"] == 49_999
    assert "downsampled from 50000 to" in spec["description"]
    assert spec["usermeta"]["sitegen"]["series"] == [["loss", 50_000, len(rows)]]


def test_non_finite_values_survive_as_flagged_points():
    y = training_curve(20_000)
    y[5] = np.nan
    y[15_000:] = np.inf  # diverged
    y[700] = -np.inf
    spec = metric_chart([("loss", np.arange(20_000), y)], max_points=300)
    text = strict_json(spec)  # no NaN/Infinity tokens anywhere
    assert "NaN," not in text and "Infinity" not in text
    flagged = {r["x"]: r["flag"] for r in rows_of(spec) if "flag" in r}
    assert flagged == {5: "NaN", 700: "-inf", 15_000: "inf", 19_999: "inf"}
    assert all(r["y"] is None for r in rows_of(spec) if "flag" in r)
    assert "4 non-finite value(s)" in spec["description"]
    assert_valid(spec)


def test_metric_chart_time_axis_and_log_scale():
    start = datetime(2026, 11, 27, 6, 12, tzinfo=timezone.utc)
    times = [start + timedelta(minutes=i) for i in range(5)]
    spec = metric_chart([("lr", times, [1e-3, 1e-4, 1e-5, 1e-6, 1e-7])], x="time", log_y=True)
    assert_valid(spec)
    assert spec["layer"][0]["encoding"]["x"]["type"] == "temporal"
    assert spec["layer"][0]["encoding"]["y"]["scale"] == {"type": "log"}
    assert rows_of(spec)[0]["x"] == "2026-11-27T06:12:00.000Z"


def test_metric_chart_is_deterministic_and_does_not_touch_the_template():
    y = training_curve(5_000)
    y[10] = np.nan
    first = strict_json(metric_chart([("loss", np.arange(5_000), y)], title="a", max_points=200))
    other = metric_chart([("x", [1], [2.0])], title="b")
    other["layer"][0]["encoding"]["x"]["title"] = "mutated by a caller"
    second = strict_json(metric_chart([("loss", np.arange(5_000), y)], title="a", max_points=200))
    assert first == second
    assert "mutated" not in strict_json(charts._template("metric", False, False))


def test_metric_chart_rejects_bad_input():
    with pytest.raises(ValueError, match="'loss': 3 x values but 2 y values"):
        metric_chart([("loss", [1, 2, 3], [1.0, 2.0])])
    with pytest.raises(TypeError, match="Series"):
        metric_chart([("loss", [1, 2])])


def test_bar_chart_valid_filled_and_flags_non_finite():
    rows = [{"run": "a", "val/acc": 0.91}, {"run": "b", "val/acc": float("nan")}, {"run": "c", "val/acc": 0.88}]
    spec = bar_chart(rows, x="run", y="val/acc", title="Accuracy")
    assert_valid(spec)
    assert spec["data"]["values"] == [{"x": "a", "y": 0.91}, {"x": "b", "y": None, "flag": "NaN"},
                                      {"x": "c", "y": 0.88}]
    assert spec["layer"][0]["encoding"]["y"]["title"] == "val/acc"
    grouped = bar_chart([{"run": "a", "acc": 0.9, "split": "test"}, {"run": "a", "acc": 0.8, "split": "val"}],
                        x="run", y="acc", color="split")
    assert_valid(grouped)
    assert grouped["data"]["values"][1] == {"x": "a", "y": 0.8, "color": "val"}
    with pytest.raises(ValueError, match="bar_chart row 0 has no field 'acc'"):
        bar_chart([{"run": "a"}], x="run", y="acc")


def test_monitoring_chart_rules_and_breaches():
    start = datetime(2026, 1, 1, tzinfo=timezone.utc)
    times = [start + timedelta(days=i) for i in range(10)]
    values = [0.9, 0.88, 0.85, 0.79, 0.82, float("nan"), 0.81, 0.78, 0.86, 0.9]
    spec = monitoring_chart(times, values, {"min": 0.8}, metric="auc", title="AUC in production")
    assert_valid(spec)
    rows = spec["data"]["values"]
    assert [r["x"][:10] for r in rows if r.get("breach")] == ["2026-01-04", "2026-01-08"]
    assert [r["flag"] for r in rows if "flag" in r] == ["NaN"]
    assert spec["layer"][3]["data"]["values"] == [{"y": 0.8, "label": "min 0.8"}]
    assert "2 point(s) beyond a threshold" in spec["description"]
    with pytest.raises(ValueError, match="unknown key"):
        monitoring_chart(times, values, {"minimum": 0.8})


def test_slice_chart_points_and_error_bars():
    rows = [{"metric": "auc", "value": 0.91, "dataset": "d", "ci95": [0.90, 0.92]},
            {"metric": "auc", "value": 0.86, "slice": "tenure < 6 months"},
            {"metric": "auc", "value": float("inf"), "slice": "broken"}]
    spec = slice_chart(rows)
    assert_valid(spec)
    assert spec["data"]["values"] == [
        {"slice": "(all)", "value": 0.91, "lo": 0.90, "hi": 0.92},
        {"slice": "tenure < 6 months", "value": 0.86},
        {"slice": "broken", "value": None, "flag": "inf"},
    ]
    assert spec["layer"][0]["encoding"]["x"]["title"] == "auc"
    with pytest.raises(ValueError, match=r"ci95 must be \[low, high\]"):
        slice_chart([{"value": 0.5, "ci95": [0.1]}])


def test_specs_render_to_svg_with_flags_drawn():
    """Vega itself (through vl-convert) draws the flag rules of a diverged series."""
    vl_convert = pytest.importorskip("vl_convert")
    y = training_curve(2_000)
    y[1_000] = np.nan
    svg = vl_convert.vegalite_to_svg(metric_chart([("loss", np.arange(2_000), y)], max_points=200))
    assert svg.count('stroke-dasharray="4,3"') == 1


def test_vendored_bundle_is_a_classic_script_with_licences():
    from pathlib import Path
    import re

    vendor = Path(__file__).resolve().parent.parent / "themes" / "default" / "static" / "vendor"
    bundle = (vendor / "vega-embed.js").read_text(encoding="utf-8")
    assert not re.search(r"(?m)^\s*(import|export)\b[\s{*\"']", bundle)
    assert "window.vegaEmbed=" in bundle and bundle.rstrip().endswith("}());")
    assert re.search(r"vega \d+\.\d+\.\d+, vega-lite \d+\.\d+\.\d+, vega-embed \d+\.\d+\.\d+", bundle[:400])
    licences = (vendor / "LICENSES.txt").read_text(encoding="utf-8")
    for name in ("vega-lite", "vega-embed", "d3-scale", "BSD-3-Clause", "ISC"):
        assert name in licences


def test_shipped_chart_templates_are_what_altair_makes():
    """chart_templates.json is Altair's output for every template (regenerate with SITEGEN_UPDATE_GOLDEN=1)."""
    import os
    from importlib.metadata import version

    made = charts.make_templates()
    if os.environ.get("SITEGEN_UPDATE_GOLDEN"):
        charts.TEMPLATES_FILE.write_text(json.dumps(made, indent=1) + "\n", encoding="utf-8")
    shipped = json.loads(charts.TEMPLATES_FILE.read_text("utf-8"))
    assert sorted(shipped["templates"]) == sorted(json.dumps(list(v)) for v in charts.TEMPLATE_VARIANTS)
    if shipped["altair"] != version("altair"):
        pytest.skip(f"templates made with Altair {shipped['altair']}, {version('altair')} installed")
    assert shipped == made


def test_charts_are_made_without_importing_altair():
    import subprocess
    import sys

    script = ("import json, sys\nfrom sitegen import charts\n"
              "spec = charts.metric_chart([charts.Series('loss', [0, 1, 2], [1.0, 0.5, float('nan')])])\n"
              "charts.bar_chart([{'k': 'a', 'v': 1.0}, {'k': 'b', 'v': 2.0}], x='k', y='v')\n"
              "print(json.dumps({'altair': 'altair' in sys.modules, 'layers': len(spec['layer'])}))")
    out = json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                    check=True).stdout)
    assert out == {"altair": False, "layers": 2}
