"""Per-run metrics: counted in memory, published as CloudWatch EMF at the end of a run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from aws_lambda_powertools.metrics import EphemeralMetrics, MetricUnit

from opsbundle import settings
from opsbundle.settings import Env

DEFAULT_NAMESPACE = "opsbundle"


@dataclass
class RunMetrics:
    """Counts and durations of one run; `publish()` writes them as one EMF document."""

    service: str
    namespace: str = field(
        default_factory=lambda: Env().string(settings.METRICS_NAMESPACE) or DEFAULT_NAMESPACE
    )
    counts: dict[str, float] = field(default_factory=dict)
    durations_ms: dict[str, float] = field(default_factory=dict)

    def count(self, name: str, value: float = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + value

    @contextmanager
    def timer(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            self.durations_ms[name] = self.durations_ms.get(name, 0) + elapsed

    def snapshot(self) -> dict[str, float]:
        return {**self.counts, **{f"{k}Ms": round(v, 1) for k, v in self.durations_ms.items()}}

    def publish(self) -> None:
        """Push to the Pushgateway if PUSHGATEWAY_URL is set, and print one EMF document
        (CloudWatch turns it into metrics); then start afresh. A failed push is counted in
        the EMF as PushgatewayFailed and never fails the run."""
        gateway = Env().string(settings.PUSHGATEWAY_URL)
        if gateway and not _pushgateway().push_run(
            gateway=gateway,
            service=self.service,
            counts=self.counts,
            durations_ms=self.durations_ms,
        ):
            self.count("PushgatewayFailed")
        emf = EphemeralMetrics(namespace=self.namespace, service=self.service)
        for name, value in self.counts.items():
            emf.add_metric(name=name, unit=MetricUnit.Count, value=value)
        for name, value in self.durations_ms.items():
            emf.add_metric(name=name, unit=MetricUnit.Milliseconds, value=value)
        if self.counts or self.durations_ms:
            emf.flush_metrics()
        self.counts.clear()
        self.durations_ms.clear()


def _pushgateway() -> Any:
    """The Pushgateway module, imported on the first push: prometheus_client costs a cold
    start 15 ms, and most functions never push."""
    from opsbundle import pushgateway  # noqa: PLC0415 - imported on first use, see above

    return pushgateway
