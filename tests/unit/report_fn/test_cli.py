"""`opsbundle report run --source sample --dry-run`: the preview `make run` shows."""

from __future__ import annotations

import json

import pytest

from opsbundle.cli import main

AT = "2026-11-26T14:00:00-05:00"


def test_json_format_prints_the_documented_aggregate(capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["report", "run", "--source", "sample", "--dry-run", "--format", "json", "--at", AT])
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert set(data) == {
        "report",
        "scheduled_time",
        "timezone",
        "window",
        "totals",
        "comparisons",
        "breakdowns",
        "leads_per_hour",
        "data_quality",
    }
    assert data["scheduled_time"] == "2026-11-26T19:00:00Z"
    assert data["totals"]["leads"] > 50
    assert sum(h["leads"] for h in data["leads_per_hour"]) == data["totals"]["leads"]
    assert set(data["comparisons"]) == {"yesterday", "last_week"}
    assert data["comparisons"]["yesterday"]["origin"] == "crm"
    for breakdown in data["breakdowns"].values():
        assert sum(row["leads"] for row in breakdown["rows"]) == data["totals"]["leads"]


def test_the_sample_is_the_same_every_time(capsys: pytest.CaptureFixture[str]) -> None:
    main(["report", "run", "--dry-run", "--format", "json", "--at", AT])
    first = capsys.readouterr().out
    main(["report", "run", "--dry-run", "--format", "json", "--at", AT])
    assert capsys.readouterr().out == first


def test_blocks_format_is_a_postable_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "run", "--dry-run", "--format", "blocks", "--at", AT]) == 0
    message = json.loads(capsys.readouterr().out)
    assert message["blocks"][0]["type"] == "header"
    assert message["text"].startswith("Lead report 14:00 EST:")


def test_a_week_of_sample_data_shows_skipped_rows(capsys: pytest.CaptureFixture[str]) -> None:
    skipped = 0
    for day in range(20, 27):
        main(
            [
                "report",
                "run",
                "--dry-run",
                "--format",
                "json",
                "--at",
                f"2026-11-{day}T21:00:00-05:00",
            ]
        )
        skipped += json.loads(capsys.readouterr().out)["data_quality"]["rows_skipped"]
    assert skipped > 0
