"""The dead-letter prefix in S3: what could not be indexed, with the original event and why.

One gzip'd JSON Lines object per invocation (or replay), under
    {prefix}{yyyy}/{mm}/{dd}/{HHMMSS}-{request id}-{n}-{digest}.jsonl.gz
(the digest of its content: a retried invocation, which keeps its request id, writes the same
records to the same key, and different records never share one)
Each line is either an event:
    {"kind": "event", "reason", "status", "detail", "document_id", "index", "failed_at",
     "owner", "logGroup", "logStream", "subscriptionFilters", "region",
     "event": {"id", "timestamp", "message"}}
or a payload that could not be decoded (kept as it arrived, base64):
    {"kind": "payload", "reason", "item_id", "failed_at", "data"}
`replay` sends them through the same pipeline with the same ids, then deletes the object.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from log_shipper.bulk import Failure
from log_shipper.events import LogBatch, LogEvent, Malformed
from log_shipper.exceptions import DeadLetterError
from log_shipper.formats.detect import FORMATS as FILE_FORMATS
from opsbundle import aws
from opsbundle.inflate import TooLarge, gunzip

# Bigger than any object the shipper writes (one invocation's or one S3 chunk's failures: a
# CloudWatch Logs payload inflates to 32 MB at most, a chunk is held in the function's
# memory), small enough that a gzip bomb put in the bucket stops here.
MAX_OBJECT_BYTES = 1024 * 1024 * 1024


def event_record(failure: Failure, failed_at: datetime) -> dict[str, Any]:
    document, batch = failure.document, failure.document.batch
    event = document.event
    return {
        "kind": "event",
        "reason": failure.reason,
        "status": failure.status,
        "detail": failure.detail,
        "document_id": document.id,
        "index": document.index,
        "failed_at": failed_at.isoformat(),
        "owner": batch.owner,
        "logGroup": batch.log_group,
        "logStream": batch.log_stream,
        "subscriptionFilters": list(batch.subscription_filters),
        "region": batch.region,
        "event": {"id": event.id, "timestamp": event.timestamp, "message": event.message},
        **({"source": batch.source, "header": list(batch.header)} if batch.source else {}),
    }


def payload_record(
    malformed: Malformed, item_id: str | None, failed_at: datetime
) -> dict[str, Any]:
    return {
        "kind": "payload",
        "reason": "malformed_payload",
        "detail": malformed.reason,
        "item_id": item_id,
        "failed_at": failed_at.isoformat(),
        "data": malformed.raw,
    }


@dataclass(frozen=True)
class DeadLetterObject:
    key: str
    records: list[dict[str, Any]]

    def batches(self) -> list[LogBatch]:
        """The event records regrouped into batches (one per log stream), in order."""
        Key = tuple[str, str, str, str | None, str | None, str | None, tuple[str, ...]]
        groups: dict[Key, list[LogEvent]] = {}
        filters: dict[Key, tuple[str, ...]] = {}
        for record in self.records:
            if record.get("kind") != "event" or not _readable(record):
                continue
            source = record.get("source") if record.get("source") in FILE_FORMATS else None
            header = tuple(str(h) for h in record.get("header") or ()) if source else ()
            key = (record["owner"], record["logGroup"], record["logStream"], record.get("region"),
                   stored_index(record), source, header)  # fmt: skip  # laid out as a table
            event = record["event"]
            groups.setdefault(key, []).append(
                LogEvent(str(event["id"]), int(event["timestamp"]), str(event["message"]))
            )
            filters[key] = tuple(record.get("subscriptionFilters") or ())
        return [
            LogBatch(
                owner=o,
                log_group=g,
                log_stream=s,
                events=events,
                subscription_filters=filters[(o, g, s, r, i, f, h)],
                region=r,
                index=i,
                source=f,
                header=h,
            )
            for (o, g, s, r, i, f, h), events in groups.items()
        ]

    def payloads(self) -> list[dict[str, Any]]:
        """Undecodable CloudWatch Logs payloads (kept as they arrived, base64)."""
        return [
            r
            for r in self.records
            if r.get("kind") == "payload" and r.get("reason") != "malformed_message"
        ]

    def objects(self) -> list[dict[str, Any]]:
        """S3 log files that could not be read (missing, denied, damaged): read again."""
        return [r for r in self.records if r.get("kind") == "object"]

    def unreadable(self) -> int:
        """Records a replay can't act on: event records missing what it needs (a hand-edited
        or cut-off file), and SQS messages that named no S3 object in a shape we know."""
        return sum(
            1
            for r in self.records
            if (r.get("kind") == "event" and not _readable(r))
            or (r.get("kind") == "payload" and r.get("reason") == "malformed_message")
        )


# An index name as the routes make them (lower-case ASCII, nothing a `_bulk` action line would
# have to escape): a record edited by hand with anything else is replayed by today's routes.
_INDEX_NAME = re.compile(r"[a-z0-9][a-z0-9._+-]{0,254}")


def stored_index(record: dict[str, Any]) -> str | None:
    """The index a dead-lettered event was first sent to, when the record holds a valid one."""
    index = record.get("index")
    if isinstance(index, str) and _INDEX_NAME.fullmatch(index):
        return index
    return None


class DeadLetters:
    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "log-shipper/dead-letters/",
        kms_key_id: str | None = None,
        boto3_client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self._kms_key_id = kms_key_id
        self._client = boto3_client or aws.client("s3")
        self._written = 0

    def put(self, records: Sequence[dict[str, Any]], *, request_id: str, at: datetime) -> str:
        """Write the records as one object; raise DeadLetterError when S3 would not take it."""
        self._written += 1
        text = b"".join(json.dumps(r).encode("ascii") + b"\n" for r in records)
        digest = hashlib.blake2b(text, digest_size=6).hexdigest()
        key = f"{self.prefix}{at:%Y/%m/%d/%H%M%S}-{request_id}-{self._written}-{digest}.jsonl.gz"
        body = gzip.compress(text, mtime=0)
        extra: dict[str, str] = {"ServerSideEncryption": "aws:kms"}
        if self._kms_key_id:
            extra["SSEKMSKeyId"] = self._kms_key_id
        try:
            self._client.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=body,
                ContentType="application/x-ndjson",
                ContentEncoding="gzip",
                **extra,
            )
        except (BotoCoreError, ClientError) as error:
            raise DeadLetterError(
                f"could not write {len(records)} dead letters to s3://{self.bucket}/{key}: "
                f"{aws.error_name(error)}"
            ) from None
        return key

    def keys(self, prefix: str | None = None) -> Iterator[str]:
        paginator = self._client.get_paginator("list_objects_v2")
        try:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix or self.prefix):
                for item in page.get("Contents", []):
                    if item["Key"].endswith(".jsonl.gz"):
                        yield item["Key"]
        except (BotoCoreError, ClientError) as error:
            raise DeadLetterError(
                f"could not list s3://{self.bucket}/{prefix}: {aws.error_name(error)}"
            ) from None

    def read(self, key: str) -> DeadLetterObject:
        try:
            body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except (BotoCoreError, ClientError) as error:
            raise DeadLetterError(
                f"could not read s3://{self.bucket}/{key}: {aws.error_name(error)}"
            ) from None
        try:
            text = gunzip(body, limit=MAX_OBJECT_BYTES) if body[:2] == b"\x1f\x8b" else body
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        except TooLarge as error:
            raise DeadLetterError(f"s3://{self.bucket}/{key} {error}: not one we wrote") from None
        except ValueError:
            raise DeadLetterError(f"s3://{self.bucket}/{key} is not gzip'd JSON Lines") from None
        return DeadLetterObject(key, records)

    def delete(self, key: str) -> None:
        try:
            self._client.delete_object(Bucket=self.bucket, Key=key)
        except (BotoCoreError, ClientError) as error:
            raise DeadLetterError(
                f"could not delete s3://{self.bucket}/{key}: {aws.error_name(error)}"
            ) from None


def _readable(record: dict[str, Any]) -> bool:
    event = record.get("event")
    return (
        all(isinstance(record.get(k), str) for k in ("owner", "logGroup", "logStream"))
        and isinstance(event, dict)
        and isinstance(event.get("id"), str)
        and isinstance(event.get("timestamp"), int)
        and isinstance(event.get("message"), str)
    )
