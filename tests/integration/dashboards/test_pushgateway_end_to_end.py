"""End to end: report_fn's and log_shipper's handlers, run as deployed functions
(AWS_LAMBDA_FUNCTION_NAME set, as Lambda sets it) with PUSHGATEWAY_URL pointing at a real
Pushgateway that a real Prometheus scrapes and evaluates the opsbundle rules on, make the
opsbundle dashboard's panels show the runs' numbers per function, and keep dev and prod apart:
a good dev report never hides a missing prod one. CRM (HubSpot) and Slack are the emulators;
AWS is moto.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from dashboards.build import RULES_DIR
from dashboards.opsbundle_self import build
from log_shipper.handler import handler as ship
from report_fn.exceptions import CRMError
from report_fn.handler import handler
from report_fn.window import report_windows
from tests.emulators.hubspot import HubSpotEmulator, make_contacts
from tests.emulators.slack import SlackEmulator
from tests.integration.conftest import Aws
from tests.integration.dashboards.stack import (
    GrafanaVariables,
    Prometheus,
    Pushgateway,
    free_port,
    numbers,
)
from tests.integration.log_shipper.helpers import LambdaContext, cloudwatch_event, payload

SLOT = "2026-11-26T19:00:00Z"  # Thu 14:00 EST
WINDOWS = report_windows(datetime(2026, 11, 26, 19, 0, tzinfo=UTC), ZoneInfo("America/New_York"))
EVENT = {"scheduled_time": SLOT, "attempt": "1"}
LEADS = 40
RANGE_SECONDS = 300
# Function names as the report stack names them: <stack_prefix>-report-report.
STAGING = "opsbundle-staging-report-report"
DEV = "opsbundle-dev-report-report"
PROD = "opsbundle-prod-report-report"
SHIPPER = "opsbundle-prod-log-shipper-log-shipper"


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Pushgateway, Prometheus]]:
    work: Path = tmp_path_factory.mktemp("prometheus-live")
    gateway = Pushgateway.start(work)
    try:
        prometheus = Prometheus.start(
            work,
            scrape_targets=[gateway.url.removeprefix("http://")],
            rule_files=[RULES_DIR / "opsbundle.yml"],
        )
        try:
            yield gateway, prometheus
        finally:
            prometheus.proc.stop()
    finally:
        gateway.proc.stop()


def configure(
    monkeypatch: pytest.MonkeyPatch,
    aws: Aws,
    slack: SlackEmulator,
    hubspot: HubSpotEmulator,
    gateway: Pushgateway,
) -> None:
    for name, value in {
        "REPORT_TIMEZONE": "America/New_York",
        "REPORT_TABLE": aws.table,
        "REPORT_ARCHIVE_BUCKET": aws.bucket,
        "SLACK_TOKEN_SECRET_ARN": aws.slack_secret,
        "SLACK_BASE_URL": slack.api_url,
        "SLACK_CHANNEL": "lead-reports",
        "SLACK_OPS_CHANNEL": "ops-alerts",
        "CRM_KIND": "hubspot",
        "CRM_SECRET_ARN": aws.hubspot_secret,
        "CRM_BASE_URL": hubspot.url,
        "CRM_RETRY_SECONDS": "0",
        "PUSHGATEWAY_URL": gateway.url,
    }.items():
        monkeypatch.setenv(name, value)


def pushed(gateway: Pushgateway, job: str, function: str) -> dict[str, float]:
    """The metrics the Pushgateway holds for `job` and `function`, groups merged: name → value."""
    values: dict[str, float] = {}
    for group in gateway.groups():
        labels = group["labels"]
        if labels.get("job") != job or labels.get("function") != function:
            continue
        for name, family in group.items():
            if isinstance(family, dict) and family.get("metrics"):
                values[name] = float(family["metrics"][0]["value"])
    return values


def scraped(prometheus: Prometheus, expr: str, expected: float, timeout: float = 15) -> None:
    """Wait until Prometheus has scraped the push: `expr` evaluates to `expected`."""
    deadline = time.monotonic() + timeout
    while True:
        result = prometheus.api("query", query=expr)["result"]
        if result and float(result[0]["value"][1]) == expected:
            return
        assert time.monotonic() < deadline, f"Prometheus never saw {expr} == {expected}"
        time.sleep(0.25)


def run_and_wait(
    gateway: Pushgateway,
    prometheus: Prometheus,
    event: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    function: str,
) -> None:
    """Run report_fn's handler as the deployed function `function` and wait for the scrape."""
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", function)
    before = pushed(gateway, "report_fn", function).get("opsbundle_last_run_timestamp_seconds")
    try:
        handler(event, None)
    finally:
        after = pushed(gateway, "report_fn", function)
        assert after, f"the handler pushed nothing to the Pushgateway as {function}"
        assert after["opsbundle_last_run_timestamp_seconds"] != before
        scraped(
            prometheus,
            f'opsbundle_last_run_timestamp_seconds{{job="report_fn", function="{function}"}}',
            after["opsbundle_last_run_timestamp_seconds"],
        )


