"""One audit: read the account, apply the rules. Shared by the CLI and the weekly Lambda."""

from __future__ import annotations

from dataclasses import dataclass

from audit import rules
from audit.collect import Collector
from audit.config import Baseline
from audit.findings import AuditResult
from audit.snapshot import Snapshot


@dataclass(frozen=True)
class Audit:
    result: AuditResult
    snapshot: Snapshot


def audit_account(collector: Collector, baseline: Baseline) -> Audit:
    """The collector's clock is the audit's "now": ages are counted from when it read."""
    snapshot = collector.snapshot(baseline)
    findings = rules.evaluate(snapshot, baseline, now=snapshot.taken_at)
    result = AuditResult(
        account=snapshot.account,
        region=snapshot.region,
        taken_at=snapshot.taken_at,
        findings=tuple(findings),
    )
    return Audit(result=result, snapshot=snapshot)
