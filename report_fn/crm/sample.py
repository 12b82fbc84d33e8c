"""`sample`: a realistic synthetic lead flow for a US personal-injury marketing firm.

Deterministic: the leads of a calendar day (in the report's time zone) come from a
generator seeded with that date, so any window, today's or last week's, always holds the
same leads, and a lead's status moves on with its age the way a real intake desk's would.
A few malformed rows a day (no created time, an unreadable one, a repeated id) show the
data-quality counts at work.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any

from report_fn.crm.base import FetchResult

# (source, weight, campaigns)
SOURCES: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("Google Ads", 30, ("Car Accident – Search", "Truck Accident – Search", "Brand – Search")),
    ("Facebook Ads", 18, ("Mass Torts – Camp Lejeune", "Mass Torts – Hair Relaxer", "MVA – Video")),
    ("TV", 14, ("Hurt? Call Now – Daytime", "Late Night Spot")),
    ("Organic Search", 12, ("(organic)",)),
    ("Referral", 8, ("Past Client Referral", "Attorney Referral")),
    ("Radio", 6, ("Drive Time – Slip & Fall", "Sports Talk Sponsorship")),
    ("Billboard", 4, ("I-10 Billboard", "I-95 Billboard")),
    ("Avvo", 4, ("Avvo Advisor",)),
    ("Yelp", 2, ("Yelp Profile",)),
    ("TikTok Ads", 2, ("Know Your Rights – Short",)),
)
CASE_TYPES: tuple[tuple[str, int], ...] = (
    ("Motor Vehicle Accident", 38),
    ("Truck Accident", 9),
    ("Motorcycle Accident", 5),
    ("Slip and Fall", 10),
    ("Mass Torts", 12),
    ("Medical Malpractice", 5),
    ("Workers' Compensation", 8),
    ("Dog Bite", 4),
    ("Wrongful Death", 3),
    ("Product Liability", 3),
    ("Premises Liability", 3),
)
STATES: tuple[tuple[str, int], ...] = (
    ("TX", 17), ("CA", 15), ("FL", 14), ("GA", 8), ("NY", 7), ("IL", 5), ("AZ", 5),
    ("NV", 4), ("LA", 4), ("NC", 4), ("PA", 4), ("OH", 3), ("TN", 3), ("SC", 2), ("AL", 2),
    ("CO", 2), ("NJ", 1),
)  # fmt: skip  # laid out as a table
# Leads an hour, local time, as a share of the day (people search after work, and TV ads air).
HOURLY: tuple[int, ...] = (
    2, 1, 1, 1, 1, 2, 3, 5, 7, 8, 8, 7, 7, 7, 7, 6, 6, 6, 7, 8, 7, 5, 4, 3,
)  # fmt: skip  # names packed, not one a line
DAILY_VOLUME = {0: 210, 1: 225, 2: 220, 3: 215, 4: 200, 5: 115, 6: 95}  # by weekday


class SampleConnector:
    kind = "sample"
    family = "export"

    def __init__(self, *, timezone: tzinfo, scale: float = 1.0) -> None:
        self._timezone = timezone
        self._scale = scale

    def fetch(self, start: datetime, end: datetime) -> FetchResult:
        records: list[Mapping[str, Any]] = []
        day = start.astimezone(self._timezone).date()
        last = end.astimezone(self._timezone).date()
        while day <= last:
            for record, hidden_time in self._day(day, as_of=end):
                if start <= hidden_time < end:
                    records.append(record)
            day += timedelta(days=1)
        return FetchResult(records=records)

    def _day(self, day: date, *, as_of: datetime) -> list[tuple[dict[str, Any], datetime]]:
        rng = random.Random(f"opsbundle-sample:{day.isoformat()}")  # noqa: S311 - not crypto
        volume = round(DAILY_VOLUME[day.weekday()] * rng.uniform(0.85, 1.15) * self._scale)
        midnight = datetime.combine(day, time(0), tzinfo=self._timezone)
        rows: list[tuple[dict[str, Any], datetime]] = []
        source_weights = [weight for _, weight, _ in SOURCES]
        for number in range(volume):
            hour = rng.choices(range(24), weights=HOURLY)[0]
            local = midnight + timedelta(hours=hour, seconds=rng.randrange(3600))
            created = local.astimezone(UTC)
            source, _, campaigns = rng.choices(SOURCES, weights=source_weights)[0]
            record = {
                "id": f"L-{day:%Y%m%d}-{number:05d}",
                "created_at": created.isoformat().replace("+00:00", "Z"),
                "source": source,
                "campaign": rng.choice(campaigns),
                "case_type": _weighted(rng, CASE_TYPES),
                "state": _weighted(rng, STATES),
                "status": _status(rng.random(), as_of - created),
            }
            rows.append((record, created))
        rows.extend(_malformed(rng, day, midnight, rows))
        return rows


def _weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([name for name, _ in table], weights=[weight for _, weight in table])[0]


def _status(draw: float, age: timedelta) -> str:
    """Where a lead of this age stands: intake calls within the hour, signs within days."""
    hours = age.total_seconds() / 3600
    if hours < 0.5:
        return "new" if draw < 0.8 else "contacted"
    if hours < 4:
        return "new" if draw < 0.35 else "contacted" if draw < 0.8 else "qualified"
    if draw < 0.10:
        return "new"
    if draw < 0.40:
        return "contacted"
    if draw < 0.62:
        return "qualified"
    signed_share = 0.05 if hours < 24 else 0.12
    return "signed" if draw < 0.62 + signed_share else "rejected"


def _malformed(
    rng: random.Random,
    day: date,
    midnight: datetime,
    rows: list[tuple[dict[str, Any], datetime]],
) -> list[tuple[dict[str, Any], datetime]]:
    """A web form that lost its timestamp, a hand-typed date, a lead synced twice."""
    out: list[tuple[dict[str, Any], datetime]] = []
    if not rows:
        return out
    for kind in ("missing", "bad", "duplicate"):
        if rng.random() > 0.6:
            continue
        original, hidden = rows[rng.randrange(len(rows))]
        if kind == "duplicate":
            out.append((dict(original), hidden))
            continue
        at = midnight + timedelta(hours=rng.randrange(7, 22))
        broken = {**original, "id": f"L-{day:%Y%m%d}-X{kind}"}
        broken["created_at"] = "" if kind == "missing" else "next tuesday"
        out.append((broken, at.astimezone(UTC)))
    return out
