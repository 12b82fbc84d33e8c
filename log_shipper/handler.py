"""Lambda entry point: CloudWatch Logs subscription events, directly or through Kinesis.

Direct (async invoke): returns a summary; raises only when something could neither be
indexed nor written to the dead-letter bucket, so Lambda retries (safe: ids are stable).
Kinesis (event source mapping with ReportBatchItemFailures): returns
{"batchItemFailures": [{"itemIdentifier": <sequence number>}]} for exactly those records.
"""

from __future__ import annotations

from typing import Any

from log_shipper.assemble import build_shipper, warm_clients
from log_shipper.config import ShipperSettings
from log_shipper.events import decode_invocation
from log_shipper.exceptions import DeadLetterError
from log_shipper.memory import cyclic_gc_paused
from log_shipper.s3_events import is_sqs
from log_shipper.s3_source import S3Source
from log_shipper.ship import Shipper
from opsbundle import aws
from opsbundle.log import get_logger
from opsbundle.metrics import RunMetrics

SERVICE = "log_shipper"


def handler(event: Any, context: Any) -> dict[str, Any]:
    logger = get_logger()
    metrics = RunMetrics(service=SERVICE)
    try:
        settings = ShipperSettings.load()
        margin = settings.safety_margin_ms / 1000

        def remaining() -> float:
            return float(context.get_remaining_time_in_millis()) / 1000 - margin

        client, s3_client = warm_clients(settings)
        shipper = build_shipper(
            settings, metrics=metrics, remaining=remaining, client=client, s3_client=s3_client
        )
        request_id = getattr(context, "aws_request_id", "local")
        if is_sqs(event):  # S3 log files, named by notifications through SQS
            return ship_s3(
                event, settings=settings, shipper=shipper, s3_client=s3_client,
                remaining=remaining, request_id=request_id, metrics=metrics,
            )  # fmt: skip
        with cyclic_gc_paused():  # decoding makes as many objects as shipping: see memory.py
            invocation = decode_invocation(event)
            outcome = shipper.ship(invocation, request_id=request_id)
        summary = {"source": invocation.source, **outcome.to_json()}
        if outcome.ok:
            logger.info("logs shipped", extra=summary)
        else:
            logger.warning("logs shipped with dead letters", extra=summary)
        if invocation.source == "kinesis":
            if None in outcome.not_durable:
                raise DeadLetterError("records without a sequence number could not be made durable")
            summary["batchItemFailures"] = [{"itemIdentifier": i} for i in outcome.not_durable]
            return summary
        if outcome.not_durable:
            raise DeadLetterError(
                f"{sum(outcome.dead_lettered.values())} events could neither be indexed nor "
                "dead-lettered; Lambda will retry the invocation"
            )
        return summary
    except Exception:
        logger.exception("log shipping failed")
        metrics.count("ShipFailed")
        raise
    finally:
        metrics.publish()


def ship_s3(
    event: dict[str, Any],
    *,
    settings: ShipperSettings,
    shipper: Shipper,
    s3_client: Any,
    remaining: Any,
    request_id: str,
    metrics: RunMetrics,
) -> dict[str, Any]:
    """An SQS batch of S3 notifications: {"batchItemFailures": [...]} for the messages
    something of which could not be made durable."""
    source = S3Source(
        shipper=shipper, s3=s3_client, sqs=aws.client("sqs"), dead_letters=shipper.dead_letters,
        router=settings.router, remaining=remaining,
    )  # fmt: skip
    with cyclic_gc_paused():
        outcome = source.handle(event, request_id=request_id)
    for name, value in (("ObjectsRead", outcome.objects), ("LinesRead", outcome.lines),
                        ("FilesResumed", outcome.resumed),
                        ("ObjectsSkipped", outcome.skipped_objects)):  # fmt: skip
        metrics.count(name, value)
    summary = {"source": "s3", **outcome.to_json()}
    if outcome.failed_messages or outcome.shipped.dead_lettered:
        get_logger().warning("log files shipped with dead letters", extra=summary)
    else:
        get_logger().info("log files shipped", extra=summary)
    return summary
