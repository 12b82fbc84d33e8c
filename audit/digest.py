"""The weekly digest: audit the account, compare with the last run, send what changed.

1. audits the account (read-only) against the baseline;
2. compares the findings with those kept from the last run (DynamoDB);
3. nothing new and nothing resolved: it stays quiet;
4. otherwise saves the new state first (conditional on the version it read, so two runs at
   once post once), then sends the new and resolved findings to Slack and the ops topic.
   If every destination fails, the old state is put back and DeliveryError is raised, so
   Lambda's retry sends it again.

Logs carry counts and check ids, never user names, addresses or finding text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from audit.collect import Clients, Collector
from audit.config import Baseline, DigestSettings
from audit.exceptions import StateConflict
from audit.render import change_alert
from audit.run import audit_account
from audit.state import FindingsState, diff, entries
from opsbundle.exceptions import DeliveryError
from opsbundle.log import get_logger
from opsbundle.metrics import RunMetrics
from opsbundle.notify import Notifier, slack_from_settings


@dataclass(frozen=True, kw_only=True)
class WeeklyDigest:
    baseline: Baseline
    collector: Collector
    state: FindingsState
    notifier: Callable[[], Notifier]  # built only when there is a change to send
    metrics: RunMetrics

    def run(self) -> dict[str, Any]:
        logger = get_logger()
        with self.metrics.timer("AuditRead"):
            audit = audit_account(self.collector, self.baseline)
        findings = audit.result.findings
        self.metrics.count("AuditFindings", len(findings))
        stored = self.state.load()
        changes = diff(stored, findings)
        summary = {
            "findings": len(findings),
            "new": len(changes.new),
            "resolved": len(changes.resolved),
            "checks": dict(Counter(f.check for f in findings)),
        }
        if not changes.any:
            logger.info("no change since the last audit: nothing sent", extra=summary)
            return {"action": "quiet", **summary}
        try:
            version = self.state.save(entries(findings), expected_version=stored.version)
        except StateConflict:
            logger.info("another run saved first: it reports the changes", extra=summary)
            return {"action": "superseded", **summary}
        try:
            delivery = self.notifier().send(change_alert(changes, audit.result))
        except DeliveryError:
            self.state.save(stored.findings, expected_version=version)  # the retry reports it
            raise
        self.metrics.count("AuditNewFindings", len(changes.new))
        self.metrics.count("AuditResolvedFindings", len(changes.resolved))
        logger.info("audit changes sent", extra={**summary, "sent": delivery.sent})
        return {"action": "reported", "sent": delivery.sent, **summary}


def build_digest(
    baseline: Baseline, settings: DigestSettings, *, metrics: RunMetrics
) -> WeeklyDigest:
    def notifier() -> Notifier:
        slack = slack_from_settings(
            secret_arn=settings.slack_secret_arn, base_url=settings.slack_base_url
        )
        return Notifier(
            topic_arn=settings.ops_topic_arn, slack=slack, channel=settings.slack_ops_channel
        )

    return WeeklyDigest(
        baseline=baseline,
        collector=Collector(clients=Clients.create()),
        state=FindingsState(table=settings.state_table),
        notifier=notifier,
        metrics=metrics,
    )
