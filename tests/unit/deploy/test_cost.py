"""`opsbundle cost`: duration × memory × runs, free tiers counted, prices shown."""

from __future__ import annotations

import json

import pytest

from opsbundle import cli
from opsbundle.deployment import cost
from opsbundle.exceptions import ConfigError


def line(estimate: cost.Estimate, item: str) -> cost.Line:
    [found] = [entry for entry in estimate.lines if entry.item.startswith(item)]
    return found


def test_the_case_study_function_fits_in_the_lambda_free_tier() -> None:
    # 90 runs a month, 20 s each, at 512 MB: 900 GB-s, far below the 400,000 free GB-s
    estimate = cost.estimate(cost.Inputs(runs=90, duration_ms=20_000, memory_mb=512, log_gb=0))
    lambda_line = line(estimate, "Lambda")
    assert lambda_line.cost == 0.0
    assert "900 report: 90 runs × 20 s × 512 MB" in lambda_line.usage


def test_past_the_free_tier_lambda_is_billed_per_gb_second() -> None:
    inputs = cost.Inputs(runs=100_000, duration_ms=10_000, memory_mb=1024, log_gb=0)
    # 1,000,000 GB-s; 600,000 billable at the arm price; 100,000 requests are free
    expected = 600_000 * cost.PRICES["lambda_arm_gb_second"]
    assert line(cost.estimate(inputs), "Lambda").cost == pytest.approx(expected)


def test_logs_alarms_and_opensearch_count_their_free_tiers() -> None:
    inputs = cost.Inputs(
        log_gb=15,
        log_retention_months=1,
        alarms=12,
        opensearch_instance="t3.small.search",
        opensearch_storage_gb=10,
    )
    estimate = cost.estimate(inputs)
    assert line(estimate, "CloudWatch Logs").cost == pytest.approx(10 * 0.50 + 15 * 0.03)
    assert line(estimate, "CloudWatch alarms").cost == pytest.approx(0.20)
    assert line(estimate, "OpenSearch").cost == pytest.approx(730 * 0.036 + 10 * 0.122)
    new = cost.estimate(cost.Inputs(**{**inputs.__dict__, "new_account": True}))
    assert line(new, "OpenSearch").cost == 0.0  # 750 free hours and 10 GB in the first year


def test_no_opensearch_domain_costs_nothing() -> None:
    assert line(cost.estimate(cost.Inputs(opensearch_nodes=0)), "OpenSearch").cost == 0.0


def test_total_is_the_sum_and_prices_are_dated() -> None:
    estimate = cost.estimate(cost.Inputs())
    assert estimate.total == pytest.approx(sum(entry.cost for entry in estimate.lines))
    assert any("check" in note.lower() and cost.PRICES_READ in note for note in estimate.notes)


@pytest.mark.parametrize(
    ("inputs", "setting"),
    [(cost.Inputs(runs=-1), "--runs"), (cost.Inputs(memory_mb=64), "--memory-mb"),
     (cost.Inputs(opensearch_instance="x9.huge.search"), "--opensearch-instance"),
     (cost.Inputs(shipper_mb_per_second=0), "--shipper-mb-per-second")],
)  # fmt: skip  # one case a line
def test_bad_inputs_name_the_flag(inputs: cost.Inputs, setting: str) -> None:
    with pytest.raises(ConfigError) as raised:
        inputs.check()
    assert raised.value.setting == setting


def test_the_command_prints_a_table_or_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["cost", "--runs", "90", "--duration-ms", "42000", "--memory-mb", "1024"]) == 0
    text = capsys.readouterr().out
    assert "total a month" in text and "3,780 report" in text and "us-east-1" in text

    # fmt: skip below: names packed, not one a line
    argv = [
        "cost",
        "--format",
        "json",
        "--opensearch-nodes",
        "0",
        "--log-gb",
        "1",
        "--log-retention-months",
        "1",
        "--alarms",
        "5",
        "--pipeline-runs",
        "0",
    ]
    assert cli.main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["region"] == "us-east-1"
    assert data["total_usd"] == pytest.approx(1.0 + 1.2 + 0.03, abs=0.01)  # key, secrets, storage

    assert cli.main(["cost", "--memory-mb", "64"]) == 2
    assert capsys.readouterr().err.startswith("opsbundle: configuration error: --memory-mb:")
