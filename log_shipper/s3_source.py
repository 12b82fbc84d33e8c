"""The S3 source: SQS messages naming log files → their lines → the same delivery path as
CloudWatch events (bulk, retries, dead letters, replay).

For each message of the SQS batch, each object it names is streamed in chunks of
`chunk_lines` lines (or one CloudTrail file's records), each chunk shipped as one unit. The
answer to Lambda is `{"batchItemFailures": [...]}` with exactly the messages something of
which could not be made durable (SQS then delivers them again; ids make that safe).

- A file too long for the time left is carried on: before a chunk, if less than
  `resume_margin_s` is left, a resume message (the object and the lines done) goes to the same
  queue, and this message is done. The next invocation skips the lines already shipped.
- An object that can't be read (missing, access denied, not gzip, damaged, too large) goes to
  the dead letters as an `object` record with the reason; the rest of the batch goes on.
- A malformed message goes to the dead letters as it arrived.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from log_shipper import s3_objects
from log_shipper.dead_letter import DeadLetters
from log_shipper.events import Invocation, LogBatch, LogEvent, Unit
from log_shipper.exceptions import DeadLetterError
from log_shipper.formats.detect import detect
from log_shipper.routing import Router
from log_shipper.s3_events import Message, ObjectRef, decode_messages, queue_arn
from log_shipper.s3_objects import ObjectError
from log_shipper.ship import ShipOutcome, Shipper
from opsbundle.log import get_logger

CHUNK_LINES = 5000
RESUME_MARGIN_S = 30.0


@dataclass
class S3Outcome:
    messages: int = 0
    objects: int = 0
    lines: int = 0
    resumed: int = 0  # files carried on to another invocation
    skipped_objects: int = 0  # not a log we read (a digest file, an unknown layout)
    shipped: ShipOutcome = field(default_factory=ShipOutcome)
    failed_messages: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "messages": self.messages,
            "objects": self.objects,
            "lines": self.lines,
            "resumed": self.resumed,
            "skipped_objects": self.skipped_objects,
            **self.shipped.to_json(),
            "batchItemFailures": [{"itemIdentifier": m} for m in self.failed_messages],
        }


@dataclass
class S3Source:
    shipper: Shipper
    s3: Any
    sqs: Any
    dead_letters: DeadLetters
    router: Router
    remaining: Callable[[], float] = lambda: float("inf")
    chunk_lines: int = CHUNK_LINES
    resume_margin_s: float = RESUME_MARGIN_S
    now: Callable[[], datetime] = lambda: datetime.now(UTC)

    def handle(self, event: dict[str, Any], *, request_id: str) -> S3Outcome:
        outcome = S3Outcome()
        queue = queue_arn(event)
        for number, message in enumerate(decode_messages(event)):
            outcome.messages += 1
            durable = self._message(message, queue, f"{request_id}-{number}", outcome)
            if not durable:
                outcome.failed_messages.append(message.message_id or "")
        return outcome

    def _message(
        self, message: Message, queue: str | None, request_id: str, outcome: S3Outcome
    ) -> bool:
        """Whether everything the message asked for is indexed or dead-lettered."""
        if message.malformed:
            return self._dead_letter(
                [
                    {
                        "kind": "payload",
                        "reason": "malformed_message",
                        "detail": message.malformed,
                        "item_id": message.message_id,
                        "data": message.body,
                    }
                ],
                request_id,
            )
        for ref in message.objects:
            outcome.objects += 1
            done = self.ship_object(ref, request_id=request_id, outcome=outcome, queue=queue)
            if not done:
                return False
        return True

    def ship_object(
        self, ref: ObjectRef, *, request_id: str, outcome: S3Outcome, queue: str | None = None
    ) -> bool:
        """Ship one file from its start line; False when some of it could not be made
        durable (or carried on)."""
        detected = detect(ref.key)
        route_format = self.router.route(ref.url).format
        source = route_format or detected.format
        if source is None:
            outcome.skipped_objects += 1
            get_logger().info("not a log file the shipper reads", extra={"object": ref.url})
            return True
        owner = detected.account or "000000000000"
        try:
            for done_lines, batch in self._chunks(ref, source, owner, detected.region):
                if self.remaining() < self.resume_margin_s and queue:
                    return self._resume(ref, done_lines, queue, outcome)
                shipped = self.shipper.ship(
                    Invocation("s3", [Unit(None, batch=batch)]), request_id=request_id
                )
                outcome.shipped.add(shipped)
                outcome.lines += len(batch.events)
                if shipped.not_durable:
                    return False
        except ObjectError as error:
            get_logger().warning(
                "log file not read", extra={"object": ref.url, "reason": error.reason}
            )
            return self._dead_letter([_object_record(ref, error, self.now())], request_id)
        return True

    def _chunks(
        self, ref: ObjectRef, source: str, owner: str, region: str | None
    ) -> Iterator[tuple[int, LogBatch]]:
        """(lines shipped before this chunk, the chunk), in file order."""
        stream = s3_objects.open_object(self.s3, ref)
        try:
            header: tuple[str, ...] = ()
            if source == "cloudtrail":
                records = s3_objects.cloudtrail_records(stream)
                items: Iterable[s3_objects.Line] = (
                    s3_objects.Line(n, s3_objects.record_text(r))
                    for n, r in enumerate(records, start=1)
                    if n > ref.start_line
                )
            elif source in ("cloudfront", "vpcflow"):
                header, items = s3_objects.headed_lines(stream, source, start=ref.start_line)
            else:
                items = s3_objects.lines(stream, start=ref.start_line)
            done = ref.start_line
            iterator = iter(items)
            while chunk := list(itertools.islice(iterator, self.chunk_lines)):
                events = [LogEvent(str(line.number), 0, line.text) for line in chunk if line.text]
                if events:
                    yield (
                        done,
                        LogBatch(
                            owner=owner,
                            log_group=ref.url,
                            log_stream=ref.revision,
                            events=events,
                            subscription_filters=("s3",),
                            region=region,
                            source=source,
                            header=header,
                            cut=frozenset(str(line.number) for line in chunk if line.cut),
                        ),
                    )
                done = chunk[-1].number
        finally:
            stream.close()

    def _resume(self, ref: ObjectRef, done: int, queue: str, outcome: S3Outcome) -> bool:
        """Carry the rest of the file on to another invocation, through the same queue."""
        try:
            url = _queue_url(self.sqs, queue)
            self.sqs.send_message(QueueUrl=url, MessageBody=ref.resume_body(done))
        except (BotoCoreError, ClientError) as error:
            get_logger().error(
                "could not carry a long file on", extra={"object": ref.url, "error": str(error)}
            )
            return False  # SQS delivers the message again; the ids make the lines done so far
        outcome.resumed += 1
        get_logger().info("long file carried on", extra={"object": ref.url, "after_line": done})
        return True

    def _dead_letter(self, records: list[dict[str, Any]], request_id: str) -> bool:
        try:
            self.dead_letters.put(records, request_id=request_id, at=self.now())
        except DeadLetterError as error:
            get_logger().error("dead letters not written", extra={"error": str(error)})
            return False
        return True


def _object_record(ref: ObjectRef, error: ObjectError, at: datetime) -> dict[str, Any]:
    return {
        "kind": "object",
        "reason": error.reason,
        "detail": error.detail,
        "failed_at": at.isoformat(),
        "bucket": ref.bucket,
        "key": ref.key,
        "version_id": ref.version_id,
        "etag": ref.etag,
        "start_line": ref.start_line,
    }


def object_ref(record: dict[str, Any]) -> ObjectRef | None:
    """The object a dead-letter `object` record names (for the replay), if it reads."""
    bucket, key = record.get("bucket"), record.get("key")
    if not isinstance(bucket, str) or not isinstance(key, str):
        return None
    version, etag, start = record.get("version_id"), record.get("etag"), record.get("start_line")
    return ObjectRef(
        bucket=bucket,
        key=key,
        version_id=version if isinstance(version, str) else None,
        etag=etag if isinstance(etag, str) else None,
        start_line=start if isinstance(start, int) and start >= 0 else 0,
    )


def _queue_url(sqs: Any, arn: str) -> str:
    """arn:aws:sqs:<region>:<account>:<name> → its URL (GetQueueUrl names the owner)."""
    _, _, _, _, account, name = arn.split(":", 5)
    return str(sqs.get_queue_url(QueueName=name, QueueOwnerAWSAccountId=account)["QueueUrl"])
