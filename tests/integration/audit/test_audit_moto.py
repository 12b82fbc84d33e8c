"""The audit against moto: an account that meets the baseline gives no finding, and breaking
each rule gives exactly that rule's finding, alone or all at once. It reads only."""

from __future__ import annotations

import json
from collections.abc import Callable

import boto3
import pytest

from audit.config import Baseline
from tests.integration.audit.conftest import (
    ACCOUNT,
    MONITORS_STACK,
    REGION,
    Account,
)
from tests.integration.audit.fixtures import (
    admin_policy_on_a_group,
    aws_managed_admin_on_a_role,
    aws_managed_iam_full_access_on_a_group,
    console_user_without_mfa,
    key_unused_for_long,
    never_used_key,
    no_password_policy,
    no_trail,
    old_key,
    operations_contact_personal,
    pass_any_role,
    pipeline_rule_gone,
    root_alarm_gone,
    root_alarm_muted,
    root_row_missing,
    root_used_recently,
    root_with_key,
    root_without_mfa,
    security_contact_missing,
    single_region_trail,
    targets_rule_disabled,
    trail_stopped,
    trail_unencrypted,
    trail_unvalidated,
    unattached_admin_policy_is_not_in_effect,
    user_attached_policy,
    user_inline_policy,
    weak_password_policy,
)
from tests.moto_iam import enforcing_iam


def test_an_account_that_meets_the_baseline_has_no_findings(account: Account) -> None:
    audit = account.audit()
    assert audit.result.findings == ()
    assert audit.result.account == ACCOUNT
    assert audit.snapshot.unreadable == {}


# --- one rule broken at a time --------------------------------------------------------------


ALARM = f"{MONITORS_STACK}-root-account-usage"
BREAKS: list[tuple[Callable[[Account], None], set[tuple[str, str]]]] = [
    (root_without_mfa, {("root-mfa", "root")}),
    (root_with_key, {("root-access-keys", "root")}),
    (root_used_recently, {("root-recently-used", "root")}),
    (root_row_missing, {("root-usage-unknown", "root")}),
    (no_password_policy, {("password-policy-missing", "account")}),
    (weak_password_policy, {("password-policy-weak", "account")}),
    (security_contact_missing, {("contact-missing", "security")}),
    (operations_contact_personal, {("contact-differs", "operations")}),
    (no_trail, {("trail-missing", "account")}),
    (single_region_trail, {("trail-missing", "account")}),
    (trail_stopped, {("trail-not-logging", "main")}),
    (trail_unvalidated, {("trail-validation-off", "main")}),
    (trail_unencrypted, {("trail-not-encrypted", "main")}),
    (console_user_without_mfa, {("user-console-no-mfa", "bob")}),
    (old_key, {("user-key-old", "deploy-bot (key 1)")}),
    (never_used_key, {("user-key-unused", "deploy-bot (key 1)")}),
    (key_unused_for_long, {("user-key-unused", "deploy-bot (key 1)")}),
    (user_inline_policy, {("user-direct-policy", "alice")}),
    (user_attached_policy, {("user-direct-policy", "alice")}),
    (admin_policy_on_a_group, {("policy-admin", "policy AdminAll")}),
    (unattached_admin_policy_is_not_in_effect, set()),
    (
        aws_managed_admin_on_a_role,
        {("policy-admin", "AWS managed policy AdministratorAccess (on role ci)")},
    ),
    (
        aws_managed_iam_full_access_on_a_group,
        {("policy-passrole-any", "AWS managed policy IAMFullAccess (on group developers)")},
    ),
    (pass_any_role, {("policy-passrole-any", "role ci, inline policy deploy")}),
    (root_alarm_gone, {("monitor-root-login", ALARM)}),
    (root_alarm_muted, {("monitor-root-login", ALARM)}),
    (targets_rule_disabled, {("monitor-targets", f"{MONITORS_STACK}-targets")}),
    (pipeline_rule_gone, {("monitor-pipeline-failure", f"{MONITORS_STACK}-pipeline-failure")}),
]


@pytest.mark.parametrize(("breaks", "expected"), BREAKS, ids=[b.__name__ for b, _ in BREAKS])
def test_breaking_one_rule_gives_exactly_its_finding(
    account: Account, breaks: Callable[[Account], None], expected: set[tuple[str, str]]
) -> None:
    breaks(account)
    assert account.found() == expected


