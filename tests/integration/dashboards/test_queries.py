"""Every panel query and every variable query of every dashboard, run against a real
Prometheus holding the exporters' recorded scrapes and scraping the real node_exporter,
returns data; a typo does not."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from dashboards.build import build_all
from tests.integration.dashboards.conftest import LoadedPrometheus
from tests.integration.dashboards.stack import (
    GrafanaVariables,
    numbers,
    parse_label_values,
    resolve_variables,
)

BOARDS = build_all()


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in board["panels"]:
        if panel["type"] != "row":
            yield panel


def run(loaded: LoadedPrometheus, expr: str, uid: str) -> list[float]:
    start, end, step = loaded.window(uid)
    return numbers(loaded.prometheus.query_range(expr, start=start, end=end, step=step))


def assert_every_query_returns_data(
    loaded: LoadedPrometheus, board: dict[str, Any], variables: GrafanaVariables
) -> int:
    empty = []
    ran = 0
    for panel in panels(board):
        for target in panel["targets"]:
            ran += 1
            expr = variables.expand(target["expr"])
            if not run(loaded, expr, board["uid"]):
                empty.append(f"{panel['title']} / {target['refId']}: {expr}")
    assert not empty, f"{board['uid']}: queries without data:\n" + "\n".join(empty)
    return ran


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_variable_queries_return_values_and_chain(
    loaded_prometheus: LoadedPrometheus, name: str
) -> None:
    """Every variable has values for every value of the variables before it, and a chained
    variable really narrows: some parent value offers fewer choices than all of them do."""
    board = BOARDS[name]
    everything = resolve_variables(loaded_prometheus, board, first_only=False)
    start, end, _ = loaded_prometheus.window(board["uid"])
    chained = [v for v in board["templating"]["list"] if v["type"] == "query" and "$" in v["query"]]
    for variable in chained:
        selector, label = parse_label_values(variable["query"])
        parents = [p for p in everything.values if f"${p}" in selector]
        sizes = []
        for parent in parents:
            for value in everything.values[parent]:
                one = GrafanaVariables(values={**everything.values, parent: [value]})
                got = loaded_prometheus.prometheus.label_values(
                    label, one.expand(selector), start=start, end=end
                )
                assert got, f"{name}: ${variable['name']} is empty for ${parent}={value}"
                assert set(got) <= set(everything.values[variable["name"]])
                sizes.append(len(got))
        assert min(sizes) < len(everything.values[variable["name"]]), (
            f"{name}: ${variable['name']} does not narrow by {parents}"
        )


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_every_panel_query_returns_data_with_all_selected(
    loaded_prometheus: LoadedPrometheus, name: str
) -> None:
    board = BOARDS[name]
    variables = resolve_variables(loaded_prometheus, board, first_only=False)
    assert assert_every_query_returns_data(loaded_prometheus, board, variables) >= 5


@pytest.mark.parametrize("name", sorted(BOARDS))
def test_a_typo_in_any_metric_name_empties_the_query(
    loaded_prometheus: LoadedPrometheus, name: str
) -> None:
    """No query returns data whatever its metrics hold (no `or vector(0)` hiding a typo). A
    query that reads either of two metrics (`a or b`: a report's last post or quiet slot)
    still answers with one of them misspelt, but never the same: that must change."""
    board = BOARDS[name]
    variables = resolve_variables(loaded_prometheus, board, first_only=False)
    known = sorted(loaded_prometheus.metric_names(), key=len, reverse=True)
    for panel in panels(board):
        for target in panel["targets"]:
            expr = variables.expand(target["expr"])
            used = [m for m in known if re.search(rf"\b{re.escape(m)}\b", expr)]
            assert used, f"{panel['title']}: no known metric in {expr}"
            either = len(used) > 1 and " or " in expr
            for metric in used:
                misspelt = metric[:-1] if metric[:-1] not in known else metric[:-1] + "_"
                typo = re.sub(rf"\b{re.escape(metric)}\b", misspelt, expr)
                answer = run(loaded_prometheus, typo, board["uid"])
                if either:
                    assert answer != run(loaded_prometheus, expr, board["uid"]), (
                        f"{panel['title']}: the same data despite {typo}"
                    )
                else:
                    assert not answer, f"{panel['title']}: data despite {typo}"


def test_the_data_check_fails_on_a_typo(loaded_prometheus: LoadedPrometheus) -> None:
    board = dict(BOARDS["lambda_health"])
    variables = resolve_variables(loaded_prometheus, board, first_only=False)
    broken = dict(
        board,
        panels=[
            {
                "type": "stat",
                "title": "typo",
                "targets": [
                    {"refId": "A", "expr": 'sum(aws_lambda_invocation_sum{region=~"$region"})'}
                ],
            },
        ],
    )
    with pytest.raises(AssertionError, match="queries without data"):
        assert_every_query_returns_data(loaded_prometheus, broken, variables)
