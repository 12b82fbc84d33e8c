"""`opsbundle audit --fix`: what is safe to set from code, planned from the findings.

Two things only: the IAM password policy (raised to the baseline, every other setting kept)
and the alternate contacts that the parameters file (or AUDIT_*_CONTACT) declares. The plan
says each value before and after; nothing runs until the person (or --yes) agrees. Every
other finding keeps its fix as a command for a person to run.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from audit.config import Baseline
from audit.exceptions import AuditError
from audit.findings import Finding
from audit.rules import target_password_policy
from audit.snapshot import Contact, Snapshot

PASSWORD_CHECKS = frozenset({"password-policy-missing", "password-policy-weak"})
CONTACT_CHECKS = frozenset({"contact-missing", "contact-domain", "contact-differs"})


@dataclass(frozen=True)
class PasswordPolicyChange:
    current: Mapping[str, Any] | None
    target: Mapping[str, Any]

    def describe(self) -> list[str]:
        lines = ["IAM password policy" + (" (none today: created)" if self.current is None else "")]
        current = self.current or {}
        for key, value in self.target.items():
            before = current.get(key)
            if before is None or before != value:
                shown = "(not set)" if before is None else _shown(before)
                lines.append(f"    {key}: {shown} → {_shown(value)}")
        kept = [f"{k} {_shown(v)}" for k, v in self.target.items() if current.get(k) == v]
        if kept:
            lines.append(f"    kept: {', '.join(kept)}")
        return lines

    def apply(self, iam: Any, account: Any) -> None:
        iam.update_account_password_policy(**self.target)


@dataclass(frozen=True)
class ContactChange:
    kind: str
    current: Contact | None
    target: Contact

    def describe(self) -> list[str]:
        before = self.current.describe() if self.current else "(not set)"
        return [f"Alternate contact {self.kind}", f"    {before} → {self.target.describe()}"]

    def apply(self, iam: Any, account: Any) -> None:
        account.put_alternate_contact(
            AlternateContactType=self.kind,
            Name=self.target.name,
            Title=self.target.title,
            EmailAddress=self.target.email,
            PhoneNumber=self.target.phone,
        )


Change = PasswordPolicyChange | ContactChange


def _shown(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def plan(findings: Sequence[Finding], snapshot: Snapshot, baseline: Baseline) -> list[Change]:
    changes: list[Change] = []
    checks = {f.check for f in findings}
    if checks & PASSWORD_CHECKS:
        current = dict(snapshot.password_policy) if snapshot.password_policy else None
        changes.append(PasswordPolicyChange(current, target_password_policy(current, baseline)))
    for kind in sorted({f.resource.upper() for f in findings if f.check in CONTACT_CHECKS}):
        if target := baseline.contacts.get(kind):
            changes.append(ContactChange(kind, snapshot.contacts.get(kind), target))
    return changes


def left_to_people(findings: Sequence[Finding], changes: Sequence[Change]) -> list[Finding]:
    """The findings the plan does not fix: their fix is printed, never run."""
    fixed_contacts = {c.kind.lower() for c in changes if isinstance(c, ContactChange)}
    fixes_password = any(isinstance(c, PasswordPolicyChange) for c in changes)
    return [
        f
        for f in findings
        if not (f.check in PASSWORD_CHECKS and fixes_password)
        and not (f.check in CONTACT_CHECKS and f.resource in fixed_contacts)
    ]


def apply(changes: Sequence[Change], *, iam: Any, account: Any) -> None:
    for change in changes:
        try:
            change.apply(iam, account)
        except (ClientError, BotoCoreError) as error:
            done = changes.index(change)
            raise AuditError(
                f"{change.describe()[0]}: {error}; {done} of {len(changes)} changes were made "
                "before it"
            ) from None
