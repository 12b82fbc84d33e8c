"""CloudWatch Logs subscription events, directly or through Kinesis: decode, ship, answer.

Direct (async invoke): the answer is a summary; it raises only when something could neither
be indexed nor written to the dead-letter bucket, so Lambda retries (safe: ids are stable).
Kinesis (event source mapping with ReportBatchItemFailures): the answer adds
{"batchItemFailures": [{"itemIdentifier": <sequence number>}]} for exactly those records.
"""

from __future__ import annotations

from typing import Any

from log_shipper.events import decode_invocation
from log_shipper.exceptions import DeadLetterError
from log_shipper.memory import cyclic_gc_paused
from log_shipper.ship import ShipOutcome, Shipper
from opsbundle.log import get_logger


def ship_logs(event: Any, *, shipper: Shipper, request_id: str) -> dict[str, Any]:
    with cyclic_gc_paused():  # decoding makes as many objects as shipping: see memory.py
        invocation = decode_invocation(event)
        outcome = shipper.ship(invocation, request_id=request_id)
    summary = {"source": invocation.source, **outcome.to_json()}
    if outcome.ok:
        get_logger().info("logs shipped", extra=summary)
    else:
        get_logger().warning("logs shipped with dead letters", extra=summary)
    if invocation.source == "kinesis":
        return {**summary, "batchItemFailures": batch_item_failures(outcome)}
    if outcome.not_durable:
        raise DeadLetterError(
            f"{sum(outcome.dead_lettered.values())} events could neither be indexed nor "
            "dead-lettered; Lambda will retry the invocation"
        )
    return summary


def batch_item_failures(outcome: ShipOutcome) -> list[dict[str, str]]:
    """The Kinesis records Lambda must deliver again: those not made durable. A record
    without a sequence number cannot be named, so the whole batch fails instead."""
    if None in outcome.not_durable:
        raise DeadLetterError("records without a sequence number could not be made durable")
    return [{"itemIdentifier": str(item)} for item in outcome.not_durable]
