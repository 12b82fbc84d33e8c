"""An AWS account in moto that meets the whole baseline, with a way to break each rule.

What moto does not model is set on its models directly, each for a stated reason:
- root: moto's credential report has no `<root_account>` row (AWS's always does; IAM User
  Guide, "Getting credential reports"), and its account summary has AccountMFAEnabled and
  AccountAccessKeysPresent fixed at 0 (no API sets root's MFA, in AWS either). The fixture
  adds the row from `Root` and sets the two summary fields from it.
- ages: moto dates every access key "now" and never records a use; an old or unused key is
  backdated on moto's AccessKey model (moto's own comment invites setting `last_used`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.iam.aws_managed_policies import aws_managed_policies_data
from moto.iam.models import AccessKeyLastUsed, AWSManagedPolicy, IAMBackend, iam_backends

from audit.collect import Clients, Collector
from audit.config import Baseline
from audit.run import audit_account
from audit.snapshot import Contact
from tests.moto_env import use_moto_credentials

ACCOUNT = "123456789012"
REGION = "us-east-1"
MONITORS_STACK = "opsbundle-prod-monitors"
NOW = datetime.now(UTC)
CONTACTS = {
    "OPERATIONS": Contact("Ops team", "Operations", "ops@example.com", "+1 555 0100"),
    "BILLING": Contact("Finance", "Billing", "billing@example.com", "+1 555 0101"),
    "SECURITY": Contact("Security team", "Security", "security@example.com", "+1 555 0102"),
}
DATE = "%Y-%m-%dT%H:%M:%S+00:00"
FUNCTION_ROLE = f"arn:aws:iam::{ACCOUNT}:role/opsbundle-prod-report-ReportFunctionRole-1"
LEAST_PRIVILEGE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": "arn:aws:s3:::opsbundle-prod-report-archive/reports/*",
        }
    ],
}


@dataclass
class Root:
    """What AWS's credential report and account summary would say about root."""

    mfa: bool = True
    key_active: bool = False
    password_last_used: datetime | None = NOW - timedelta(days=200)
    in_report: bool = True

    def row(self, account: str) -> str:
        def day(moment: datetime | None) -> str:
            return moment.strftime(DATE) if moment else "no_information"

        created = (NOW - timedelta(days=900)).strftime(DATE)
        key = (
            ("true", created, "N/A", "N/A", "N/A")
            if self.key_active
            else ("false", "N/A", "N/A", "N/A", "N/A")
        )
        fields = [
            "<root_account>",
            f"arn:aws:iam::{account}:root",
            created,
            "not_supported",
            day(self.password_last_used),
            "not_supported",
            "not_supported",
            "true" if self.mfa else "false",
            *key,
            "false",
            "N/A",
            "N/A",
            "N/A",
            "N/A",
            "false",
            "N/A",
            "false",
            "N/A",
        ]
        return ",".join(fields) + "\n"


@dataclass
class Account:
    """The moto account and the clients that read it."""

    session: boto3.Session
    root: Root = field(default_factory=Root)

    clients: dict[str, Any] = field(default_factory=dict)

    def client(self, name: str) -> Any:
        if name not in self.clients:
            self.clients[name] = self.session.client(name)
        return self.clients[name]

    @property
    def iam(self) -> Any:
        return self.client("iam")

    def backend(self) -> IAMBackend:
        return iam_backends[ACCOUNT]["aws"]

    def aws_managed_policy(self, name: str) -> str:
        """AWS's managed policy `name` (moto's copy of what AWS publishes), there as it is in
        every account. moto loads all of them only with MOTO_IAM_LOAD_MANAGED_POLICIES, a
        second or more per test; one is enough."""
        backend = self.backend()
        data = json.loads(aws_managed_policies_data)[name]
        policy = AWSManagedPolicy.from_data(name, ACCOUNT, backend.region_name, data)
        backend.aws_managed_policies.append(policy)
        backend.managed_policies[policy.arn] = policy
        return policy.arn

    def backdate_key(
        self, user: str, *, created_days: int, used_days: int | None = None, number: int = 1
    ) -> None:
        key = self.backend().users[user].access_keys[number - 1]
        key.create_date = NOW - timedelta(days=created_days)
        if used_days is not None:
            key.last_used = AccessKeyLastUsed(NOW - timedelta(days=used_days), "s3", REGION)

    def sync_root(self) -> None:
        summary = self.backend().account_summary
        summary._account_mfa_enabled = 1 if self.root.mfa else 0
        summary._account_access_keys_present = 1 if self.root.key_active else 0

    def audit(
        self, baseline: Baseline | None = None, *, session: boto3.Session | None = None
    ) -> Any:
        self.sync_root()
        clients = Clients.create(session=session or self.session, region=REGION)
        return audit_account(
            Collector(clients=clients, clock=lambda: NOW, sleep=lambda _: None),
            baseline or BASELINE,
        )

    def found(self, baseline: Baseline | None = None) -> set[tuple[str, str]]:
        return {(f.check, f.resource) for f in self.audit(baseline).result.findings}


