"""Reports to render, built from leads the tests name: shared by the report's unit tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from report_fn.aggregate import Comparison, DataQuality, LeadReport, Totals, aggregate
from report_fn.leads import Lead
from report_fn.window import report_windows

NY = ZoneInfo("America/New_York")


AT = datetime(2026, 11, 26, 19, 0, tzinfo=UTC)


WINDOWS = report_windows(AT, NY)


def make_report(
    leads: list[Lead], *, top_n: int = 5, complete: bool = True, notes: tuple[str, ...] = ()
) -> LeadReport:
    return aggregate(
        name="leads",
        scheduled_time=AT,
        window=WINDOWS.today,
        leads=leads,
        comparisons=[
            Comparison("yesterday", WINDOWS.yesterday, Totals(4, {"signed": 1}), "crm"),
            Comparison("last_week", WINDOWS.last_week, None, "unavailable", "CRM down"),
        ],
        quality=DataQuality(
            rows_read=len(leads) + 3,
            skipped_by_reason={"missing_created_time": 2, "duplicate_id": 1},
            unmapped_statuses={},
            complete=complete,
            notes=list(notes),
        ),
        top_n=top_n,
    )


def leads_named(names: list[str], *, field: str = "source") -> list[Lead]:
    out = []
    for n, name in enumerate(names):
        values = {"source": "TV", "campaign": "C", "case_type": "MVA", "state": "TX"}
        values[field] = name
        out.append(
            Lead(
                id=str(n),
                created=WINDOWS.today.start + timedelta(minutes=n % 800),
                status="signed" if n % 7 == 0 else "new",
                **values,
            )
        )
    return out
