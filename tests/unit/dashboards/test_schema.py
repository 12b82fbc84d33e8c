"""Every generated dashboard validates against Grafana's dashboard JSON schema.

The schema is vendored: tests/fixtures/dashboards/dashboard.jsonschema.json (see the README
there for where it comes from). It is strict (`additionalProperties: false` everywhere), so a
legacy key grafanalib writes (`rows`, `style`, `span`, `intervalFactor` ...) fails it.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from grafanalib._gen import DashboardEncoder

from dashboards import conventions
from dashboards.build import build_all

SCHEMA_PATH = Path(__file__).parents[2] / "fixtures" / "dashboards" / "dashboard.jsonschema.json"
BOARDS = build_all()


def schema() -> dict[str, Any]:
    loaded = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    # The one deviation, documented by the schema itself ("Nulls currently appear here when
    # serializing -Infinity to JSON"): Grafana writes the base threshold step as
    # {"value": null}, and so does every dashboard it exports.
    loaded["definitions"]["Threshold"]["properties"]["value"]["type"] = ["number", "null"]
    return loaded


VALIDATOR = jsonschema.Draft7Validator(schema())


def errors(board: dict[str, Any]) -> list[str]:
    return [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in VALIDATOR.iter_errors(board)
    ]


def test_the_vendored_schema_is_a_valid_draft7_schema() -> None:
    jsonschema.Draft7Validator.check_schema(schema())


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_dashboard_validates_against_grafanas_schema(name: str) -> None:
    assert errors(BOARDS[name]) == []


def test_grafanalibs_own_output_does_not_validate() -> None:
    """What modernise() fixes is real: grafanalib's JSON as it comes fails the schema."""
    from grafanalib import core

    board = core.Dashboard(
        title="raw",
        uid="raw",
        panels=[
            core.TimeSeries(
                title="t",
                targets=[core.Target(expr="up", refId="A")],
                gridPos=core.GridPos(h=8, w=12, x=0, y=0),
            )
        ],
    )
    raw = json.loads(json.dumps(board.to_json_data(), cls=DashboardEncoder))
    found = errors(raw)
    assert any("'rows'" in e or "'style'" in e or "sharedCrosshair" in e for e in found), found
    assert errors(conventions.modernise(raw)) == []


def plugin_validator(panel_type: str, definition: str) -> jsonschema.Draft7Validator:
    path = SCHEMA_PATH.with_name(f"{panel_type}.jsonschema.json")
    plugin = json.loads(path.read_text(encoding="utf-8"))
    return jsonschema.Draft7Validator(
        {"$ref": f"#/definitions/{definition}", "definitions": plugin["definitions"]}
    )


PANELS = [(n, p) for n, b in BOARDS.items() for p in b["panels"] if p["type"] != "row"]


@pytest.mark.parametrize(("name", "panel"), PANELS, ids=[f"{n}:{p['title']}" for n, p in PANELS])
def test_panel_options_validate_against_the_panel_plugins_schema(
    name: str, panel: dict[str, Any]
) -> None:
    options = plugin_validator(panel["type"], "Options")
    assert [e.message for e in options.iter_errors(panel["options"])] == []
    custom = panel["fieldConfig"]["defaults"]["custom"]
    if panel["type"] == "timeseries":
        field_config = plugin_validator("timeseries", "FieldConfig")
        assert [e.message for e in field_config.iter_errors(custom)] == []
    else:
        assert custom == {}  # the stat panel has no custom field config


def test_a_legacy_key_or_a_bad_value_fails_validation() -> None:
    board = copy.deepcopy(BOARDS["rds"])
    board["panels"][1]["span"] = 4
    assert any("span" in e for e in errors(board))
    board = copy.deepcopy(BOARDS["rds"])
    board["panels"][1]["gridPos"]["w"] = 30
    assert errors(board)
    stat = next(p for p in BOARDS["rds"]["panels"] if p["type"] == "stat")
    broken = dict(stat["options"], colorMode="rainbow")
    assert list(plugin_validator("stat", "Options").iter_errors(broken))
