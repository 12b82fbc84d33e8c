"""What every opsbundle dashboard shares, and the fixes grafanalib needs to emit Grafana 10+ JSON.

The dashboards are written with grafanalib's classes. grafanalib (0.7) still writes the JSON
model of Grafana 5-7: `schemaVersion` 12, `rows`, `style`, `sharedCrosshair`, panel `span`
and `height`, targets with `intervalFactor` and `step`, datasources as plain names,
`maxDataPoints: 100`, stats reduced by `mean` and a literal "none" as their no-value text.
`modernise()` turns its output into the current model (schemaVersion 39, data source
references, no legacy keys), so the JSON validates against Grafana's dashboard schema and
imports cleanly into Grafana 10 and later.

Conventions every dashboard follows (the unit tests walk every panel to hold them):
- a `datasource` variable (type prometheus) that every panel and query variable uses;
- chained query variables (region → function, job → instance ...), each `label_values()`;
- an "Overview" row of stat panels first, then rows of time series;
- a unit and a description on every panel, thresholds where a value has a meaning;
- counters only inside `rate()`/`increase()`, with `$__rate_interval` (or `$__range` for
  "in the selected range" totals);
- a stable `uid` per dashboard, so uploads overwrite instead of duplicating.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from grafanalib import core
from grafanalib._gen import DashboardEncoder

SCHEMA_VERSION = 39  # Grafana 10.4 / 11.x; older Grafana 10 loads it as is
DATASOURCE_VARIABLE = "datasource"
DATASOURCE: dict[str, str] = {"type": "prometheus", "uid": f"${{{DATASOURCE_VARIABLE}}}"}
GRID_WIDTH = 24

GREEN, YELLOW, ORANGE, RED, BLUE = "green", "yellow", "orange", "red", "blue"

# Keys the current schema defines (tests/fixtures/dashboards/dashboard.jsonschema.json);
# anything else grafanalib writes is a legacy key and is dropped.
DASHBOARD_KEYS = frozenset({
    "uid", "title", "description", "tags", "timezone", "editable", "graphTooltip", "time",
    "timepicker", "fiscalYearStartMonth", "liveNow", "weekStart", "refresh", "schemaVersion",
    "panels", "templating", "annotations", "links",
})  # fmt: skip  # names packed, not one a line
PANEL_KEYS = frozenset({
    "type", "id", "targets", "title", "description", "transparent", "datasource", "gridPos",
    "links", "repeat", "repeatDirection", "maxPerRow", "transformations", "interval",
    "timeFrom", "timeShift", "options", "fieldConfig",
})  # fmt: skip  # names packed, not one a line
ROW_KEYS = frozenset({"type", "collapsed", "title", "gridPos", "id", "panels"})
TARGET_KEYS = frozenset({"expr", "legendFormat", "refId", "datasource", "instant", "format"})
VARIABLE_KEYS = frozenset({
    "type", "name", "label", "hide", "description", "query", "datasource", "current",
    "multi", "options", "refresh", "sort", "includeAll", "allValue", "regex",
})  # fmt: skip  # names packed, not one a line

REFRESH_ON_TIME_RANGE_CHANGE = 2
SORT_NATURAL_ASC = 7


def threshold_steps(*steps: tuple[float, str], base: str = GREEN) -> list[dict[str, Any]]:
    """Grafana's threshold steps: the base colour (value null: -Infinity), then (value, colour)."""
    return [{"color": base, "value": None}] + [{"color": c, "value": v} for v, c in steps]


NEUTRAL = threshold_steps(base=BLUE)  # a value with no good or bad level: one colour


@dataclass(frozen=True)
class Query:
    """One PromQL query of a panel, with the legend Grafana shows for each series."""

    expr: str
    legend: str = ""
    instant: bool = False


@dataclass(frozen=True)
class Variable:
    """A query variable: `label_values(selector, label)`, shown as `label`.

    `all_value` is the regex "All" stands for; without one, Grafana sends every value the
    variable found (so series without the label are left out)."""

    name: str
    label: str
    selector: str
    label_name: str
    multi: bool = True
    include_all: bool = True
    all_value: str | None = None

    @property
    def query(self) -> str:
        return f"label_values({self.selector}, {self.label_name})"


