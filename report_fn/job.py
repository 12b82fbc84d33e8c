"""One run of a report: claim the slot, fetch, aggregate, check, archive, post, record.

Everything it talks to is handed in, so tests pass moto clients and local servers.
Until the message is posted, any failure releases the slot (so the platform's retry can
build it) and tells ops; after that, nothing can make the slot post twice. With several
channels each post is recorded as it happens, so a retry posts only where it is missing.
A report that posts only when a threshold holds records a slot with none as quiet. The
chart and the CSV go into the message's thread, the e-mail out at most once a slot;
their failures are reported but never repost the message.
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
from report_fn import chart, render
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
from report_fn.ledger import (
    ALREADY_POSTED,
    DEFAULT_LEASE_SECONDS,
    EMAIL_FAILED,
    EMAIL_SENT,
    TAKEN_OVER,
    Claim,
    SlotLedger,
)
from report_fn.mail import Mailer, email_message
from report_fn.notify import FailureNotifier
from report_fn.thresholds import Threshold, evaluate
from report_fn.window import Window, report_windows, slot_time


@dataclass
class Outcome:
    status: str  # posted, recovered, duplicate, quiet, dry_run, test
    slot: datetime
    report: LeadReport | None = None
    channel: str | None = None  # the first channel's ID and message
    ts: str | None = None
    archive_key: str | None = None
    problems: list[str] = field(default_factory=list)
    posts: dict[str, str] = field(default_factory=dict)  # channel as configured -> ts
    framing: render.Framing | None = None
    emailed: bool = False

    def to_json(self) -> dict[str, Any]:
        raised = self.framing.raised if self.framing else []
        return {
            "report": self.report.name if self.report else None,
            "status": self.status,
            "slot": self.slot.isoformat().replace("+00:00", "Z"),
            "channel": self.channel,
            "ts": self.ts,
            "posts": self.posts,
            "archive_key": self.archive_key,
            "leads": self.report.totals.leads if self.report else None,
            "flags": [flag.threshold.headline for flag in raised],
            "emailed": self.emailed,
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
    channels: tuple[str, ...] = ()
    ledger: SlotLedger | None = None
    archive: ReportArchive | None = None
    notifier: FailureNotifier | None = None
    attach_csv: bool = False
    filters: LeadFilter = field(default_factory=LeadFilter)
    dimensions: tuple[str, ...] = DIMENSIONS
    title: str | None = None
    thresholds: tuple[Threshold, ...] = ()
    post_when_flagged: bool = False
    chart: bool = False
    mailer: Mailer | None = None
    email_to: tuple[str, ...] = ()
    email_subject: str | None = None
    channel_setting: str = names.SLACK_CHANNEL  # what to fix when Slack refuses the channel

    def framing(self, report: LeadReport, *, test: bool = False) -> render.Framing:
        """The thresholds checked, and what the file says around the numbers."""
        return render.Framing(
            title=self.title,
            flags=tuple(evaluate(report, self.thresholds)),
            limited_to=self.filters.describe(),
            ping=not test,
            test=test,
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

    def run(
        self, at: datetime, *, dry_run: bool = False, deadline_seconds: float | None = None
    ) -> Outcome:
        """Build and post the slot's report once. `deadline_seconds`: the time this run has
        left (a Lambda's remaining time); the claim's lease lasts that long."""
        try:
            slot = slot_time(at)
            if dry_run:
                report = self.build(slot)
                return Outcome("dry_run", slot, report, framing=self.framing(report))
            return self._post_once(slot, deadline_seconds or DEFAULT_LEASE_SECONDS)
        except Exception:
            self.metrics.count("ReportFailed")  # counted, then re-raised: the run failed
            raise

    def run_test(self, at: datetime, *, channel: str) -> Outcome:
        """Build the slot's report and post it to `channel` as a test: no slot is claimed,
        nothing is archived or e-mailed, mentions notify nobody, and a report that posts
        only when flagged is posted anyway (saying whether it would have been)."""
        if self.slack is None:
            raise ReportError("posting a test needs Slack")
        slot = slot_time(at)
        report = self.build(slot)
        framing = self.framing(report, test=True)
        message = render.slack_message(report, framing)
        posted = self.slack.post_message(channel=channel, text=message.text,
                                         blocks=message.blocks)  # fmt: skip
        outcome = Outcome("test", slot, report, channel=posted.channel, ts=posted.ts,
                          posts={channel: posted.ts}, framing=framing)  # fmt: skip
        self._attach(report, [posted], outcome)
        return self._finish(outcome)

    def _post_once(self, slot: datetime, lease_seconds: float) -> Outcome:
        if not (self.slack and self.channels and self.ledger):
            raise ReportError("posting needs Slack, a channel and the slot ledger")
        started = time.time()
        claim = self.ledger.claim(self.name, slot, lease_seconds=lease_seconds)
        if claim.state == ALREADY_POSTED:
            return self._duplicate(slot, claim)
        posts = dict(claim.posts)  # channels an earlier run of this slot already posted to
        try:
            report = self.build(slot)
            framing = self.framing(report)
            if self.post_when_flagged and not framing.raised:
                return self._quiet(slot, claim, report, framing)
            outcome = Outcome("posted", slot, report, framing=framing)
            outcome.archive_key = self._archive(report, outcome)
            fresh = self._deliver_all(render.slack_message(report, framing), slot, claim,
                                      posts, since=started)  # fmt: skip
        except Exception as error:
            self._give_back(slot, claim, error, posted=list(posts))
            raise _setting_error(error, self.channel_setting) or error from None
        first = posts[self.channels[0]]
        outcome.channel, outcome.ts = self.slack.resolve_channel(self.channels[0]), first
        outcome.posts = {channel: posts[channel] for channel in self.channels}
        outcome.status = "posted" if fresh else "recovered"
        self.ledger.mark_posted(self.name, slot, owner=claim.owner, channel=outcome.channel,
                                ts=first, archive_key=outcome.archive_key,
                                posts=outcome.posts)  # fmt: skip
        self.metrics.count("ReportPosted")
        get_logger().info("report posted", extra={
            "report": self.name, "slot": str(slot), "ts": first, "channels": len(posts),
            "leads": report.totals.leads, "flags": len(framing.raised),
        })  # fmt: skip
        self._attach(report, fresh, outcome)
        self._email(report, framing, slot, outcome)
        return self._finish(outcome)

    def _deliver_all(
        self,
        message: render.SlackMessage,
        slot: datetime,
        claim: Claim,
        posts: dict[str, str],
        *,
        since: float,
    ) -> list[PostedMessage]:
        """Post to every channel not in `posts` (adding each as it goes); the fresh posts."""
        assert self.ledger
        fresh = []
        for index, channel in enumerate(self.channels):
            if channel in posts:
                continue
            posted, status = self._deliver(message, channel, claim, slot, since=since)
            posts[channel] = posted.ts
            if status == "posted":
                fresh.append(posted)
            if index < len(self.channels) - 1:  # the last is recorded with the slot's end
                self.ledger.mark_channel_posted(self.name, slot, owner=claim.owner,
                                                channel=channel, ts=posted.ts)  # fmt: skip
        return fresh

    def _quiet(
        self, slot: datetime, claim: Claim, report: LeadReport, framing: render.Framing
    ) -> Outcome:
        assert self.ledger
        self.ledger.mark_quiet(self.name, slot, owner=claim.owner)
        self.metrics.count("ReportQuiet")
        get_logger().info("no threshold held: nothing posted",
                          extra={"report": self.name, "slot": str(slot)})  # fmt: skip
        return Outcome("quiet", slot, report, framing=framing)

    def _duplicate(self, slot: datetime, claim: Claim) -> Outcome:
        assert self.ledger
        get_logger().info("slot already done", extra={"report": self.name, "slot": str(slot),
                                                      "ts": claim.ts})  # fmt: skip
        self.metrics.count("ReportDuplicate")
        outcome = Outcome("duplicate", slot, channel=claim.channel, ts=claim.ts,
                          posts=dict(claim.posts))  # fmt: skip
        if claim.quiet:
            return outcome
        late_archive = not claim.archived and self.archive is not None
        late_email = bool(self.mailer and self.email_to) and claim.email in (None, EMAIL_FAILED)
        if not (late_archive or late_email):
            return self._finish(outcome)
        # The posting run could not archive or e-mail: try again with freshly fetched numbers.
        try:
            outcome.report = self.build(slot)
        except (CRMError, ReportError) as error:
            outcome.problems.append(f"the late archive or e-mail could not fetch the leads "
                                    f"({error})")  # fmt: skip
            return self._finish(outcome)
        if late_archive:
            outcome.archive_key = self._archive(outcome.report, outcome)
            if outcome.archive_key:
                self.ledger.mark_archived(self.name, slot, key=outcome.archive_key)
        if late_email:
            self._email(outcome.report, self.framing(outcome.report), slot, outcome)
        return self._finish(outcome)

    def _finish(self, outcome: Outcome) -> Outcome:
        if outcome.problems:
            self.metrics.count("ReportIncomplete")
            raise ReportError(f"report {outcome.status}, but: {'; '.join(outcome.problems)}")
        return outcome

    def _give_back(
        self, slot: datetime, claim: Claim, error: BaseException, *, posted: list[str]
    ) -> None:
        """Before every channel was posted: release the slot for a retry and tell ops."""
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
                reason=f"{reason}\n{_progress(posted, self.channels)}",
            )

    def _deliver(
        self,
        message: render.SlackMessage,
        channel: str,
        claim: Claim,
        slot: datetime,
        *,
        since: float,
    ) -> tuple[PostedMessage, str]:
        """Post the report to one channel, unless an earlier run of this slot already did."""
        if claim.state == TAKEN_OVER:
            found = self._already_posted(channel, slot, since=claim.claimed_at or since)
            if found:
                return found, "recovered"
        assert self.slack
        try:
            with self.metrics.timer("SlackPost"):
                posted = self.slack.post_message(channel=channel, text=message.text,
                                                 blocks=message.blocks,
                                                 metadata=message.metadata)  # fmt: skip
            return posted, "posted"
        except SlackError as error:
            if not error.uncertain:
                raise
            found = self._already_posted(channel, slot, since=since)  # it may have gone through
            if found is None:
                raise
            return found, "posted"

    def _already_posted(
        self, channel: str, slot: datetime, *, since: float
    ) -> PostedMessage | None:
        """Is this report's message for the slot (found by its metadata) in the channel?"""
        assert self.slack
        ts = self.slack.find_message(
            channel=channel,
            event_type=render.METADATA_EVENT_TYPE,
            key="slot",
            value=slot.isoformat().replace("+00:00", "Z"),
            also={"report": self.name},
            oldest=since - 60,
        )
        if ts is None:
            return None
        get_logger().warning("this slot's message was already in the channel", extra={"ts": ts})
        return PostedMessage(channel=self.slack.resolve_channel(channel), ts=ts)

    def _attach(self, report: LeadReport, posted: list[PostedMessage], outcome: Outcome) -> None:
        """The chart and the CSV into the thread of each message this run posted."""
        if not posted:
            return
        local = report.window.local_end
        stamp = f"{report.name}-{local:%Y-%m-%d-%H%M}"
        files: list[tuple[str, bytes, str, str | None]] = []
        if self.chart:
            try:
                with self.metrics.timer("ChartRender"):
                    data = chart.chart_data(report)
                    png = chart.render_png(data)
                files.append((f"{stamp}-per-hour.png", png, data.title, chart.alt_text(data)))
            except (ImportError, OSError, ValueError) as error:  # Pillow missing or failing
                self.metrics.count("ChartFailed")
                outcome.problems.append(f"the chart could not be drawn ({error})")
        if self.attach_csv:
            files.append((f"{stamp}.csv", render.leads_csv(report),
                          f"Leads {local:%a %-d %b} to {local:%H:%M %Z}", None))  # fmt: skip
        assert self.slack
        for message in posted:
            for filename, content, title, alt_text in files:
                try:
                    self.slack.upload_file(channel=message.channel, filename=filename,
                                           content=content, title=title,
                                           thread_ts=message.ts, alt_text=alt_text)  # fmt: skip
                except SlackError as error:
                    what = "chart" if filename.endswith(".png") else "CSV"
                    self.metrics.count("ChartUploadFailed" if what == "chart" else
                                       "CsvUploadFailed")  # fmt: skip
                    outcome.problems.append(f"the {what} was not attached ({error})")

    def _email(
        self, report: LeadReport, framing: render.Framing, slot: datetime, outcome: Outcome
    ) -> None:
        """The e-mail, at most once a slot (again only after SES refused it)."""
        if not (self.mailer and self.email_to and self.ledger):
            return
        if not self.ledger.claim_email(self.name, slot):
            return  # another run of this slot has sent it, or is sending it
        try:
            message = email_message(report, framing, subject=self.email_subject)
            self.mailer.send(to=self.email_to, message=message)
        except OpsbundleError as error:
            self.ledger.mark_email(self.name, slot, state=EMAIL_FAILED)
            self.metrics.count("EmailFailed")
            outcome.problems.append(f"the e-mail was not sent ({error})")
            return
        self.ledger.mark_email(self.name, slot, state=EMAIL_SENT)
        self.metrics.count("EmailSent")
        outcome.emailed = True

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


def _setting_error(error: BaseException, channel_setting: str) -> ConfigError | None:
    if isinstance(error, SlackError):
        return slack_setup.setup_problem(error, channel_setting=channel_setting)
    return None


def _progress(posted: list[str], channels: tuple[str, ...]) -> str:
    if not posted:
        return "Nothing was posted; the invocation is retried."
    missing = [channel for channel in channels if channel not in posted]
    return (f"Posted to {', '.join(posted)}, not yet to {', '.join(missing)}; the invocation "
            "is retried and posts only where it is missing.")  # fmt: skip
