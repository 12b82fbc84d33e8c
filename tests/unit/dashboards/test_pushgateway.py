"""opsbundle/pushgateway.py: names, what each group holds, and that a failed push is logged
and reported, never raised. (No network: the push goes through an injected handler.)"""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client.exposition import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from opsbundle import pushgateway
from opsbundle.pushgateway import (
    count_metric,
    duration_metric,
    last_run_registry,
    last_seen_metric,
    last_seen_registry,
    push_run,
    snake_case,
)

REPORT_RUN = {"ReportPosted": 1, "LeadsCounted": 42, "RowsSkipped": 0}
REPORT_TIMERS = {"CrmFetch": 1834.5, "Aggregate": 12.0, "SlackPost": 410.2}
NOW = 1_795_672_800.0


class RecordingHandler:
    """Stands in for prometheus_client's HTTP handler: records each request it would send."""

    def __init__(self, fail_with: BaseException | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_with = fail_with

    def __call__(
        self,
        url: str,
        method: str,
        timeout: float | None,
        headers: list[tuple[str, str]],
        data: bytes,
    ) -> Any:
        def send() -> None:
            self.requests.append(
                {"url": url, "method": method, "timeout": timeout, "data": data.decode()}
            )
            if self.fail_with is not None:
                raise self.fail_with

        return send


class Log:
    def __init__(self) -> None:
        self.warnings: list[tuple[str, dict[str, Any]]] = []

    def warning(self, message: str, *, extra: dict[str, Any]) -> None:
        self.warnings.append((message, extra))


def samples(text: str) -> dict[str, float]:
    return {
        s.name: s.value for family in text_string_to_metric_families(text) for s in family.samples
    }


@pytest.mark.parametrize(
    ("name", "snake"),
    [
        ("ReportPosted", "report_posted"),
        ("LeadsCounted", "leads_counted"),
        ("CrmFetch", "crm_fetch"),
        ("HTTPErrors", "http_errors"),
        ("EventsDeadLettered", "events_dead_lettered"),
        ("IngestLagSeconds", "ingest_lag_seconds"),
        ("Bulk", "bulk"),
        ("S3Archive", "s3_archive"),
        ("already_snake", "already_snake"),
    ],
)
def test_snake_case(name: str, snake: str) -> None:
    assert snake_case(name) == snake


def test_names_carry_the_prefix_and_their_unit() -> None:
    assert count_metric("ReportPosted") == "opsbundle_report_posted"
    assert duration_metric("CrmFetch") == "opsbundle_crm_fetch_duration_seconds"
    assert last_seen_metric("ReportPosted") == "opsbundle_report_posted_last_timestamp_seconds"
    with pytest.raises(ValueError, match="no letters"):
        snake_case("--")


def test_the_last_run_group_holds_exactly_this_runs_values_in_seconds() -> None:
    text = generate_latest(last_run_registry(REPORT_RUN, REPORT_TIMERS, now=NOW)).decode()
    assert samples(text) == {
        "opsbundle_report_posted": 1.0,
        "opsbundle_leads_counted": 42.0,
        "opsbundle_rows_skipped": 0.0,
        "opsbundle_crm_fetch_duration_seconds": pytest.approx(1.8345),
        "opsbundle_aggregate_duration_seconds": pytest.approx(0.012),
        "opsbundle_slack_post_duration_seconds": pytest.approx(0.4102),
        "opsbundle_last_run_timestamp_seconds": NOW,
    }
    assert "# TYPE opsbundle_report_posted gauge" in text
    assert "_total" not in text  # gauges of one run, not counters


def test_the_last_seen_group_has_only_what_happened() -> None:
    registry = last_seen_registry(REPORT_RUN, now=NOW)
    assert registry is not None
    assert samples(generate_latest(registry).decode()) == {
        "opsbundle_report_posted_last_timestamp_seconds": NOW,
        "opsbundle_leads_counted_last_timestamp_seconds": NOW,
    }
    assert last_seen_registry({"RowsSkipped": 0}, now=NOW) is None


def test_push_replaces_the_last_run_and_adds_to_last_seen() -> None:
    handler = RecordingHandler()
    ok = push_run(
        gateway="http://pushgateway.internal:9091/prefix",
        service="report_fn",
        counts=REPORT_RUN,
        durations_ms=REPORT_TIMERS,
        clock=lambda: NOW,
        handler=handler,
        timeout=3,
    )
    assert ok is True
    first, second = handler.requests
    assert first["method"] == "PUT"  # replaces the group: a count not made this run disappears
    assert first["url"] == "http://pushgateway.internal:9091/prefix/metrics/job/report_fn"
    assert "opsbundle_leads_counted 42.0" in first["data"]
    assert second["method"] == "POST"  # keeps earlier runs' last-seen times of other counts
    assert second["url"].endswith("/metrics/job/report_fn/scope/last_seen")
    assert "opsbundle_report_posted_last_timestamp_seconds" in second["data"]
    assert first["timeout"] == second["timeout"] == 3


def test_a_run_with_nothing_above_zero_pushes_only_the_last_run() -> None:
    handler = RecordingHandler()
    assert push_run(
        gateway="pg:9091",
        service="root_login",
        counts={},
        durations_ms={},
        clock=lambda: NOW,
        handler=handler,
    )
    assert [r["method"] for r in handler.requests] == ["PUT"]
    assert handler.requests[0]["url"] == "http://pg:9091/metrics/job/root_login"


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError("timed out"),
        OSError("error talking to pushgateway: 400 Bad Request"),
    ],
)
def test_a_failed_push_is_logged_and_reported_not_raised(error: OSError) -> None:
    log = Log()
    handler = RecordingHandler(fail_with=error)
    ok = push_run(
        gateway="https://ops:secret@pg.internal:9091",
        service="report_fn",
        counts=REPORT_RUN,
        durations_ms={},
        clock=lambda: NOW,
        handler=handler,
        logger=log,
    )
    assert ok is False
    assert len(handler.requests) == 2  # the second group is still tried
    message, extra = log.warnings[0]
    assert "pushgateway push failed" in message
    assert extra["pushgateway"] == "https://pg.internal:9091"  # no credentials in logs
    assert extra["job"] == "report_fn" and type(error).__name__ in extra["error"]