def test_report_runs_show_on_the_opsbundle_dashboard(
    monkeypatch: pytest.MonkeyPatch,
    aws: Aws,
    slack: SlackEmulator,
    hubspot: HubSpotEmulator,
    live: tuple[Pushgateway, Prometheus],
) -> None:
    gateway, prometheus = live
    configure(monkeypatch, aws, slack, hubspot, gateway)
    hubspot.add_objects("contacts", make_contacts(LEADS, WINDOWS.today.start, WINDOWS.today.end))

    hubspot.stop()  # the CRM is down: the run fails
    with pytest.raises(CRMError):
        run_and_wait(gateway, prometheus, EVENT, monkeypatch, STAGING)
    assert pushed(gateway, "report_fn", STAGING)["opsbundle_report_failed"] == 1
    time.sleep(1.5)  # a few scrapes of each state, as a real scrape interval would see
    hubspot.start()
    run_and_wait(gateway, prometheus, {**EVENT, "attempt": "2"}, monkeypatch, STAGING)  # posts
    posted = pushed(gateway, "report_fn", STAGING)
    assert posted["opsbundle_report_posted"] == 1
    assert posted["opsbundle_leads_counted"] == LEADS
    assert "opsbundle_report_failed" not in posted  # the last-run group is this run only
    assert posted["opsbundle_report_failed_last_timestamp_seconds"] > 0  # ... last_seen keeps it
    time.sleep(1.5)
    run_and_wait(gateway, prometheus, {**EVENT, "attempt": "3"}, monkeypatch, STAGING)  # late dup
    time.sleep(1.5)

    board = build()
    variables = GrafanaVariables(
        values={"job": ["report_fn"], "function": [STAGING]}, range_seconds=RANGE_SECONDS
    )
    end = time.time()
    results: dict[str, list[float]] = {}
    for panel in board["panels"]:
        if panel["type"] == "row" or "$monitor" in str(panel["targets"]):
            continue
        if "log_shipper" in str(panel["targets"]):
            continue  # the log shipper is not part of this run
        values: list[float] = []
        for target in panel["targets"]:
            values += numbers(
                prometheus.query_range(
                    variables.expand(target["expr"]), start=end - RANGE_SECONDS, end=end, step=1
                )
            )
        assert values, f"{panel['title']} shows no data"
        results[panel["title"]] = values

    assert results["Leads counted"][-1] == LEADS
    assert results["Report runs"][-1] == 2  # three runs; the first one starts the series
    assert 0 <= results["Since the last good report"][-1] < 60
    assert set(results["Outcome of the last run"]) == {1.0}  # posted, failed, duplicate steps
    assert all(v >= 0 for v in results["Report step durations"])
    assert results["Since each function last ran"][-1] < 60


