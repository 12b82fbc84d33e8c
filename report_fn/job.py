"""One run of the lead report: claim the slot, fetch, aggregate, archive, post, record.

Everything it talks to is handed in, so tests pass moto clients and local servers.
Until the message is posted, any failure releases the slot (so the platform's retry can
build it) and tells ops; after that, nothing can make the slot post twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from opsbundle import settings as names
from opsbundle import slack as slack_setup
from opsbundle.exceptions import ConfigError, OpsbundleError, SlackError
from opsbundle.log import get_logger
from opsbundle.metrics import RunMetrics
from opsbundle.slack import PostedMessage, SlackClient
from report_fn import render
from report_fn.aggregate import (
    Comparison,
    DataQuality,
    LeadReport,
    aggregate,
    count_totals,
    hourly,
)
from report_fn.archive import ReportArchive
from report_fn.crm.base import Connector
from report_fn.crm.mapping import FieldMapping, ParsedLeads, parse_records
from report_fn.exceptions import CRMError, ReportError
from report_fn.filters import LeadFilter
from report_fn.leads import DIMENSIONS
from report_fn.ledger import ALREADY_POSTED, DEFAULT_LEASE_SECONDS, TAKEN_OVER, Claim, SlotLedger
from report_fn.notify import FailureNotifier
from report_fn.window import Window, report_windows, slot_time


@dataclass
class Outcome:
    status: str  # posted, recovered, duplicate, dry_run
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
    filters: LeadFilter = field(default_factory=LeadFilter)
    dimensions: tuple[str, ...] = DIMENSIONS

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

    def run(
        self, at: datetime, *, dry_run: bool = False, deadline_seconds: float | None = None
    ) -> Outcome:
        """Build and post the slot's report once. `deadline_seconds`: the time this run has
        left (a Lambda's remaining time); the claim's lease lasts that long."""
        try:
            slot = slot_time(at)
            if dry_run:
                return Outcome(status="dry_run", slot=slot, report=self.build(slot))
            return self._post_once(slot, deadline_seconds or DEFAULT_LEASE_SECONDS)
        except Exception:
            self.metrics.count("ReportFailed")  # counted, then re-raised: the run failed
            raise

    def _post_once(self, slot: datetime, lease_seconds: float) -> Outcome:
        if not (self.slack and self.channel and self.ledger):
            raise ReportError("posting needs Slack, a channel and the slot ledger")
        started = time.time()
        claim = self.ledger.claim(self.name, slot, lease_seconds=lease_seconds)
        if claim.state == ALREADY_POSTED:
            return self._duplicate(slot, claim)
        try:
            report = self.build(slot)
            outcome = Outcome("posted", slot, report)
            outcome.archive_key = self._archive(report, outcome)
            posted, outcome.status = self._deliver(report, claim, since=started)
        except Exception as error:
            self._give_back(slot, claim, error)
            raise _setting_error(error) or error from None
        outcome.channel, outcome.ts = posted.channel, posted.ts
        self.ledger.mark_posted(self.name, slot, owner=claim.owner, channel=posted.channel,
                                ts=posted.ts, archive_key=outcome.archive_key)  # fmt: skip
        self.metrics.count("ReportPosted")
        get_logger().info("report posted", extra={"slot": str(slot), "ts": posted.ts,
                                                   "leads": report.totals.leads})  # fmt: skip
        if self.attach_csv and outcome.status == "posted":
            self._attach_csv(report, posted, outcome)
        return self._finish(outcome)

    def _duplicate(self, slot: datetime, claim: Claim) -> Outcome:
        assert self.ledger
        get_logger().info("slot already posted", extra={"slot": str(slot), "ts": claim.ts})
        self.metrics.count("ReportDuplicate")
        outcome = Outcome("duplicate", slot, channel=claim.channel, ts=claim.ts)
        if not claim.archived and self.archive:
            # The posting run could not archive: try again with freshly fetched numbers.
            try:
                outcome.report = self.build(slot)
            except (CRMError, ReportError) as error:
                outcome.problems.append(f"the late archive could not fetch the leads ({error})")
                return self._finish(outcome)
            outcome.archive_key = self._archive(outcome.report, outcome)
            if outcome.archive_key:
                self.ledger.mark_archived(self.name, slot, key=outcome.archive_key)
        return self._finish(outcome)

    def _finish(self, outcome: Outcome) -> Outcome:
        if outcome.problems:
            self.metrics.count("ReportIncomplete")
            raise ReportError(f"report {outcome.status}, but: {'; '.join(outcome.problems)}")
        return outcome

    def _give_back(self, slot: datetime, claim: Claim, error: BaseException) -> None:
        """Before anything was posted: release the slot for a retry and tell ops."""
        assert self.ledger
        if isinstance(error, CRMError):
            self.metrics.count("CrmErrors")
        reason = str(error) or type(error).__name__
        try:
            self.ledger.release(self.name, slot, owner=claim.owner, reason=reason)
        except OpsbundleError as release_error:
            get_logger().error("could not release the slot", extra={"error": str(release_error)})
        if self.notifier is not None:
            local = slot.astimezone(self.timezone)
            self.notifier.notify(
                subject=f"{self.name} report for {local:%a %-d %b %H:%M %Z} failed",
                reason=f"{reason}\nNothing was posted; the invocation is retried.",
            )

    def _deliver(self, report: LeadReport, claim: Claim, *, since: float) -> tuple[
        PostedMessage, str
    ]:  # fmt: skip
        """Post the report, unless an earlier run of this slot already did."""
        if claim.state == TAKEN_OVER:
            found = self._already_posted(report, since=claim.claimed_at or since)
            if found:
                return found, "recovered"
        try:
            return self._post(report), "posted"
        except SlackError as error:
            if not error.uncertain:
                raise
            found = self._already_posted(report, since=since)  # it may have gone through
            if found is None:
                raise
            return found, "posted"

    def _post(self, report: LeadReport) -> PostedMessage:
        assert self.slack and self.channel
        message = render.slack_message(report)
        with self.metrics.timer("SlackPost"):
            return self.slack.post_message(
                channel=self.channel,
                text=message.text,
                blocks=message.blocks,
                metadata=message.metadata,
            )

    def _already_posted(self, report: LeadReport, *, since: float) -> PostedMessage | None:
        """Is this slot's message (found by its metadata) already in the channel?"""
        assert self.slack and self.channel
        ts = self.slack.find_message(
            channel=self.channel,
            event_type=render.METADATA_EVENT_TYPE,
            key="slot",
            value=report.scheduled_time.isoformat().replace("+00:00", "Z"),
            oldest=since - 60,
        )
        if ts is None:
            return None
        get_logger().warning("this slot's message was already in the channel", extra={"ts": ts})
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
        """Archive before posting (the key is per slot, so a retry overwrites, never adds)."""
        if self.archive is None:
            return None
        try:
            return self.archive.put(
                report.to_json(), report=self.name, local_end=report.window.local_end
            )
        except ReportError as error:
            self.metrics.count("ArchiveFailed")
            outcome.problems.append(str(error))
            return None

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
                return Comparison(window.label, window, count_totals(leads, window), "crm",
                                  " ".join(notes), per_hour=hourly(leads, window))  # fmt: skip
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


def _setting_error(error: BaseException) -> ConfigError | None:
    if isinstance(error, SlackError):
        return slack_setup.setup_problem(error, channel_setting=names.SLACK_CHANNEL)
    return None