def test_a_bad_gateway_url_is_a_failed_push_too() -> None:
    log = Log()
    ok = push_run(
        gateway="ftp://pg.internal", service="report_fn", counts={}, durations_ms={}, logger=log
    )
    assert ok is False and log.warnings


def test_redact() -> None:
    assert pushgateway.redact("http://u:p@h:9091/x") == "http://h:9091/x"
    assert pushgateway.redact("http://h:9091") == "http://h:9091"


def test_a_deployed_function_is_its_own_group(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two functions of one part (dev and prod) must not overwrite each other's last run."""
    from opsbundle import pushgateway

    seen: list[str] = []

    def handler(url: str, method: str, timeout: float | None, headers: Any, data: bytes) -> Any:
        seen.append(f"{method} {url}")
        return lambda: None

    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "opsbundle-prod-report")
    assert pushgateway.push_run(
        gateway="http://127.0.0.1:9091",
        service="report_fn",
        counts={"ReportPosted": 1},
        durations_ms={},
        handler=handler,
    )
    assert seen == [
        "PUT http://127.0.0.1:9091/metrics/job/report_fn/function/opsbundle-prod-report",
        "POST http://127.0.0.1:9091/metrics/job/report_fn/function/opsbundle-prod-report"
        "/scope/last_seen",
    ]


def test_a_password_never_goes_over_plain_http() -> None:
    log = Log()
    handler = RecordingHandler()
    ok = push_run(
        gateway="http://ops:secret@pg.internal:9091",
        service="report_fn",
        counts=REPORT_RUN,
        durations_ms={},
        clock=lambda: NOW,
        handler=handler,
        logger=log,
    )
    assert ok is False and handler.requests == []
    assert "a password goes only to an https URL" in log.warnings[0][1]["error"]