@dataclass
class Row:
    title: str
    panels: list[Any] = field(default_factory=list)
    panel_width: int = 12
    panel_height: int = 8


def target(query: Query, ref_id: str) -> core.Target:
    return core.Target(
        expr=query.expr,
        legendFormat=query.legend,
        refId=ref_id,
        instant=query.instant,
        datasource=DATASOURCE,
    )


def _targets(queries: Sequence[Query]) -> list[core.Target]:
    return [target(q, chr(ord("A") + i)) for i, q in enumerate(queries)]


def stat(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    unit: str,
    thresholds: list[dict[str, Any]] | None = None,
    decimals: int | None = None,
    no_value: str | None = None,
    reduce: str = "lastNotNull",
) -> core.Stat:
    """A stat panel showing the newest value (grafanalib's default `mean` hides the current one)."""
    return core.Stat(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=_targets(queries),
        format=unit,
        decimals=decimals,
        reduceCalc=reduce,
        colorMode="value",
        graphMode="area",
        textMode="auto",
        noValue=no_value,
        thresholds=thresholds or NEUTRAL,
    )


def timeseries(
    title: str,
    description: str,
    queries: Sequence[Query],
    *,
    unit: str,
    thresholds: list[dict[str, Any]] | None = None,
    minimum: int | None = None,
    maximum: int | None = None,
    stacked: bool = False,
    bars: bool = False,
    line_style: str = "linear",
) -> core.TimeSeries:
    """A time series panel with a table legend (last, max) and a shared tooltip."""
    return core.TimeSeries(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=_targets(queries),
        unit=unit,
        thresholds=thresholds or NEUTRAL,
        thresholdsStyleMode="line" if thresholds else "off",
        valueMin=minimum,
        valueMax=maximum,
        stacking={"mode": "normal", "group": "A"} if stacked else {"mode": "none"},
        drawStyle="bars" if bars else "line",
        lineInterpolation=line_style,
        fillOpacity=30 if (stacked or bars) else 10,
        showPoints="never",
        legendDisplayMode="table",
        legendPlacement="bottom",
        legendCalcs=["lastNotNull", "max"],
        tooltipMode="multi",
        tooltipSort="desc",
    )


def datasource_variable() -> core.Template:
    return core.Template(
        name=DATASOURCE_VARIABLE,
        label="Data source",
        query="prometheus",
        type="datasource",
        refresh=1,
        default=None,
    )


def query_variable(variable: Variable) -> core.Template:
    return core.Template(
        name=variable.name,
        label=variable.label,
        query=variable.query,
        dataSource=DATASOURCE,
        multi=variable.multi,
        includeAll=variable.include_all,
        allValue=variable.all_value,
        refresh=REFRESH_ON_TIME_RANGE_CHANGE,
        sort=SORT_NATURAL_ASC,
        regex="",
    )


def layout(rows: Sequence[Row]) -> list[Any]:
    """Row panels and their panels with grid positions and ids, top to bottom."""
    panels: list[Any] = []
    y = 0
    next_id = 1
    for row in rows:
        panels.append(
            core.RowPanel(
                title=row.title, id=next_id, gridPos=core.GridPos(h=1, w=GRID_WIDTH, x=0, y=y)
            )
        )
        next_id += 1
        y += 1
        x = 0
        for panel in row.panels:
            if x + row.panel_width > GRID_WIDTH:
                x = 0
                y += row.panel_height
            panel.gridPos = core.GridPos(h=row.panel_height, w=row.panel_width, x=x, y=y)
            panel.id = next_id
            panels.append(panel)
            next_id += 1
            x += row.panel_width
        y += row.panel_height
    return panels


