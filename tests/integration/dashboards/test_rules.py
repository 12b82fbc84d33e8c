"""The alert rules pass `promtool check rules` and their unit tests (`promtool test rules`),
and a real Prometheus loads and evaluates every rule without error."""

from __future__ import annotations

import subprocess
import time

from dashboards.build import RULES_DIR, rule_files
from tests.integration.dashboards.conftest import LoadedPrometheus
from tests.integration.dashboards.stack import PROMTOOL, require


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - promtool with our own rule files
        [require(PROMTOOL), *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=RULES_DIR,
        check=False,
    )


def test_promtool_checks_every_rule_file() -> None:
    files = [str(p) for p in rule_files()]
    assert len(files) >= 4
    done = promtool("check", "rules", *files)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.count("SUCCESS") == len(files)


def test_promtool_unit_tests_pass() -> None:
    tests = sorted(str(p) for p in (RULES_DIR / "tests").glob("*.yml"))
    assert len(tests) == len(rule_files())
    done = promtool("test", "rules", *tests)
    assert done.returncode == 0, done.stdout + done.stderr


def test_promtool_fails_a_broken_expectation(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The unit tests can fail: the same series with the wrong expectation is caught."""
    source = (RULES_DIR / "tests" / "lambda_test.yml").read_text()
    broken = source.replace("fails 10% of its invocations", "fails 11% of its invocations")
    assert broken != source
    test = tmp_path / "broken_test.yml"
    test.write_text(broken.replace("../lambda.yml", str(RULES_DIR / "lambda.yml")))
    done = promtool("test", "rules", str(test))
    assert done.returncode != 0
    assert "FAILED" in done.stdout + done.stderr


def test_prometheus_evaluates_every_rule(loaded_prometheus: LoadedPrometheus) -> None:
    deadline = time.monotonic() + 15
    while True:
        rules = loaded_prometheus.prometheus.rules()
        if rules and all(r.get("health") == "ok" for r in rules):
            break
        assert time.monotonic() < deadline, [
            (r["name"], r.get("health"), r.get("lastError")) for r in rules
        ]
        time.sleep(0.5)
    names = {r["name"] for r in rules}
    assert {
        "LambdaErrorRateHigh",
        "LambdaThrottled",
        "TargetsUnhealthy",
        "NoHealthyTargets",
        "RdsStorageLow",
        "RdsStorageFillingUp",
        "OpsbundleReportMissing",
        "OpsbundleReportNotRunning",
        "OpsbundleLogShipperDeadLetters",
    } <= names
    # The recorded target group api has an unhealthy host: the rule sees it at once (pending).
    (unhealthy,) = [r for r in rules if r["name"] == "TargetsUnhealthy"]
    assert unhealthy["state"] in ("pending", "firing")


# The label that names the resource of each alert on YACE's series.
RESOURCE_LABELS = {
    "LambdaErrorRateHigh": "dimension_FunctionName",
    "LambdaThrottled": "dimension_FunctionName",
    "TargetsUnhealthy": "dimension_TargetGroup",
    "NoHealthyTargets": "dimension_TargetGroup",
    "RdsStorageLow": "dimension_DBInstanceIdentifier",
    "RdsStorageFillingUp": "dimension_DBInstanceIdentifier",
}


def test_no_alert_on_the_recorded_scrapes_lacks_its_resource(
    loaded_prometheus: LoadedPrometheus,
) -> None:
    """YACE's recording has account-wide Lambda throttles under name="global" and per-AZ
    copies of the unhealthy target group: the real Prometheus raises each alert once per
    resource, always with the resource's name."""
    deadline = time.monotonic() + 15
    while True:
        alerts = loaded_prometheus.prometheus.api("query", query="ALERTS")["result"]
        names = {a["metric"]["alertname"] for a in alerts}
        if {"LambdaThrottled", "TargetsUnhealthy"} <= names:
            break
        assert time.monotonic() < deadline, f"alerts never raised: {names}"
        time.sleep(0.5)
    raised: dict[str, list[str]] = {}
    for alert in alerts:
        labels = alert["metric"]
        if (resource := RESOURCE_LABELS.get(labels["alertname"])) is not None:
            raised.setdefault(labels["alertname"], []).append(labels.get(resource, ""))
    assert raised["LambdaThrottled"] == ["orders-api"]
    assert raised["TargetsUnhealthy"] == ["targetgroup/api/73e2d6bc24d8a067"]
    assert all(name for names in raised.values() for name in names), raised
