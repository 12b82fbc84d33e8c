"""Walks every panel of every dashboard for the conventions in dashboards/conventions.py."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from dashboards import conventions
from dashboards.build import BUILDERS, build_all

BOARDS = build_all()
ALL_PANELS = [
    (name, p) for name, board in BOARDS.items() for p in board["panels"] if p["type"] != "row"
]
PANEL_IDS = [f"{name}:{p['title']}" for name, p in ALL_PANELS]

LEGACY_KEYS = {
    "rows",
    "style",
    "sharedCrosshair",
    "hideControls",
    "span",
    "minSpan",
    "height",
    "error",
    "intervalFactor",
    "step",
    "yaxes",
    "xaxis",
    "nullPointMode",
    "renderer",
    "__inputs",
    "gnetId",
    "useTags",
    "tagsQuery",
    "tagValuesQuery",
    "auto_count",
    "auto_min",
}
UIDS = {  # stable: an upload overwrites the dashboard with the same uid; never change them
    "lambda_health": "opsbundle-lambda-health",
    "load_balancers": "opsbundle-load-balancers",
    "ec2_hosts": "opsbundle-ec2-hosts",
    "rds": "opsbundle-rds",
    "containers": "opsbundle-containers",
    "opsbundle_self": "opsbundle-self",
}
LEGACY_PANEL_TYPES = {"graph", "singlestat", "table-old", "grafana-piechart-panel"}
COUNTER_FUNCTIONS = {"rate", "irate", "increase"}
KNOWN_UNITS = {"short", "percent", "percentunit", "ms", "s", "bytes", "Bps", "iops", "pps"}


def keys(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from keys(item)


def enclosing_call(expr: str, position: int) -> tuple[str, int]:
    """The function whose parentheses enclose `position`, and where its argument list ends."""
    depth = 0
    for i in range(position - 1, -1, -1):
        if expr[i] == ")":
            depth += 1
        elif expr[i] == "(":
            if depth == 0:
                name = re.search(r"(\w+)\s*$", expr[:i])
                end, inner = i, 0
                for j in range(i, len(expr)):
                    inner += {"(": 1, ")": -1}.get(expr[j], 0)
                    if inner == 0:
                        end = j
                        break
                return (name.group(1) if name else ""), end
            depth -= 1
    return "", len(expr)


def counter_problems(expr: str) -> list[str]:
    problems = []
    for match in re.finditer(r"\b[a-zA-Z_:][a-zA-Z0-9_:]*_total\b", expr):
        function, end = enclosing_call(expr, match.start())
        window = re.search(r"\[([^\]]+)\]", expr[match.end() : end + 1])
        if function not in COUNTER_FUNCTIONS:
            problems.append(f"{match.group()} outside rate()/increase() (in {function or 'top'})")
        elif window is None:
            problems.append(f"{match.group()} has no range")
        elif function == "increase" and window.group(1) not in ("$__rate_interval", "$__range"):
            problems.append(f"{match.group()}: increase over {window.group(1)}")
        elif function != "increase" and window.group(1) != "$__rate_interval":
            problems.append(f"{match.group()}: {function} over {window.group(1)}")
    return problems


def test_one_dashboard_per_module_with_a_stable_unique_uid() -> None:
    assert {name: board["uid"] for name, board in BOARDS.items()} == UIDS
    assert all(re.fullmatch(r"[a-z0-9-]{8,40}", uid) for uid in UIDS.values())
    assert build_all() == BOARDS  # the same code gives the same JSON, ids and positions


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_current_schema_and_no_legacy_keys(name: str) -> None:
    board = BOARDS[name]
    assert board["schemaVersion"] >= 39
    assert not LEGACY_KEYS & set(keys(board))
    assert "id" not in board  # a Grafana-instance id would clash on upload; the uid is the key
    assert board["graphTooltip"] == 1
    assert board["timezone"] == "browser"
    assert board["description"]


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_datasource_variable_first_then_chained_query_variables(name: str) -> None:
    variables = BOARDS[name]["templating"]["list"]
    assert variables[0]["type"] == "datasource" and variables[0]["query"] == "prometheus"
    defined = {variables[0]["name"]}
    for variable in variables[1:]:
        assert variable["type"] == "query"
        assert variable["datasource"] == conventions.DATASOURCE
        assert re.fullmatch(r"label_values\(.+, \w+\)", variable["query"])
        used = set(re.findall(r"\$(\w+)", variable["query"]))
        assert used <= defined, f"${variable['name']} uses {used - defined} before it is defined"
        assert variable["refresh"] == 2  # re-read when the time range changes
        defined.add(variable["name"])
    used_by_panels = {
        v
        for _, p in ALL_PANELS
        if _ == name
        for t in p["targets"]
        for v in re.findall(r"\$(\w+)", t["expr"])
        if not v.startswith("__")
    }
    assert used_by_panels <= defined
    assert defined - {"datasource"} <= used_by_panels, "a variable no panel uses"


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_overview_row_of_stats_comes_first(name: str) -> None:
    panels = BOARDS[name]["panels"]
    assert panels[0]["type"] == "row" and panels[0]["title"] == "Overview"
    second_row = next(i for i, p in enumerate(panels) if i and p["type"] == "row")
    overview = panels[1:second_row]
    assert len(overview) >= 4 and all(p["type"] == "stat" for p in overview)
    assert all(p["gridPos"]["y"] == 1 for p in overview)
    assert all(p["type"] != "stat" for p in panels[second_row:] if p["type"] != "row")


@pytest.mark.parametrize(("name", "panel"), ALL_PANELS, ids=PANEL_IDS)
def test_every_panel_has_unit_description_datasource_and_thresholds(
    name: str, panel: dict[str, Any]
) -> None:
    assert panel["type"] in ("stat", "timeseries") and panel["type"] not in LEGACY_PANEL_TYPES
    assert len(panel["description"]) > 20
    defaults = panel["fieldConfig"]["defaults"]
    assert defaults["unit"] in KNOWN_UNITS
    steps = defaults["thresholds"]["steps"]
    assert steps[0]["value"] is None and all(s["value"] is not None for s in steps[1:])
    assert [s["value"] for s in steps[1:]] == sorted(s["value"] for s in steps[1:])
    assert panel["datasource"] == conventions.DATASOURCE
    assert panel["targets"]
    for target in panel["targets"]:
        assert target["datasource"] == conventions.DATASOURCE
        assert set(target) <= {
            "expr",
            "legendFormat",
            "refId",
            "datasource",
            "instant",
            "format",
            "range",
            "editorMode",
        }
    if panel["type"] == "stat":
        assert panel["options"]["reduceOptions"]["calcs"] == ["lastNotNull"]
        assert defaults.get("noValue") != "none"  # grafanalib's literal default
    if panel["type"] == "timeseries":
        assert all(t["legendFormat"] for t in panel["targets"]), "series need a legend"


@pytest.mark.parametrize(("name", "panel"), ALL_PANELS, ids=PANEL_IDS)
def test_counters_only_inside_rate_or_increase_with_grafanas_intervals(
    name: str, panel: dict[str, Any]
) -> None:
    for target in panel["targets"]:
        assert counter_problems(target["expr"]) == [], target["expr"]
        assert "[5m]" not in target["expr"] and "[1m]" not in target["expr"]


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_panels_fill_the_grid_without_overlapping(name: str) -> None:
    taken: set[tuple[int, int]] = set()
    ids = set()
    for panel in BOARDS[name]["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24
        cells = {(pos["x"] + dx, pos["y"] + dy) for dx in range(pos["w"]) for dy in range(pos["h"])}
        assert not cells & taken, f"{panel['title']} overlaps another panel"
        taken |= cells
        assert panel["id"] not in ids
        ids.add(panel["id"])


def test_the_counter_check_catches_what_it_should() -> None:
    assert counter_problems("rate(node_cpu_seconds_total[$__rate_interval])") == []
    assert counter_problems("increase(kube_pod_container_status_restarts_total[$__range])") == []
    assert (
        counter_problems(
            'sum by (pod) (rate(container_cpu_usage_seconds_total{a="b"}[$__rate_interval]))'
        )
        == []
    )
    assert counter_problems("sum(node_cpu_seconds_total)")
    assert counter_problems("rate(node_cpu_seconds_total[5m])")
    assert counter_problems("count by (instance) (node_cpu_seconds_total)")


def test_every_module_has_a_builder() -> None:
    assert set(BUILDERS) == set(UIDS)
