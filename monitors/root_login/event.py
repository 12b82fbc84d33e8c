"""Root account activity, read from a CloudTrail record wrapped by EventBridge (pure).

"AWS Console Sign In via CloudTrail" (ConsoleLogin; `responseElements.ConsoleLogin`
Success/Failure, `additionalEventData.MFAUsed`) and "AWS API Call via CloudTrail" (root API
calls; MFA in `userIdentity.sessionContext.attributes.mfaAuthenticated`). Record fields:
CloudTrail User Guide, "CloudTrail record contents" and "AWS console sign-in events".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from monitors.eventbridge import envelope
from monitors.exceptions import EventError

SIGN_IN_TYPES = (
    "AWS Console Sign In via CloudTrail",  # the documented detail type
    "AWS Console Sign-In via CloudTrail",  # spellings seen in rules in the wild
    "AWS Console Sign-in via CloudTrail",
)
API_CALL_TYPE = "AWS API Call via CloudTrail"


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
    detail_type, detail = envelope(
        event, types=(*SIGN_IN_TYPES, API_CALL_TYPE), what="a CloudTrail sign-in or API call event"
    )
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
