"""AWS log files in S3, named by S3 notifications through SQS: read, ship, answer.

The answer is a summary with {"batchItemFailures": [...]}: the SQS messages something of
which could not be made durable, which SQS delivers again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from log_shipper.config import ShipperSettings
from log_shipper.memory import cyclic_gc_paused
from log_shipper.s3_source import S3Source
from log_shipper.ship import Shipper
from opsbundle import aws
from opsbundle.log import get_logger
from opsbundle.metrics import RunMetrics


def ship_s3(
    event: dict[str, Any],
    *,
    settings: ShipperSettings,
    shipper: Shipper,
    s3_client: Any,
    remaining: Callable[[], float],
    request_id: str,
    metrics: RunMetrics,
) -> dict[str, Any]:
    source = S3Source(
        shipper=shipper,
        s3=s3_client,
        sqs=aws.client("sqs"),
        dead_letters=shipper.dead_letters,
        router=settings.router,
        remaining=remaining,
    )
    with cyclic_gc_paused():
        outcome = source.handle(event, request_id=request_id)
    metrics.count("ObjectsRead", outcome.objects)
    metrics.count("LinesRead", outcome.lines)
    metrics.count("FilesResumed", outcome.resumed)
    metrics.count("ObjectsSkipped", outcome.skipped_objects)
    summary = {"source": "s3", **outcome.to_json()}
    if outcome.failed_messages or outcome.shipped.dead_lettered:
        get_logger().warning("log files shipped with dead letters", extra=summary)
    else:
        get_logger().info("log files shipped", extra=summary)
    return summary
