"""Builds a Shipper from settings: the one place that creates clients for the log shipper."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from botocore.config import Config

from log_shipper import template
from log_shipper.bulk import BulkSender
from log_shipper.client import build_client
from log_shipper.config import ShipperSettings
from log_shipper.dead_letter import DeadLetters
from log_shipper.exceptions import OpenSearchError
from log_shipper.memory import keep_freed_memory
from log_shipper.ship import Shipper
from log_shipper.transform import Limits
from opsbundle import aws
from opsbundle import settings as names
from opsbundle.log import get_logger
from opsbundle.metrics import RunMetrics
from opsbundle.settings import Env


def build_shipper(
    settings: ShipperSettings,
    *,
    metrics: RunMetrics,
    remaining: Callable[[], float] = lambda: float("inf"),
    client: Any = None,
    s3_client: Any = None,
    sender_options: dict[str, Any] | None = None,
) -> Shipper:
    """`remaining`: seconds left to work (the Lambda's remaining time less the margin)."""
    keep_freed_memory()
    client = client or build_client(settings)
    if settings.install_template:
        try:
            ensure_template(client, settings)
        except OpenSearchError as error:
            if not error.retryable:
                raise  # a refusal (403, a bad template) is a setting to fix, not an outage
            # OpenSearch is down: ship anyway, so the events reach the dead letters now and
            # the template is tried again on the next invocation.
            metrics.count("TemplateInstallFailed")
            get_logger().warning("index template not installed", extra={"error": str(error)})

    def latency(ms: float) -> None:  # summed per run; BulkRequests gives the mean
        metrics.durations_ms["BulkLatency"] = metrics.durations_ms.get("BulkLatency", 0) + ms
        metrics.count("BulkRequests")

    sender = BulkSender(
        client=client,
        max_bytes=settings.batch_bytes,
        max_count=settings.batch_count,
        max_attempts=settings.max_attempts,
        remaining=remaining,
        request_timeout=settings.timeout_seconds,
        on_latency=latency,
        **(sender_options or {}),
    )
    assert settings.dlq_bucket  # ShipperSettings.load requires it
    return Shipper(
        router=settings.router,
        sender=sender,
        dead_letters=DeadLetters(
            bucket=settings.dlq_bucket,
            prefix=settings.dlq_prefix,
            kms_key_id=settings.dlq_kms_key_id,
            boto3_client=s3_client,
        ),
        metrics=metrics,
        region=os.environ.get("AWS_REGION") or settings.region or "us-east-1",
        limits=Limits(max_fields=settings.max_fields, max_depth=settings.max_depth),
    )


_installed: set[tuple[str, str]] = set()
# Dead letters are written near the deadline: short timeouts and few retries, so the write
# itself cannot run the Lambda out of time.
DEAD_LETTER_S3 = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=5
)
_clients: dict[ShipperSettings, tuple[Any, Any]] = {}


def warm_clients(settings: ShipperSettings) -> tuple[Any, Any]:
    """(OpenSearch client, S3 client), built on a cold start and kept while the Lambda is
    warm, so connections stay open between invocations (keep-alive)."""
    clients = _clients.get(settings)
    if clients is None:
        clients = (build_client(settings), aws.client("s3", config=DEAD_LETTER_S3))
        _clients.clear()
        _clients[settings] = clients
    return clients


def ensure_template(client: Any, settings: ShipperSettings, *, force: bool = False) -> bool:
    """Install the index template once per process (first use), or again when forced."""
    marker = (settings.opensearch_url, settings.template_name)
    if marker in _installed and not force:
        return False
    body = template.template_body(
        settings.router, data_stream=Env().boolean(names.LOG_SHIPPER_DATA_STREAM)
    )
    put = template.install(client, settings.template_name, body, force=force)
    _installed.add(marker)
    return put
