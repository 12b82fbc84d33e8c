"""Settings (errors name the variable), the renderings (Slack escaped and within Block Kit's
limits), the --fix plan and the weekly diff."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from audit import fix, render
from audit.config import Baseline, DigestSettings, parse_contact
from audit.findings import AuditResult, Finding
from audit.snapshot import Contact
from audit.state import Stored, diff, entries
from opsbundle.exceptions import ConfigError
from opsbundle.settings import Env
from tests.emulators.slack import validate_blocks
from tests.unit.audit.fixtures import CLEAN

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
OPS = "Ops team | Operations | ops@example.com | +1 555 0100"


def env(**values: str) -> Env:
    return Env({"AUDIT_MONITORS": "none", **values})


def test_contacts_and_domains() -> None:
    baseline = Baseline.load(env(AUDIT_OPERATIONS_CONTACT=OPS))
    assert baseline.contact_domains == ("example.com",)  # from the declared contact
    assert baseline.contacts["OPERATIONS"] == Contact(
        "Ops team", "Operations", "ops@example.com", "+1 555 0100"
    )
    assert parse_contact(" a | b | c@d.io | (0) 1-2 ", setting="X").phone == "(0) 1-2"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "AUDIT_CONTACT_DOMAINS: is not set"),
        ({"AUDIT_CONTACT_DOMAINS": "example"}, "AUDIT_CONTACT_DOMAINS: 'example' is not a domain"),
        (
            {"AUDIT_SECURITY_CONTACT": "Sec | sec@example.com"},
            "AUDIT_SECURITY_CONTACT: must be 'Name | Title | e-mail | phone'",
        ),
        (
            {"AUDIT_SECURITY_CONTACT": "S | T | not-an-address | 1"},
            "AUDIT_SECURITY_CONTACT: the third field is not an e-mail address",
        ),
        (
            {"AUDIT_SECURITY_CONTACT": "S | T | s@example.com | call me"},
            "AUDIT_SECURITY_CONTACT: the phone number may hold",
        ),
        (
            {
                "AUDIT_CONTACT_DOMAINS": "corp.example",
                "AUDIT_BILLING_CONTACT": "B | T | b@gmail.com | 1",
            },
            "AUDIT_BILLING_CONTACT: its e-mail domain gmail.com is not on AUDIT_CONTACT_DOMAINS",
        ),
        (
            {"AUDIT_CONTACT_DOMAINS": "example.com", "AUDIT_MONITORS": "root-login"},
            "AUDIT_MONITORS_STACK: is not set",
        ),
        (
            {"AUDIT_CONTACT_DOMAINS": "example.com", "AUDIT_MONITORS": "pager"},
            "AUDIT_MONITORS: unknown monitor 'pager'",
        ),
        (
            {"AUDIT_CONTACT_DOMAINS": "example.com", "AUDIT_MAX_KEY_AGE_DAYS": "365"},
            "AUDIT_MAX_KEY_AGE_DAYS: must be between 1 and 90",
        ),
    ],
)
def test_a_bad_setting_names_itself(values: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        Baseline.load(env(**values))
    assert str(caught.value).startswith(message)
    assert "gmail.com is not" not in message or "b@gmail" not in str(caught.value)


def test_the_weekly_audit_needs_somewhere_to_send() -> None:
    with pytest.raises(ConfigError, match="OPS_TOPIC_ARN: is not set, nor SLACK_OPS_CHANNEL"):
        DigestSettings.load(Env({"AUDIT_STATE_TABLE": "t"}))
    with pytest.raises(ConfigError, match="SLACK_TOKEN_SECRET_ARN: is not set"):
        DigestSettings.load(Env({"AUDIT_STATE_TABLE": "t", "SLACK_OPS_CHANNEL": "ops"}))


HOSTILE = Finding(
    "user-console-no-mfa",
    "<!channel>&co",
    "IAM user <!channel>&co can sign in to the console and has no MFA device.",
    "aws iam delete-login-profile --user-name '<!channel>&co'",
)


def test_slack_text_from_the_account_is_escaped() -> None:
    payload = render.slack_payload(AuditResult("123456789012", "us-east-1", NOW, (HOSTILE,)))
    text = json.dumps(payload)
    assert "<!channel>" not in text
    assert "&lt;!channel&gt;&amp;co" in text
    assert validate_blocks(payload["blocks"]) == []


def test_many_findings_stay_within_block_kit_limits() -> None:
    many = tuple(replace(HOSTILE, resource=f"user{i}") for i in range(300))
    result = AuditResult("123456789012", "us-east-1", NOW, many)
    payload = render.slack_payload(result)
    assert validate_blocks(payload["blocks"]) == []
    assert "…and 260 more" in json.dumps(payload, ensure_ascii=False)
    changes = diff(
        Stored({"root-mfa:root": {"check": "root-mfa", "resource": "root", "severity": "high"}}, 3),
        many,
    )
    alert = render.change_alert(changes, result)
    assert validate_blocks(alert.blocks) == []
    assert alert.subject == "Account baseline: 300 new findings, 1 resolved in 123456789012"
    assert "root-mfa · root: Root user has MFA" in alert.sns_message


def test_text_when_clean_and_with_findings() -> None:
    clean = render.text(AuditResult("123456789012", "us-east-1", NOW, ()))
    assert clean == (
        "Account baseline audit of 123456789012 (us-east-1), 2026-06-01 12:00 UTC: no findings, "
        "the account meets the baseline.\n"
    )
    out = render.text(AuditResult("123456789012", "us-east-1", NOW, (HOSTILE,)))
    assert (
        "1  high         user-console-no-mfa  <!channel>&co" in out
    )  # a terminal needs no escaping
    assert "   Why:  A console password without MFA" in out


def test_weekly_diff_by_key() -> None:
    a = Finding("root-mfa", "root", "w", "f")
    b = Finding("user-console-no-mfa", "bob", "w", "f")
    stored = Stored(entries([a]), 1)
    changes = diff(stored, [replace(a, what="reworded"), b])
    assert [f.key for f in changes.new] == ["user-console-no-mfa:bob"]
    assert changes.resolved == () and changes.still_open == 2
    assert not diff(Stored(entries([a, b]), 2), [a, b]).any


def test_fix_plans_the_password_policy_and_declared_contacts_only() -> None:
    baseline = Baseline(
        contact_domains=("example.com",),
        contacts={"SECURITY": parse_contact(OPS.replace("ops@", "sec@"), setting="S")},
    )
    snapshot = replace(
        CLEAN,
        password_policy={"MinimumPasswordLength": 8, "RequireSymbols": True},
        contacts={"SECURITY": None, "BILLING": None},
    )
    findings = [
        Finding("password-policy-weak", "account", "w", "f"),
        Finding("contact-missing", "security", "w", "f"),
        Finding("contact-missing", "billing", "w", "f"),  # not declared: a person fixes it
        Finding("root-mfa", "root", "w", "f"),
    ]
    changes = fix.plan(findings, snapshot, baseline)
    assert [type(c).__name__ for c in changes] == ["PasswordPolicyChange", "ContactChange"]
    assert changes[0].target == {
        "RequireSymbols": True,
        "MinimumPasswordLength": 14,
        "PasswordReusePrevention": 24,
    }
    assert changes[0].describe() == [
        "IAM password policy",
        "    MinimumPasswordLength: 8 → 14",
        "    PasswordReusePrevention: (not set) → 24",
        "    kept: RequireSymbols true",
    ]
    assert [f.key for f in fix.left_to_people(findings, changes)] == [
        "contact-missing:billing",
        "root-mfa:root",
    ]
