"""Recorded /metrics scrapes of the exporters (tests/fixtures/dashboards/exporters/), read with
prometheus_client's text parser and replayed as Prometheus history.

Each fixture is one exporter's exposition text, one file per scrape, with a note at its top on
where its shape comes from. Replaying it the way Prometheus would have stored it:
- a label with an empty value is no label (Prometheus drops it when it ingests a scrape), and
  the scrape adds `job` and `instance` (and whatever `target_labels` the scrape job sets);
- a gauge keeps the value of the newest recorded scrape;
- a counter recorded twice grows at the rate the two scrapes show, reaching the newest value
  at the end of the history (and starting from 0, as a container that started in it would);
  one that only counts whole things (restarts) stays a whole number.

The same parsed series give the tests their expected numbers: a panel's total must equal the
total of the resources in the recording, each counted once.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "dashboards" / "exporters"

Labels = Mapping[str, str]
Value = Callable[[float], float | None]  # seconds before the end of the history → value


@dataclass(frozen=True)
class Series:
    name: str
    labels: tuple[tuple[str, str], ...]  # as the exporter wrote them, empty values included
    kind: str  # counter, gauge or untyped
    values: tuple[float, ...]  # one per recorded scrape

    @property
    def label_map(self) -> dict[str, str]:
        return dict(self.labels)

    @property
    def stored_labels(self) -> dict[str, str]:
        """The labels Prometheus keeps: empty ones dropped."""
        return {k: v for k, v in self.labels if v != ""}

    @property
    def newest(self) -> float:
        return self.values[-1]


@dataclass
class Recording:
    """One exporter's recorded scrapes, as one scrape job would have collected them."""

    job: str
    instance: str
    files: tuple[Path, ...]
    seconds_between_scrapes: float = 30.0
    target_labels: dict[str, str] = field(default_factory=dict)

    def series(self) -> list[Series]:
        scrapes = [_parse(path.read_text("utf-8")) for path in self.files]
        first = scrapes[0]
        for path, other in zip(self.files[1:], scrapes[1:], strict=True):
            if other.keys() != first.keys():
                raise ValueError(f"{path.name} does not have the series of {self.files[0].name}")
        return [
            Series(name, labels, kind, tuple(scrape[(name, labels)][1] for scrape in scrapes))
            for (name, labels), (kind, _) in first.items()
        ]

    def find(self, name: str, **match: str) -> list[Series]:
        """The recorded series of `name` whose labels equal `match` ("" = absent)."""
        return [
            s
            for s in self.series()
            if s.name == name and all(s.label_map.get(k, "") == v for k, v in match.items())
        ]

    def per_second(self, series: Series) -> float:
        """A counter's rate between the first and the newest scrape."""
        if len(series.values) < 2:
            return 0.0
        elapsed = self.seconds_between_scrapes * (len(series.values) - 1)
        return (series.values[-1] - series.values[0]) / elapsed

    def replay(self) -> Iterator[tuple[str, str, dict[str, str], Value]]:
        """(name, kind, labels as stored, value over the history) for every recorded series."""
        scrape = {"job": self.job, "instance": self.instance, **self.target_labels}
        for series in self.series():
            labels = {**series.stored_labels, **scrape}
            yield series.name, series.kind, labels, self._value(series)

    def _value(self, series: Series) -> Value:
        newest = series.newest
        if series.kind != "counter":
            return lambda before_end: newest
        slope = self.per_second(series)
        whole = all(float(v).is_integer() for v in series.values)

        def value(before_end: float) -> float:
            v = max(0.0, newest - slope * before_end)
            return float(math.floor(v)) if whole else round(v, 6)

        return value


def _parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], tuple[str, float]]:
    parsed: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[str, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            key = (sample.name, tuple(sample.labels.items()))
            if key in parsed:
                raise ValueError(f"{sample.name}{sample.labels} appears twice in one scrape")
            parsed[key] = (family.type, float(sample.value))
    return parsed


def fixture(*names: str) -> tuple[Path, ...]:
    return tuple(FIXTURES / name for name in names)


YACE = Recording("yace", "yace.monitoring:5000", fixture("yace-0.63.prom"), 60.0)
YACE_SNAKE_CASE = Recording(
    "yace", "yace.monitoring:5000", fixture("yace-0.63-labels-snake-case.prom"), 60.0
)
CADVISOR = Recording(
    "kubelet",
    "10.0.3.21:10250",
    fixture("kubelet-cadvisor.1.prom", "kubelet-cadvisor.2.prom"),
    target_labels={"metrics_path": "/metrics/cadvisor", "node": "ip-10-0-3-21.ec2.internal"},
)
KUBE_STATE_METRICS = Recording(
    "kube-state-metrics",
    "10.0.3.40:8080",
    fixture("kube-state-metrics.1.prom", "kube-state-metrics.2.prom"),
)
RECORDINGS = (YACE, CADVISOR, KUBE_STATE_METRICS)
