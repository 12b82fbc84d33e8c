"""Push one run's metrics to a Prometheus Pushgateway, so Prometheus sees them without CloudWatch.

EMF into CloudWatch stays the default; with `PUSHGATEWAY_URL` set, `RunMetrics.publish()`
also calls `push_run()` at the end of each invocation.

What is pushed, and why. A Lambda invocation is a batch job: it has no endpoint to scrape and
a cold start forgets everything, so a counter can't grow across runs, and a push replaces
what the previous run pushed. Prometheus' own guidance for batch jobs is therefore to push
*gauges describing the last run* plus timestamps, and let PromQL (`changes()`, `time() - ...`)
do the counting. Two groups per service (the `job` label):

- `{job="<service>"}`, replaced (PUT) by every run: one gauge per count of the run,
  `opsbundle_<count>` (e.g. `opsbundle_report_posted`, `opsbundle_leads_counted`), one per
  timer, `opsbundle_<timer>_duration_seconds`, and `opsbundle_last_run_timestamp_seconds`.
  A count the run did not make is absent, so the group is exactly the last run.
- `{job="<service>", scope="last_seen"}`, added to (POST) by every run: for each count that
  was above zero, `opsbundle_<count>_last_timestamp_seconds`, the Unix time it last happened
  (e.g. `opsbundle_report_posted_last_timestamp_seconds`). POST replaces only the metrics it
  carries, so "when was the last good report" survives the failed runs after it.

No `_total` suffix: these are gauges, and `_total` promises a counter that rate() can read.
Runs in a range are `changes(opsbundle_last_run_timestamp_seconds[$__range])`, good reports in
a range `changes(opsbundle_report_posted_last_timestamp_seconds[$__range])`.

A push that fails never fails the run: `push_run()` logs a warning and returns False, and the
caller counts it (`PushgatewayFailed` in the run's EMF metrics).
"""

from __future__ import annotations

import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any

from prometheus_client import CollectorRegistry, Gauge
from prometheus_client.exposition import default_handler, push_to_gateway, pushadd_to_gateway

from opsbundle import settings
from opsbundle.log import get_logger
from opsbundle.settings import Env
from opsbundle.urls import is_loopback

PREFIX = "opsbundle_"
LAST_RUN = f"{PREFIX}last_run_timestamp_seconds"
LAST_SEEN_LABEL, LAST_SEEN_VALUE = "scope", "last_seen"
DEFAULT_TIMEOUT_SECONDS = 5.0

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_NAME = re.compile(r"[^a-z0-9_]+")

Handler = Callable[..., Callable[[], None]]


def snake_case(name: str) -> str:
    """`ReportPosted` → `report_posted`, `HTTPErrors` → `http_errors`, `CrmFetch` → `crm_fetch`."""
    words = _WORD_BOUNDARY.sub("_", name.strip()).lower()
    cleaned = _NOT_NAME.sub("_", words).strip("_")
    if not cleaned:
        raise ValueError(f"metric name {name!r} has no letters or digits")
    return cleaned


def count_metric(name: str) -> str:
    return f"{PREFIX}{snake_case(name)}"


def duration_metric(name: str) -> str:
    return f"{PREFIX}{snake_case(name)}_duration_seconds"


def last_seen_metric(name: str) -> str:
    return f"{PREFIX}{snake_case(name)}_last_timestamp_seconds"


def last_run_registry(
    counts: Mapping[str, float], durations_ms: Mapping[str, float], *, now: float
) -> CollectorRegistry:
    """The `{job}` group: the last run's counts and durations, and when it ran."""
    registry = CollectorRegistry()
    for name, value in sorted(counts.items()):
        Gauge(count_metric(name), f"{name} in the last run (count)", registry=registry).set(value)
    for name, millis in sorted(durations_ms.items()):
        Gauge(
            duration_metric(name), f"{name} time in the last run (seconds)", registry=registry
        ).set(millis / 1000)
    Gauge(LAST_RUN, "Unix time of the last run's push (seconds)", registry=registry).set(now)
    return registry


def last_seen_registry(counts: Mapping[str, float], *, now: float) -> CollectorRegistry | None:
    """The `{job, scope="last_seen"}` group: when each count last happened (above zero)."""
    seen = sorted(name for name, value in counts.items() if value > 0)
    if not seen:
        return None
    registry = CollectorRegistry()
    for name in seen:
        Gauge(
            last_seen_metric(name),
            f"Unix time {name} was last above zero (seconds)",
            registry=registry,
        ).set(now)
    return registry


def push_run(
    *,
    gateway: str,
    service: str,
    counts: Mapping[str, float],
    durations_ms: Mapping[str, float],
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    clock: Callable[[], float] = time.time,
    handler: Handler = default_handler,
    logger: Any = None,
) -> bool:
    """Push one run; True when the Pushgateway took both groups, False (logged) when not."""
    log = logger or get_logger()
    now = clock()
    # Grouped by function too, so two deployed functions of one part (dev and prod, say)
    # never overwrite each other's last run.
    function = Env().string(settings.AWS_LAMBDA_FUNCTION_NAME)
    base = {"function": function} if function else {}
    pushes: list[tuple[str, dict[str, str], CollectorRegistry, Callable[..., None]]] = [
        ("last_run", base, last_run_registry(counts, durations_ms, now=now), push_to_gateway)
    ]
    seen = last_seen_registry(counts, now=now)
    if seen is not None:
        pushes.append(
            ("last_seen", {**base, LAST_SEEN_LABEL: LAST_SEEN_VALUE}, seen, pushadd_to_gateway)
        )
    ok = True
    for group, grouping_key, registry, push in pushes:
        try:
            check_gateway(gateway)
            push(
                gateway,
                job=service,
                registry=registry,
                grouping_key=grouping_key,
                timeout=timeout,
                handler=handler,
            )
        except (OSError, ValueError) as error:  # URLError/HTTPError/timeouts are OSErrors
            ok = False
            log.warning(
                "pushgateway push failed; the run's metrics are in EMF only",
                extra={
                    "pushgateway": redact(gateway),
                    "group": group,
                    "job": service,
                    "error": f"{type(error).__name__}: {error}",
                },
            )
    return ok


def check_gateway(gateway: str) -> None:
    """prometheus-client takes `host:port` or an http(s) URL; anything else would be sent to
    a host named after the scheme, so refuse it here."""
    parts = urllib.parse.urlsplit(gateway)
    if "://" in gateway and parts.scheme not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {redact(gateway)}")
    if parts.password is not None and parts.scheme != "https" and not is_loopback(gateway):
        raise ValueError(f"a password goes only to an https URL: {redact(gateway)}")
    if not gateway.strip():
        raise ValueError("empty Pushgateway URL")


def redact(url: str) -> str:
    """The URL without any user:password part, for logs."""
    parts = urllib.parse.urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))
