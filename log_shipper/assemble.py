"""Builds a Shipper from settings: the one place that creates clients for the log shipper.

A warm Lambda keeps its clients (open connections) and its template checks from one
invocation to the next: the entry point holds one `WarmClients` for its container and hands
it in; the CLI makes one per command.
"""

from __future__ import annotations

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

# A template check that found a clash is made again after this long (it may be fixed).
CLASH_RECHECK_S = 300.0
# Dead letters are written near the deadline: short timeouts and few retries, so the write
# itself cannot run the Lambda out of time.
DEAD_LETTER_S3 = Config(
    retries={"mode": "standard", "max_attempts": 3}, connect_timeout=3, read_timeout=5
)
DEFAULT_REGION = "us-east-1"


class WarmClients:
    """The OpenSearch and S3 clients and the template checks, kept while the Lambda is warm.

    The clients are built on first use and again only when the settings change; clients
    handed in (tests, a fault proxy) are used for any settings. Template checks are kept per
    (URL, template): a good answer for the container's life, a clash for CLASH_RECHECK_S.
    """

    def __init__(
        self,
        *,
        opensearch_client: Any = None,
        s3_client: Any = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._given = (opensearch_client, s3_client)
        self._clock = clock
        self._clients: tuple[ShipperSettings, Any, Any] | None = None
        self.templates: dict[tuple[str, str], tuple[float, TemplateCheck]] = {}

    def clients(self, settings: ShipperSettings) -> tuple[Any, Any]:
        """(OpenSearch client, S3 client for the dead letters) for `settings`."""
        if self._clients is None or self._clients[0] != settings:
            opensearch, s3 = self._given
            self._clients = (
                settings,
                opensearch or build_client(settings),
                s3 or aws.client("s3", config=DEAD_LETTER_S3),
            )
        return self._clients[1], self._clients[2]

    def ensure_templates(
        self, client: Any, settings: ShipperSettings, *, force: bool = False
    ) -> list[TemplateCheck]:
        """Install and check each family's template on first use, again when forced, and
        again after a while when the last answer was a clash."""
        families = settings.router.families()
        checks: list[TemplateCheck] = []
        for family in families:
            name = template.template_name(settings.layout, family, families[0])
            marker = (settings.opensearch_url, name)
            cached = self.templates.get(marker)
            fresh = cached is not None and (
                cached[1].clash is None or self._clock() - cached[0] < CLASH_RECHECK_S
            )
            if cached is not None and fresh and not force:
                checks.append(cached[1])
                continue
            check = template.install(client, name, family, settings.layout, force=force)
            self.templates[marker] = (self._clock(), check)
            checks.append(check)
        return checks


def build_shipper(
    settings: ShipperSettings,
    *,
    metrics: RunMetrics,
    warm: WarmClients,
    remaining: Callable[[], float] = lambda: float("inf"),
    sender_options: dict[str, Any] | None = None,
) -> Shipper:
    """`remaining`: seconds left to work (the Lambda's remaining time less the margin)."""
    keep_freed_memory()
    client, s3_client = warm.clients(settings)
    guard = None
    if settings.install_template:
        try:
            checks = warm.ensure_templates(client, settings)
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
                        extra={
                            "template": check.name,
                            "family": check.family.pattern,
                            "detail": check.clash,
                        },
                    )
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
        region=settings.aws_region or settings.region or DEFAULT_REGION,
        limits=Limits(max_fields=settings.max_fields, max_depth=settings.max_depth),
        guard=guard,
    )
