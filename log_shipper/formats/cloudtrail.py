"""CloudTrail log files, written from the AWS CloudTrail User Guide ("CloudTrail log file
examples", "CloudTrail record contents"): one gzip'd JSON object `{"Records": [...]}` per file,
each record an event with its own `eventID`, which is the document's id (so the same event in
two files, or from two trails, is indexed once). Digest files (`CloudTrail-Digest`) are not
events and are skipped by the caller.

Free-form parts (requestParameters, responseElements, additionalEventData,
serviceEventDetails) are kept as JSON text: indexed field by field, every API's parameters
would become mapped fields, thousands of them, and clash between services.
"""

from __future__ import annotations

import json
from typing import Any

from log_shipper.formats.common import FormatError, Parsed, ip, iso_ms, keep_rest, put, snake

# fmt: skip below: names packed, not one a line
FREE_FORM = (
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "serviceEventDetails",
    "resources",
    "tlsDetails",
    "insightDetails",
)


def parse(record: Any) -> Parsed:
    if not isinstance(record, dict) or not isinstance(record.get("eventTime"), str):
        raise FormatError("a CloudTrail record without an eventTime")
    fields: dict[str, Any] = {}
    put(fields, "event.dataset", "aws.cloudtrail")
    put(fields, "event.provider", record.get("eventSource"))
    put(fields, "event.action", record.get("eventName"))
    put(fields, "event.id", record.get("eventID"))
    put(fields, "cloud.region", record.get("awsRegion"))
    put(fields, "cloud.account.id", record.get("recipientAccountId"))
    put(fields, "user_agent.original", record.get("userAgent"))
    source = record.get("sourceIPAddress")
    if isinstance(source, str):
        put(fields, "source.ip", ip(source))
        if ip(source) is None:
            put(fields, "source.address", source)  # a service: ec2.amazonaws.com
    identity = record.get("userIdentity")
    if isinstance(identity, dict):
        name = identity.get("userName") or identity.get("principalId")
        issuer = (identity.get("sessionContext") or {}).get("sessionIssuer") or {}
        put(fields, "user.name", identity.get("userName") or issuer.get("userName") or name)
        put(fields, "user.id", identity.get("principalId"))
        for key in ("type", "arn", "accountId", "accessKeyId", "invokedBy"):
            put(fields, f"aws.cloudtrail.user_identity.{snake(key)}", identity.get(key))
    error = record.get("errorCode")
    put(fields, "error.code", error)
    put(fields, "error.message", record.get("errorMessage"))
    put(fields, "event.outcome", "failure" if error else "success")
    keep_rest(
        fields,
        "aws.cloudtrail",
        record,
        skip=("userIdentity", "errorCode", "errorMessage"),
        as_text=FREE_FORM,
    )
    event_id = record.get("eventID")
    return Parsed(
        iso_ms(record["eventTime"]), fields, event_id if isinstance(event_id, str) else None
    )


def records(text: bytes) -> list[Any]:
    """The records of one log file (FormatError when it is not the documented object)."""
    try:
        document = json.loads(text)
    except (ValueError, RecursionError):
        raise FormatError("not a CloudTrail log file (not JSON)") from None
    found = document.get("Records") if isinstance(document, dict) else None
    if not isinstance(found, list):
        raise FormatError('not a CloudTrail log file (no "Records" list)')
    return found
