"""Builds a Shipper from settings: the one place that creates clients for the log shipper."""

from __future__ import annotations

import os
import time
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
from log_shipper.template import TemplateCheck
from log_shipper.template_guard import TemplateGuard
from log_shipper.transform import Limits
from opsbundle import aws
from opsbundle.log import get_logger
from opsbundle.metrics import RunMetrics


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
    guard = None
    if settings.install_template:
        try:
            checks = ensure_templates(client, settings)
        except OpenSearchError as error:
            # Down, overloaded, or refusing (403): ship anyway. The events reach OpenSearch or
            # the dead letters now; the template is tried again on the next cold start.
            metrics.count("TemplateInstallFailed")
            get_logger().warning("index template not installed", extra={"error": str(error)})
        else:
            clashes = [check for check in checks if check.clash]
            if clashes:
                metrics.count("TemplateClash", len(clashes))
                for check in clashes:
                    get_logger().error(
                        "index template clash",
                        extra={"template": check.name, "family": check.family.pattern,
                               "detail": check.clash},
                    )  # fmt: skip
                guard = TemplateGuard(client=client, clashes=clashes)

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
        guard=guard,
    )


# Template checks per (URL, template), with when they were made: a warm Lambda keeps a good
# answer, and asks again after CLASH_RECHECK_S when the answer was a clash (it may be fixed).
_templates: dict[tuple[str, str], tuple[float, TemplateCheck]] = {}
CLASH_RECHECK_S = 300.0
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


def ensure_templates(
    client: Any, settings: ShipperSettings, *, force: bool = False
) -> list[TemplateCheck]:
    """Install and check each family's template once per process (first use), again when
    forced, and again after a while when the last answer was a clash."""
    families = settings.router.families()
    checks: list[TemplateCheck] = []
    for family in families:
        name = template.template_name(settings.layout, family, families[0])
        marker = (settings.opensearch_url, name)
        cached = _templates.get(marker)
        fresh = cached is not None and (
            cached[1].clash is None or time.monotonic() - cached[0] < CLASH_RECHECK_S
        )
        if cached is not None and fresh and not force:
            checks.append(cached[1])
            continue
        check = template.install(client, name, family, settings.layout, force=force)
        _templates[marker] = (time.monotonic(), check)
        checks.append(check)
    return checks
