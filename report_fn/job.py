"""One run of the lead report: claim the slot, fetch, aggregate, post, record, archive.

Everything it talks to is handed in, so tests pass moto clients and local servers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from opsbundle.exceptions import OpsbundleError, SlackError
from opsbundle.log import get_logger
from opsbundle.metrics import RunMetrics
from opsbundle.slack import PostedMessage, SlackClient
from report_fn import render
from report_fn.aggregate import Comparison, DataQuality, LeadReport, aggregate, count_totals
from report_fn.archive import ReportArchive
from report_fn.crm.base import Connector
from report_fn.crm.mapping import FieldMapping, parse_records
from report_fn.exceptions import CRMError, ReportError
from report_fn.ledger import DONE, IN_PROGRESS, TAKEOVER, SlotLedger
from report_fn.notify import FailureNotifier
from report_fn.window import Window, report_windows, slot_time


@dataclass
class Outcome:
    status: str  # posted, duplicate, dry_run, recovered
    slot: datetime
    report: LeadReport | None = None
    channel: str | None = None
    ts: str | None = None
    archive_key: str | None = None
    problems: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "slot": self.slot.isoformat().replace("+00:00", "Z"),
            "channel": self.channel,
            "ts": self.ts,
            "archive_key": self.archive_key,
            "leads": self.report.totals.leads if self.report else None,
            "problems": self.problems,
        }


@dataclass
class ReportJob:
    name: str
    timezone: ZoneInfo
    connector: Connector
    mapping: FieldMapping
    metrics: RunMetrics
    top_n: int = 5
    slack: SlackClient | None = None
    channel: str | None = None
    ledger: SlotLedger | None = None
    archive: ReportArchive | None = None
    notifier: FailureNotifier | None = None
    attach_csv: bool = False

    def build(self, at: datetime) -> LeadReport:
        """Fetch and aggregate the report for the slot `at` belongs to. Raises CRMError."""
        slot = slot_time(at)
        windows = report_windows(slot, self.timezone)
        with self.metrics.timer("CrmFetch"):
            fetched = self.connector.fetch(windows.today.start, windows.today.end)
        parsed = parse_records(fetched.records, self.mapping, naive_tz=self.timezone)
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
                leads=parsed.leads,
                comparisons=comparisons,
                quality=quality,
                top_n=self.top_n,
            )
        self.metrics.count("LeadsCounted", report.totals.leads)
        self.metrics.count("RowsSkipped", quality.rows_skipped)
        return report

    def run(self, at: datetime, *, dry_run: bool = False) -> Outcome:
        try:
            return self._run(at, dry_run=dry_run)
        except Exception:
            self.metrics.count("ReportFailed")  # counted, then re-raised: the run failed
            raise

    def _run(self, at: datetime, *, dry_run: bool) -> Outcome:
        slot = slot_time(at)
        logger = get_logger()
        if dry_run:
            return Outcome(status="dry_run", slot=slot, report=self.build(slot))
        if not (self.slack and self.channel and self.ledger):
            raise ReportError("posting needs Slack, a channel and the slot ledger")
        claim = self.ledger.claim(self.name, slot)
        if claim.state == DONE:
            logger.info("slot already posted", extra={"slot": str(slot), "ts": claim.ts})
            self.metrics.count("ReportDuplicate")
            outcome = Outcome("duplicate", slot, channel=claim.channel, ts=claim.ts)
            if not claim.archived and self.archive:
                outcome.report = self._build_or_release(slot, release=False)
                outcome.archive_key = self._archive(outcome.report, outcome)
            return self._finish(outcome)
        report = self._build_or_release(slot, release=True)
        posted = None
        if claim.state == TAKEOVER and claim.previous_status == IN_PROGRESS:
            posted = self._already_posted(report, since=claim.claimed_at)
        status = "recovered" if posted else "posted"
        if posted is None:
            posted = self._post(report)
        self.ledger.mark_posted(self.name, slot, channel=posted.channel, ts=posted.ts)
        self.metrics.count("ReportPosted")
        logger.info("report posted", extra={"slot": str(slot), "ts": posted.ts,
                                             "leads": report.totals.leads})  # fmt: skip
        outcome = Outcome(status, slot, report, channel=posted.channel, ts=posted.ts)
        if self.attach_csv and status == "posted":
            self._attach_csv(report, posted, outcome)
        if self.archive:
            outcome.archive_key = self._archive(report, outcome)
        return self._finish(outcome)

    def _finish(self, outcome: Outcome) -> Outcome:
        if outcome.problems:
            self.metrics.count("ReportIncomplete")
            raise ReportError(f"report {outcome.status}, but: {'; '.join(outcome.problems)}")
        return outcome

    def _build_or_release(self, slot: datetime, *, release: bool) -> LeadReport:
        try:
            return self.build(slot)
        except CRMError as error:
            self.metrics.count("CrmErrors")
            if release and self.ledger:
                self.ledger.release(self.name, slot, reason=str(error))
            self._notify_failure(slot, error)
            raise

    def _notify_failure(self, slot: datetime, error: OpsbundleError) -> None:
        if self.notifier is None:
            return
        local = slot.astimezone(self.timezone)
        self.notifier.notify(
            subject=f"{self.name} report for {local:%a %-d %b %H:%M %Z} failed",
            reason=f"{error}\nNothing was posted; the scheduler retries the slot.",
        )

    def _post(self, report: LeadReport) -> PostedMessage:
        assert self.slack and self.channel and self.ledger  # checked in run()
        message = render.slack_message(report)
        try:
            with self.metrics.timer("SlackPost"):
                return self.slack.post_message(
                    channel=self.channel,
                    text=message.text,
                    blocks=message.blocks,
                    metadata=message.metadata,
                )
        except SlackError as error:
            self.ledger.release(self.name, report.scheduled_time, reason=str(error))
            self._notify_failure(report.scheduled_time, error)
            raise

    def _already_posted(self, report: LeadReport, *, since: float | None) -> PostedMessage | None:
        """After a run died mid-way: did it post before it could record the message?

        Messages are searched from a minute before the dead run claimed the slot.
        """
        assert self.slack and self.channel
        slot = report.scheduled_time
        since = since if since is not None else slot.timestamp()
        ts = self.slack.find_message(
            channel=self.channel,
            event_type=render.METADATA_EVENT_TYPE,
            key="slot",
            value=slot.isoformat().replace("+00:00", "Z"),
            oldest=since - 60,
        )
        if ts is None:
            return None
        get_logger().warning("found this slot's message after a failed run", extra={"ts": ts})
        return PostedMessage(channel=self.slack.resolve_channel(self.channel), ts=ts)

    def _attach_csv(self, report: LeadReport, posted: PostedMessage, outcome: Outcome) -> None:
        assert self.slack
        local = report.window.local_end
        try:
            self.slack.upload_file(
                channel=posted.channel,
                filename=f"{report.name}-{local:%Y-%m-%d-%H%M}.csv",
                content=render.leads_csv(report),
                title=f"Leads {local:%a %-d %b} to {local:%H:%M %Z}",
                thread_ts=posted.ts,
            )
        except SlackError as error:
            self.metrics.count("CsvUploadFailed")
            outcome.problems.append(f"the CSV was not attached ({error})")

    def _archive(self, report: LeadReport, outcome: Outcome) -> str | None:
        assert self.archive and self.ledger
        try:
            key = self.archive.put(
                report.to_json(), report=self.name, local_end=report.window.local_end
            )
            self.ledger.mark_archived(self.name, report.scheduled_time, key=key)
        except ReportError as error:
            self.metrics.count("ArchiveFailed")
            outcome.problems.append(str(error))
            return None
        return key

    def _compare(self, window: Window) -> Comparison:
        """Totals for a comparison window from the CRM, else from the archive, else none."""
        try:
            fetched = self.connector.fetch(window.start, window.end)
        except CRMError as error:
            reason = f"the CRM could not give them ({error})"
        else:
            if fetched.covers_from is None or fetched.covers_from <= window.end:
                parsed = parse_records(fetched.records, self.mapping, naive_tz=self.timezone)
                note = " ".join(fetched.notes) if not fetched.complete else ""
                return Comparison(window.label, window, count_totals(parsed.leads, window),
                                  "crm", note)  # fmt: skip
            reason = "the export does not reach back that far"
        if self.archive:
            try:
                totals = self.archive.totals(self.name, window.local_end)
            except ReportError as error:
                totals, reason = None, f"{reason}; the archive failed too ({error})"
            if totals is not None:
                return Comparison(window.label, window, totals, "archive", reason)
        return Comparison(window.label, window, None, "unavailable", reason)
