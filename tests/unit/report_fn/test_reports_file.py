"""The reports file: the example is valid, and every mistake is one line naming report and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from opsbundle.exceptions import ConfigError
from report_fn import reports_file
from report_fn.reports_file import Schedule, parse

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "reports.example.yml"


def load_text(text: str) -> reports_file.ReportsFile:
    return parse(text.encode(), Path("reports.yml"))


def error_of(text: str) -> str:
    with pytest.raises(ConfigError) as failed:
        load_text(text)
    message = str(failed.value)
    assert "\n" not in message
    return message


def test_the_example_is_valid_and_typed() -> None:
    loaded = reports_file.load(EXAMPLE)
    assert list(loaded.reports) == ["leads", "tx-mass-torts", "leads-drop"]
    assert loaded.test_channel == "report-tests"
    leads = loaded.get("leads")
    assert leads.channels == ("lead-reports",)  # from defaults
    assert leads.timezone == "America/New_York"
    assert leads.chart is True
    assert leads.thresholds[0].mention == "S0123ABCDE"
    assert leads.thresholds[1].condition.text == "signed == 0 after 14:00"
    tx = loaded.get("tx-mass-torts")
    assert tx.channels == ("#tx-intake",) and tx.top_n == 3
    assert tx.filters.describe() == "state TX · campaign Mass Torts*"
    assert tx.breakdowns == ("campaign", "source")
    assert tx.email and tx.email.to == ("intake-tx@example.com",)
    drop = loaded.get("leads-drop")
    assert drop.post_when_flagged
    assert {t.mention for t in drop.thresholds} == {"here"}  # the report's mention
    assert len(loaded.sha256) == 64


def test_unquoted_times_and_words_stay_text() -> None:
    loaded = load_text(
        "reports:\n  a:\n    times: [14:00, 08:30]\n    filters: {state: [NO, ON, TX]}\n"
    )
    spec = loaded.get("a")
    assert spec.schedule.describe() == "08:30, 14:00"
    assert spec.filters.patterns["state"] == ("NO", "ON", "TX")


def test_crm_settings_merge_with_the_defaults() -> None:
    loaded = load_text(
        "defaults:\n  times: ['08:00']\n  crm: {kind: hubspot, object: contacts}\n"
        "reports:\n  a: {crm: {field_map: {campaign: utm_campaign}}}\n  b: {}\n"
    )
    assert loaded.get("a").crm == {
        "kind": "hubspot",
        "object": "contacts",
        "field_map": {"campaign": "utm_campaign"},
    }
    assert loaded.get("b").crm == {"kind": "hubspot", "object": "contacts"}


@pytest.mark.parametrize(
    ("times", "days", "expressions"),
    [
        (["08:00", "14:00", "21:00"], "*", ["cron(0 8,14,21 * * ? *)"]),
        (["08:30", "14:00", "17:30"], "MON-FRI",
         ["cron(0 14 ? * MON-FRI *)", "cron(30 8,17 ? * MON-FRI *)"]),
        (["09:05"], "MON,WED", ["cron(5 9 ? * MON,WED *)"]),
    ],
)  # fmt: skip  # one case a line
def test_schedules_become_one_cron_per_minute_past_the_hour(
    times: list[str], days: str, expressions: list[str]
) -> None:
    from datetime import time

    assert Schedule(tuple(time.fromisoformat(t) for t in times), days).expressions() == expressions


def test_days() -> None:
    text = (
        "reports:\n  a: {times: ['08:00'], days: [fri, mon, wed]}\n"
        "  b: {times: ['08:00'], days: weekends}\n"
    )
    loaded = load_text(text)
    assert loaded.get("a").schedule.days == "MON,WED,FRI"
    assert loaded.get("b").schedule.expressions() == ["cron(0 8 ? * SAT,SUN *)"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("reports:\n  daily:\n    times: ['08:00']\n    top_n: 0\n",
         "reports.yml: report 'daily', field 'top_n': 0 is less than the minimum of 1"),
        ("reports:\n  daily:\n    times: ['08:00']\n    tpo_n: 3\n",
         "reports.yml: report 'daily', field 'tpo_n': unknown field; the fields are title,"),
        ("reports:\n  daily:\n    times: ['8am']\n",
         "reports.yml: report 'daily', field 'times[0]': '8am' is not a time of day as HH:MM"),
        ("reports:\n  daily:\n    times: ['08:00']\n    channels: ['lead reports']\n",
         "reports.yml: report 'daily', field 'channels[0]': 'lead reports' is not a channel"),
        ("reports:\n  daily:\n    times: ['08:00']\n    timezone: Mars/Olympus\n",
         "reports.yml: report 'daily', field 'timezone': unknown time zone 'Mars/Olympus'"),
        ("reports:\n  daily:\n    times: ['08:00']\n    thresholds: ['leeds < 5']\n",
         "reports.yml: report 'daily', field 'thresholds[0]': 'leeds < 5': unknown total"),
        ("reports:\n  daily:\n    times: ['08:00']\n    thresholds: [{when: 'leads <'}]\n",
         "reports.yml: report 'daily', field 'thresholds[0].when': 'leads <': the value must"),
        ("reports:\n  daily:\n    times: ['08:00']\n    thresholds: [{when: 'leads < 5', "
         "mention: '@ops'}]\n",
         "reports.yml: report 'daily', field 'thresholds[0].mention': '@ops' is not here, "
         "channel or a user group ID"),
        ("reports:\n  daily:\n    times: ['08:00']\n    email: {to: [not-an-address]}\n",
         "reports.yml: report 'daily', field 'email.to[0]': 'not-an-address' is not an e-mail"),
        ("reports:\n  daily:\n    times: ['08:00']\n    filters: {county: X}\n",
         "reports.yml: report 'daily', field 'filters.county': unknown field"),
        ("reports:\n  daily:\n    times: ['08:00']\n    breakdowns: [owner]\n",
         "reports.yml: report 'daily', field 'breakdowns[0]': 'owner' is not one of"),
        ("reports:\n  daily:\n    channels: [x]\n",
         "reports.yml: report 'daily', field 'times': is required"),
        ("reports:\n  daily:\n    times: ['08:00']\n    post: when_flagged\n",
         "reports.yml: report 'daily', field 'post': when_flagged needs thresholds"),
        ("reports:\n  daily:\n    times: ['08:00']\n    crm: {kind: csv}\n",
         "reports.yml: report 'daily', field 'crm.export_url': is required for a csv export"),
        ("reports:\n  Daily Report:\n    times: ['08:00']\n",
         "reports.yml: report 'Daily Report': report names are lower case"),
        ("defaults:\n  top_n: many\nreports:\n  a: {times: ['08:00']}\n",
         "reports.yml: defaults, field 'top_n': 'many' is not of type 'integer'"),
        ("reprots:\n  a: {}\n",
         "reports.yml: top level, field 'reprots': unknown field; the fields are version,"),
        ("version: 1\n", "reports.yml: top level: 'reports' is a required property"),
        ("reports: {}\n", "reports.yml: top level, field 'reports': {} should be non-empty"),
        ("reports:\n  a: {times: ['08:00']}\n  a: {times: ['09:00']}\n",
         "reports.yml: is not valid YAML: the key 'a' is given twice at line 3"),
        ("reports:\n  a: [\n", "reports.yml: is not valid YAML:"),
        ("- just a list\n", "reports.yml: must be a mapping with a 'reports' key"),
        ("reports:\n  tx-a: {times: ['08:00']}\n  tx_a: {times: ['09:00']}\n",
         "reports.yml: report 'tx_a': its schedule would be named TxA, as report 'tx-a''s is"),
        ("reports:\n  x: {times: ['08:00', '08:30']}\n  x1: {times: ['09:00']}\n",
         "reports.yml: report 'x1': its schedule would be named X1, as report 'x''s is"),
    ],
)  # fmt: skip  # one case a line
def test_a_mistake_is_one_line_naming_the_report_and_the_field(text: str, expected: str) -> None:
    assert error_of(text).startswith(expected)


def test_an_unknown_report_name_lists_the_known_ones() -> None:
    loaded = reports_file.load(EXAMPLE)
    with pytest.raises(ConfigError, match=r"has no report 'nope' \(has: leads, tx-mass-torts"):
        loaded.get("nope")


def test_a_missing_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"does not exist \(set REPORTS_FILE or pass --file\)"):
        reports_file.load(tmp_path / "reports.yml")
