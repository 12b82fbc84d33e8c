"""Reading the account (the AWS edge): every part of the baseline in a fixed number of calls.

Users are read from the credential report and from GetAccountAuthorizationDetails (one page
per 1,000 users, groups, roles and policies), never one call per user, so a 500-user account
costs the same dozen calls as a 5-user one. It reads only; nothing here changes the account.

A part that the caller may not read (AccessDenied) is recorded in `Snapshot.unreadable` and
reported as unverified; credentials that do not work are a ConfigError (exit 2); any other
AWS failure is an AuditError (the run failed, and the weekly Lambda is retried).
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

from audit import credential_report, policies
from audit.config import Baseline
from audit.exceptions import AuditError
from audit.snapshot import (
    CONTACT_TYPES,
    AttachedPolicies,
    Contact,
    MonitorState,
    PolicyDocument,
    Snapshot,
    Trail,
    TrailStatus,
)
from opsbundle import aws
from opsbundle import settings as names
from opsbundle.exceptions import ConfigError
from opsbundle.settings import Env

if TYPE_CHECKING:
    import boto3

T = TypeVar("T")
ACCESS_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "AuthorizationError",
        "UnauthorizedException",
    }
)
CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
    }
)
REPORT_WAIT_SECONDS = 120.0
SERVICE_LINKED_PATH = "/aws-service-role/"  # roles whose policies AWS writes and maintains


@dataclass(frozen=True)
class Clients:
    sts: Any
    iam: Any
    account: Any
    cloudtrail: Any
    cloudwatch: Any
    events: Any

    @classmethod
    def create(cls, *, session: boto3.Session | None = None, region: str | None = None) -> Clients:
        """The clients, from the CLI's session or (in Lambda) botocore's: see opsbundle.aws."""
        return cls(
            **{
                name: aws.client(name, session=session, region=region)
                for name in ("sts", "iam", "account", "cloudtrail", "cloudwatch", "events")
            }
        )


class Collector:
    """Takes one Snapshot of the account for the rules."""

    def __init__(
        self,
        *,
        clients: Clients,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        sleep: Callable[[float], None] = time.sleep,
        report_wait_seconds: float = REPORT_WAIT_SECONDS,
    ) -> None:
        self._c = clients
        self._clock = clock
        self._sleep = sleep
        self._report_wait = report_wait_seconds
        self._unreadable: dict[str, str] = {}

    def snapshot(self, baseline: Baseline) -> Snapshot:
        self._unreadable = {}
        identity = self._get(self._c.sts.get_caller_identity)
        partition = str(identity["Arn"]).split(":")[1]
        account = str(identity["Account"])
        region = str(self._c.cloudtrail.meta.region_name)
        taken_at = self._clock()
        summary = self._read("account summary", self._summary)
        password_read, password_policy = True, None
        try:
            password_policy = self._password_policy()
        except _Unreadable as error:
            password_read = False
            self._unreadable["password policy"] = str(error)
        credentials = self._read("credential report", self._credentials)
        details = self._read("IAM policies", lambda: self._authorization(account, partition))
        return Snapshot(
            account=account,
            partition=partition,
            region=region,
            taken_at=taken_at,
            summary=summary,
            password_policy=password_policy,
            password_policy_read=password_read,
            credentials=credentials,
            contacts=self._contacts(),
            trails=self._read("trails", self._trails),
            user_policies=details[0] if details else None,
            policies=details[1] if details else None,
            monitors=self._read("monitors", lambda: self._monitors(baseline))
            if baseline.monitors_stack
            else None,
            unreadable=dict(self._unreadable),
        )

    # --- calls and their errors -----------------------------------------------------------

    def _call(self, method: Callable[..., T], *, absent: str = "", **kwargs: Any) -> T | None:
        """`method(**kwargs)`; None when AWS answers `absent` (the thing does not exist)."""
        try:
            return method(**kwargs)
        except ClientError as error:
            if absent and aws.error_code(error) == absent:
                return None
            raise _problem(error) from None
        except BotoCoreError as error:
            if problem := aws.setup_problem(error):
                raise problem from None
            if isinstance(error, EndpointConnectionError) and Env().raw(names.AWS_ENDPOINT_URL):
                raise ConfigError("AWS_ENDPOINT_URL", f"cannot reach {error}") from None
            raise AuditError(str(error)) from None

    def _get(self, method: Callable[..., T], **kwargs: Any) -> T:
        answer = self._call(method, **kwargs)
        assert answer is not None
        return answer

    def _read(self, part: str, read: Callable[[], T]) -> T | None:
        try:
            return read()
        except _Unreadable as error:
            self._unreadable[part] = str(error)
            return None

    # --- the parts ------------------------------------------------------------------------

    def _summary(self) -> dict[str, int]:
        return dict(self._get(self._c.iam.get_account_summary)["SummaryMap"])

    def _password_policy(self) -> dict[str, Any] | None:
        answer = self._call(self._c.iam.get_account_password_policy, absent="NoSuchEntity")
        return None if answer is None else dict(answer["PasswordPolicy"])

    def _credentials(self) -> tuple[credential_report.CredentialRow, ...]:
        """GenerateCredentialReport until COMPLETE (AWS reuses a report up to 4 hours old)."""
        waited = 0.0
        while self._get(self._c.iam.generate_credential_report).get("State") != "COMPLETE":
            if waited >= self._report_wait:
                raise AuditError(
                    f"the IAM credential report was not ready after {self._report_wait:.0f} s; "
                    "run the audit again in a minute"
                )
            self._sleep(2.0)
            waited += 2.0
        content = self._get(self._c.iam.get_credential_report)["Content"]
        return tuple(credential_report.parse(content))

    def _authorization(
        self, account: str, partition: str
    ) -> tuple[tuple[AttachedPolicies, ...], tuple[PolicyDocument, ...]]:
        users: list[AttachedPolicies] = []
        found: list[PolicyDocument] = []
        aws_managed: dict[str, list[str]] = {}  # AWS managed policy ARN -> who has it
        marker: str | None = None
        while True:
            args: dict[str, Any] = {
                "Filter": ["User", "Group", "Role", "LocalManagedPolicy"],
                "MaxItems": 1000,
            }
            if marker:
                args["Marker"] = marker
            page = self._get(self._c.iam.get_account_authorization_details, **args)
            users += [_attached(user) for user in page.get("UserDetailList", [])]
            found += _inline_documents(page)
            found += _managed_documents(page)
            for arn, owner in _aws_managed_attachments(page, partition):
                aws_managed.setdefault(arn, []).append(owner)
            marker = page.get("Marker") if page.get("IsTruncated") else None
            if not marker:
                found += [self._aws_managed(arn, owners) for arn, owners in aws_managed.items()]
                return tuple(users), tuple(found)

    def _aws_managed(self, arn: str, owners: list[str]) -> PolicyDocument:
        """An AWS managed policy attached to someone, as its default version says today
        (GetAccountAuthorizationDetails lists only the customer-managed ones' documents)."""
        policy = self._get(self._c.iam.get_policy, PolicyArn=arn)["Policy"]
        version = self._get(
            self._c.iam.get_policy_version, PolicyArn=arn, VersionId=policy["DefaultVersionId"]
        )["PolicyVersion"]
        shown = ", ".join(owners[:3]) + (f" and {len(owners) - 3} more" if len(owners) > 3 else "")
        return PolicyDocument(
            owner=f"AWS managed policy {arn.rpartition('/')[2]} (on {shown})",
            document=policies.document(version["Document"]),
            detach=f"aws iam list-entities-for-policy --policy-arn {_shell(arn)} shows who has "
            "it; detach it from each, or give them a policy of your own that names their roles",
        )

    def _contacts(self) -> dict[str, Contact | None]:
        contacts: dict[str, Contact | None] = {}
        for kind in CONTACT_TYPES:
            try:
                answer = self._call(
                    self._c.account.get_alternate_contact,
                    absent="ResourceNotFoundException",
                    AlternateContactType=kind,
                )
            except _Unreadable as unreadable:
                self._unreadable[f"alternate contact {kind}"] = str(unreadable)
                continue
            found = answer["AlternateContact"] if answer else None
            contacts[kind] = (
                None
                if found is None
                else Contact(
                    name=found.get("Name", ""),
                    title=found.get("Title", ""),
                    email=found.get("EmailAddress", ""),
                    phone=found.get("PhoneNumber", ""),
                )
            )
        return contacts

    def _trails(self) -> tuple[Trail, ...]:
        described = self._get(self._c.cloudtrail.describe_trails, includeShadowTrails=True)
        trails = []
        for trail in described.get("trailList", []):
            status, error = None, None
            if trail.get("IsMultiRegionTrail"):
                try:
                    status = _status(
                        self._get(self._c.cloudtrail.get_trail_status, Name=trail["TrailARN"])
                    )
                except _Unreadable as unreadable:
                    error = str(unreadable)
            trails.append(
                Trail(
                    name=trail["Name"],
                    arn=trail["TrailARN"],
                    home_region=trail.get("HomeRegion", ""),
                    multi_region=bool(trail.get("IsMultiRegionTrail")),
                    log_file_validation=bool(trail.get("LogFileValidationEnabled")),
                    kms_key_id=trail.get("KmsKeyId") or None,
                    s3_bucket=trail.get("S3BucketName") or None,
                    organization=bool(trail.get("IsOrganizationTrail")),
                    status=status,
                    status_error=error,
                )
            )
        return tuple(trails)

    def _monitors(self, baseline: Baseline) -> tuple[MonitorState, ...]:
        stack = baseline.monitors_stack
        found: list[MonitorState] = []
        if "root-login" in baseline.monitors:
            name = f"{stack}-root-account-usage"
            alarms = self._get(self._c.cloudwatch.describe_alarms, AlarmNames=[name])
            alarm = next(iter(alarms.get("MetricAlarms", [])), None)
            found.append(
                MonitorState(
                    monitor="root-login",
                    kind="alarm",
                    name=name,
                    exists=alarm is not None,
                    enabled=bool(
                        alarm and alarm.get("ActionsEnabled") and alarm.get("AlarmActions")
                    ),
                )
            )
        for monitor in ("targets", "pipeline-failure"):
            if monitor not in baseline.monitors:
                continue
            name = f"{stack}-{monitor}"
            rule = self._call(
                self._c.events.describe_rule, absent="ResourceNotFoundException", Name=name
            )
            found.append(
                MonitorState(
                    monitor=monitor,
                    kind="rule",
                    name=name,
                    exists=rule is not None,
                    enabled=bool(rule and rule.get("State") == "ENABLED"),
                )
            )
        return tuple(found)


class _Unreadable(AuditError):
    """The caller may not read this part (AccessDenied): reported, not fatal."""


def _problem(error: ClientError) -> Exception:
    """AccessDenied: the part is unreadable; bad credentials: a setting; else the run failed."""
    code = aws.error_code(error)
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    if code in ACCESS_CODES or (status == 403 and code not in CREDENTIAL_CODES):
        shown = code if code in ACCESS_CODES else "AccessDenied"
        return _Unreadable(f"{error.operation_name}: {shown}")
    if code in CREDENTIAL_CODES:
        return ConfigError(
            "AWS credentials",
            f"{error.operation_name} refused them ({code}); sign in again (aws sso login) or "
            "pick another AWS_PROFILE",
        )
    message = aws.error_message(error)
    return AuditError(f"{error.operation_name} failed: {code}: {message}")


def _status(answer: Mapping[str, Any]) -> TrailStatus:
    return TrailStatus(
        is_logging=bool(answer.get("IsLogging")),
        latest_delivery=_moment(answer.get("LatestDeliveryTime")),
        latest_delivery_error=answer.get("LatestDeliveryError") or None,
        logging_started=_moment(answer.get("StartLoggingTime")),
    )


def _moment(value: Any) -> datetime | None:
    """boto3 gives datetimes; a number is epoch seconds (what the wire carries)."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, int | float) and value > 0:
        return datetime.fromtimestamp(value, UTC)
    return None


def _attached(user: Mapping[str, Any]) -> AttachedPolicies:
    managed = user.get("AttachedManagedPolicies", [])
    return AttachedPolicies(
        user=user["UserName"],
        inline=tuple(p["PolicyName"] for p in user.get("UserPolicyList", [])),
        managed=tuple(p["PolicyName"] for p in managed),
        managed_arns=tuple(p["PolicyArn"] for p in managed),
    )


# Each kind of principal in GetAccountAuthorizationDetails: its list, its name, its inline
# policies' key. Service-linked roles are AWS's own business and left out.
_PRINCIPALS = (
    ("user", "UserDetailList", "UserName", "UserPolicyList"),
    ("group", "GroupDetailList", "GroupName", "GroupPolicyList"),
    ("role", "RoleDetailList", "RoleName", "RolePolicyList"),
)


def _principals(page: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any], str]]:
    """(kind, name, its details, its inline policies' key) for each user, group and role."""
    for kind, list_key, name_key, policy_key in _PRINCIPALS:
        for entity in page.get(list_key, []):
            if kind == "role" and str(entity.get("Path", "")).startswith(SERVICE_LINKED_PATH):
                continue
            yield kind, entity[name_key], entity, policy_key


def _inline_documents(page: Mapping[str, Any]) -> list[PolicyDocument]:
    found = []
    for kind, name, entity, policy_key in _principals(page):
        for inline in entity.get(policy_key, []):
            policy = inline["PolicyName"]
            found.append(
                PolicyDocument(
                    owner=f"{kind} {name}, inline policy {policy}",
                    document=policies.document(inline["PolicyDocument"]),
                    detach=f"aws iam delete-{kind}-policy --{kind}-name {_shell(name)} "
                    f"--policy-name {_shell(policy)}",
                )
            )
    return found


def _aws_managed_attachments(page: Mapping[str, Any], partition: str) -> Iterator[tuple[str, str]]:
    """(AWS managed policy ARN, "role ci") for each one attached to a user, group or role."""
    prefix = f"arn:{partition}:iam::aws:policy/"
    for kind, name, entity, _ in _principals(page):
        for attached in entity.get("AttachedManagedPolicies", []):
            if str(attached.get("PolicyArn", "")).startswith(prefix):
                yield attached["PolicyArn"], f"{kind} {name}"


def _managed_documents(page: Mapping[str, Any]) -> list[PolicyDocument]:
    """Customer-managed policies that are attached to something (as CIS 1.16 counts them)."""
    found = []
    for policy in page.get("Policies", []):
        if not policy.get("AttachmentCount"):
            continue
        default = next(
            (v for v in policy.get("PolicyVersionList", []) if v.get("IsDefaultVersion")), None
        )
        if default is None:
            continue
        found.append(
            PolicyDocument(
                # PolicyName is always there in AWS's answer (moto 5.2.5 leaves it out).
                owner=f"policy {policy.get('PolicyName') or policy['Arn'].rpartition('/')[2]}",
                document=policies.document(default["Document"]),
                detach=f"aws iam list-entities-for-policy --policy-arn {_shell(policy['Arn'])} "
                "shows who has it; detach it from each",
            )
        )
    return found


def _shell(value: str) -> str:
    return shlex.quote(value)
