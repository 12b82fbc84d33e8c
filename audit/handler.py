"""Lambda: the weekly audit (and on demand). Posts only what changed since the last run.

Handler `audit.handler.handler`, invoked by the EventBridge schedule in
cloudformation/audit.yaml, or by hand (`aws lambda invoke --function-name <stack>-audit`);
the event's content is not used. A run:

1. audits the account (read-only) against the baseline from the environment;
2. compares the findings with those kept from the last run (DynamoDB);
3. nothing new and nothing resolved: it stays quiet;
4. otherwise saves the new state first (conditional on the version it read, so two runs at
   once post once), then sends the new and resolved findings to Slack and the ops topic.
   If every destination fails, the old state is put back and the invocation fails, so
   Lambda's retry sends it again.

Logs carry counts and check ids, never user names, addresses or finding text.
"""

from __future__ import annotations

from collections import Counter
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

SERVICE = "audit"


def handler(event: Any, context: Any) -> dict[str, Any]:
    logger = get_logger()
    metrics = RunMetrics(service=SERVICE)
    try:
        baseline = Baseline.load()
        settings = DigestSettings.load()
        state = FindingsState(table=settings.state_table)
        with metrics.timer("AuditRead"):
            audit = audit_account(Collector(clients=Clients.create()), baseline)
        findings = audit.result.findings
        metrics.count("AuditFindings", len(findings))
        stored = state.load()
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
            version = state.save(entries(findings), expected_version=stored.version)
        except StateConflict:
            logger.info("another run saved first: it reports the changes", extra=summary)
            return {"action": "superseded", **summary}
        notifier = Notifier(
            topic_arn=settings.ops_topic_arn,
            slack=slack_from_settings(
                secret_arn=settings.slack_secret_arn, base_url=settings.slack_base_url
            ),
            channel=settings.slack_ops_channel,
        )
        try:
            delivery = notifier.send(change_alert(changes, audit.result))
        except DeliveryError:
            state.save(stored.findings, expected_version=version)  # the retry reports it again
            raise
        metrics.count("AuditNewFindings", len(changes.new))
        metrics.count("AuditResolvedFindings", len(changes.resolved))
        logger.info("audit changes sent", extra={**summary, "sent": delivery.sent})
        return {"action": "reported", "sent": delivery.sent, **summary}
    except Exception:
        metrics.count("AuditFailed")
        logger.exception("audit failed")
        raise
    finally:
        metrics.publish()
