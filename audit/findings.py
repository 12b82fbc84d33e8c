"""What the audit reports: one `Finding` per thing wrong, from a fixed catalogue of checks.

Each check has an id (stable: the weekly audit compares findings by `check:resource`), a
severity and the reason it matters. A finding adds what exactly is wrong and the exact fix.
An `unverified` finding is one the audit could not decide (access denied, a detail AWS does
not expose): it says what it could not see and how to check by hand, instead of guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

HIGH, MEDIUM = "high", "medium"
SEVERITY_ORDER = {HIGH: 0, MEDIUM: 1}


@dataclass(frozen=True)
class Check:
    id: str
    severity: str
    title: str  # the rule, as docs/audit.md lists it
    why: str  # why it matters, the same for every finding of the check


_CHECKS = (
    Check(
        "root-mfa",
        HIGH,
        "Root user has MFA",
        "Root can do anything in the account, including closing it; a leaked password "
        "alone should not be enough to take it.",
    ),
    Check(
        "root-access-keys",
        HIGH,
        "Root user has no access keys",
        "A root access key is a permanent credential nothing can limit; CIS AWS "
        "Foundations 1.4 asks for none.",
    ),
    Check(
        "root-recently-used",
        HIGH,
        "Root user not used in the last 90 days",
        "Day-to-day work belongs to IAM users or roles that policies can limit; root "
        "activity is either a rare, known task or someone else.",
    ),
    Check(
        "root-usage-unknown",
        HIGH,
        "Root user's last use can be read",
        "Without it the audit cannot tell whether root is being used.",
    ),
    Check(
        "password-policy-missing",
        MEDIUM,
        "An IAM password policy is set",
        "Without one, IAM users may choose short passwords and reuse old ones.",
    ),
    Check(
        "password-policy-weak",
        MEDIUM,
        "Password policy meets CIS AWS Foundations",
        "CIS 1.8 and 1.9: at least 14 characters and no reuse of the last 24 passwords "
        "make guessed and leaked passwords far less useful.",
    ),
    Check(
        "contact-missing",
        MEDIUM,
        "Alternate contact is set",
        "AWS sends security notices, billing warnings and operational events to these "
        "contacts; unset, they reach only the root e-mail address.",
    ),
    Check(
        "contact-domain",
        MEDIUM,
        "Alternate contact is on an allowed domain",
        "A contact outside the company's domains (or a personal mailbox) is lost when "
        "that person leaves, and AWS's notices go with it.",
    ),
    Check(
        "contact-differs",
        MEDIUM,
        "Alternate contact matches the parameters file",
        "The contacts are declared in the parameters file; a change made by hand (often "
        "to a person's own address) drifts from what the team agreed.",
    ),
    Check(
        "trail-missing",
        HIGH,
        "A multi-region CloudTrail trail exists",
        "CloudTrail is the record of who did what; without a trail in every region an "
        "intrusion in an unused region leaves no trace (CIS 3.1).",
    ),
    Check(
        "trail-not-logging",
        HIGH,
        "The trail is logging",
        "A stopped trail records nothing; stopping it is a common first step of an attacker.",
    ),
    Check(
        "trail-validation-off",
        MEDIUM,
        "The trail validates its log files",
        "Digest files prove that log files were not changed or deleted after delivery (CIS 3.2).",
    ),
    Check(
        "trail-not-encrypted",
        MEDIUM,
        "The trail's log files are KMS-encrypted",
        "With a customer-managed key, reading the logs needs a key permission as well as "
        "the bucket's (CIS 3.7).",
    ),
    Check(
        "trail-delivery",
        HIGH,
        "The trail delivers to S3",
        "A trail that cannot write to its bucket records nothing, while looking enabled.",
    ),
    Check(
        "trail-status-unknown",
        MEDIUM,
        "The trail's status can be read",
        "Without it the audit cannot tell whether the trail is logging and delivering.",
    ),
    Check(
        "user-console-no-mfa",
        HIGH,
        "Console users have MFA",
        "A console password without MFA is one phishing e-mail away from the account (CIS 1.10).",
    ),
    Check(
        "user-key-old",
        MEDIUM,
        "Access keys are rotated within 90 days",
        "A static key is valid until deleted; the older it is, the more places it has "
        "been copied to (CIS 1.14).",
    ),
    Check(
        "user-key-unused",
        MEDIUM,
        "Access keys unused for 90 days are removed",
        "A key nobody uses is only a way in for whoever finds it (CIS 1.12).",
    ),
    Check(
        "user-direct-policy",
        MEDIUM,
        "Users get permissions through groups only",
        "Policies on a user are invisible when reviewing the groups and stay when the "
        "person changes role (CIS 1.15).",
    ),
    Check(
        "policy-admin",
        HIGH,
        "No policy allows *:* on *",
        "Full administrator rights in a policy we wrote bypass every other control (CIS 1.16).",
    ),
    Check(
        "policy-passrole-any",
        HIGH,
        "No policy allows iam:PassRole on every role",
        "Passing any role lets the holder hand an administrator role to a Lambda or an "
        "EC2 instance and act as it: a privilege escalation.",
    ),
    Check(
        "monitor-root-login",
        MEDIUM,
        "The root-login alarm is in place",
        "The bundle's alarm is how the team learns that root was used (CIS 4.3).",
    ),
    Check(
        "monitor-targets",
        MEDIUM,
        "The unhealthy-target inspector is in place",
        "Without it, a target health alarm arrives without the reason.",
    ),
    Check(
        "monitor-pipeline-failure",
        MEDIUM,
        "The pipeline-failure router is in place",
        "Without it, failed deploys reach nobody in Slack.",
    ),
    Check(
        "unreadable",
        MEDIUM,
        "Every part of the baseline can be read",
        "A part the audit cannot read is a part nobody is checking.",
    ),
)
CHECKS: dict[str, Check] = {check.id: check for check in _CHECKS}


@dataclass(frozen=True)
class Finding:
    check: str  # an id of CHECKS
    resource: str  # what it is about: "root", "account", a user, a trail, a contact type
    what: str  # what exactly is wrong, with the facts read
    fix: str  # the exact fix: console path and/or CLI command
    unverified: bool = False  # the audit could not decide; `what` says why

    def __post_init__(self) -> None:
        if self.check not in CHECKS:
            raise ValueError(f"unknown check {self.check!r}")

    @property
    def key(self) -> str:
        """Stable identity across runs: the weekly audit compares findings by it."""
        return f"{self.check}:{self.resource}"

    @property
    def severity(self) -> str:
        return CHECKS[self.check].severity

    @property
    def why(self) -> str:
        return CHECKS[self.check].why

    @property
    def title(self) -> str:
        return CHECKS[self.check].title

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "resource": self.resource,
            "severity": self.severity,
            "what": self.what,
            "why": self.why,
            "fix": self.fix,
            "unverified": self.unverified,
        }


def ordered(findings: list[Finding]) -> list[Finding]:
    """High first, then by check (catalogue order) and resource: the same order every run."""
    position = {check_id: i for i, check_id in enumerate(CHECKS)}
    return sorted(
        findings, key=lambda f: (SEVERITY_ORDER[f.severity], position[f.check], f.resource)
    )


@dataclass(frozen=True)
class AuditResult:
    account: str
    region: str
    taken_at: datetime
    findings: tuple[Finding, ...]

    @property
    def clean(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "region": self.region,
            "taken_at": self.taken_at.isoformat(),
            "findings": [f.to_json() for f in self.findings],
            "counts": {
                "total": len(self.findings),
                "high": sum(f.severity == HIGH for f in self.findings),
                "medium": sum(f.severity == MEDIUM for f in self.findings),
                "unverified": sum(f.unverified for f in self.findings),
            },
        }
