"""Vega-Lite chart specs for the site's pages.

Each chart kind is described once with Altair; its ``to_dict()`` output is cached as a template
(:func:`_template`), and every use copies that dict and fills in inline data (``data.values``), titles
and a description. Altair runs a handful of times per process, never per run or per page.

Every function is pure and returns a plain dict that survives ``json.dumps(..., allow_nan=False)``:
non-finite values (NaN, +inf, -inf) travel as ``"y": null`` plus ``"flag": "NaN" | "inf" | "-inf"``, and
are drawn as dashed vertical rules (or a text marker for bars) with a tooltip, so a diverged run shows.

Data rows use fixed field names (``series``, ``x``, ``y``, ``flag`` …); the user's own names (metric keys
such as ``val/acc`` or ``params.lr``) appear only as titles, so a dot or bracket in them is never read as
a Vega-Lite field path. Colours of axes and text come from :data:`LIGHT_CONFIG`; the theme's
``charts.js`` merges a dark-mode config over it when the reader prefers a dark colour scheme, so no
colour or font is fixed here beyond that (fonts are left to Vega's default, ``sans-serif``).
"""

from __future__ import annotations

import copy
import datetime as _dt
import functools
import json
import math
from pathlib import Path
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, Mapping, Sequence

if TYPE_CHECKING:  # numpy is imported where a chart is made: a rebuild whose charts are all kept needs none
    import numpy as np

__all__ = ["LIGHT_CONFIG", "Series", "bar_chart", "metric_chart", "monitoring_chart", "slice_chart"]

HEIGHT = 240
ALERT_COLOR = "#d62728"  # readable on light and dark backgrounds

#: Chart config for a light page; ``charts.js`` overrides the colour entries in dark mode.
LIGHT_CONFIG: dict[str, Any] = {
    "background": "transparent",
    "view": {"stroke": None},
    "axis": {"labelColor": "#4a4a4a", "titleColor": "#333333", "domainColor": "#8a8a8a",
             "tickColor": "#8a8a8a", "gridColor": "#8a8a8a", "gridOpacity": 0.25},
    "legend": {"labelColor": "#4a4a4a", "titleColor": "#333333", "orient": "bottom"},
    "title": {"color": "#222222", "subtitleColor": "#4a4a4a", "anchor": "start"},
    "text": {"color": "#333333"},
    "range": {"category": {"scheme": "tableau10"}},
}


@dataclass(frozen=True)
class Series:
    """One line of a metric chart: a label and matching ``x`` (steps or times) and ``y`` arrays."""

    label: str
    x: Any
    y: Any


# --------------------------------------------------------------------------- value encoding

