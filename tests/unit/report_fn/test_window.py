"""Report windows in local time, including the days America/New_York changes its clocks."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from report_fn.aggregate import DataQuality, aggregate
from report_fn.window import hour_starts, local_midnight, report_windows, slot_time

NY = ZoneInfo("America/New_York")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_an_ordinary_day_runs_from_local_midnight_to_the_scheduled_time() -> None:
    windows = report_windows(utc("2026-11-26T19:00:00"), NY)  # 14:00 EST
    assert windows.today.start == utc("2026-11-26T05:00:00")
    assert windows.today.end == utc("2026-11-26T19:00:00")
    assert windows.yesterday.start == utc("2026-11-25T05:00:00")
    assert windows.yesterday.end == utc("2026-11-25T19:00:00")
    assert windows.last_week.start == utc("2026-11-19T05:00:00")
    assert windows.last_week.end == utc("2026-11-19T19:00:00")


def test_spring_forward_day_has_a_23_hour_clock_window() -> None:
    # 2026-03-08: 02:00 EST jumps to 03:00 EDT. 08:00 EDT is 12:00 UTC.
    windows = report_windows(utc("2026-03-08T12:00:00"), NY)
    assert windows.today.start == utc("2026-03-08T05:00:00")  # midnight EST
    assert windows.today.hours == 7  # 00:00 → 08:00 on the wall clock, one hour skipped
    labels = [h.astimezone(NY).strftime("%H:%M") for h in hour_starts(windows.today)]
    assert labels == ["00:00", "01:00", "03:00", "04:00", "05:00", "06:00", "07:00"]
    # Yesterday (Saturday, EST) compares the same wall-clock window: 8 real hours.
    assert windows.yesterday.start == utc("2026-03-07T05:00:00")
    assert windows.yesterday.end == utc("2026-03-07T13:00:00")


def test_the_day_after_spring_forward_compares_with_the_short_day() -> None:
    windows = report_windows(utc("2026-03-09T12:00:00"), NY)  # Monday 08:00 EDT
    assert windows.today.start == utc("2026-03-09T04:00:00")
    assert windows.yesterday.start == utc("2026-03-08T05:00:00")
    assert windows.yesterday.end == utc("2026-03-08T12:00:00")
    assert windows.yesterday.hours == 7
    assert windows.last_week.start == utc("2026-03-02T05:00:00")  # EST a week earlier
    assert windows.last_week.end == utc("2026-03-02T13:00:00")


def test_fall_back_day_repeats_the_one_oclock_hour_with_its_zone_in_the_label() -> None:
    # 2026-11-01: 02:00 EDT falls back to 01:00 EST. 08:00 EST is 13:00 UTC.
    windows = report_windows(utc("2026-11-01T13:00:00"), NY)
    assert windows.today.start == utc("2026-11-01T04:00:00")  # midnight EDT
    assert windows.today.hours == 9
    report = aggregate(
        name="leads",
        scheduled_time=utc("2026-11-01T13:00:00"),
        window=windows.today,
        leads=[],
        comparisons=[],
        quality=DataQuality(rows_read=0, skipped_by_reason={}, unmapped_statuses={}),
    )
    labels = [h.label for h in report.per_hour]
    assert labels[:4] == ["00:00", "01:00 EDT", "01:00 EST", "02:00"]
    assert len(labels) == 9


def test_midnight_inside_a_gap_starts_the_day_after_the_gap() -> None:
    # America/Santiago skipped 2022-09-11 00:00 → 01:00.
    santiago = ZoneInfo("America/Santiago")
    start = local_midnight(datetime(2022, 9, 11).date(), santiago)
    assert start.astimezone(santiago).strftime("%H:%M") == "01:00"


def test_slot_time_truncates_to_the_minute_and_needs_a_zone() -> None:
    assert slot_time(datetime.fromisoformat("2026-11-26T19:00:41.5+00:00")) == utc(
        "2026-11-26T19:00:00"
    )
    with pytest.raises(ValueError, match="time zone"):
        slot_time(datetime(2026, 11, 26, 19, 0))
