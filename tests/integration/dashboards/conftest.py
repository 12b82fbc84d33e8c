"""A real Prometheus for the dashboards' queries, once per session: backfilled with two hours
of the exporters' recorded scrapes and the bundle's own series (synthetic.py), scraping the
real node_exporter live, and loaded with the alert rules."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from dashboards.build import rule_files
from tests.integration.dashboards import synthetic
from tests.integration.dashboards.stack import NodeExporter, Prometheus

# One node_exporter scraped by two jobs, as two hosts would be (the Job variable chains).
NODE_JOBS = ("node", "bastion")
LIVE_UIDS = frozenset({"opsbundle-ec2-hosts"})  # dashboards read from the live scrape
SCRAPES_BEFORE_QUERYING = 5


@dataclass
class LoadedPrometheus:
    prometheus: Prometheus
    start: float  # the backfilled query window: the last hour of the recorded history
    end: float
    live_start: float  # when the live scrape of node_exporter began
    node_targets: dict[str, str]  # job → host:port

    step: float = 60.0

    def window(self, uid: str) -> tuple[float, float, float]:
        """(start, end, step) to query a dashboard over: the backfilled hour, or the seconds
        the live scrape has collected so far."""
        if uid in LIVE_UIDS:
            return self.live_start, time.time(), 1.0
        return self.start, self.end, self.step

    def metric_names(self) -> frozenset[str]:
        return frozenset(self.prometheus.api("label/__name__/values"))


@pytest.fixture(scope="session")
def loaded_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedPrometheus]:
    work = tmp_path_factory.mktemp("prometheus-recorded")
    series = synthetic.build(time.time())
    data = series.write(work / "history.om")
    node = NodeExporter.start(work)
    try:
        targets = {job: node.address for job in NODE_JOBS}
        # the second job reaches the same exporter by name, so its instance label differs
        targets["bastion"] = node.address.replace("127.0.0.1", "localhost")
        live_start = time.time()
        prometheus = Prometheus.start(
            work,
            scrape_jobs={job: [target] for job, target in targets.items()},
            rule_files=rule_files(),
            backfill=data,
        )
        try:
            _wait_for_scrapes(prometheus, len(targets))
            yield LoadedPrometheus(
                prometheus,
                start=series.end - 3600,
                end=series.end,
                live_start=live_start,
                node_targets=targets,
            )
        finally:
            prometheus.proc.stop()
    finally:
        node.proc.stop()


def _wait_for_scrapes(prometheus: Prometheus, targets: int, timeout: float = 30) -> None:
    """Until every node_exporter target has been scraped a few times (rate() needs two)."""
    query = f"count_over_time(up{{job=~'{'|'.join(NODE_JOBS)}'}}[1m]) >= {SCRAPES_BEFORE_QUERYING}"
    deadline = time.monotonic() + timeout
    while len(prometheus.api("query", query=query)["result"]) < targets:
        assert time.monotonic() < deadline, f"node_exporter not scraped: {prometheus.log_tail()}"
        time.sleep(0.5)
