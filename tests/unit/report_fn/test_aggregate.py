"""Aggregation on a small data set whose every number was counted by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from report_fn.aggregate import (
    Comparison,
    DataQuality,
    Totals,
    aggregate,
    count_totals,
)
from report_fn.leads import Lead
from report_fn.window import report_windows

NY = ZoneInfo("America/New_York")
AT = datetime(2026, 11, 26, 19, 0, tzinfo=UTC)  # Thu 14:00 EST
WINDOWS = report_windows(AT, NY)
START = WINDOWS.today.start  # 05:00 UTC = 00:00 EST


def lead(n: int, hour: float, source: str, status: str, *, state: str = "TX") -> Lead:
    return Lead(
        id=f"L{n}",
        created=START + timedelta(hours=hour),
        source=source,
        campaign=f"{source} campaign",
        case_type="Motor Vehicle Accident" if n % 2 else "Slip and Fall",
        state=state,
        status=status,
    )


LEADS = [
    lead(1, 0.5, "Google Ads", "new"),
    lead(2, 8.1, "Google Ads", "signed"),
    lead(3, 8.2, "Google Ads", "qualified"),
    lead(4, 9.0, "TV", "signed", state="FL"),
    lead(5, 9.5, "TV", "rejected", state="FL"),
    lead(6, 13.99, "Radio", "contacted", state="CA"),
    lead(7, 13.5, "Referral", "other", state="GA"),
    lead(8, 14.0, "Google Ads", "new"),  # exactly at the scheduled time: outside
    lead(9, -0.01, "Google Ads", "new"),  # before local midnight: outside
]


def build(top_n: int = 2):
    quality = DataQuality(rows_read=11, skipped_by_reason={"missing_id": 2}, unmapped_statuses={})
    yesterday = Comparison(
        "yesterday", WINDOWS.yesterday, Totals(leads=5, by_status={"signed": 1}), "crm"
    )
    return aggregate(
        name="leads",
        scheduled_time=AT,
        window=WINDOWS.today,
        leads=LEADS,
        comparisons=[yesterday],
        quality=quality,
        top_n=top_n,
    )


def test_totals_count_each_status_of_the_leads_inside_the_window() -> None:
    report = build()
    assert report.totals.leads == 7
    assert report.totals.to_json() == {
        "leads": 7,
        "new": 1,
        "contacted": 1,
        "qualified": 1,
        "signed": 2,
        "rejected": 1,
        "other": 1,
        "conversion_pct": 28.6,  # 2 signed of 7
    }


def test_breakdowns_keep_the_top_n_and_fold_the_rest_into_other() -> None:
    source = build(top_n=2).breakdowns[0]
    assert source.dimension == "source"
    assert source.distinct == 4
    rows = [(r.name, r.leads, r.signed, r.members) for r in source.rows]
    assert rows == [("Google Ads", 3, 1, 1), ("TV", 2, 1, 1), ("Other", 2, 0, 2)]
    state = build(top_n=5).breakdowns[3]
    assert [(r.name, r.leads) for r in state.rows] == [("TX", 3), ("FL", 2), ("CA", 1), ("GA", 1)]


def test_leads_per_hour_has_one_bucket_per_elapsed_local_hour() -> None:
    report = build()
    counts = {h.label: h.leads for h in report.per_hour}
    assert len(report.per_hour) == 14
    assert counts["00:00"] == 1
    assert counts["08:00"] == 2
    assert counts["09:00"] == 2
    assert counts["13:00"] == 2
    assert sum(counts.values()) == 7


def test_json_carries_window_comparisons_and_data_quality() -> None:
    data = build().to_json()
    assert data["window"]["start"] == "2026-11-26T00:00:00-05:00"
    assert data["window"]["end_utc"] == "2026-11-26T19:00:00Z"
    assert data["timezone"] == "America/New_York"
    assert data["comparisons"]["yesterday"]["totals"]["leads"] == 5
    assert data["comparisons"]["yesterday"]["origin"] == "crm"
    assert data["data_quality"]["rows_skipped"] == 2
    assert data["breakdowns"]["source"]["rows"][-1] == {
        "name": "Other",
        "leads": 2,
        "signed": 0,
        "members": 2,
    }


def test_count_totals_uses_only_the_window() -> None:
    totals = count_totals(LEADS, WINDOWS.today)
    assert totals.leads == 7
    assert totals.conversion_pct == 28.6
    assert Totals.from_json(totals.to_json()) == totals


def test_an_empty_window_has_no_conversion_rate() -> None:
    assert count_totals([], WINDOWS.today).conversion_pct is None
