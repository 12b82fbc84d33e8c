"""What the audit read from the account: plain data, so the rules are pure functions of it.

A part the audit could not read is `None` here, and `unreadable` says why (the AWS error
code and the call), so the rules report it as unverified rather than guess.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from audit.credential_report import CredentialRow

CONTACT_TYPES = ("OPERATIONS", "BILLING", "SECURITY")
MONITORS = ("root-login", "targets", "pipeline-failure")


@dataclass(frozen=True)
class Contact:
    """One alternate contact as the Account API holds it (all four fields are required)."""

    name: str
    title: str
    email: str
    phone: str

    def describe(self) -> str:
        return f"{self.name} <{self.email}>, {self.phone}, {self.title}"


@dataclass(frozen=True)
class TrailStatus:
    is_logging: bool
    latest_delivery: datetime | None
    latest_delivery_error: str | None
    logging_started: datetime | None


@dataclass(frozen=True)
class Trail:
    name: str
    arn: str
    home_region: str
    multi_region: bool
    log_file_validation: bool
    kms_key_id: str | None
    s3_bucket: str | None
    organization: bool
    status: TrailStatus | None  # None: could not be read; status_error says why
    status_error: str | None = None


@dataclass(frozen=True)
class AttachedPolicies:
    """What is attached directly to one IAM user (names, for the finding)."""

    user: str
    inline: tuple[str, ...]
    managed: tuple[str, ...]  # policy names (ARNs in `managed_arns`)
    managed_arns: tuple[str, ...] = ()


@dataclass(frozen=True)
class PolicyDocument:
    """A policy in effect: inline on a user, group or role, or customer-managed and attached."""

    owner: str  # how a person finds it: "policy Admins", "role ci, inline policy deploy"
    document: Mapping[str, Any]
    detach: str  # the CLI command that removes it


@dataclass(frozen=True)
class MonitorState:
    monitor: str  # one of MONITORS
    kind: str  # "alarm" or "rule"
    name: str  # the alarm's or rule's name
    exists: bool
    enabled: bool  # rule ENABLED; alarm ActionsEnabled with at least one action


@dataclass(frozen=True)
class Snapshot:
    account: str
    partition: str
    region: str
    taken_at: datetime
    summary: Mapping[str, int] | None = None
    password_policy: Mapping[str, Any] | None = None
    password_policy_read: bool = False  # True when the policy was read (None = no policy)
    credentials: tuple[CredentialRow, ...] | None = None
    contacts: Mapping[str, Contact | None] = field(default_factory=dict)  # type -> None: unset
    trails: tuple[Trail, ...] | None = None
    user_policies: tuple[AttachedPolicies, ...] | None = None
    policies: tuple[PolicyDocument, ...] | None = None
    monitors: tuple[MonitorState, ...] | None = None  # None: not checked (not configured)
    unreadable: Mapping[str, str] = field(default_factory=dict)  # part -> "Call: Code"