def _flag(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return "inf" if value > 0 else "-inf"


def _is_temporal(x: np.ndarray) -> bool:
    import numpy as np

    if np.issubdtype(x.dtype, np.datetime64):
        return True
    return x.dtype == object and len(x) > 0 and isinstance(x[0], (_dt.datetime, _dt.date))


def _x_arrays(raw: Any) -> tuple[np.ndarray, list[Any], bool]:
    """(numeric x for sorting and downsampling, JSON-ready x values, is_temporal)."""
    import numpy as np

    if hasattr(raw, "dt") and getattr(raw.dt, "tz", None) is not None:  # tz-aware pandas Series
        raw = raw.dt.tz_convert("UTC").dt.tz_localize(None)
    xa = np.asarray(raw)
    if _is_temporal(xa):
        if xa.dtype == object:
            xa = np.array([_naive_utc(v) for v in xa], dtype="datetime64[ms]")
        ms = xa.astype("datetime64[ms]")
        text = [s + "Z" for s in np.datetime_as_string(ms, unit="ms").tolist()]
        return ms.astype(np.int64).astype(np.float64), text, True
    if xa.dtype.kind not in "iufb":
        raise ValueError(f"x values must be numbers or datetimes, got dtype {xa.dtype}")
    return xa.astype(np.float64), xa.tolist(), False


def _naive_utc(value: Any) -> Any:
    if isinstance(value, _dt.datetime) and value.tzinfo is not None:
        return value.astimezone(_dt.timezone.utc).replace(tzinfo=None)
    return value


def _json_floats(values: np.ndarray) -> tuple[list[Any], list[str | None]]:
    """Floats as JSON-safe values (None where non-finite) and the matching flags."""
    import numpy as np

    finite = np.isfinite(values)
    out = np.where(finite, values, 0.0).tolist()
    flags: list[str | None] = [None] * len(out)
    for i in np.flatnonzero(~finite).tolist():
        flags[i] = _flag(float(values[i]))
        out[i] = None
    return out, flags


def _short(values: np.ndarray, digits: int = 7) -> np.ndarray:
    """Values rounded to ``digits`` significant digits (plenty for a chart; far fewer bytes as JSON)."""
    import numpy as np

    out = np.array(values, dtype=np.float64, copy=True)
    finite = np.isfinite(out) & (out != 0)
    if finite.any():
        mags = np.floor(np.log10(np.abs(out[finite])))
        scale = 10.0 ** (digits - 1 - mags)
        out[finite] = np.round(out[finite] * scale) / scale
    return out


def rows_of(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The points of a metric chart as one dict per point (what Vega sees after its flatten transform)."""
    points = []
    for entry in spec["data"]["values"]:
        flags = entry.get("flag", [])
        for i, (x, y) in enumerate(zip(entry["x"], entry["y"])):
            point = {"series": entry["series"], "x": x, "y": y}
            if i < len(flags) and flags[i] is not None:
                point["flag"] = flags[i]
            points.append(point)
    return points


def _number(value: Any) -> tuple[Any, str | None]:
    """One number as (JSON-safe value, flag)."""
    import numpy as np

    if value is None:
        return None, None
    f = float(value)
    if math.isfinite(f):
        return (int(value) if isinstance(value, (int, np.integer)) and not isinstance(value, bool) else f), None
    return None, _flag(f)


# --------------------------------------------------------------------------- templates

FLAGS = ("NaN", "inf", "-inf")


def _flagged(alt: Any) -> Any:
    # Not FieldValidPredicate: Vega-Lite's "valid" test is isNaN(), which is true for any string.
    return alt.FieldOneOfPredicate(field="flag", oneOf=list(FLAGS))


def _finish_template(chart: Any) -> dict[str, Any]:
    spec = chart.properties(width="container").to_dict()
    spec["config"] = copy.deepcopy(LIGHT_CONFIG)
    return spec


TEMPLATES_FILE = Path(__file__).with_name("chart_templates.json")
TEMPLATE_VARIANTS: tuple[tuple[Any, ...], ...] = (
    ("metric", False, False), ("metric", False, True), ("metric", True, False), ("metric", True, True),
    ("bar", False), ("bar", True), ("monitoring",), ("slice",))


@functools.lru_cache(maxsize=1)
def _shipped() -> dict[str, Any]:
    try:
        data = json.loads(TEMPLATES_FILE.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return data.get("templates", {}) if isinstance(data, dict) else {}


@functools.lru_cache(maxsize=None)
def _template(kind: str, *variant: Any) -> dict[str, Any]:
    """The Vega-Lite dict for one chart kind (and variant). They ship with sitegen in chart_templates.json
    (made by :func:`make_templates` with Altair; the tests check them), so a build does not import Altair
    and its pages do not depend on the Altair version installed."""
    spec = _shipped().get(json.dumps([kind, *variant]))
    return spec if spec is not None else _make_template(kind, *variant)


def make_templates() -> dict[str, Any]:
    """The content of chart_templates.json: every template of :data:`TEMPLATE_VARIANTS`, made with Altair."""
    from importlib.metadata import version

    return {"altair": version("altair"),
            "templates": {json.dumps(list(v)): _make_template(*v) for v in TEMPLATE_VARIANTS}}


def _make_template(kind: str, *variant: Any) -> dict[str, Any]:
    import altair as alt  # imported here: only template building needs it

    no_data = alt.Data(values=[])  # the template's data slot, filled by each chart builder below
    if kind == "metric":
        log_y, temporal = variant
        xtype = "temporal" if temporal else "quantitative"
        color = alt.Color("series:N", title=None, sort=None)
        line = alt.Chart().mark_line(strokeWidth=1.5, clip=True).encode(
            x=alt.X(f"x:{xtype[0].upper()}", title="step"),
            y=alt.Y("y:Q", title="value", scale=alt.Scale(type="log") if log_y else alt.Scale(zero=False)),
            color=color,
        )
        flags = alt.Chart().mark_rule(strokeDash=[4, 3], strokeWidth=1.5).encode(
            x=alt.X(f"x:{xtype[0].upper()}"),
            color=color,
            tooltip=[alt.Tooltip("series:N", title="series"), alt.Tooltip(f"x:{xtype[0].upper()}", title="step"),
                     alt.Tooltip("flag:N", title="value")],
        ).transform_filter(_flagged(alt))
        # Data arrives one object per series with parallel x / y / flag arrays (about a third of the bytes
        # of one object per point); flatten turns it back into points inside Vega.
        chart = alt.layer(line, flags, data=no_data).transform_flatten(
            ["x", "y", "flag"]).properties(height=HEIGHT)
    elif kind == "bar":
        (grouped,) = variant
        enc: dict[str, Any] = dict(
            x=alt.X("x:N", title="x", sort=None, axis=alt.Axis(labelLimit=160)),
            y=alt.Y("y:Q", title="y"),
            tooltip=[alt.Tooltip("x:N", title="x"), alt.Tooltip("y:Q", title="y")],
        )
        if grouped:
            enc["color"] = alt.Color("color:N", title=None, sort=None)
            enc["xOffset"] = alt.XOffset("color:N", sort=None)
            enc["tooltip"] = enc["tooltip"] + [alt.Tooltip("color:N", title="group")]
        bars = alt.Chart().mark_bar().encode(**enc)
        marker_enc: dict[str, Any] = dict(x=alt.X("x:N", sort=None), y=alt.YValue("height"), text=alt.Text("flag:N"))
        if grouped:
            marker_enc["xOffset"] = alt.XOffset("color:N", sort=None)
        markers = alt.Chart().mark_text(dy=-6, color=ALERT_COLOR, fontWeight="bold").encode(
            **marker_enc).transform_filter(_flagged(alt))
        chart = alt.layer(bars, markers, data=no_data).properties(height=HEIGHT)
    elif kind == "monitoring":
        x = alt.X("x:T", title="time")
        line = alt.Chart().mark_line(strokeWidth=1.5).encode(x=x, y=alt.Y("y:Q", title="value", scale=alt.Scale(zero=False)))
        breaches = alt.Chart().mark_point(filled=True, size=40, color=ALERT_COLOR).encode(
            x=x, y="y:Q",
            tooltip=[alt.Tooltip("x:T", title="time", format="%Y-%m-%d %H:%M"), alt.Tooltip("y:Q", title="value")],
        ).transform_filter(alt.FieldEqualPredicate(field="breach", equal=True))
        flags = alt.Chart().mark_rule(strokeDash=[4, 3], color=ALERT_COLOR).encode(
            x=x, tooltip=[alt.Tooltip("x:T", title="time", format="%Y-%m-%d %H:%M"), alt.Tooltip("flag:N", title="value")],
        ).transform_filter(_flagged(alt))
        limits = alt.Chart(alt.Data(values=[])).mark_rule(strokeDash=[6, 4], color=ALERT_COLOR).encode(
            y="y:Q", tooltip=[alt.Tooltip("label:N", title="threshold")])
        labels = alt.Chart(alt.Data(values=[])).mark_text(align="right", baseline="bottom", dy=-3,
                                                          color=ALERT_COLOR).encode(
            x=alt.XValue("width"), y="y:Q", text="label:N")
        chart = alt.layer(line, breaches, flags, limits, labels, data=no_data).properties(height=HEIGHT)
    elif kind == "slice":
        y = alt.Y("slice:N", title=None, sort=None, axis=alt.Axis(labelLimit=240))
        bars = alt.Chart().mark_errorbar(ticks=True).encode(
            x=alt.X("lo:Q", title="value", scale=alt.Scale(zero=False, padding=12)), x2="hi:Q", y=y)
        points = alt.Chart().mark_point(filled=True, size=60).encode(
            x=alt.X("value:Q", title="value"), y=y,
            tooltip=[alt.Tooltip("slice:N", title="slice"), alt.Tooltip("value:Q", title="value"),
                     alt.Tooltip("lo:Q", title="95% CI low"), alt.Tooltip("hi:Q", title="95% CI high")],
        )
        markers = alt.Chart().mark_text(align="left", dx=4, color=ALERT_COLOR, fontWeight="bold").encode(
            x=alt.XValue(0), y=y, text="flag:N").transform_filter(_flagged(alt))
        chart = alt.layer(bars, points, markers, data=no_data).properties(height=alt.Step(24))
    else:  # pragma: no cover - programming error
        raise ValueError(f"unknown chart kind {kind!r}")
    return _finish_template(chart)


def _new(kind: str, *variant: Any) -> dict[str, Any]:
    return copy.deepcopy(_template(kind, *variant))


def _set_title(spec: dict[str, Any], title: str | None) -> None:
    if title:
        spec["title"] = str(title)


def _meta(spec: dict[str, Any], **info: Any) -> None:
    spec["usermeta"] = {"sitegen": info}


# --------------------------------------------------------------------------- metric chart

def _as_series(item: Series | Sequence[Any]) -> Series:
    if isinstance(item, Series):
        return item
    try:
        label, x, y = item
    except (TypeError, ValueError):
        raise TypeError("each series must be Series(label, x, y) or a (label, x, y) tuple") from None
    return Series(str(label), x, y)


def metric_chart(series: Iterable[Series | Sequence[Any]], *, title: str | None = None, x: str = "step",
                 log_y: bool = False, max_points: int = 1000, method: str | None = None) -> dict[str, Any]:
    """A line chart of one or more metric series against ``x`` (steps, or datetimes for a time axis).

    ``series`` holds :class:`Series` or ``(label, x_values, y_values)`` tuples. Each series is sorted by
    x and, when longer than ``max_points``, downsampled with ``method`` (min/max per bucket by default,
    see :mod:`sitegen.downsample`); the spec's ``description`` says so, and
    ``usermeta.sitegen.series`` records ``[label, points in, points drawn]`` for every series.
    ``x`` is the x axis title. All series must share one kind of x (all numbers or all datetimes).
    """
    import numpy as np

    from sitegen.downsample import DEFAULT_METHOD, downsample

    method = method or DEFAULT_METHOD
    items = [_as_series(s) for s in series]
    rows: list[dict[str, Any]] = []  # one per series: {"series", "x": [...], "y": [...], "flag": [...]}
    counts: list[list[Any]] = []
    temporal: bool | None = None
    notes: list[str] = []
    flagged = 0
    for s in items:
        xnum, xvals, is_time = _x_arrays(s.x)
        yarr = np.asarray(s.y, dtype=np.float64)
        if len(xvals) != len(yarr):
            raise ValueError(f"series {s.label!r}: {len(xvals)} x values but {len(yarr)} y values")
        if temporal is None:
            temporal = is_time
        elif temporal != is_time and len(xvals):
            raise ValueError(f"series {s.label!r}: x values mix datetimes and numbers across series")
        order = np.argsort(xnum, kind="stable")
        if len(order) > max_points:
            idx = order[downsample(xnum[order], yarr[order], max_points, method)]
            notes.append(f"{s.label} downsampled from {len(order)} to {len(idx)} points")
        else:
            idx = order
        yvals, flags = _json_floats(_short(yarr[idx]))
        counts.append([s.label, int(len(order)), int(len(idx))])
        xs = [xvals[i] for i in idx.tolist()]
        present = [f for f in flags if f is not None]
        flagged += len(present)
        # flatten pads shorter arrays with null, so the flag array only runs up to the last flagged point
        last = max((i for i, f in enumerate(flags) if f is not None), default=-1)
        rows.append({"series": s.label, "x": xs, "y": yvals, "flag": flags[: last + 1]})
    spec = _new("metric", bool(log_y), bool(temporal))
    line, rules = spec["layer"]
    line["encoding"]["x"]["title"] = str(x)
    rules["encoding"]["tooltip"][1]["title"] = str(x)
    line["encoding"]["y"]["title"] = str(title) if title else (items[0].label if len(items) == 1 else "value")
    if len(items) <= 1:
        line["encoding"]["color"]["legend"] = None
    spec["data"] = {"values": rows}
    _set_title(spec, title)
    labels = ", ".join(s.label for s in items) or "no series"
    text = f"Line chart of {labels} by {x}{' (log scale)' if log_y else ''}."
    if notes:
        how = "min and max per bucket" if method == "minmax" else method.upper()
        text += " " + "; ".join(notes) + f" ({how}; extremes and non-finite values kept)."
    if flagged:
        text += f" {flagged} non-finite value(s) (NaN or inf) drawn as dashed vertical rules."
    spec["description"] = text
    _meta(spec, kind="metric", series=counts, method=method)
    return spec


# --------------------------------------------------------------------------- bar chart

def _field(row: Mapping[str, Any], key: str, where: str) -> Any:
    try:
        return row[key]
    except (KeyError, TypeError):
        raise ValueError(f"{where} has no field {key!r}") from None


def bar_chart(rows: Iterable[Mapping[str, Any]], *, x: str, y: str, color: str | None = None,
              title: str | None = None) -> dict[str, Any]:
    """Bars of ``row[y]`` per category ``row[x]`` in input order (grouped by ``row[color]`` if given).

    Meant for small categorical comparisons (a metric across a few runs). A non-finite ``y`` is
    drawn as a "NaN"/"inf" marker at the category.
    """
    values: list[dict[str, Any]] = []
    for n, row in enumerate(rows):
        where = f"bar_chart row {n}"
        value, flag = _number(_field(row, y, where))
        item: dict[str, Any] = {"x": str(_field(row, x, where)), "y": value}
        if color is not None:
            item["color"] = str(_field(row, color, where))
        if flag:
            item["flag"] = flag
        values.append(item)
    spec = _new("bar", color is not None)
    bars = spec["layer"][0]["encoding"]
    bars["x"]["title"] = str(x)
    bars["y"]["title"] = str(y)
    bars["tooltip"][0]["title"] = str(x)
    bars["tooltip"][1]["title"] = str(y)
    if color is not None:
        bars["tooltip"][2]["title"] = str(color)
    spec["data"] = {"values": values}
    _set_title(spec, title)
    spec["description"] = f"Bar chart of {y} by {x}" + (f" and {color}" if color else "") + "."
    _meta(spec, kind="bar", rows=len(values))
    return spec


# --------------------------------------------------------------------------- monitoring chart

def monitoring_chart(times: Any, values: Any, thresholds: Mapping[str, Any] | None = None, *,
                     metric: str = "value", title: str | None = None, max_points: int = 1000) -> dict[str, Any]:
    """A deployed model's metric over time with dashed rules at its ``min``/``max`` thresholds.

    ``thresholds`` is the model.yaml monitoring entry for this metric, e.g. ``{"min": 0.8}``; points
    beyond a threshold are marked. Long histories are downsampled (min/max per bucket keeps breaches).
    """
    import numpy as np

    from sitegen.downsample import downsample

    thresholds = dict(thresholds or {})
    unknown = sorted(set(thresholds) - {"min", "max"})
    if unknown:
        raise ValueError(f"monitoring thresholds: unknown key(s) {unknown}; expected 'min' and/or 'max'")
    xnum, xvals, is_time = _x_arrays(times)
    yarr = np.asarray(values, dtype=np.float64)
    if len(xvals) != len(yarr):
        raise ValueError(f"monitoring chart: {len(xvals)} times but {len(yarr)} values")
    if len(xvals) and not is_time:
        raise ValueError("monitoring chart: times must be datetimes")
    order = np.argsort(xnum, kind="stable")
    idx = order[downsample(xnum[order], yarr[order], max_points)] if len(order) > max_points else order
    limits: list[dict[str, Any]] = []
    for kind in ("min", "max"):
        if thresholds.get(kind) is not None:
            limit = float(thresholds[kind])
            if not math.isfinite(limit):
                raise ValueError(f"monitoring threshold {kind} must be a finite number, got {thresholds[kind]!r}")
            limits.append({"y": limit, "label": f"{kind} {limit:g}"})
    lo = float(thresholds["min"]) if thresholds.get("min") is not None else -math.inf
    hi = float(thresholds["max"]) if thresholds.get("max") is not None else math.inf
    yvals, flags = _json_floats(yarr[idx])
    rows = []
    breaches = 0
    for pos, i in enumerate(idx.tolist()):
        row: dict[str, Any] = {"x": xvals[i], "y": yvals[pos]}
        if flags[pos] is not None:
            row["flag"] = flags[pos]
        elif not lo <= yvals[pos] <= hi:
            row["breach"] = True
            breaches += 1
        rows.append(row)
    spec = _new("monitoring")
    spec["data"] = {"values": rows}
    spec["layer"][0]["encoding"]["y"]["title"] = str(metric)
    spec["layer"][1]["encoding"]["tooltip"][1]["title"] = str(metric)
    spec["layer"][2]["encoding"]["tooltip"][1]["title"] = str(metric)
    spec["layer"][3]["data"] = {"values": limits}
    spec["layer"][4]["data"] = {"values": copy.deepcopy(limits)}
    _set_title(spec, title)
    text = f"{metric} over time"
    if limits:
        text += " with thresholds " + ", ".join(item["label"] for item in limits)
    text += f"; {breaches} point(s) beyond a threshold."
    if len(idx) < len(order):
        text += f" Downsampled from {len(order)} to {len(idx)} points (min and max per bucket)."
    spec["description"] = text
    _meta(spec, kind="monitoring", points=[int(len(order)), int(len(idx))], breaches=breaches)
    return spec


# --------------------------------------------------------------------------- slice chart

def slice_chart(rows: Iterable[Mapping[str, Any]], *, metric: str | None = None,
                title: str | None = None) -> dict[str, Any]:
    """A metric per slice: a point at ``value`` and an error bar over ``ci95`` when a row has one.

    Rows look like a model card's ``quantitative_analyses`` entries: ``slice`` (missing means the
    whole evaluation set, shown as "(all)"), ``value`` and optionally ``ci95: [low, high]``.
    """
    values: list[dict[str, Any]] = []
    metrics: set[str] = set()
    for n, row in enumerate(rows):
        where = f"slice_chart row {n}"
        value, flag = _number(_field(row, "value", where))
        item: dict[str, Any] = {"slice": str(row.get("slice") or "(all)"), "value": value}
        ci = row.get("ci95")
        if ci is not None:
            if not isinstance(ci, (list, tuple)) or len(ci) != 2:
                raise ValueError(f"{where}: ci95 must be [low, high], got {ci!r}")
            item["lo"], _ = _number(ci[0])
            item["hi"], _ = _number(ci[1])
        if flag:
            item["flag"] = flag
        if row.get("metric") is not None:
            metrics.add(str(row["metric"]))
        values.append(item)
    label = metric if metric is not None else (metrics.pop() if len(metrics) == 1 else "value")
    spec = _new("slice")
    spec["layer"][0]["encoding"]["x"]["title"] = str(label)
    spec["layer"][1]["encoding"]["x"]["title"] = str(label)
    spec["layer"][1]["encoding"]["tooltip"][1]["title"] = str(label)
    spec["data"] = {"values": values}
    _set_title(spec, title)
    spec["description"] = f"{label} per slice with 95% confidence intervals where known."
    _meta(spec, kind="slice", rows=len(values))
    return spec
