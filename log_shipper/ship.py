"""One delivery run: decoded units → documents → bulk → dead letters → an outcome.

Everything it talks to is handed in (the bulk sender, the dead-letter store, the clock), so
the handler, the CLI's ship/replay/backfill and the tests share this one path.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from log_shipper.bulk import BulkSender, Failure
from log_shipper.dead_letter import DeadLetters, event_record, payload_record
from log_shipper.events import Invocation, LogBatch
from log_shipper.exceptions import DeadLetterError
from log_shipper.file_transform import transform_file_batch
from log_shipper.memory import cyclic_gc_paused
from log_shipper.refusals import TEMPLATE_CLASH
from log_shipper.routing import Router
from log_shipper.transform import Document, Limits, Pending, TransformStats, transform_batch
from opsbundle.log import get_logger
from opsbundle.metrics import RunMetrics


@dataclass
class ShipOutcome:
    events_in: int = 0
    indexed: int = 0
    duplicates: int = 0
    filtered: int = 0
    expired: int = 0
    merged: int = 0  # lines joined to an earlier line's document (a multiline route)
    retried: int = 0
    as_text: int = 0
    control_messages: int = 0
    malformed: int = 0
    redacted: Counter[str] = field(default_factory=Counter)
    dead_lettered: Counter[str] = field(default_factory=Counter)
    dead_letter_keys: list[str] = field(default_factory=list)
    not_durable: list[str | None] = field(default_factory=list)  # item ids (Kinesis)
    bytes_sent: int = 0

    @property
    def ok(self) -> bool:
        return not self.dead_lettered and not self.not_durable

    def add(self, other: ShipOutcome) -> None:
        """Another run's counts added to these (a backfill's pages, a file's chunks)."""
        for name in (
            "events_in",
            "indexed",
            "duplicates",
            "filtered",
            "expired",
            "merged",
            "retried",
            "as_text",
            "control_messages",
            "malformed",
            "bytes_sent",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.redacted.update(other.redacted)
        self.dead_lettered.update(other.dead_lettered)
        self.dead_letter_keys += other.dead_letter_keys
        self.not_durable += other.not_durable

    def to_json(self) -> dict[str, Any]:
        return {
            "events_in": self.events_in,
            "indexed": self.indexed,
            "duplicates": self.duplicates,
            "filtered": self.filtered,
            "expired": self.expired,
            "merged": self.merged,
            "retried": self.retried,
            "as_text": self.as_text,
            "control_messages": self.control_messages,
            "malformed": self.malformed,
            "redacted": dict(self.redacted),
            "dead_lettered": dict(self.dead_lettered),
            "dead_letter_keys": self.dead_letter_keys,
            "bytes_sent": self.bytes_sent,
        }


def transform_all(
    batches: Iterable[LogBatch],
    *,
    router: Router,
    region: str,
    ingested: datetime,
    limits: Limits,
    stats: TransformStats,
    outcome: ShipOutcome,
) -> Iterator[Pending]:
    """The documents of every batch as its route makes them, in order (`_bulk` lines in each
    Pending's first field); events counted in `outcome` as they are read."""
    for batch in batches:
        outcome.events_in += len(batch.events)
        route = router.route(batch.log_group)
        if batch.source:  # a chunk of a log file from S3
            yield from transform_file_batch(
                batch, route, region=region, ingested=ingested, stats=stats
            )
            continue
        yield from transform_batch(
            batch, route, region=region, ingested=ingested, limits=limits, stats=stats
        )


def preview(
    invocation: Invocation, *, router: Router, region: str, ingested: datetime, limits: Limits
) -> tuple[list[str], ShipOutcome]:
    """What `ship` would send, without sending it: the `_bulk` body's lines (a create action
    and a document each) and the counts; malformed payloads are counted, not written."""
    outcome, stats = ShipOutcome(), TransformStats()
    batches = []
    for unit in invocation.units:
        if unit.control:
            outcome.control_messages += 1
        elif unit.malformed:
            outcome.malformed += 1
        elif unit.batch:
            batches.append(unit.batch)
    lines = [
        pending[0]
        for pending in transform_all(
            batches,
            router=router,
            region=region,
            ingested=ingested,
            limits=limits,
            stats=stats,
            outcome=outcome,
        )
    ]
    outcome.filtered, outcome.expired, outcome.merged = stats.filtered, stats.expired, stats.merged
    outcome.redacted.update(stats.redacted)
    return lines, outcome


class Screen(Protocol):
    """Holds back documents that must not be sent yet (template_guard.TemplateGuard)."""

    def screen(
        self, documents: Iterable[Pending], refused: list[tuple[Document, str]]
    ) -> Iterator[Pending]: ...


@dataclass
class Shipper:
    router: Router
    sender: BulkSender
    dead_letters: DeadLetters
    metrics: RunMetrics
    region: str = "us-east-1"
    limits: Limits = field(default_factory=Limits)
    now: Callable[[], datetime] = lambda: datetime.now(UTC)
    guard: Screen | None = None  # set when a family's template clashes

    def ship(self, invocation: Invocation, *, request_id: str) -> ShipOutcome:
        outcome = ShipOutcome()
        at = self.now()
        records: list[tuple[dict[str, Any], str | None]] = []  # (dead letter, item id)
        batches: list[tuple[LogBatch, str | None]] = []
        for unit in invocation.units:
            if unit.control:
                outcome.control_messages += 1
            elif unit.malformed:
                outcome.malformed += 1
                records.append((payload_record(unit.malformed, unit.item_id, at), unit.item_id))
                get_logger().warning(
                    "malformed payload",
                    extra={"reason": unit.malformed.reason, "item_id": unit.item_id},
                )
            elif unit.batch:
                batches.append((unit.batch, unit.item_id))
        item_of = {id(batch): item for batch, item in batches}
        newest = max(
            (e.timestamp for b, _ in batches if b.source is None for e in b.events), default=None
        )
        if newest is not None:  # how far behind the logs this run is (the dashboard's lag)
            self.metrics.count("IngestLagSeconds", max(0.0, at.timestamp() - newest / 1000))
        failures = self.deliver([b for b, _ in batches], outcome, at)
        records.extend((event_record(f, at), item_of.get(id(f.document.batch))) for f in failures)
        for failure in failures:
            outcome.dead_lettered[failure.reason] += 1
        outcome.dead_lettered["malformed_payload"] += outcome.malformed
        outcome.dead_lettered = +outcome.dead_lettered  # drop zero counts
        if records:
            try:
                key = self.dead_letters.put([r for r, _ in records], request_id=request_id, at=at)
                outcome.dead_letter_keys.append(key)
            except DeadLetterError as error:
                get_logger().error("dead letters not written", extra={"error": str(error)})
                outcome.not_durable = sorted({item for _, item in records}, key=str)
                self.metrics.count("DeadLetterWriteFailed", len(records))
        self._count(outcome)
        return outcome

    def deliver(self, batches: list[LogBatch], outcome: ShipOutcome, at: datetime) -> list[Failure]:
        stats = TransformStats()
        documents = transform_all(
            batches,
            router=self.router,
            region=self.region,
            ingested=at,
            limits=self.limits,
            stats=stats,
            outcome=outcome,
        )

        refused: list[tuple[Document, str]] = []
        sending = self.guard.screen(documents, refused) if self.guard else documents
        with self.metrics.timer("Ship"), cyclic_gc_paused():
            result = self.sender.send(sending)
        result.failures.extend(
            Failure(document, TEMPLATE_CLASH, None, detail) for document, detail in refused
        )
        outcome.indexed += result.indexed
        outcome.duplicates += result.duplicates
        outcome.retried += result.retried
        outcome.as_text += result.as_text
        outcome.bytes_sent += result.bytes_sent
        outcome.filtered += stats.filtered
        outcome.expired += stats.expired
        outcome.merged += stats.merged
        outcome.redacted.update(stats.redacted)
        return result.failures

    def _count(self, outcome: ShipOutcome) -> None:
        count = self.metrics.count
        count("EventsIn", outcome.events_in)
        count("EventsIndexed", outcome.indexed)
        count("EventsDuplicate", outcome.duplicates)
        count("EventsFiltered", outcome.filtered)
        count("EventsExpired", outcome.expired)
        count("EventsMerged", outcome.merged)
        count("EventsRetried", outcome.retried)
        count("EventsAsText", outcome.as_text)
        count("ControlMessages", outcome.control_messages)
        count("MalformedPayloads", outcome.malformed)
        count("BytesSent", outcome.bytes_sent)
        count("EventsRedacted", sum(outcome.redacted.values()))
        count("EventsDeadLettered", sum(outcome.dead_lettered.values()))
        for reason, n in outcome.dead_lettered.items():
            count(f"DeadLettered_{reason}", n)
