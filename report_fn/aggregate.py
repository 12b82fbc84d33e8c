"""The lead report's numbers (pure): totals, comparisons, breakdowns, leads per hour.

`LeadReport.to_json()` is what `opsbundle report run --format json` prints and what the
S3 archive stores; the README documents its fields.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from report_fn.leads import DIMENSIONS, OTHER_STATUS, STATUSES, Lead
from report_fn.window import Window, hour_starts

OTHER_ROW = "Other"


@dataclass(frozen=True)
class Totals:
    leads: int
    by_status: Mapping[str, int]

    @property
    def conversion_pct(self) -> float | None:
        return round(100 * self.by_status.get("signed", 0) / self.leads, 1) if self.leads else None

    def get(self, status: str) -> int:
        return self.by_status.get(status, 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "leads": self.leads,
            **{status: self.get(status) for status in (*STATUSES, OTHER_STATUS)},
            "conversion_pct": self.conversion_pct,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Totals:
        return cls(
            leads=int(data["leads"]),
            by_status={s: int(data.get(s, 0)) for s in (*STATUSES, OTHER_STATUS)},
        )


@dataclass(frozen=True)
class Row:
    name: str
    leads: int
    signed: int
    members: int = 1  # how many names a folded row stands for
    folded: bool = False  # the "Other" row, not a CRM value that happens to be called Other


@dataclass(frozen=True)
class Breakdown:
    dimension: str
    rows: list[Row]
    distinct: int

    def to_json(self) -> dict[str, Any]:
        return {
            "distinct": self.distinct,
            "rows": [
                {"name": r.name, "leads": r.leads, "signed": r.signed}
                | ({"members": r.members} if r.folded else {})
                for r in self.rows
            ],
        }


@dataclass(frozen=True)
class Comparison:
    label: str  # yesterday, last_week
    window: Window
    totals: Totals | None
    origin: str  # crm, archive, unavailable
    note: str = ""
    per_hour: list[HourCount] | None = None  # from the CRM's leads; None from the archive

    def to_json(self) -> dict[str, Any]:
        return {
            "window": self.window.to_json(),
            "origin": self.origin,
            "totals": self.totals.to_json() if self.totals else None,
            "note": self.note or None,
        }


@dataclass(frozen=True)
class DataQuality:
    rows_read: int
    skipped_by_reason: Mapping[str, int]
    unmapped_statuses: Mapping[str, int]
    complete: bool = True
    notes: list[str] = field(default_factory=list)

    @property
    def rows_skipped(self) -> int:
        return sum(self.skipped_by_reason.values())

    def to_json(self) -> dict[str, Any]:
        return {
            "rows_read": self.rows_read,
            "rows_skipped": self.rows_skipped,
            "skipped_by_reason": dict(sorted(self.skipped_by_reason.items())),
            "unmapped_statuses": dict(sorted(self.unmapped_statuses.items())),
            "complete": self.complete,
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class HourCount:
    start: datetime  # aware UTC
    label: str  # local, e.g. "08:00", or "01:00 EST" when the hour repeats
    leads: int


@dataclass(frozen=True)
class LeadReport:
    name: str
    scheduled_time: datetime
    window: Window
    totals: Totals
    comparisons: list[Comparison]
    breakdowns: list[Breakdown]
    per_hour: list[HourCount]
    data_quality: DataQuality
    leads: list[Lead] = field(repr=False, compare=False)

    def comparison(self, label: str) -> Comparison | None:
        return next((c for c in self.comparisons if c.label == label), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "report": self.name,
            "scheduled_time": _utc(self.scheduled_time),
            "timezone": self.window.timezone.key,
            "window": self.window.to_json(),
            "totals": self.totals.to_json(),
            "comparisons": {c.label: c.to_json() for c in self.comparisons},
            "breakdowns": {b.dimension: b.to_json() for b in self.breakdowns},
            "leads_per_hour": [
                {"hour": h.label, "start_utc": _utc(h.start), "leads": h.leads}
                for h in self.per_hour
            ],
            "data_quality": self.data_quality.to_json(),
        }


def count_totals(leads: Iterable[Lead], window: Window) -> Totals:
    statuses: Counter[str] = Counter()
    for lead in leads:
        if window.start <= lead.created < window.end:
            statuses[lead.status] += 1
    return Totals(leads=sum(statuses.values()), by_status=dict(statuses))


def hourly(leads: Iterable[Lead], window: Window) -> list[HourCount]:
    """Leads per elapsed hour of a window (a comparison's, for the chart)."""
    hours = hour_starts(window)
    counts = [0] * len(hours)
    start_ts = window.start.timestamp()
    for lead in leads:
        if window.start <= lead.created < window.end:
            counts[int((lead.created.timestamp() - start_ts) // 3600)] += 1
    return _label_hours(hours, counts, window)


def aggregate(
    *,
    name: str,
    scheduled_time: datetime,
    window: Window,
    leads: Iterable[Lead],
    comparisons: list[Comparison],
    quality: DataQuality,
    top_n: int = 5,
    dimensions: tuple[str, ...] = DIMENSIONS,
) -> LeadReport:
    """One pass over the leads; those outside the window are left out. `dimensions`: the
    breakdowns the report shows (all four by default)."""
    start, end = window.start, window.end
    start_ts = start.timestamp()
    hours = hour_starts(window)
    per_hour = [0] * len(hours)
    statuses: Counter[str] = Counter()
    by_dim: dict[str, Counter[str]] = {d: Counter() for d in DIMENSIONS}
    signed_by_dim: dict[str, Counter[str]] = {d: Counter() for d in DIMENSIONS}
    sources, campaigns, case_types, states = (by_dim[d] for d in DIMENSIONS)
    in_window: list[Lead] = []
    for lead in leads:
        created = lead.created
        if not start <= created < end:
            continue
        in_window.append(lead)
        statuses[lead.status] += 1
        sources[lead.source] += 1
        campaigns[lead.campaign] += 1
        case_types[lead.case_type] += 1
        states[lead.state] += 1
        if lead.status == "signed":
            signed = signed_by_dim
            signed["source"][lead.source] += 1
            signed["campaign"][lead.campaign] += 1
            signed["case_type"][lead.case_type] += 1
            signed["state"][lead.state] += 1
        per_hour[int((created.timestamp() - start_ts) // 3600)] += 1
    return LeadReport(
        name=name,
        scheduled_time=scheduled_time,
        window=window,
        totals=Totals(leads=len(in_window), by_status=dict(statuses)),
        comparisons=comparisons,
        breakdowns=[_breakdown(d, by_dim[d], signed_by_dim[d], top_n) for d in dimensions],
        per_hour=_label_hours(hours, per_hour, window),
        data_quality=quality,
        leads=in_window,
    )


def _breakdown(dimension: str, counts: Counter[str], signed: Counter[str], top_n: int) -> Breakdown:
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    rows = [Row(name, leads, signed[name]) for name, leads in ranked[:top_n]]
    rest = ranked[top_n:]
    if rest:
        rows.append(
            Row(
                OTHER_ROW,
                leads=sum(leads for _, leads in rest),
                signed=sum(signed[name] for name, _ in rest),
                members=len(rest),
                folded=True,
            )
        )
    return Breakdown(dimension=dimension, rows=rows, distinct=len(counts))


def _label_hours(starts: list[datetime], counts: list[int], window: Window) -> list[HourCount]:
    local = [moment.astimezone(window.timezone) for moment in starts]
    plain = [moment.strftime("%H:00") for moment in local]
    repeated = {label for label in plain if plain.count(label) > 1}
    return [
        HourCount(
            start=start,
            label=f"{label} {moment.tzname()}" if label in repeated else label,
            leads=count,
        )
        for start, moment, label, count in zip(starts, local, plain, counts, strict=True)
    ]


def _utc(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")
