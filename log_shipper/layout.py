"""Index families: which indices an index pattern makes, what each one holds, when it expires.

A family is one index pattern of the routes (`opsbundle-logs-default-{yyyy.MM.dd}` by
default). Its indices are named by the *event's* own date, so every copy of an event (a
retry, a re-delivery, a replay) meets the same `_id` in the same index, across day
boundaries and after retention ran. The default family holds every log group in one index
per day: the shard count follows days kept and data volume (maintain sizes the shards), never
the number of log groups.

Retention counts whole UTC days: with N days, an index is deleted once its last day is more
than N days before today, so the store keeps today and the N days before it. An event dated
before that is expired: it is not indexed again (it would bring a deleted index back).
Pure: names and dates in, names and dates out.
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property

DAY_MS = 86_400_000

# What each date placeholder matches in a name, and how fine it is.
_DATE_PARTS = {
    "yyyy.MM.dd": r"(?P<year>\d{4})\.(?P<month>\d{2})\.(?P<day>\d{2})",
    "yyyy.MM": r"(?P<year>\d{4})\.(?P<month>\d{2})",
    "yyyy": r"(?P<year>\d{4})",
    "MM": r"(?P<month>\d{2})",
    "dd": r"(?P<day>\d{2})",
}
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


@dataclass(frozen=True)
class Family:
    """One index pattern and how long its indices are kept (None: for ever)."""

    pattern: str
    retention_days: int | None = None

    @cached_property
    def wildcard(self) -> str:
        """The pattern as an index pattern (`opsbundle-logs-default-*`): templates, listing."""
        return re.sub(r"\*+", "*", _PLACEHOLDER.sub("*", self.pattern))

    @cached_property
    def granularity(self) -> str | None:
        """ "day", "month", "year", or None for an undated pattern (one index, no retention)."""
        names = set(_PLACEHOLDER.findall(self.pattern))
        if names & {"yyyy.MM.dd", "dd"}:
            return "day"
        if names & {"yyyy.MM", "MM"}:
            return "month"
        if "yyyy" in names:
            return "year"
        return None

    @property
    def dated(self) -> bool:
        return self.granularity is not None

    @property
    def per_log_group(self) -> bool:
        return "{log_group}" in self.pattern

    @cached_property
    def _name_regex(self) -> re.Pattern[str]:
        parts: list[str] = []
        seen: set[str] = set()
        position = 0
        for match in _PLACEHOLDER.finditer(self.pattern):
            parts.append(re.escape(self.pattern[position : match.start()]))
            name = match.group(1)
            if name in ("log_group", "account"):
                parts.append("[a-z0-9._-]+")
            elif name in _DATE_PARTS and not (seen & _groups(name)):
                parts.append(_DATE_PARTS[name])
                seen |= _groups(name)
            else:  # a date part given twice: the second must read the same way, unnamed
                parts.append(r"\d{2,4}")
            position = match.end()
        parts.append(re.escape(self.pattern[position:]))
        return re.compile("".join(parts))

    def period(self, index: str) -> tuple[date, date] | None:
        """[first day, day after the last) of the events an index of this family holds; None
        when the name is not one this family makes (never delete what we can't read)."""
        match = self._name_regex.fullmatch(index)
        if match is None or not self.dated:
            return None
        found = match.groupdict()
        try:
            year = int(found["year"]) if found.get("year") else None
            month = int(found["month"]) if found.get("month") else 1
            day = int(found["day"]) if found.get("day") else 1
            if year is None:
                return None  # {MM} or {dd} without a year: no period to read
            first = date(year, month, day)
        except ValueError:
            return None
        if self.granularity == "day":
            return first, first + timedelta(days=1)
        if self.granularity == "month":
            return first, _next_month(first)
        return first, date(year + 1, 1, 1)

    def cutoff(self, today: date) -> date | None:
        """The first day still kept: events dated before it are expired (None: no retention)."""
        if self.retention_days is None or not self.dated:
            return None
        return today - timedelta(days=self.retention_days)

    def expired(self, index: str, today: date) -> bool:
        """Whether every event the index can hold is dated before the cutoff."""
        cutoff = self.cutoff(today)
        period = self.period(index)
        return cutoff is not None and period is not None and period[1] <= cutoff

    def matches(self, index: str) -> bool:
        return self._name_regex.fullmatch(index) is not None

    def overlaps(self, other: Family, sample_day: date) -> bool:
        """Whether one family's indices could be taken for the other's (their templates would
        both match an index)."""
        mine, theirs = self.sample(sample_day), other.sample(sample_day)
        return fnmatch.fnmatchcase(mine, other.wildcard) or fnmatch.fnmatchcase(
            theirs, self.wildcard
        )

    def sample(self, day: date) -> str:
        """A name this family makes (a made-up log group and account): for checks."""
        text = self.pattern.replace("{log_group}", "sample-00000000")
        text = text.replace("{account}", "000000000000")
        return render_dates(text, day)

    @property
    def ism_min_index_age(self) -> str | None:
        """ISM counts an index's age from its creation, which is when its first event came: its
        period's start for live traffic. So: retention plus the length of one period."""
        if self.retention_days is None or not self.dated:
            return None
        span = {"day": 1, "month": 31, "year": 366}[self.granularity or "day"]
        return f"{self.retention_days + span}d"


def _groups(name: str) -> set[str]:
    return set(re.findall(r"\?P<(\w+)>", _DATE_PARTS[name]))


def _next_month(first: date) -> date:
    return date(first.year + (first.month == 12), first.month % 12 + 1, 1)


def render_dates(text: str, day: date) -> str:
    return (
        text.replace("{yyyy.MM.dd}", f"{day:%Y.%m.%d}")
        .replace("{yyyy.MM}", f"{day:%Y.%m}")
        .replace("{yyyy}", f"{day:%Y}")
        .replace("{MM}", f"{day:%m}")
        .replace("{dd}", f"{day:%d}")
    )


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def day_number(day: date) -> int:
    """Days since the epoch (the transform counts days from timestamps the same way)."""
    return (day - date(1970, 1, 1)).days
