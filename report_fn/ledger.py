"""Exactly once per slot: a DynamoDB record per (report name, scheduled time).

A conditional put claims the slot for one run (an owner token and a lease); the Slack
message `ts` is stored once posted, so a retried or duplicated invocation finds it and posts
nothing. Every later update is conditional on still owning the claim. A claim left behind
by a run that died holds its lease until the run's own deadline; after that a retry may
take over, and first looks in the channel for a message carrying this slot's metadata.

A report may post to several channels: each channel's message `ts` is recorded under
`posts` as soon as it is posted, so a retry after a failure between two channels posts only
to the ones still missing. A report that posts only when a condition holds records a slot in
which none held as QUIET, so a duplicate invocation does not decide it again. The e-mail is
sent at most once per slot: `email` is set to "sending" by a conditional write before SES is
called ("sent" or "failed" after), and only a slot with no e-mail yet, or a failed one, is
e-mailed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from opsbundle import aws
from opsbundle import settings as names
from opsbundle.exceptions import ConfigError
from report_fn.exceptions import ReportError, SlotBusyError

IN_PROGRESS, POSTED, FAILED, QUIET = "IN_PROGRESS", "POSTED", "FAILED", "QUIET"
EMAIL_SENDING, EMAIL_SENT, EMAIL_FAILED = "sending", "sent", "failed"
CLAIMED, TAKEN_OVER, ALREADY_POSTED = "claimed", "taken_over", "already_posted"
DEFAULT_LEASE_SECONDS = 900  # a run without a deadline (the CLI); Lambda passes its own
LEASE_MARGIN_SECONDS = 30
DEFAULT_RETENTION_DAYS = 90


@dataclass(frozen=True)
class Claim:
    state: str  # claimed, taken_over, already_posted
    owner: str = ""
    previous_status: str | None = None  # on takeover: what the earlier run left behind
    claimed_at: float | None = None  # on takeover: when the slot was first claimed (epoch s)
    channel: str | None = None  # already_posted: where and which message
    ts: str | None = None
    archived: bool = False
    posts: dict[str, str] = field(default_factory=dict)  # channel as configured -> message ts
    quiet: bool = False  # already_posted: nothing held, nothing was posted
    email: str | None = None  # sending, sent, failed; None: no e-mail tried for this slot


def slot_key(report: str, slot: datetime) -> str:
    return f"{report}#{slot.isoformat().replace('+00:00', 'Z')}"


class SlotLedger:
    def __init__(
        self,
        *,
        table_name: str,
        boto3_client: Any = None,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._table = table_name
        self._client = boto3_client or aws.client("dynamodb")
        self._retention = retention_days * 86400
        self._clock = clock

    def claim(
        self, report: str, slot: datetime, *, lease_seconds: float = DEFAULT_LEASE_SECONDS
    ) -> Claim:
        """Claim the slot for `lease_seconds` (the run's remaining time), or say who has it."""
        key = slot_key(report, slot)
        now = int(self._clock())
        owner = uuid.uuid4().hex
        lease_until = str(now + int(lease_seconds) + LEASE_MARGIN_SECONDS)
        try:
            self._call(
                "put_item",
                Item={
                    "pk": {"S": key},
                    "status": {"S": IN_PROGRESS},
                    "owner": {"S": owner},
                    "lease_until": {"N": lease_until},
                    "attempts": {"N": "1"},
                    "claimed_at": {"N": str(now)},
                    "expires_at": {"N": str(int(slot.timestamp()) + self._retention)},
                    "posts": {"M": {}},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
            return Claim(state=CLAIMED, owner=owner)
        except _ConditionFailed:
            pass
        item = self._get(key)
        status = item["status"]["S"]
        if status in (POSTED, QUIET):
            return Claim(
                state=ALREADY_POSTED,
                channel=item.get("channel", {}).get("S"),
                ts=item.get("ts", {}).get("S"),
                archived=item.get("archived", {}).get("BOOL", False),
                posts=_posts(item),
                quiet=status == QUIET,
                email=item.get("email", {}).get("S"),
            )
        held_until = int(item["lease_until"]["N"])
        if status == IN_PROGRESS and held_until > now:
            raise SlotBusyError(
                f"another invocation is building {key} (lease until {held_until}); retry later"
            )
        try:
            self._call(
                "update_item",
                Key={"pk": {"S": key}},
                UpdateExpression="SET #s = :busy, #o = :me, lease_until = :lease, "
                "posts = if_not_exists(posts, :none) ADD attempts :one",
                ConditionExpression="#s = :seen AND lease_until = :seen_lease",
                ExpressionAttributeNames={"#s": "status", "#o": "owner"},
                ExpressionAttributeValues={
                    ":busy": {"S": IN_PROGRESS},
                    ":me": {"S": owner},
                    ":lease": {"N": lease_until},
                    ":one": {"N": "1"},
                    ":seen": {"S": status},
                    ":seen_lease": {"N": str(held_until)},
                    ":none": {"M": {}},
                },
            )
        except _ConditionFailed:
            raise SlotBusyError(f"another invocation took over {key}; retry later") from None
        return Claim(
            state=TAKEN_OVER,
            owner=owner,
            previous_status=status,
            claimed_at=float(item["claimed_at"]["N"]) if "claimed_at" in item else None,
            posts=_posts(item),
        )

    def mark_posted(
        self,
        report: str,
        slot: datetime,
        *,
        owner: str,
        channel: str,
        ts: str,
        archive_key: str | None,
        posts: dict[str, str] | None = None,
    ) -> None:
        """The slot is done: `channel`/`ts` the first channel's message, `posts` every one."""
        values = {":posted": {"S": POSTED}, ":channel": {"S": channel}, ":ts": {"S": ts},
                  ":archived": {"BOOL": archive_key is not None},
                  ":posts": {"M": {name: {"S": value} for name, value in (posts or {}).items()}},
                  }  # fmt: skip  # laid out as a table
        expression = (
            "SET #s = :posted, channel = :channel, ts = :ts, archived = :archived, posts = :posts"
        )
        if archive_key:
            expression += ", archive_key = :key"
            values[":key"] = {"S": archive_key}
        self._update_owned(report, slot, owner, expression, values)

    def mark_channel_posted(
        self, report: str, slot: datetime, *, owner: str, channel: str, ts: str
    ) -> None:
        """One of several channels has the message: a retry must not post there again."""
        self._update_owned(
            report,
            slot,
            owner,
            "SET posts.#channel = :ts",
            {":ts": {"S": ts}},
            names={"#channel": channel},
        )

    def mark_quiet(self, report: str, slot: datetime, *, owner: str) -> None:
        """No condition held in a report that posts only when one does: the slot is done."""
        self._update_owned(report, slot, owner, "SET #s = :quiet", {":quiet": {"S": QUIET}})

    def claim_email(self, report: str, slot: datetime) -> bool:
        """Take the slot's e-mail (once, or again after a failure); False: taken already."""
        try:
            self._call(
                "update_item",
                Key={"pk": {"S": slot_key(report, slot)}},
                UpdateExpression="SET email = :sending",
                ConditionExpression="#s = :posted AND (attribute_not_exists(email) "
                "OR email = :failed)",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":sending": {"S": EMAIL_SENDING},
                    ":posted": {"S": POSTED},
                    ":failed": {"S": EMAIL_FAILED},
                },
            )
        except _ConditionFailed:
            return False
        return True

    def mark_email(self, report: str, slot: datetime, *, state: str) -> None:
        """After SES answered: sent, or failed (a later retry may send it)."""
        self._call(
            "update_item",
            Key={"pk": {"S": slot_key(report, slot)}},
            UpdateExpression="SET email = :state",
            ExpressionAttributeValues={":state": {"S": state}},
        )

    def release(self, report: str, slot: datetime, *, owner: str, reason: str) -> None:
        """Give the slot back after a failure, so the platform's retry can build it."""
        self._update_owned(
            report,
            slot,
            owner,
            "SET #s = :failed, lease_until = :zero, last_error = :reason",
            {":failed": {"S": FAILED}, ":zero": {"N": "0"}, ":reason": {"S": reason[:1000]}},
        )

    def mark_archived(self, report: str, slot: datetime, *, key: str) -> None:
        """After a late archive of a posted slot (no claim is held for that)."""
        try:
            self._call(
                "update_item",
                Key={"pk": {"S": slot_key(report, slot)}},
                UpdateExpression="SET archived = :yes, archive_key = :key",
                ConditionExpression="#s = :posted",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":yes": {"BOOL": True},
                    ":key": {"S": key},
                    ":posted": {"S": POSTED},
                },
            )
        except _ConditionFailed:
            raise ReportError(f"{slot_key(report, slot)} is no longer marked posted") from None

    def _update_owned(
        self,
        report: str,
        slot: datetime,
        owner: str,
        expression: str,
        values: dict[str, Any],
        *,
        names: dict[str, str] | None = None,
    ) -> None:
        key = slot_key(report, slot)
        try:
            self._call(
                "update_item",
                Key={"pk": {"S": key}},
                UpdateExpression=expression,
                ConditionExpression="#o = :me AND #s = :in_progress",
                ExpressionAttributeNames={"#s": "status", "#o": "owner", **(names or {})},
                ExpressionAttributeValues={
                    **values,
                    ":me": {"S": owner},
                    ":in_progress": {"S": IN_PROGRESS},
                },
            )
        except _ConditionFailed:
            raise ReportError(
                f"this run no longer holds {key}: its lease ran out and another run took over"
            ) from None

    def _get(self, key: str) -> dict[str, Any]:
        response = self._call("get_item", Key={"pk": {"S": key}}, ConsistentRead=True)
        if "Item" not in response:
            raise SlotBusyError(f"the record for {key} vanished while being read; retry")
        item: dict[str, Any] = response["Item"]
        return item

    def _call(self, operation: str, **kwargs: Any) -> Any:
        try:
            return getattr(self._client, operation)(TableName=self._table, **kwargs)
        except ClientError as error:
            code = aws.error_code(error, "unknown error")
            if code == "ConditionalCheckFailedException":
                raise _ConditionFailed from None
            if code == "ResourceNotFoundException":
                missing = f"table {self._table} does not exist"
                raise ConfigError(names.REPORT_TABLE, missing) from None
            if code in ("AccessDeniedException", "UnrecognizedClientException"):
                raise ConfigError(names.REPORT_TABLE, f"{code} on table {self._table}") from None
            raise ReportError(f"DynamoDB table {self._table}: {code}") from None
        except BotoCoreError as error:
            problem = aws.setup_problem(error)
            if problem:
                raise problem from None
            raise ReportError(f"DynamoDB table {self._table}: {error}") from None


def _posts(item: dict[str, Any]) -> dict[str, str]:
    posts = item.get("posts", {}).get("M", {})
    return {channel: value["S"] for channel, value in posts.items() if "S" in value}


class _ConditionFailed(Exception):
    """A conditional write lost: someone else holds or changed the record."""
