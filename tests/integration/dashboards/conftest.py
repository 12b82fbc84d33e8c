"""A real Prometheus for the dashboards' queries, loaded with two hours of synthetic series in
the exporters' real names (see synthetic.py) and with the alert rules, once per session."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from dashboards.build import rule_files
from tests.integration.dashboards import synthetic
from tests.integration.dashboards.stack import Prometheus


@dataclass
class LoadedPrometheus:
    prometheus: Prometheus
    start: float  # the query window: the last hour of the synthetic history
    end: float
    metric_names: frozenset[str]

    step: float = 60.0


@pytest.fixture(scope="session")
def loaded_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedPrometheus]:
    work = tmp_path_factory.mktemp("prometheus-synthetic")
    series = synthetic.build(time.time())
    data = series.write(work / "synthetic.om")
    prometheus = Prometheus.start(work, rule_files=rule_files(), backfill=data)
    try:
        yield LoadedPrometheus(
            prometheus,
            start=series.end - 3600,
            end=series.end,
            metric_names=frozenset(series.families),
        )
    finally:
        prometheus.proc.stop()