_SESSIONS: list[boto3.Session] = []


def _session() -> boto3.Session:
    """One session for every test: it caches the service models it loaded (0.3 s each time)."""
    if not _SESSIONS:
        _SESSIONS.append(boto3.Session(region_name=REGION))
    return _SESSIONS[0]


BASELINE = Baseline(
    contact_domains=("example.com",), contacts=CONTACTS, monitors_stack=MONITORS_STACK
)


def build_compliant(account: Account) -> None:
    iam = account.iam
    iam.update_account_password_policy(
        MinimumPasswordLength=14,
        PasswordReusePrevention=24,
        RequireSymbols=True,
        AllowUsersToChangePassword=True,
    )
    contacts = account.client("account")
    for kind, contact in CONTACTS.items():
        contacts.put_alternate_contact(
            AlternateContactType=kind,
            Name=contact.name,
            Title=contact.title,
            EmailAddress=contact.email,
            PhoneNumber=contact.phone,
        )
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/0a1b2c3d-0000-4000-8000-00000000000a"
    account.client("s3").create_bucket(Bucket="opsbundle-prod-trail-trailbucket-1")
    trails = account.client("cloudtrail")
    trails.create_trail(
        Name="main",
        S3BucketName="opsbundle-prod-trail-trailbucket-1",
        IsMultiRegionTrail=True,
        EnableLogFileValidation=True,
        KmsKeyId=key,
        IncludeGlobalServiceEvents=True,
    )
    trails.start_logging(Name="main")
    # People: a console user with MFA in a group; a service user with a fresh, used key.
    iam.create_group(GroupName="developers")
    policy = iam.create_policy(
        PolicyName="read-reports", PolicyDocument=json.dumps(LEAST_PRIVILEGE)
    )
    iam.attach_group_policy(GroupName="developers", PolicyArn=policy["Policy"]["Arn"])
    iam.create_user(UserName="alice")
    iam.create_login_profile(UserName="alice", Password="Correct-Horse-Battery-9")
    device = iam.create_virtual_mfa_device(VirtualMFADeviceName="alice")["VirtualMFADevice"]
    iam.enable_mfa_device(
        UserName="alice",
        SerialNumber=device["SerialNumber"],
        AuthenticationCode1="123456",
        AuthenticationCode2="654321",
    )
    iam.add_user_to_group(GroupName="developers", UserName="alice")
    iam.create_user(UserName="deploy-bot")
    iam.create_access_key(UserName="deploy-bot")
    account.backdate_key("deploy-bot", created_days=10, used_days=1)
    iam.add_user_to_group(GroupName="developers", UserName="deploy-bot")
    # A role that may pass one role only.
    iam.create_role(
        RoleName="ci",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "sts:AssumeRole",
                        "Principal": {"Service": "codebuild.amazonaws.com"},
                    }
                ],
            }
        ),
    )
    iam.put_role_policy(
        RoleName="ci",
        PolicyName="deploy",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "iam:PassRole",
                        "Resource": FUNCTION_ROLE,
                        "Condition": {
                            "StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}
                        },
                    }
                ],
            }
        ),
    )
    # The bundle's monitors.
    topic = account.client("sns").create_topic(Name="ops")["TopicArn"]
    account.client("cloudwatch").put_metric_alarm(
        AlarmName=f"{MONITORS_STACK}-root-account-usage",
        Namespace="CISBenchmark",
        MetricName="RootAccountUsage",
        Statistic="Sum",
        Period=300,
        EvaluationPeriods=1,
        Threshold=1,
        ComparisonOperator="GreaterThanOrEqualToThreshold",
        AlarmActions=[topic],
        ActionsEnabled=True,
    )
    events = account.client("events")
    for name, source in (("targets", "aws.cloudwatch"), ("pipeline-failure", "aws.codepipeline")):
        events.put_rule(
            Name=f"{MONITORS_STACK}-{name}",
            State="ENABLED",
            EventPattern=json.dumps({"source": [source]}),
        )


@pytest.fixture
def account(monkeypatch: pytest.MonkeyPatch) -> Iterator[Account]:
    use_moto_credentials(monkeypatch, REGION)
    with mock_aws():
        world = Account(session=_session())
        original = IAMBackend.get_credential_report

        def with_root(backend: IAMBackend) -> str:
            report = original(backend)
            if not world.root.in_report:
                return report
            header, _, users = report.partition("\n")
            return f"{header}\n{world.root.row(backend.account_id)}{users}"

        monkeypatch.setattr(IAMBackend, "get_credential_report", with_root)
        build_compliant(world)
        yield world
