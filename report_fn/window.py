"""Report windows in the report's time zone: "today so far" and its comparisons (pure).

Today's window runs from local midnight to the scheduled time. The comparisons are the
same local clock window yesterday and on the same weekday last week. All arithmetic is
done on local calendar dates and converted to UTC only at the end, so a window on the
day clocks change is 23 or 25 hours long, as the wall clock says it should be.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Window:
    label: str  # today, yesterday, last_week
    start: datetime  # aware UTC, inclusive
    end: datetime  # aware UTC, exclusive
    timezone: ZoneInfo

    @property
    def local_start(self) -> datetime:
        return self.start.astimezone(self.timezone)

    @property
    def local_end(self) -> datetime:
        return self.end.astimezone(self.timezone)

    @property
    def hours(self) -> float:
        return (self.end - self.start).total_seconds() / 3600

    def to_json(self) -> dict[str, str]:
        return {
            "start": self.local_start.isoformat(),
            "end": self.local_end.isoformat(),
            "start_utc": self.start.isoformat().replace("+00:00", "Z"),
            "end_utc": self.end.isoformat().replace("+00:00", "Z"),
        }


@dataclass(frozen=True)
class ReportWindows:
    today: Window
    yesterday: Window
    last_week: Window

    def comparisons(self) -> tuple[Window, Window]:
        return self.yesterday, self.last_week


def slot_time(moment: datetime) -> datetime:
    """The schedule slot a time belongs to: UTC, truncated to the minute."""
    if moment.tzinfo is None:
        raise ValueError("a scheduled time needs a time zone or a Z suffix")
    return moment.astimezone(UTC).replace(second=0, microsecond=0)


def local_midnight(day: date, timezone: ZoneInfo) -> datetime:
    """The first instant of a local date, in UTC (after a gap if midnight itself is skipped)."""
    return datetime.combine(day, time(0), tzinfo=timezone).astimezone(UTC)


def report_windows(at: datetime, timezone: ZoneInfo) -> ReportWindows:
    local_at = at.astimezone(timezone)
    clock = local_at.timetz().replace(tzinfo=None)

    def window(label: str, days_back: int) -> Window:
        day = local_at.date() - timedelta(days=days_back)
        start = local_midnight(day, timezone)
        if days_back == 0:
            end = at.astimezone(UTC)
        else:
            # A clock time inside a spring-forward gap lands just after the gap.
            local = datetime.combine(day, clock, tzinfo=timezone).replace(fold=local_at.fold)
            end = local.astimezone(UTC)
        return Window(label=label, start=start, end=max(start, end), timezone=timezone)

    return ReportWindows(
        today=window("today", 0), yesterday=window("yesterday", 1), last_week=window("last_week", 7)
    )


def hour_starts(window: Window) -> list[datetime]:
    """The start of each elapsed hour of the window, in UTC (23 or 25 on DST days)."""
    starts = []
    moment = window.start
    while moment < window.end:
        starts.append(moment)
        moment += timedelta(hours=1)
    return starts