def dashboard(
    *,
    uid: str,
    title: str,
    description: str,
    tags: Iterable[str],
    variables: Sequence[Variable],
    overview: Sequence[Any],
    rows: Sequence[Row],
    time_from: str = "now-6h",
    links: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The dashboard as Grafana 10+ JSON: the overview stat row first, then `rows`."""
    width = max(3, GRID_WIDTH // max(1, len(overview)))
    all_rows = [Row("Overview", list(overview), panel_width=width, panel_height=4), *rows]
    board = core.Dashboard(
        title=title,
        uid=uid,
        description=description,
        tags=sorted({"opsbundle", *tags}),
        timezone="browser",
        refresh="1m",
        graphTooltip=core.GRAPH_TOOLTIP_MODE_SHARED_CROSSHAIR,
        time=core.Time(time_from, "now"),
        templating=core.Templating(
            list=[datasource_variable(), *(query_variable(v) for v in variables)]
        ),
        panels=layout(all_rows),
        links=list(links),
    )
    raw = json.loads(json.dumps(board.to_json_data(), cls=DashboardEncoder))
    return modernise(raw)


# -- grafanalib's JSON → the current dashboard model ---------------------------------------

BUILT_IN_ANNOTATION = {
    "builtIn": 1,
    "datasource": {"type": "grafana", "uid": "-- Grafana --"},
    "enable": True,
    "hide": True,
    "iconColor": "rgba(0, 211, 255, 1)",
    "name": "Annotations & Alerts",
    "type": "dashboard",
}


def modernise(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Drop legacy keys and nulls, set the current schemaVersion, use data source references."""
    board = {k: v for k, v in raw.items() if k in DASHBOARD_KEYS}
    board["schemaVersion"] = SCHEMA_VERSION
    board["annotations"] = {"list": [dict(BUILT_IN_ANNOTATION)]}
    board["fiscalYearStartMonth"] = 0
    board["liveNow"] = False
    board["weekStart"] = ""
    board["panels"] = [_panel(p) for p in raw.get("panels", [])]
    board["templating"] = {"list": [_variable(v) for v in raw["templating"]["list"]]}
    board["timepicker"] = _drop_nulls(raw["timepicker"])
    cleaned: dict[str, Any] = _drop_nulls(board)
    return cleaned


def _panel(raw: Mapping[str, Any]) -> dict[str, Any]:
    if raw.get("type") == "row":
        row = {k: v for k, v in raw.items() if k in ROW_KEYS}
        row["panels"] = [_panel(p) for p in raw.get("panels", [])]
        return row
    panel = {k: v for k, v in raw.items() if k in PANEL_KEYS}
    panel["targets"] = [_target(t) for t in raw.get("targets", [])]
    if not raw.get("repeat"):
        for key in ("repeat", "repeatDirection", "maxPerRow"):
            panel.pop(key, None)
    options = panel.setdefault("options", {})
    if panel.get("type") == "stat":  # options added since grafanalib was written (Grafana 10.x)
        options.update(wideLayout=True, showPercentChange=False, percentChangeColorMode="standard")
    if "legend" in options:
        options["legend"]["showLegend"] = True
    defaults = panel["fieldConfig"]["defaults"]
    if not defaults.get("color"):
        defaults["color"] = {"mode": "thresholds"}
    if defaults.get("noValue") is None:
        defaults.pop("noValue", None)
    return panel


def _target(raw: Mapping[str, Any]) -> dict[str, Any]:
    query = {k: v for k, v in raw.items() if k in TARGET_KEYS}
    query["range"] = not raw.get("instant", False)
    query["editorMode"] = "code"
    return query


def _variable(raw: Mapping[str, Any]) -> dict[str, Any]:
    variable = {k: v for k, v in raw.items() if k in VARIABLE_KEYS}
    current = variable.get("current") or {}
    if current.get("value") is None:
        variable.pop("current", None)
    if variable.get("type") == "datasource":
        variable.pop("datasource", None)
        variable["regex"] = ""
    if variable.get("includeAll") and not variable.get("allValue"):
        variable.pop("allValue", None)
    cleaned: dict[str, Any] = _drop_nulls(variable)
    return cleaned


def _drop_nulls(value: Any) -> Any:
    """Remove keys whose value is None (the schema has no nulls), except threshold steps."""
    if isinstance(value, dict):
        return {
            k: (v if k == "steps" else _drop_nulls(v)) for k, v in value.items() if v is not None
        }
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value