def test_a_contact_on_a_personal_domain_without_declared_contacts(account: Account) -> None:
    """Without contacts in the parameters file, only the domain can be checked."""
    account.client("account").put_alternate_contact(
        AlternateContactType="BILLING",
        Name="Jo",
        Title="Billing",
        EmailAddress="jo@gmail.com",
        PhoneNumber="+1 555 0199",
    )
    domains_only = Baseline(contact_domains=("example.com",), monitors_stack=MONITORS_STACK)
    [finding] = account.audit(domains_only).result.findings
    assert (finding.check, finding.resource) == ("contact-domain", "billing")
    assert "jo@gmail.com, a personal mailbox (gmail.com)" in finding.what


def test_an_account_that_breaks_every_rule_gives_every_finding_once(account: Account) -> None:
    for breaks, _ in BREAKS:
        if breaks in (
            no_trail,
            single_region_trail,
            trail_unencrypted,
            root_row_missing,
            never_used_key,
            key_unused_for_long,
            root_alarm_muted,
            unattached_admin_policy_is_not_in_effect,
        ):
            continue  # each conflicts with another break of the same part
        breaks(account)
    assert account.found() == {
        ("root-mfa", "root"),
        ("root-access-keys", "root"),
        ("root-recently-used", "root"),
        ("password-policy-weak", "account"),
        ("contact-missing", "security"),
        ("contact-differs", "operations"),
        ("trail-not-logging", "main"),
        ("trail-validation-off", "main"),
        ("user-console-no-mfa", "bob"),
        ("user-key-old", "deploy-bot (key 1)"),
        ("user-direct-policy", "alice"),
        ("policy-admin", "policy AdminAll"),
        ("policy-passrole-any", "role ci, inline policy deploy"),
        ("policy-admin", "AWS managed policy AdministratorAccess (on role ci)"),
        ("policy-passrole-any", "AWS managed policy IAMFullAccess (on group developers)"),
        ("monitor-root-login", ALARM),
        ("monitor-targets", f"{MONITORS_STACK}-targets"),
        ("monitor-pipeline-failure", f"{MONITORS_STACK}-pipeline-failure"),
    }


def test_every_finding_says_what_why_and_the_exact_fix(account: Account) -> None:
    console_user_without_mfa(account)
    weak_password_policy(account)
    findings = {f.check: f for f in account.audit().result.findings}
    mfa = findings["user-console-no-mfa"]
    assert "bob" in mfa.what and "CIS 1.10" in mfa.why
    assert "aws iam delete-login-profile --user-name bob" in mfa.fix
    weak = findings["password-policy-weak"]
    assert weak.what.endswith("minimum length 8 (needs 14); reuse prevention 5 (needs 24).")
    # UpdateAccountPasswordPolicy resets what it is not given: the command keeps the rest.
    assert weak.fix.startswith(
        "aws iam update-account-password-policy --minimum-password-length 14 "
        "--password-reuse-prevention 24"
    )


def test_a_part_the_auditor_may_not_read_is_reported_unverified_not_guessed(
    account: Account,
) -> None:
    """moto enforces IAM here: the auditor has the audit's reads but the Account API's."""
    iam = account.iam
    iam.create_user(UserName="auditor")
    reads = [
        "iam:Get*",
        "iam:List*",
        "iam:GenerateCredentialReport",
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudwatch:DescribeAlarms",
        "events:DescribeRule",
        # moto names CloudWatch's actions by its signing name, "monitoring"
        "monitoring:DescribeAlarms",
    ]
    iam.put_user_policy(
        UserName="auditor",
        PolicyName="reads",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": reads, "Resource": "*"}],
            }
        ),
    )
    key = iam.create_access_key(UserName="auditor")["AccessKey"]
    session = boto3.Session(
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
        region_name=REGION,
    )
    with enforcing_iam():
        audit = account.audit(session=session)
    found = {(f.check, f.resource, f.unverified) for f in audit.result.findings}
    assert found == {
        ("unreadable", f"alternate contact {kind}", True)
        for kind in ("OPERATIONS", "BILLING", "SECURITY")
    } | {("user-direct-policy", "auditor", False)}
    [unreadable, *_] = [f for f in audit.result.findings if f.check == "unreadable"]
    assert "GetAlternateContact: AccessDenied" in unreadable.what
    assert "account:GetAlternateContact" in unreadable.fix


def test_it_reads_only(account: Account) -> None:
    """Every call the audit makes is a read: Describe, Get, List or GenerateCredentialReport."""
    calls: list[str] = []
    session = boto3.Session(region_name=REGION)
    session.events.register("before-call.*.*", lambda model, **_: calls.append(model.name))
    account.audit(session=session)
    writes = {c for c in calls if not c.startswith(("Get", "Describe", "List"))}
    assert writes == {"GenerateCredentialReport"}  # it asks AWS to build the report
    # and as many calls for 3 users as bench/audit_bench.py counts for 500
    assert len(calls) == 15, calls
