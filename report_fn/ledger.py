"""Exactly once per slot: a DynamoDB record per (report name, scheduled time).

A conditional put claims the slot; the Slack message `ts` is stored once posted, so a
retried or duplicated invocation finds it and posts nothing. A claim left behind by an
invocation that died holds a lease; once the lease runs out, a retry may take over (and
first looks in the channel for a message already carrying this slot's metadata).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from opsbundle import aws
from report_fn.exceptions import ReportError, SlotBusyError

IN_PROGRESS, POSTED, FAILED = "IN_PROGRESS", "POSTED", "FAILED"
NEW, TAKEOVER, DONE = "new", "takeover", "posted"
DEFAULT_LEASE_SECONDS = 900  # longer than the Lambda's timeout
DEFAULT_RETENTION_DAYS = 90


@dataclass(frozen=True)
class Claim:
    state: str  # new, takeover, posted
    attempts: int = 1
    previous_status: str | None = None  # on takeover: IN_PROGRESS means a run died mid-way
    claimed_at: float | None = None  # on takeover: when the slot was first claimed (epoch s)
    channel: str | None = None
    ts: str | None = None
    archived: bool = False


def slot_key(report: str, slot: datetime) -> str:
    return f"{report}#{slot.isoformat().replace('+00:00', 'Z')}"


class SlotLedger:
    def __init__(
        self,
        *,
        table_name: str,
        boto3_client: Any = None,
        lease_seconds: int = DEFAULT_LEASE_SECONDS,
        retention_days: int = DEFAULT_RETENTION_DAYS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._table = table_name
        self._client = boto3_client or aws.client("dynamodb")
        self._lease = lease_seconds
        self._retention = retention_days * 86400
        self._clock = clock

    def claim(self, report: str, slot: datetime) -> Claim:
        key = slot_key(report, slot)
        now = int(self._clock())
        try:
            self._client.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": key},
                    "status": {"S": IN_PROGRESS},
                    "lease_until": {"N": str(now + self._lease)},
                    "attempts": {"N": "1"},
                    "claimed_at": {"N": str(now)},
                    "expires_at": {"N": str(int(slot.timestamp()) + self._retention)},
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
            return Claim(state=NEW)
        except ClientError as error:
            if _code(error) != "ConditionalCheckFailedException":
                raise ReportError(f"DynamoDB table {self._table}: {_code(error)}") from None
        item = self._get(key)
        status = item["status"]["S"]
        if status == POSTED:
            return Claim(
                state=DONE,
                attempts=int(item["attempts"]["N"]),
                channel=item.get("channel", {}).get("S"),
                ts=item.get("ts", {}).get("S"),
                archived=item.get("archived", {}).get("BOOL", False),
            )
        lease_until = int(item["lease_until"]["N"])
        if status == IN_PROGRESS and lease_until > now:
            raise SlotBusyError(
                f"another invocation is building {key} (lease until {lease_until}); retry later"
            )
        try:
            updated = self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": key}},
                UpdateExpression="SET #s = :busy, lease_until = :lease ADD attempts :one",
                ConditionExpression="#s = :seen AND lease_until = :seen_lease",
                ExpressionAttributeNames={"#s": "status"},
                ExpressionAttributeValues={
                    ":busy": {"S": IN_PROGRESS},
                    ":lease": {"N": str(now + self._lease)},
                    ":one": {"N": "1"},
                    ":seen": {"S": status},
                    ":seen_lease": {"N": str(lease_until)},
                },
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if _code(error) == "ConditionalCheckFailedException":
                raise SlotBusyError(f"another invocation took over {key}; retry later") from None
            raise ReportError(f"DynamoDB table {self._table}: {_code(error)}") from None
        return Claim(
            state=TAKEOVER,
            attempts=int(updated["Attributes"]["attempts"]["N"]),
            previous_status=status,
            claimed_at=float(item["claimed_at"]["N"]) if "claimed_at" in item else None,
        )

    def mark_posted(self, report: str, slot: datetime, *, channel: str, ts: str) -> None:
        self._update(
            report, slot, "SET #s = :posted, channel = :channel, ts = :ts, archived = :no",
            {":posted": {"S": POSTED}, ":channel": {"S": channel}, ":ts": {"S": ts},
             ":no": {"BOOL": False}},
        )  # fmt: skip

    def mark_archived(self, report: str, slot: datetime, *, key: str) -> None:
        self._update(
            report, slot, "SET archived = :yes, archive_key = :key",
            {":yes": {"BOOL": True}, ":key": {"S": key}},
        )  # fmt: skip

    def release(self, report: str, slot: datetime, *, reason: str) -> None:
        """Give the slot back after a failure, so the platform's retry can build it."""
        self._update(
            report, slot, "SET #s = :failed, lease_until = :zero, last_error = :reason",
            {":failed": {"S": FAILED}, ":zero": {"N": "0"}, ":reason": {"S": reason[:1000]}},
        )  # fmt: skip

    def _update(self, report: str, slot: datetime, expression: str, values: dict[str, Any]) -> None:
        names = {"#s": "status"} if "#s" in expression else {}
        try:
            self._client.update_item(
                TableName=self._table,
                Key={"pk": {"S": slot_key(report, slot)}},
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues=values,
                **({"ExpressionAttributeNames": names} if names else {}),
            )
        except ClientError as error:
            raise ReportError(f"DynamoDB table {self._table}: {_code(error)}") from None

    def _get(self, key: str) -> dict[str, Any]:
        try:
            response = self._client.get_item(
                TableName=self._table, Key={"pk": {"S": key}}, ConsistentRead=True
            )
        except ClientError as error:
            raise ReportError(f"DynamoDB table {self._table}: {_code(error)}") from None
        if "Item" not in response:
            raise SlotBusyError(f"the record for {key} vanished while being read; retry")
        item: dict[str, Any] = response["Item"]
        return item


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", "unknown error"))
