"""Lambda: root account activity, in real time, by email (SNS) and Slack.

Handler `monitors.root_login.handler`, behind the EventBridge rule in
cloudformation/monitors.yaml (us-east-1, where root console sign-ins are recorded). It
receives CloudTrail records wrapped by EventBridge: "AWS Console Sign In via CloudTrail"
(ConsoleLogin; `responseElements.ConsoleLogin` Success/Failure, `additionalEventData.MFAUsed`)
and "AWS API Call via CloudTrail" (root API calls; MFA in
`userIdentity.sessionContext.attributes.mfaAuthenticated`). Record fields: CloudTrail User
Guide, "CloudTrail record contents" and "AWS console sign-in events".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from monitors.config import MonitorSettings
from monitors.exceptions import EventError
from opsbundle.console import console_url, query_region
from opsbundle.log import get_logger
from opsbundle.metrics import RunMetrics
from opsbundle.mrkdwn import code, context, escape, header, link, section
from opsbundle.notify import Alert, Notifier, slack_from_settings

SERVICE = "root_login"
SIGN_IN_TYPES = (
    "AWS Console Sign In via CloudTrail",  # the documented detail type
    "AWS Console Sign-In via CloudTrail",  # spellings seen in rules in the wild
    "AWS Console Sign-in via CloudTrail",
)
API_CALL_TYPE = "AWS API Call via CloudTrail"
METADATA_EVENT_TYPE = "opsbundle_root_activity"


@dataclass(frozen=True)
class RootActivity:
    kind: str  # sign-in, api-call
    event_name: str
    event_source: str
    account: str
    time: str
    region: str
    source_ip: str
    user_agent: str
    mfa: str  # yes, no, unknown
    outcome: str  # Success, Failure, or the API error code
    error: str | None
    event_id: str

    @property
    def succeeded(self) -> bool:
        return self.outcome == "Success"

    @property
    def what(self) -> str:
        if self.kind == "sign-in":
            return "console sign-in" if self.event_name == "ConsoleLogin" else self.event_name
        return f"API call {self.event_source.split('.')[0]}:{self.event_name}"


def parse_root_event(event: Any) -> RootActivity | None:
    """The root activity in an EventBridge CloudTrail event; None if it is not root's."""
    if not isinstance(event, Mapping):
        raise EventError("the event is not a JSON object")
    detail_type = event.get("detail-type")
    if detail_type not in (*SIGN_IN_TYPES, API_CALL_TYPE):
        raise EventError(
            f"detail-type {detail_type!r} is not a CloudTrail sign-in or API call event; "
            "check the EventBridge rule's pattern"
        )
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise EventError("detail is missing or not an object")
    identity = detail.get("userIdentity")
    if not isinstance(identity, Mapping):
        raise EventError("detail.userIdentity is missing or not an object")
    if identity.get("type") != "Root" or identity.get("invokedBy"):
        return None
    name = detail.get("eventName")
    if not isinstance(name, str) or not name:
        raise EventError("detail.eventName is missing")
    sign_in = detail_type in SIGN_IN_TYPES
    response = detail.get("responseElements")
    response = response if isinstance(response, Mapping) else {}
    extra = detail.get("additionalEventData")
    extra = extra if isinstance(extra, Mapping) else {}
    if sign_in:
        outcome = str(
            response.get("ConsoleLogin") or ("Failure" if detail.get("errorMessage") else "Success")
        )
        mfa = {"Yes": "yes", "No": "no"}.get(str(extra.get("MFAUsed")), "unknown")
    else:
        outcome = str(detail.get("errorCode") or "Success")
        session = identity.get("sessionContext")
        attributes = session.get("attributes") if isinstance(session, Mapping) else None
        attributes = attributes if isinstance(attributes, Mapping) else {}
        mfa = {"true": "yes", "false": "no"}.get(str(attributes.get("mfaAuthenticated")), "unknown")
    return RootActivity(
        kind="sign-in" if sign_in else "api-call",
        event_name=name,
        event_source=str(detail.get("eventSource") or ""),
        account=str(
            detail.get("recipientAccountId")
            or identity.get("accountId")
            or event.get("account")
            or "?"
        ),
        time=str(detail.get("eventTime") or event.get("time") or "?"),
        region=str(detail.get("awsRegion") or event.get("region") or "us-east-1"),
        source_ip=str(detail.get("sourceIPAddress") or "?"),
        user_agent=str(detail.get("userAgent") or "?"),
        mfa=mfa,
        outcome=outcome,
        error=str(detail["errorMessage"]) if detail.get("errorMessage") else None,
        event_id=str(detail.get("eventID") or event.get("id") or ""),
    )


