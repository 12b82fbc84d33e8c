"""One scheduled run of a report: claim the slot, build, archive, post, record; and a test post.

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
from dataclasses import dataclass
from datetime import datetime

from opsbundle import settings as names
from opsbundle import slack as slack_setup
from opsbundle.exceptions import ConfigError, OpsbundleError, SlackError
from opsbundle.log import get_logger
from opsbundle.metrics import RunMetrics
from opsbundle.notify import Notifier
from opsbundle.slack import PostedMessage, SlackClient
from report_fn import render
from report_fn.aggregate import LeadReport
from report_fn.archive import ReportArchive
from report_fn.builder import ReportBuilder
from report_fn.exceptions import CRMError, ReportError
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
from report_fn.notify import tell_ops
from report_fn.outcome import ReportOutcome
from report_fn.thread_files import ThreadFiles
from report_fn.window import slot_time


@dataclass(frozen=True, kw_only=True)
class ReportTest:
    """`opsbundle report test`: the slot's report posted to a test channel. No slot is
    claimed, nothing is archived or e-mailed, mentions notify nobody, and a report that posts
    only when flagged is posted anyway (the caller says whether it would have been)."""

    builder: ReportBuilder
    files: ThreadFiles

    def run(self, at: datetime, *, channel: str) -> ReportOutcome:
        slot = slot_time(at)
        report = self.builder.build(slot)
        framing = self.builder.framing(report, test=True)
        message = render.slack_message(report, framing)
        posted = self.files.slack.post_message(
            channel=channel, text=message.text, blocks=message.blocks
        )
        outcome = ReportOutcome(
            "test",
            slot,
            report,
            channel=posted.channel,
            ts=posted.ts,
            posts={channel: posted.ts},
            framing=framing,
        )
        self.files.attach(report, [posted], outcome.problems)
        return _finish(outcome, self.builder)


@dataclass(frozen=True, kw_only=True)
class ReportJob:
    builder: ReportBuilder
    slack: SlackClient
    channels: tuple[str, ...]
    ledger: SlotLedger
    archive: ReportArchive
    notifier: Notifier  # the failure notice to ops
    files: ThreadFiles
    mailer: Mailer | None  # None: the report is not e-mailed
    email_to: tuple[str, ...] = ()
    email_subject: str | None = None
    post_when_flagged: bool = False
    channel_setting: str = names.SLACK_CHANNEL  # what to fix when Slack refuses the channel

    @property
    def name(self) -> str:
        return self.builder.name

    @property
    def metrics(self) -> RunMetrics:
        return self.builder.metrics

    def run(self, at: datetime, *, deadline_seconds: float | None = None) -> ReportOutcome:
        """Build and post the slot's report once. `deadline_seconds`: the time this run has
        left (a Lambda's remaining time); the claim's lease lasts that long."""
        if not self.channels:
            raise ReportError("posting needs a channel")
        slot = slot_time(at)
        lease_seconds = deadline_seconds or DEFAULT_LEASE_SECONDS
        started = time.time()
        claim = self.ledger.claim(self.name, slot, lease_seconds=lease_seconds)
        if claim.state == ALREADY_POSTED:
            return self._duplicate(slot, claim)
        posts = dict(claim.posts)  # channels an earlier run of this slot already posted to
        try:
            report = self.builder.build(slot)
            framing = self.builder.framing(report)
            if self.post_when_flagged and not framing.raised:
                return self._quiet(slot, claim, report, framing)
            outcome = ReportOutcome("posted", slot, report, framing=framing)
            outcome.archive_key = self._archive(report, outcome)
            message = render.slack_message(report, framing)
            fresh = self._deliver_all(message, slot, claim, posts, since=started)
        except Exception as error:
            self._give_back(slot, claim, error, posted=list(posts))
            raise _setting_error(error, self.channel_setting) or error from None
        first = posts[self.channels[0]]
        outcome.channel, outcome.ts = self.slack.resolve_channel(self.channels[0]), first
        outcome.posts = {channel: posts[channel] for channel in self.channels}
        outcome.status = "posted" if fresh else "recovered"
        self.ledger.mark_posted(
            self.name,
            slot,
            owner=claim.owner,
            channel=outcome.channel,
            ts=first,
            archive_key=outcome.archive_key,
            posts=outcome.posts,
        )
        self.metrics.count("ReportPosted")
        get_logger().info(
            "report posted",
            extra={
                "report": self.name,
                "slot": str(slot),
                "ts": first,
                "channels": len(posts),
                "leads": report.totals.leads,
                "flags": len(framing.raised),
            },
        )
        self.files.attach(report, fresh, outcome.problems)
        self._email(report, framing, slot, outcome)
        return _finish(outcome, self.builder)

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
        fresh = []
        for index, channel in enumerate(self.channels):
            if channel in posts:
                continue
            posted, status = self._deliver(message, channel, claim, slot, since=since)
            posts[channel] = posted.ts
            if status == "posted":
                fresh.append(posted)
            if index < len(self.channels) - 1:  # the last is recorded with the slot's end
                self.ledger.mark_channel_posted(
                    self.name, slot, owner=claim.owner, channel=channel, ts=posted.ts
                )
        return fresh

    def _quiet(
        self, slot: datetime, claim: Claim, report: LeadReport, framing: render.Framing
    ) -> ReportOutcome:
        self.ledger.mark_quiet(self.name, slot, owner=claim.owner)
        self.metrics.count("ReportQuiet")
        get_logger().info(
            "no threshold held: nothing posted", extra={"report": self.name, "slot": str(slot)}
        )
        return ReportOutcome("quiet", slot, report, framing=framing)

    def _duplicate(self, slot: datetime, claim: Claim) -> ReportOutcome:
        get_logger().info(
            "slot already done", extra={"report": self.name, "slot": str(slot), "ts": claim.ts}
        )
        self.metrics.count("ReportDuplicate")
        outcome = ReportOutcome(
            "duplicate", slot, channel=claim.channel, ts=claim.ts, posts=dict(claim.posts)
        )
        if claim.quiet:
            return outcome
        late_archive = not claim.archived
        late_email = bool(self.mailer and self.email_to) and claim.email in (None, EMAIL_FAILED)
        if not (late_archive or late_email):
            return _finish(outcome, self.builder)
        # The posting run could not archive or e-mail: try again with freshly fetched numbers.
        try:
            outcome.report = self.builder.build(slot)
        except (CRMError, ReportError) as error:
            outcome.problems.append(
                f"the late archive or e-mail could not fetch the leads ({error})"
            )
            return _finish(outcome, self.builder)
        if late_archive:
            outcome.archive_key = self._archive(outcome.report, outcome)
            if outcome.archive_key:
                self.ledger.mark_archived(self.name, slot, key=outcome.archive_key)
        if late_email:
            self._email(outcome.report, self.builder.framing(outcome.report), slot, outcome)
        return _finish(outcome, self.builder)

    def _give_back(
        self, slot: datetime, claim: Claim, error: BaseException, *, posted: list[str]
    ) -> None:
        """Before every channel was posted: release the slot for a retry and tell ops."""
        if isinstance(error, CRMError):
            self.metrics.count("CrmErrors")
        reason = str(error) or type(error).__name__
        try:
            self.ledger.release(self.name, slot, owner=claim.owner, reason=reason)
        except OpsbundleError as release_error:
            get_logger().error("could not release the slot", extra={"error": str(release_error)})
        local = slot.astimezone(self.builder.timezone)
        tell_ops(
            self.notifier,
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
        try:
            with self.metrics.timer("SlackPost"):
                posted = self.slack.post_message(
                    channel=channel,
                    text=message.text,
                    blocks=message.blocks,
                    metadata=message.metadata,
                )
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

    def _email(
        self,
        report: LeadReport,
        framing: render.Framing,
        slot: datetime,
        outcome: ReportOutcome,
    ) -> None:
        """The e-mail, at most once a slot (again only after SES refused it)."""
        if not (self.mailer and self.email_to):
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

    def _archive(self, report: LeadReport, outcome: ReportOutcome) -> str | None:
        """Archive before posting (the key is per slot, so a retry overwrites, never adds)."""
        try:
            return self.archive.put(
                report.to_json(), report=self.name, local_end=report.window.local_end
            )
        except ReportError as error:
            self.metrics.count("ArchiveFailed")
            outcome.problems.append(str(error))
            return None


def _finish(outcome: ReportOutcome, builder: ReportBuilder) -> ReportOutcome:
    if outcome.problems:
        builder.metrics.count("ReportIncomplete")
        raise ReportError(f"report {outcome.status}, but: {'; '.join(outcome.problems)}")
    return outcome


def _setting_error(error: BaseException, channel_setting: str) -> ConfigError | None:
    if isinstance(error, SlackError):
        return slack_setup.setup_problem(error, channel_setting=channel_setting)
    return None


def _progress(posted: list[str], channels: tuple[str, ...]) -> str:
    if not posted:
        return "Nothing was posted; the invocation is retried."
    missing = [channel for channel in channels if channel not in posted]
    return (
        f"Posted to {', '.join(posted)}, not yet to {', '.join(missing)}; the invocation "
        "is retried and posts only where it is missing."
    )
