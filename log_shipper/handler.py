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
        with cyclic_gc_paused():  # decoding makes as many objects as shipping: see memory.py
            invocation = decode_invocation(event)
            outcome = shipper.ship(
                invocation, request_id=getattr(context, "aws_request_id", "local")
            )
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