def cloudtrail_link(activity: RootActivity) -> str:
    region = activity.region
    return console_url(
        region,
        f"cloudtrail/home?region={query_region(region)}"
        f"#/events/{quote(activity.event_id, safe='')}",
    )


def subject(activity: RootActivity) -> str:
    mfa = {"yes": "with MFA", "no": "WITHOUT MFA", "unknown": "MFA unknown"}[activity.mfa]
    outcome = "succeeded" if activity.succeeded else f"FAILED ({activity.outcome})"
    return (
        f"ROOT {activity.what} {outcome}, {mfa}, account {activity.account} "
        f"from {activity.source_ip}"
    )


def email_body(activity: RootActivity) -> str:
    rows = [
        ("What", f"{activity.what} ({activity.event_source or 'signin.amazonaws.com'})"),
        ("Outcome", activity.outcome + (f": {activity.error}" if activity.error else "")),
        ("When (UTC)", activity.time),
        ("Account", activity.account),
        ("Source IP", activity.source_ip),
        ("User agent", activity.user_agent),
        ("MFA used", activity.mfa),
        ("Region", activity.region),
        ("CloudTrail event", activity.event_id),
    ]
    width = max(len(label) for label, _ in rows)
    lines = ["The AWS account's root user was used.", ""]
    lines += [f"{label.ljust(width)}  {value}" for label, value in rows]
    lines += [
        "",
        "If nobody expected this: change the root password, check the root MFA device, remove",
        "any root access keys, and review CloudTrail for what else this session did.",
        "",
        f"CloudTrail: {cloudtrail_link(activity)}",
    ]
    return "\n".join(lines) + "\n"


def alert(activity: RootActivity) -> Alert:
    title = subject(activity)
    icon = ":rotating_light:" if activity.succeeded else ":warning:"
    fields = (
        f"*When:* {escape(activity.time)}\n*Source IP:* {code(activity.source_ip)}\n"
        f"*MFA used:* {escape(activity.mfa)}\n*Outcome:* {escape(activity.outcome)}"
        + (f" ({escape(activity.error)})" if activity.error else "")
        + f"\n*User agent:* {escape(activity.user_agent)}"
    )
    return Alert(
        subject=title,
        sns_message=email_body(activity),
        slack_text=f"{icon} {escape(title)}",
        blocks=[
            header(f"Root {activity.what} in {activity.account}"),
            section(fields),
            context(
                link(cloudtrail_link(activity), "CloudTrail event") + " · If nobody expected "
                "this, change the root password and check its MFA and access keys."
            ),
        ],
        metadata={
            "event_type": METADATA_EVENT_TYPE,
            "event_payload": {"event_id": activity.event_id},
        },
    )


def handler(event: Any, context: Any) -> dict[str, Any]:
    logger = get_logger()
    metrics = RunMetrics(service=SERVICE)
    try:
        activity = parse_root_event(event)
        if activity is None:
            logger.info("not root activity: ignored", extra={"id": _event_id(event)})
            return {"action": "ignored"}
        settings = MonitorSettings.load()
        slack = slack_from_settings(
            secret_arn=settings.slack_secret_arn, base_url=settings.slack_base_url
        )
        notifier = Notifier(
            topic_arn=settings.ops_topic_arn, slack=slack, channel=settings.slack_ops_channel
        )
        delivery = notifier.send(alert(activity))
        metrics.count("RootActivityReported")
        logger.warning(
            "root activity reported",
            extra={
                "event": activity.event_name,
                "outcome": activity.outcome,
                "mfa": activity.mfa,
                "event_id": activity.event_id,
                "sent": delivery.sent,
            },
        )
        return {"action": "reported", "sent": delivery.sent}
    except EventError as error:
        metrics.count("MalformedEvents")
        logger.error("event not understood", extra={"error": str(error), "id": _event_id(event)})
        raise
    except Exception:
        metrics.count("MonitorFailed")
        logger.exception("root-login monitor failed")
        raise
    finally:
        metrics.publish()


def _event_id(event: Any) -> str | None:
    return str(event.get("id")) if isinstance(event, Mapping) and event.get("id") else None
