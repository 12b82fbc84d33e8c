"""Lambda `log_shipper.handler.handler`: CloudWatch Logs subscription events (directly or
through Kinesis, logs_trigger) and S3 log files named through SQS (s3_trigger) → OpenSearch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from log_shipper.assemble import WarmClients, build_shipper
from log_shipper.config import ShipperSettings
from log_shipper.logs_trigger import ship_logs
from log_shipper.s3_events import is_sqs
from log_shipper.s3_trigger import ship_s3
from opsbundle.lambda_entry import Invocation, lambda_entry

SERVICE = "log_shipper"
# One per warm container: its connections and template checks outlive an invocation.
WARM = WarmClients()


@lambda_entry(service=SERVICE, failure_metric="ShipFailed", failure_message="log shipping failed")
def handler(invocation: Invocation) -> dict[str, Any]:
    settings = ShipperSettings.load()
    remaining = time_left(invocation, settings)
    shipper = build_shipper(settings, metrics=invocation.metrics, warm=WARM, remaining=remaining)
    if is_sqs(invocation.event):  # S3 log files, named by notifications through SQS
        return ship_s3(
            invocation.event,
            settings=settings,
            shipper=shipper,
            s3_client=WARM.clients(settings)[1],
            remaining=remaining,
            request_id=invocation.request_id,
            metrics=invocation.metrics,
        )
    return ship_logs(invocation.event, shipper=shipper, request_id=invocation.request_id)


def time_left(invocation: Invocation, settings: ShipperSettings) -> Callable[[], float]:
    """Seconds left to work: the invocation's remaining time less the safety margin."""
    margin = settings.safety_margin_ms / 1000

    def remaining() -> float:
        left = invocation.remaining_seconds()
        return float("inf") if left is None else left - margin

    return remaining
