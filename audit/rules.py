"""The baseline's checks (pure): a snapshot and the baseline in, findings out.

The clock is a parameter (`now`), so "older than 90 days" is testable without waiting.
Nothing here calls AWS; every fix is written as the console path or CLI command a person
runs, with the names filled in and quoted for a POSIX shell.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from datetime import datetime, timedelta

from audit import policies
from audit.config import Baseline, on_domains
from audit.credential_report import CredentialRow, root_row
from audit.findings import Finding, ordered
from audit.snapshot import CONTACT_TYPES, Contact, MonitorState, Snapshot, Trail

ROOT_CONSOLE = "sign in as the root user → account name (top right) → Security credentials"
PERSONAL_DOMAINS = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "live.com",
        "msn.com",
        "yahoo.com",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.com",
        "gmx.net",
        "gmx.de",
        "web.de",
        "mail.com",
        "yandex.com",
        "yandex.ru",
        "zoho.com",
        "fastmail.com",
        "hey.com",
        "qq.com",
        "163.com",
    }
)
# What the audit needs to read each part, and where a person can look instead.
READ_HELP = {
    "account summary": ("iam:GetAccountSummary", "IAM → Dashboard"),
    "password policy": ("iam:GetAccountPasswordPolicy", "IAM → Account settings"),
    "credential report": (
        "iam:GenerateCredentialReport and iam:GetCredentialReport",
        "IAM → Credential report → Download credentials report",
    ),
    "IAM policies": ("iam:GetAccountAuthorizationDetails", "IAM → Policies, Users, Roles"),
    "trails": ("cloudtrail:DescribeTrails", "CloudTrail → Trails"),
    "monitors": ("cloudwatch:DescribeAlarms and events:DescribeRule", "CloudWatch → Alarms"),
}
CONTACT_HELP = (
    "account:GetAlternateContact",
    "account menu (top right) → Account → Alternate contacts",
)


def evaluate(snapshot: Snapshot, baseline: Baseline, *, now: datetime) -> list[Finding]:
    findings = [
        *_unreadable(snapshot),
        *_root(snapshot, baseline, now),
        *_password_policy(snapshot, baseline),
        *_contacts(snapshot, baseline),
        *_trails(snapshot, baseline, now),
        *_users(snapshot, baseline, now),
        *_policies(snapshot),
        *_monitors(snapshot),
    ]
    return ordered(findings)


def _q(value: str) -> str:
    return shlex.quote(value)


def _day(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d")


def _ago(moment: datetime, now: datetime) -> str:
    days = (now - moment).days
    return "today" if days < 1 else f"{days} day{'s' if days != 1 else ''} ago"


# --- parts that could not be read ---------------------------------------------------------


def _unreadable(snapshot: Snapshot) -> Iterator[Finding]:
    for part, why in sorted(snapshot.unreadable.items()):
        permission, console = (
            CONTACT_HELP if part.startswith("alternate contact") else READ_HELP.get(part, ("", ""))
        )
        yield Finding(
            "unreadable",
            part,
            f"Could not read the {part} ({why}), so that part of the baseline was not checked.",
            f"Give the principal running the audit {permission} (the audit function's role in "
            f"cloudformation/audit.yaml has it), or check it by hand: {console}.",
            unverified=True,
        )


# --- root ---------------------------------------------------------------------------------


def _root(snapshot: Snapshot, baseline: Baseline, now: datetime) -> Iterator[Finding]:
    root = root_row(snapshot.credentials or ())
    summary = snapshot.summary
    mfa = summary.get("AccountMFAEnabled") == 1 if summary is not None else None
    if mfa is None and root is not None:
        mfa = root.mfa_active
    if mfa is False:
        yield Finding(
            "root-mfa",
            "root",
            "The root user has no MFA device. (A hardware key, a passkey or an authenticator "
            "app all meet the baseline; which kind root has is not checked.)",
            f"Console: {ROOT_CONSOLE} → Multi-factor authentication (MFA) → Assign MFA device. "
            "There is no CLI for root's MFA; only root can assign it.",
        )
    keys = summary.get("AccountAccessKeysPresent") == 1 if summary is not None else None
    if root is not None and root.active_keys:
        keys = True
    if keys:
        yield Finding(
            "root-access-keys",
            "root",
            "The root user has an active access key.",
            f"Console: {ROOT_CONSOLE} → Access keys → Actions → Delete (deactivate first if "
            "something might still use it; its last use is in the credential report).",
        )
    if snapshot.credentials is None:
        return
    if root is None:
        yield Finding(
            "root-usage-unknown",
            "root",
            "The credential report has no <root_account> row, so when root was last used "
            "is not known.",
            "Download the credential report (IAM → Credential report) and read the first row, "
            "or search CloudTrail for userIdentity.type Root.",
            unverified=True,
        )
        return
    yield from _root_used(root, baseline, now)


def _root_used(root: CredentialRow, baseline: Baseline, now: datetime) -> Iterator[Finding]:
    since = now - timedelta(days=baseline.inactive_days)
    uses = [("signed in", root.password_last_used)] + [
        (f"used access key {key.number}", key.last_used) for key in root.keys
    ]
    recent = [(how, when) for how, when in uses if when is not None and when >= since]
    if not recent:
        return
    how, when = max(recent, key=lambda use: use[1])
    yield Finding(
        "root-recently-used",
        "root",
        f"The root user {how} on {_day(when)} ({_ago(when, now)}), within the last "
        f"{baseline.inactive_days} days.",
        "If it was a planned root-only task, note it and nothing else is needed. If not: change "
        "the root password, check its MFA device and read what was done: aws cloudtrail "
        "lookup-events --lookup-attributes AttributeKey=Username,AttributeValue=root "
        f"--start-time {_day(when)} (run it in each region used; CloudTrail keeps 90 days there).",
    )


# --- password policy ----------------------------------------------------------------------


def _password_policy(snapshot: Snapshot, baseline: Baseline) -> Iterator[Finding]:
    if not snapshot.password_policy_read:
        return
    policy = snapshot.password_policy
    fix = (
        f"{password_policy_command(policy, baseline)} (it keeps the other settings), or "
        "opsbundle audit --fix. Console: IAM → Account settings → Password policy → Edit."
    )
    if policy is None:
        yield Finding(
            "password-policy-missing", "account", "The account has no IAM password policy.", fix
        )
        return
    weak = []
    length = int(policy.get("MinimumPasswordLength", 0))
    if length < baseline.min_password_length:
        weak.append(f"minimum length {length} (needs {baseline.min_password_length})")
    reuse = int(policy.get("PasswordReusePrevention", 0))
    if reuse < baseline.password_reuse_prevention:
        shown = str(reuse) if reuse else "off"
        weak.append(f"reuse prevention {shown} (needs {baseline.password_reuse_prevention})")
    if weak:
        yield Finding(
            "password-policy-weak",
            "account",
            f"The IAM password policy is below CIS AWS Foundations: {'; '.join(weak)}.",
            fix,
        )


# UpdateAccountPasswordPolicy resets every setting it is not given to its default: the fix
# passes the current ones along.
_POLICY_FLAGS = (
    ("RequireSymbols", "--require-symbols", "--no-require-symbols"),
    ("RequireNumbers", "--require-numbers", "--no-require-numbers"),
    (
        "RequireUppercaseCharacters",
        "--require-uppercase-characters",
        "--no-require-uppercase-characters",
    ),
    (
        "RequireLowercaseCharacters",
        "--require-lowercase-characters",
        "--no-require-lowercase-characters",
    ),
    (
        "AllowUsersToChangePassword",
        "--allow-users-to-change-password",
        "--no-allow-users-to-change-password",
    ),
    ("HardExpiry", "--hard-expiry", "--no-hard-expiry"),
)


def target_password_policy(
    current: dict[str, object] | None, baseline: Baseline
) -> dict[str, object]:
    """The UpdateAccountPasswordPolicy arguments: the current settings, length and reuse raised."""
    current = current or {"AllowUsersToChangePassword": True}
    target: dict[str, object] = {
        key: bool(current[key]) for key, _, _ in _POLICY_FLAGS if key in current
    }
    if current.get("MaxPasswordAge"):
        target["MaxPasswordAge"] = int(str(current["MaxPasswordAge"]))
    target["MinimumPasswordLength"] = max(
        int(str(current.get("MinimumPasswordLength", 0))), baseline.min_password_length
    )
    target["PasswordReusePrevention"] = max(
        int(str(current.get("PasswordReusePrevention", 0))), baseline.password_reuse_prevention
    )
    return target


def password_policy_command(current: object, baseline: Baseline) -> str:
    target = target_password_policy(dict(current) if isinstance(current, dict) else None, baseline)
    parts = [
        "aws iam update-account-password-policy",
        f"--minimum-password-length {target['MinimumPasswordLength']}",
        f"--password-reuse-prevention {target['PasswordReusePrevention']}",
    ]
    if "MaxPasswordAge" in target:
        parts.append(f"--max-password-age {target['MaxPasswordAge']}")
    for key, yes, no in _POLICY_FLAGS:
        if key in target:
            parts.append(yes if target[key] else no)
    return " ".join(parts)


# --- alternate contacts -------------------------------------------------------------------


def contact_command(kind: str, contact: Contact) -> str:
    return (
        f"aws account put-alternate-contact --alternate-contact-type {kind} "
        f"--name {_q(contact.name)} --title {_q(contact.title)} "
        f"--email-address {_q(contact.email)} --phone-number {_q(contact.phone)}"
    )


def _contacts(snapshot: Snapshot, baseline: Baseline) -> Iterator[Finding]:
    for kind in CONTACT_TYPES:
        if kind not in snapshot.contacts:
            continue  # not read: reported as unreadable
        actual = snapshot.contacts[kind]
        expected = baseline.contacts.get(kind)
        console = "Console: account menu (top right) → Account → Alternate contacts → Edit."
        if expected is not None:
            fix = f"opsbundle audit --fix, or {contact_command(kind, expected)}. {console}"
        else:
            example = Contact("<team name>", "<title>", "<team mailbox>", "<phone>")
            fix = (
                f"{contact_command(kind, example)} with a shared team mailbox on "
                f"{', '.join(baseline.contact_domains)}. {console}"
            )
        resource = kind.lower()
        if actual is None:
            yield Finding("contact-missing", resource, f"No {kind} alternate contact is set.", fix)
            continue
        personal = _personal(actual.email)
        if expected is not None:
            differs = _differences(actual, expected)
            if differs:
                yield Finding(
                    "contact-differs",
                    resource,
                    f"The {kind} contact's {', '.join(differs)} differ from the parameters file: "
                    f"it is {actual.describe()}{personal}; the file says {expected.describe()}.",
                    fix,
                )
            continue
        if not on_domains(actual.email, baseline.contact_domains):
            yield Finding(
                "contact-domain",
                resource,
                f"The {kind} contact is {actual.email}{personal}, not on an allowed domain "
                f"({', '.join(baseline.contact_domains)}).",
                fix,
            )


def _personal(email: str) -> str:
    domain = email.rpartition("@")[2].lower()
    return f", a personal mailbox ({domain})" if domain in PERSONAL_DOMAINS else ""


def _differences(actual: Contact, expected: Contact) -> list[str]:
    def same(a: str, b: str) -> bool:
        return " ".join(a.split()).lower() == " ".join(b.split()).lower()

    fields = (
        ("e-mail", actual.email, expected.email),
        ("name", actual.name, expected.name),
        ("title", actual.title, expected.title),
        ("phone", actual.phone, expected.phone),
    )
    return [label for label, a, b in fields if not same(a, b)]


# --- CloudTrail ---------------------------------------------------------------------------


def _trails(snapshot: Snapshot, baseline: Baseline, now: datetime) -> Iterator[Finding]:
    if snapshot.trails is None:
        return
    multi = [trail for trail in snapshot.trails if trail.multi_region]
    if not multi:
        single = sorted(trail.name for trail in snapshot.trails)
        what = (
            "There is no CloudTrail trail."
            if not single
            else (
                f"No trail covers every region: {', '.join(single)} "
                f"{'is' if len(single) == 1 else 'are'} single-region."
            )
        )
        yield Finding(
            "trail-missing",
            "account",
            what,
            "Deploy the bundle's trail: opsbundle deploy --env <env> --only trail "
            "(cloudformation/trail.yaml), or make a trail multi-region: aws cloudtrail "
            "update-trail --name <trail> --is-multi-region-trail.",
        )
        return
    candidates = [list(_trail_problems(trail, baseline, now)) for trail in multi]
    # The best trail is the one the account relies on: report what it lacks.
    yield from min(
        candidates, key=lambda problems: (len(problems), problems[0].resource if problems else "")
    )


def _trail_problems(trail: Trail, baseline: Baseline, now: datetime) -> Iterator[Finding]:
    name, arn = trail.name, _q(trail.arn)
    if not trail.log_file_validation:
        yield Finding(
            "trail-validation-off",
            name,
            f"Trail {name} does not validate its log files.",
            f"aws cloudtrail update-trail --name {arn} --enable-log-file-validation",
        )
    if not trail.kms_key_id:
        yield Finding(
            "trail-not-encrypted",
            name,
            f"Trail {name}'s log files are not encrypted with a KMS key (only S3's default).",
            f"aws cloudtrail update-trail --name {arn} --kms-key-id <key ARN> (the alerting "
            "stack's key allows CloudTrail; another key's policy must too).",
        )
    status = trail.status
    if status is None:
        yield Finding(
            "trail-status-unknown",
            name,
            f"The status of trail {name} could not be read ({trail.status_error}), so whether it "
            "is logging and delivering is not known."
            + (
                " It is an organization trail: its status is read from the management account."
                if trail.organization
                else ""
            ),
            f"aws cloudtrail get-trail-status --name {arn} with a principal that may read it "
            f"(from the management account for an organization trail), in {trail.home_region}.",
            unverified=True,
        )
        return
    if not status.is_logging:
        yield Finding(
            "trail-not-logging",
            name,
            f"Trail {name} is not logging.",
            f"aws cloudtrail start-logging --name {arn}, then find out who stopped it: aws "
            "cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,"
            "AttributeValue=StopLogging",
        )
        return
    stale = now - timedelta(hours=baseline.trail_delivery_hours)
    bucket = trail.s3_bucket or "its bucket"
    fix = (
        f"Check that the policy of bucket {bucket} lets cloudtrail.amazonaws.com put objects under "
        f"AWSLogs/{_account_of(trail.arn)}/ and that the KMS key policy lets CloudTrail use the "
        f"key; aws cloudtrail get-trail-status --name {arn} shows the latest error."
    )
    if status.latest_delivery_error:
        yield Finding(
            "trail-delivery",
            name,
            f"Trail {name} cannot deliver to S3 bucket {bucket}: {status.latest_delivery_error}.",
            fix,
        )
    elif status.latest_delivery is not None and status.latest_delivery < stale:
        yield Finding(
            "trail-delivery",
            name,
            f"Trail {name} last delivered a log file to {bucket} on "
            f"{status.latest_delivery:%Y-%m-%d %H:%M} UTC, over "
            f"{baseline.trail_delivery_hours} hours ago.",
            fix,
        )
    elif (
        status.latest_delivery is None
        and status.logging_started is not None
        and status.logging_started < stale
    ):
        yield Finding(
            "trail-delivery",
            name,
            f"Trail {name} has delivered no log file since it started logging on "
            f"{status.logging_started:%Y-%m-%d %H:%M} UTC.",
            fix,
        )


def _account_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else "<account>"


# --- IAM users ----------------------------------------------------------------------------


def _users(snapshot: Snapshot, baseline: Baseline, now: datetime) -> Iterator[Finding]:
    for row in snapshot.credentials or ():
        if row.is_root:
            continue
        user = _q(row.user)
        if row.password_enabled and not row.mfa_active:
            yield Finding(
                "user-console-no-mfa",
                row.user,
                f"IAM user {row.user} can sign in to the console and has no MFA device.",
                f"{row.user} assigns one at sign-in: IAM → Users → {row.user} → Security "
                "credentials → Assign MFA device (the access groups allow nothing else until "
                "then). If the user should not use the console: aws iam delete-login-profile "
                f"--user-name {user}",
            )
        yield from _keys(row, baseline, now)
    for attached in snapshot.user_policies or ():
        if not (attached.inline or attached.managed):
            continue
        names = [f"inline {name}" for name in attached.inline] + list(attached.managed)
        user = _q(attached.user)
        commands = [
            f"aws iam delete-user-policy --user-name {user} --policy-name {_q(name)}"
            for name in attached.inline
        ] + [
            f"aws iam detach-user-policy --user-name {user} --policy-arn {_q(arn)}"
            for arn in attached.managed_arns
        ]
        yield Finding(
            "user-direct-policy",
            attached.user,
            f"IAM user {attached.user} has policies of its own: {', '.join(names)}.",
            f"Put the user in the group for their job (aws iam add-user-to-group --user-name "
            f"{user} --group-name <group>; see the access stack's outputs), then: "
            + "; ".join(commands),
        )


def _keys(row: CredentialRow, baseline: Baseline, now: datetime) -> Iterator[Finding]:
    inactive_since = now - timedelta(days=baseline.inactive_days)
    too_old = now - timedelta(days=baseline.max_key_age_days)
    user = _q(row.user)
    for key in row.active_keys:
        resource = f"{row.user} (key {key.number})"
        find_id = f"aws iam list-access-keys --user-name {user} shows key {key.number}'s ID"
        if (
            key.last_used is None
            and key.last_rotated is not None
            and key.last_rotated < inactive_since
        ):
            yield Finding(
                "user-key-unused",
                resource,
                f"Access key {key.number} of {row.user} was created on {_day(key.last_rotated)} "
                "and has never been used.",
                f"{find_id}; delete it: aws iam delete-access-key --user-name {user} "
                "--access-key-id <ID>",
            )
        elif key.last_used is not None and key.last_used < inactive_since:
            yield Finding(
                "user-key-unused",
                resource,
                f"Access key {key.number} of {row.user} was last used on {_day(key.last_used)} "
                f"({_ago(key.last_used, now)}).",
                f"{find_id}; deactivate it (aws iam update-access-key --user-name {user} "
                "--access-key-id <ID> --status Inactive), then delete it a week later if nothing "
                f"broke: aws iam delete-access-key --user-name {user} --access-key-id <ID>",
            )
        elif key.last_rotated is not None and key.last_rotated < too_old:
            yield Finding(
                "user-key-old",
                resource,
                f"Access key {key.number} of {row.user} is from {_day(key.last_rotated)} "
                f"({_ago(key.last_rotated, now)}), older than {baseline.max_key_age_days} days.",
                "Replace it with a role if whatever uses it can assume one. Otherwise rotate it: "
                f"aws iam create-access-key --user-name {user}, put the new key where the old "
                f"one is used, then {find_id} and aws iam delete-access-key --user-name {user} "
                "--access-key-id <old ID>",
            )


# --- policies -----------------------------------------------------------------------------


def _policies(snapshot: Snapshot) -> Iterator[Finding]:
    for policy in snapshot.policies or ():
        advice = (
            "Replace it with the actions and resources the job needs (the groups in "
            f"cloudformation/access.yaml are a start); to remove it: {policy.detach}"
        )
        if policies.allows_everything(policy.document):
            yield Finding(
                "policy-admin",
                policy.owner,
                f"The {policy.owner} allows every action (*) on every resource (*).",
                advice,
            )
        elif policies.allows_pass_any_role(
            policy.document, account=snapshot.account, partition=snapshot.partition
        ):
            yield Finding(
                "policy-passrole-any",
                policy.owner,
                f"The {policy.owner} allows iam:PassRole on every role.",
                "Limit iam:PassRole to the roles it must pass (role ARNs, never *), with an "
                "iam:PassedToService condition naming the service. " + advice,
            )


# --- the bundle's own monitors ------------------------------------------------------------

_MONITOR_TEXT = {
    "root-login": ("The root-login alarm", "CloudTrailLogGroupName"),
    "targets": ("The unhealthy-target inspector's rule", "EnableTargetInspector=true"),
    "pipeline-failure": ("The pipeline-failure rule", "EnablePipelineFailures=true"),
}


def _monitors(snapshot: Snapshot) -> Iterator[Finding]:
    for state in snapshot.monitors or ():
        yield from _monitor(state)


def _monitor(state: MonitorState) -> Iterator[Finding]:
    label, parameter = _MONITOR_TEXT[state.monitor]
    check = f"monitor-{state.monitor}"
    if not state.exists:
        yield Finding(
            check,
            state.name,
            f"{label} {state.name} does not exist.",
            f"Deploy the monitors stack with {parameter}: opsbundle deploy --env <env> "
            "--only monitors (cloudformation/monitors.yaml).",
        )
    elif not state.enabled and state.kind == "rule":
        yield Finding(
            check,
            state.name,
            f"{label} {state.name} is disabled.",
            f"aws events enable-rule --name {_q(state.name)}",
        )
    elif not state.enabled:
        yield Finding(
            check,
            state.name,
            f"{label} {state.name} has its actions off or none, so it notifies nobody.",
            f"aws cloudwatch enable-alarm-actions --alarm-names {_q(state.name)} (and check its "
            "actions name the ops topic: opsbundle deploy --env <env> --only monitors)",
        )
