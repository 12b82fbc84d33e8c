"""Lambda `audit.handler.handler`: the weekly audit (and on demand), posting only what changed
since the last run (audit.digest).

Invoked by the EventBridge schedule in cloudformation/audit.yaml, or by hand
(`aws lambda invoke --function-name <stack>-audit`); the event's content is not used.
"""

from __future__ import annotations

from typing import Any

from audit.config import Baseline, DigestSettings
from audit.digest import build_digest
from opsbundle.lambda_entry import Invocation, lambda_entry

SERVICE = "audit"


@lambda_entry(service=SERVICE, failure_metric="AuditFailed", failure_message="audit failed")
def handler(invocation: Invocation) -> dict[str, Any]:
    digest = build_digest(Baseline.load(), DigestSettings.load(), metrics=invocation.metrics)
    return digest.run()