def test_log_shipper_runs_show_on_the_opsbundle_dashboard(
    monkeypatch: pytest.MonkeyPatch,
    aws: Aws,
    live: tuple[Pushgateway, Prometheus],
) -> None:
    """OpenSearch is unreachable: every event goes to the dead-letter bucket (moto S3), and the
    log shipper's panels show what came in, what was indexed (none) and what was dead-lettered."""
    gateway, prometheus = live
    aws.s3.create_bucket(Bucket="log-dead-letters")
    for name, value in {
        "OPENSEARCH_URL": f"http://127.0.0.1:{free_port()}",
        "LOG_SHIPPER_INSTALL_TEMPLATE": "false",
        "LOG_SHIPPER_MAX_ATTEMPTS": "1",
        "LOG_SHIPPER_DLQ_BUCKET": "log-dead-letters",
        "PUSHGATEWAY_URL": gateway.url,
        "AWS_LAMBDA_FUNCTION_NAME": SHIPPER,
    }.items():
        monkeypatch.setenv(name, value)

    def invoke(first_id: int, n: int) -> dict[str, Any]:
        event = cloudwatch_event(payload([f"line {i}" for i in range(n)], first_id=first_id))
        return ship(event, LambdaContext())

    before = pushed(gateway, "log_shipper", SHIPPER).get("opsbundle_last_run_timestamp_seconds")
    invoke(0, 25)
    first = pushed(gateway, "log_shipper", SHIPPER)
    assert first["opsbundle_last_run_timestamp_seconds"] != before
    assert first["opsbundle_events_in"] == 25
    assert first["opsbundle_events_dead_lettered"] == 25
    scraped(prometheus, 'opsbundle_events_dead_lettered{job="log_shipper"}', 25)
    time.sleep(1.5)
    invoke(100, 30)
    scraped(prometheus, 'opsbundle_events_in{job="log_shipper"}', 30)
    time.sleep(1.5)

    board = build()
    variables = GrafanaVariables(
        values={"job": ["log_shipper"], "function": [SHIPPER]}, range_seconds=RANGE_SECONDS
    )
    end = time.time()

    def panel_values(title: str) -> list[float]:
        (panel,) = [p for p in board["panels"] if p.get("title") == title]
        values: list[float] = []
        for target in panel["targets"]:
            expr = variables.expand(target["expr"])
            values += numbers(
                prometheus.query_range(expr, start=end - RANGE_SECONDS, end=end, step=1)
            )
        return values

    events = panel_values("Events per invocation")
    assert 30 in events and 0 in events  # received and dead-lettered 30; indexed 0
    assert panel_values("Dead-lettering invocations")[-1] == 1  # the second of two
    assert panel_values("Bulk latency")
    assert panel_values("Since each function last ran")[-1] < 60


def test_a_good_dev_report_never_hides_a_missing_prod_one(
    monkeypatch: pytest.MonkeyPatch,
    aws: Aws,
    slack: SlackEmulator,
    hubspot: HubSpotEmulator,
    live: tuple[Pushgateway, Prometheus],
) -> None:
    """dev and prod push to one Pushgateway under job="report_fn". dev posts its report; prod's
    CRM is down and it never posted: OpsbundleReportMissing is raised for prod, and only for
    prod, on the real Prometheus, and the dashboard shows each function's own numbers."""
    gateway, prometheus = live
    configure(monkeypatch, aws, slack, hubspot, gateway)
    slot = "2026-11-27T13:00:00Z"  # Fri 08:00 EST, a slot no other test posts
    windows = report_windows(
        datetime(2026, 11, 27, 13, 0, tzinfo=UTC), ZoneInfo("America/New_York")
    )
    hubspot.add_objects("contacts", make_contacts(7, windows.today.start, windows.today.end))
    run_and_wait(gateway, prometheus, {"scheduled_time": slot, "attempt": "1"}, monkeypatch, DEV)
    assert pushed(gateway, "report_fn", DEV)["opsbundle_report_posted"] == 1
    hubspot.stop()  # prod's CRM is down (its slot is its own: the test shares one ledger table)
    try:
        with pytest.raises(CRMError):
            prod_event = {"scheduled_time": "2026-11-27T19:00:00Z", "attempt": "1"}
            run_and_wait(gateway, prometheus, prod_event, monkeypatch, PROD)
    finally:
        hubspot.start()

    deadline = time.monotonic() + 15
    while True:
        alerts = prometheus.api("query", query='ALERTS{alertname="OpsbundleReportMissing"}')
        raised = {a["metric"].get("function", "") for a in alerts["result"]}
        if raised:
            break
        assert time.monotonic() < deadline, "OpsbundleReportMissing never raised for prod"
        time.sleep(0.25)
    assert raised == {PROD}

    board = build()
    variables = GrafanaVariables(
        values={"job": ["report_fn"]}, all_values={"function": ".*"}, range_seconds=RANGE_SECONDS
    )
    end = time.time()

    def per_function(title: str) -> dict[str, float]:
        (panel,) = [p for p in board["panels"] if p.get("title") == title and p["type"] == "stat"]
        result = prometheus.api(
            "query", query=variables.expand(panel["targets"][0]["expr"]), time=end
        )["result"]
        return {r["metric"].get("function", ""): float(r["value"][1]) for r in result}

    since = per_function("Since the last good report")
    assert DEV in since and PROD not in since  # prod has never posted
    assert since[DEV] < 60
    assert per_function("Leads counted")[DEV] == 7
    assert PROD not in per_function("Leads counted")  # its run failed before counting
