"""Fetch and aggregate a slot's report and frame it: what a preview, a test post and the
scheduled post all start with. It needs the CRM and, for comparisons the CRM cannot give,
the archive; nothing else."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from opsbundle import settings as names
from opsbundle.exceptions import ConfigError
from opsbundle.metrics import RunMetrics
from report_fn import render
from report_fn.aggregate import Comparison, DataQuality, LeadReport, aggregate, count_totals, hourly
from report_fn.archive import ReportArchive
from report_fn.crm.base import Connector
from report_fn.crm.mapping import FieldMapping, ParsedLeads, parse_records
from report_fn.exceptions import CRMError, ReportError
from report_fn.filters import LeadFilter
from report_fn.leads import DIMENSIONS
from report_fn.outcome import ReportOutcome
from report_fn.thresholds import Threshold, evaluate
from report_fn.window import Window, report_windows, slot_time


@dataclass(frozen=True, kw_only=True)
class ReportBuilder:
    name: str
    timezone: ZoneInfo
    connector: Connector
    mapping: FieldMapping
    metrics: RunMetrics
    archive: ReportArchive | None  # comparisons the CRM cannot give; None: no archive (preview)
    top_n: int = 5
    filters: LeadFilter = field(default_factory=LeadFilter)
    dimensions: tuple[str, ...] = DIMENSIONS
    title: str | None = None
    thresholds: tuple[Threshold, ...] = ()

    def framing(self, report: LeadReport, *, test: bool = False) -> render.Framing:
        """The thresholds checked, and what the file says around the numbers."""
        return render.Framing(
            title=self.title,
            flags=tuple(evaluate(report, self.thresholds)),
            limited_to=self.filters.describe(),
            ping=not test,
            test=test,
        )

    def preview(self, at: datetime, *, test: bool = False) -> ReportOutcome:
        """The slot's report, built and framed; nothing is claimed, posted or archived."""
        report = self.build(at)
        return ReportOutcome(
            "dry_run", report.scheduled_time, report, framing=self.framing(report, test=test)
        )

    def build(self, at: datetime) -> LeadReport:
        """Fetch and aggregate the report for the slot `at` belongs to. Raises CRMError."""
        slot = slot_time(at)
        windows = report_windows(slot, self.timezone)
        with self.metrics.timer("CrmFetch"):
            fetched = self.connector.fetch(windows.today.start, windows.today.end)
        parsed = parse_records(fetched.records, self.mapping, naive_tz=self.timezone)
        _require_readable(parsed)
        comparisons = [self._compare(window) for window in windows.comparisons()]
        quality = DataQuality(
            rows_read=parsed.rows_read,
            skipped_by_reason=dict(parsed.skipped),
            unmapped_statuses=dict(parsed.unmapped_statuses),
            complete=fetched.complete,
            notes=list(fetched.notes),
        )
        with self.metrics.timer("Aggregate"):
            report = aggregate(
                name=self.name,
                scheduled_time=slot,
                window=windows.today,
                leads=self.filters.apply(parsed.leads),
                comparisons=comparisons,
                quality=quality,
                top_n=self.top_n,
                dimensions=self.dimensions,
            )
        self.metrics.count("LeadsCounted", report.totals.leads)
        self.metrics.count("RowsSkipped", quality.rows_skipped)
        return report

    def _compare(self, window: Window) -> Comparison:
        """Totals for a comparison window from the CRM, else from the archive, else none."""
        try:
            fetched = self.connector.fetch(window.start, window.end)
        except CRMError as error:
            reason = f"the CRM could not give them ({error})"
        else:
            covers_from = fetched.covers_from
            if covers_from is None or covers_from < window.end:
                parsed = parse_records(fetched.records, self.mapping, naive_tz=self.timezone)
                notes = list(fetched.notes) if not fetched.complete else []
                if covers_from is not None and covers_from > window.start:
                    local = covers_from.astimezone(self.timezone)
                    notes.append(f"the export starts at {local:%a %H:%M}, inside this window")
                leads = self.filters.apply(parsed.leads)
                return Comparison(
                    window.label,
                    window,
                    count_totals(leads, window),
                    "crm",
                    " ".join(notes),
                    per_hour=hourly(leads, window),
                )
            reason = "the export does not reach back that far"
        if self.archive:
            try:
                totals = self.archive.totals(self.name, window.local_end)
            except ReportError as error:
                totals, reason = None, f"{reason}; the archive failed too ({error})"
            if totals is not None:
                return Comparison(window.label, window, totals, "archive", reason)
        return Comparison(window.label, window, None, "unavailable", reason)


def _require_readable(parsed: ParsedLeads) -> None:
    """Rows came back but not one could be read: the mapping is wrong, not the leads."""
    if parsed.rows_read and not parsed.leads and sum(parsed.skipped.values()) == parsed.rows_read:
        reasons = ", ".join(f"{n} {reason}" for reason, n in parsed.skipped.most_common())
        raise ConfigError(
            names.CRM_FIELD_MAP,
            f"none of the {parsed.rows_read} rows the CRM sent could be read ({reasons})",
        )
