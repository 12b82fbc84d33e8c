"""S3 "object created" notifications arriving through SQS: pure decoding, no AWS calls.

The SQS event source mapping hands the function `{"Records": [{"messageId", "body",
"eventSource": "aws:sqs", "eventSourceARN", "awsRegion", ...}]}`, and each body is one of
(as the S3 User Guide, "Event notification types and destinations", and the EventBridge and SNS
guides document them):
- an S3 event notification: `{"Records": [{"eventSource": "aws:s3", "eventName":
  "ObjectCreated:Put", "s3": {"bucket": {"name"}, "object": {"key" (URL-encoded, "+" for a
  space), "size", "eTag", "versionId"}}}]}`; or S3's `{"Event": "s3:TestEvent", ...}` when a
  notification is first set up (nothing to read);
- the same, wrapped by SNS: `{"Type": "Notification", "Message": "<the S3 notification>"}`;
- an EventBridge "Object Created" event: `{"source": "aws.s3", "detail-type": "Object
  Created", "detail": {"bucket": {"name"}, "object": {"key" (not encoded), "size", "etag",
  "version-id"}}}`;
- the shipper's own resume message, when a file too long for one invocation is carried on:
  `{"opsbundle_resume": {"bucket", "key", "version_id", "etag", "line"}}`.
A body that is none of these is a malformed message, with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus

RESUME = "opsbundle_resume"


@dataclass(frozen=True)
class ObjectRef:
    bucket: str
    key: str
    version_id: str | None = None
    etag: str | None = None
    size: int | None = None
    start_line: int = 0  # lines already shipped (a resumed read skips them)

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def revision(self) -> str:
        """What tells this object's content apart from another write to the same key."""
        return self.version_id or (self.etag or "").strip('"') or "unversioned"

    def resume_body(self, line: int) -> str:
        return json.dumps(
            {
                RESUME: {
                    "bucket": self.bucket,
                    "key": self.key,
                    "version_id": self.version_id,
                    "etag": self.etag,
                    "line": line,
                }
            }
        )


@dataclass
class Message:
    message_id: str | None
    objects: list[ObjectRef] = field(default_factory=list)
    malformed: str | None = None  # why the body could not be read
    body: str = ""


def is_sqs(event: Any) -> bool:
    records = event.get("Records") if isinstance(event, dict) else None
    return bool(
        isinstance(records, list)
        and records
        and isinstance(records[0], dict)
        and records[0].get("eventSource") == "aws:sqs"
    )


def queue_arn(event: dict[str, Any]) -> str | None:
    for record in event.get("Records", []):
        if isinstance(record, dict) and isinstance(record.get("eventSourceARN"), str):
            return str(record["eventSourceARN"])
    return None


def decode_messages(event: dict[str, Any]) -> list[Message]:
    return [_message(record) for record in event.get("Records", [])]


def _message(record: Any) -> Message:
    if not isinstance(record, dict):
        return Message(None, malformed="an SQS record that is not an object")
    message_id = record.get("messageId") if isinstance(record.get("messageId"), str) else None
    body = record.get("body")
    if not isinstance(body, str):
        return Message(message_id, malformed="an SQS record without a body", body=str(body))
    try:
        return Message(message_id, objects=objects_in(json.loads(body)), body=body)
    except (ValueError, RecursionError) as error:
        return Message(message_id, malformed=str(error)[:300], body=body[:100_000])


def objects_in(body: Any) -> list[ObjectRef]:
    """The objects a notification body names; ValueError when it is no shape we know."""
    if not isinstance(body, dict):
        raise ValueError("the message body is not a JSON object")
    if isinstance(body.get(RESUME), dict):
        return [_resume(body[RESUME])]
    if body.get("Type") == "Notification" and isinstance(body.get("Message"), str):
        return objects_in(json.loads(body["Message"]))  # SNS, not raw delivery
    if body.get("Event") == "s3:TestEvent":
        return []
    if body.get("source") == "aws.s3" and isinstance(body.get("detail"), dict):
        return [_eventbridge(body)] if body.get("detail-type") == "Object Created" else []
    records = body.get("Records")
    if isinstance(records, list):
        return [_notification(r) for r in records if _created(r)]
    raise ValueError("not an S3 notification (S3, SNS or EventBridge), nor a resume message")


def _created(record: Any) -> bool:
    return (
        isinstance(record, dict)
        and record.get("eventSource") == "aws:s3"
        and str(record.get("eventName", "")).startswith("ObjectCreated:")
    )


def _notification(record: dict[str, Any]) -> ObjectRef:
    s3 = record.get("s3") or {}
    bucket, obj = s3.get("bucket") or {}, s3.get("object") or {}
    if not isinstance(bucket.get("name"), str) or not isinstance(obj.get("key"), str):
        raise ValueError("an S3 record without s3.bucket.name and s3.object.key")
    return ObjectRef(
        bucket=bucket["name"],
        key=unquote_plus(obj["key"]),  # S3 URL-encodes the key in notifications
        version_id=obj.get("versionId") or None,
        etag=obj.get("eTag") or None,
        size=obj.get("size") if isinstance(obj.get("size"), int) else None,
    )


def _eventbridge(body: dict[str, Any]) -> ObjectRef:
    detail = body["detail"]
    bucket, obj = detail.get("bucket") or {}, detail.get("object") or {}
    if not isinstance(bucket.get("name"), str) or not isinstance(obj.get("key"), str):
        raise ValueError("an EventBridge S3 event without detail.bucket.name and object.key")
    return ObjectRef(
        bucket=bucket["name"],
        key=obj["key"],
        version_id=obj.get("version-id") or None,
        etag=obj.get("etag") or None,
        size=obj.get("size") if isinstance(obj.get("size"), int) else None,
    )


def _resume(found: dict[str, Any]) -> ObjectRef:
    if not isinstance(found.get("bucket"), str) or not isinstance(found.get("key"), str):
        raise ValueError("a resume message without its bucket and key")
    line = found.get("line")
    return ObjectRef(
        bucket=found["bucket"],
        key=found["key"],
        version_id=found.get("version_id") or None,
        etag=found.get("etag") or None,
        start_line=line if isinstance(line, int) and line >= 0 else 0,
    )
