"""What the audit's integration tests share: the ways an account drifts from the baseline (each
breaks one rule) and the environment `opsbundle audit` runs with."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.integration.audit.conftest import (
    ACCOUNT,
    CONTACTS,
    LEAST_PRIVILEGE,
    MONITORS_STACK,
    NOW,
    Account,
)

ADMIN = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}
PASS_ANY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*"}],
}


def root_without_mfa(a: Account) -> None:
    a.root.mfa = False


def root_with_key(a: Account) -> None:
    a.root.key_active = True


def root_used_recently(a: Account) -> None:
    a.root.password_last_used = NOW - timedelta(days=3)


def root_row_missing(a: Account) -> None:
    a.root.in_report = False


def no_password_policy(a: Account) -> None:
    a.iam.delete_account_password_policy()


def weak_password_policy(a: Account) -> None:
    a.iam.update_account_password_policy(MinimumPasswordLength=8, PasswordReusePrevention=5)


def security_contact_missing(a: Account) -> None:
    a.client("account").delete_alternate_contact(AlternateContactType="SECURITY")


def operations_contact_personal(a: Account) -> None:
    a.client("account").put_alternate_contact(
        AlternateContactType="OPERATIONS",
        Name="Jo",
        Title="Ops",
        EmailAddress="jo@gmail.com",
        PhoneNumber="+1 555 0199",
    )


def no_trail(a: Account) -> None:
    a.client("cloudtrail").delete_trail(Name="main")


def single_region_trail(a: Account) -> None:
    trails = a.client("cloudtrail")
    trails.update_trail(Name="main", IsMultiRegionTrail=False)


def trail_stopped(a: Account) -> None:
    a.client("cloudtrail").stop_logging(Name="main")


def trail_unvalidated(a: Account) -> None:
    a.client("cloudtrail").update_trail(Name="main", EnableLogFileValidation=False)


def trail_unencrypted(a: Account) -> None:
    trails = a.client("cloudtrail")
    trails.delete_trail(Name="main")
    trails.create_trail(
        Name="main",
        S3BucketName="opsbundle-prod-trail-trailbucket-1",
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
    )
    trails.start_logging(Name="main")


def console_user_without_mfa(a: Account) -> None:
    a.iam.create_user(UserName="bob")
    a.iam.create_login_profile(UserName="bob", Password="Correct-Horse-Battery-9")
    a.iam.add_user_to_group(GroupName="developers", UserName="bob")


def old_key(a: Account) -> None:
    a.backdate_key("deploy-bot", created_days=120, used_days=1)


def never_used_key(a: Account) -> None:
    a.backdate_key("deploy-bot", created_days=100)
    a.backend().users["deploy-bot"].access_keys[0].last_used = None


def key_unused_for_long(a: Account) -> None:
    a.backdate_key("deploy-bot", created_days=200, used_days=95)


def user_inline_policy(a: Account) -> None:
    a.iam.put_user_policy(
        UserName="alice", PolicyName="extra", PolicyDocument=json.dumps(LEAST_PRIVILEGE)
    )


def user_attached_policy(a: Account) -> None:
    arn = f"arn:aws:iam::{ACCOUNT}:policy/read-reports"
    a.iam.attach_user_policy(UserName="alice", PolicyArn=arn)


def admin_policy_on_a_group(a: Account) -> None:
    arn = a.iam.create_policy(PolicyName="AdminAll", PolicyDocument=json.dumps(ADMIN))["Policy"]
    a.iam.attach_group_policy(GroupName="developers", PolicyArn=arn["Arn"])


def aws_managed_admin_on_a_role(a: Account) -> None:
    a.iam.attach_role_policy(RoleName="ci", PolicyArn=a.aws_managed_policy("AdministratorAccess"))


def aws_managed_iam_full_access_on_a_group(a: Account) -> None:
    arn = a.aws_managed_policy("IAMFullAccess")  # iam:* on *: PassRole on any role
    a.iam.attach_group_policy(GroupName="developers", PolicyArn=arn)


def unattached_admin_policy_is_not_in_effect(a: Account) -> None:
    a.iam.create_policy(PolicyName="Unused", PolicyDocument=json.dumps(ADMIN))


def pass_any_role(a: Account) -> None:
    a.iam.put_role_policy(RoleName="ci", PolicyName="deploy", PolicyDocument=json.dumps(PASS_ANY))


def root_alarm_gone(a: Account) -> None:
    a.client("cloudwatch").delete_alarms(AlarmNames=[f"{MONITORS_STACK}-root-account-usage"])


def root_alarm_muted(a: Account) -> None:
    a.client("cloudwatch").disable_alarm_actions(
        AlarmNames=[f"{MONITORS_STACK}-root-account-usage"]
    )


def targets_rule_disabled(a: Account) -> None:
    a.client("events").disable_rule(Name=f"{MONITORS_STACK}-targets")


def pipeline_rule_gone(a: Account) -> None:
    a.client("events").delete_rule(Name=f"{MONITORS_STACK}-pipeline-failure")


ENV = {
    "AUDIT_CONTACT_DOMAINS": "example.com",
    "AUDIT_MONITORS_STACK": MONITORS_STACK,
    **{
        f"AUDIT_{kind}_CONTACT": f"{c.name} | {c.title} | {c.email} | {c.phone}"
        for kind, c in CONTACTS.items()
    },
}
