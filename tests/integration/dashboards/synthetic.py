"""Two hours of history for the dashboards' queries, written as OpenMetrics for
`promtool tsdb create-blocks-from openmetrics`.

Why a backfill: the panels read history (`rate()` over `$__rate_interval`, `changes()` over
`$__range`, the report's runs every 20 minutes) that a scrape started by the test would take
hours to build. What goes in:
- the exporters' recorded scrapes (recorded.py: YACE, the kubelet's cAdvisor,
  kube-state-metrics), replayed as Prometheus would have stored them; node_exporter is not
  here: the tests scrape the real one live (stack.NodeExporter);
- the bundle's own series as opsbundle/pushgateway.py pushes them, for two deployed report
  functions (prod and dev) and one of each other part. The end-to-end test proves the push
  path itself on a live Pushgateway.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from opsbundle.pushgateway import LAST_RUN, count_metric, duration_metric, last_seen_metric
from tests.integration.dashboards.recorded import RECORDINGS, Recording

STEP_SECONDS = 15
HISTORY_SECONDS = 2 * 3600

Labels = Mapping[str, str]
Value = Callable[[float], float | None]  # seconds into the history → value, None = no sample

REPORT_PROD = "opsbundle-prod-report-report"
REPORT_DEV = "opsbundle-dev-report-report"
SHIPPER = "opsbundle-prod-log-shipper-log-shipper"
MONITORS = {
    "unhealthy_targets": "opsbundle-prod-monitors-targets",
    "root_login": "opsbundle-prod-monitors-root-login",
    "pipeline_failure": "opsbundle-prod-monitors-pipeline-failure",
}


@dataclass
class Family:
    kind: str  # gauge or counter
    series: list[tuple[dict[str, str], Value]] = field(default_factory=list)


class Synthetic:
    def __init__(self, end: float) -> None:
        self.end = float(int(end // STEP_SECONDS) * STEP_SECONDS)
        self.start = self.end - HISTORY_SECONDS
        self.families: dict[str, Family] = defaultdict(lambda: Family("gauge"))

    def gauge(self, name: str, labels: Labels, value: Value) -> None:
        self.families[name].series.append((dict(labels), value))

    def recorded(self, recording: Recording) -> None:
        for name, kind, labels, value in recording.replay():
            family = self.families[name]
            family.kind = "counter" if kind == "counter" else "gauge"
            family.series.append((labels, lambda t, v=value: v(HISTORY_SECONDS - t)))

    def openmetrics(self) -> Iterator[str]:
        for name in sorted(self.families):
            family = self.families[name]
            base = name.removesuffix("_total") if family.kind == "counter" else name
            yield f"# TYPE {base} {family.kind}\n"
            for labels, value in family.series:
                rendered = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()) if v)
                selector = f"{name}{{{rendered}}}" if rendered else name
                t = self.start
                while t <= self.end:
                    v = value(t - self.start)
                    if v is not None:
                        yield f"{selector} {v} {t:.0f}\n"
                    t += STEP_SECONDS
        yield "# EOF\n"

    def write(self, path: Path) -> Path:
        with path.open("w") as out:
            out.writelines(self.openmetrics())
        return path


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def build(end: float) -> Synthetic:
    s = Synthetic(end)
    for recording in RECORDINGS:
        s.recorded(recording)
    _opsbundle(s)
    return s


def _runs(every: float, offset: float) -> Callable[[float], int | None]:
    """The index of the newest run at time t (runs at offset, offset+every ...), None before."""
    return lambda t: None if t < offset else int((t - offset) // every)


# report_fn's outcomes, one per run (every 20 minutes), over and over. prod's last hour has
# one failed run, one posted and one that found its slot already posted; dev posts and
# stays quiet (a report that posts only when flagged) in turn.
REPORT_OUTCOMES = {
    REPORT_PROD: (
        300,
        ["ReportFailed", "ReportPosted", "ReportPosted", "ReportFailed", "ReportPosted",
         "ReportDuplicate"],
    ),
    REPORT_DEV: (600, ["ReportPosted", "ReportQuiet"]),
}  # fmt: skip  # laid out as a table
REPORT_EVERY = 1200


def report_runs(function: str, start: float, end: float) -> list[tuple[float, str]]:
    """(time, outcome) of each run of a report function between start and end."""
    offset, outcomes = REPORT_OUTCOMES[function]
    times = range(int(start + offset), int(end) + 1, REPORT_EVERY)
    return [(float(t), outcomes[i % len(outcomes)]) for i, t in enumerate(times)]


def _opsbundle(s: Synthetic) -> None:
    """What opsbundle/pushgateway.py leaves in the Pushgateway, as Prometheus scrapes it."""
    for function in REPORT_OUTCOMES:
        _report(s, function)
    _shipper_and_monitors(s)


def _report(s: Synthetic, function: str) -> None:
    offset, outcomes = REPORT_OUTCOMES[function]
    runs = _runs(REPORT_EVERY, offset)
    report = {"job": "report_fn", "function": function}
    seen = {**report, "scope": "last_seen"}

    def run_time(i: int) -> float:
        return s.start + offset + i * REPORT_EVERY

    def outcome_of(t: float) -> str | None:
        i = runs(t)
        return None if i is None else outcomes[i % len(outcomes)]

    def when(fn: Callable[[int], float | None]) -> Value:
        return lambda t: None if (i := runs(t)) is None else fn(i)

    s.gauge(LAST_RUN, report, when(run_time))
    for name in ("ReportPosted", "ReportFailed", "ReportDuplicate", "ReportQuiet"):
        s.gauge(
            count_metric(name), report, lambda t, name=name: 1 if outcome_of(t) == name else None
        )
        s.gauge(
            last_seen_metric(name),
            seen,
            lambda t, name=name: _last(runs(t), outcomes, name, run_time),
        )
    s.gauge(
        count_metric("LeadsCounted"),
        report,
        when(lambda i: None if outcomes[i % len(outcomes)] == "ReportFailed" else 40 + 7 * i),
    )
    s.gauge(last_seen_metric("LeadsCounted"), seen, when(run_time))
    for timer, seconds in [("CrmFetch", 1.8), ("Aggregate", 0.02), ("SlackPost", 0.4)]:
        s.gauge(duration_metric(timer), report, when(lambda i, sec=seconds: sec + 0.1 * (i % 3)))


def _shipper_and_monitors(s: Synthetic) -> None:
    # log_shipper: an invocation every minute; every 7th dead-letters a few events.
    shipper = {"job": "log_shipper", "function": SHIPPER}
    shipper_runs = _runs(60, 0)

    def shipper_value(fn: Callable[[int], float | None]) -> Value:
        return lambda t: fn(shipper_runs(t))

    s.gauge(LAST_RUN, shipper, shipper_value(lambda i: s.start + 60 * i))
    s.gauge(count_metric("EventsIn"), shipper, shipper_value(lambda i: 500 + i % 50))
    s.gauge(
        count_metric("EventsIndexed"),
        shipper,
        shipper_value(lambda i: 500 + i % 50 - (3 if i % 7 == 0 else 0)),
    )
    s.gauge(
        count_metric("EventsDeadLettered"),
        shipper,
        shipper_value(lambda i: 3 if i % 7 == 0 else None),
    )
    s.gauge(
        last_seen_metric("EventsDeadLettered"),
        {**shipper, "scope": "last_seen"},
        shipper_value(lambda i: s.start + 60 * (i - i % 7)),
    )
    s.gauge(count_metric("IngestLagSeconds"), shipper, shipper_value(lambda i: 4 + i % 9))
    s.gauge(duration_metric("BulkLatency"), shipper, shipper_value(lambda i: 0.2 + 0.01 * (i % 10)))
    s.gauge(count_metric("BulkRequests"), shipper, shipper_value(lambda i: 1 + i % 3))
    s.gauge(duration_metric("Ship"), shipper, shipper_value(lambda i: 0.3 + 0.01 * (i % 10)))

    # monitors: each runs every 5 minutes; every other run sends an alert (the target monitor
    # alternates alarm and resolved), every 5th fails.
    for offset, (job, counts) in enumerate(
        [
            ("unhealthy_targets", ("TargetAlarmsInspected", "TargetAlarmsResolved")),
            ("root_login", ("RootActivityReported",)),
            ("pipeline_failure", ("PipelineFailuresReported",)),
        ]
    ):
        _monitor(s, job, counts, offset=60 + 20 * offset)


def _monitor(s: Synthetic, job: str, counts: tuple[str, ...], *, offset: float) -> None:
    runs = _runs(300, offset)
    labels = {"job": job, "function": MONITORS[job]}
    seen = {**labels, "scope": "last_seen"}

    def value(fn: Callable[[int], float | None]) -> Value:
        return lambda t: None if runs(t) is None else fn(runs(t))

    def at(i: int) -> float:
        return s.start + offset + 300 * i

    s.gauge(LAST_RUN, labels, value(at))
    for phase, count in enumerate(counts):  # the first on even runs, the second on odd ones
        s.gauge(count_metric(count), labels, value(lambda i, p=phase: 1 if i % 2 == p else None))
        s.gauge(
            last_seen_metric(count),
            seen,
            value(lambda i, p=phase: at(i - (i - p) % 2) if i >= p else None),
        )
    s.gauge(count_metric("MonitorFailed"), labels, value(lambda i: 1 if i % 5 == 4 else None))
    s.gauge(
        last_seen_metric("MonitorFailed"),
        seen,
        value(lambda i: at(i - (i + 1) % 5) if i >= 4 else None),
    )


def _last(
    newest: int | None, outcomes: list[str], name: str, run_time: Callable[[int], float]
) -> float | None:
    """When `name` last happened among runs 0..newest (the last_seen group's value)."""
    if newest is None:
        return None
    for i in range(newest, -1, -1):
        if outcomes[i % len(outcomes)] == name:
            return run_time(i)
    return None
