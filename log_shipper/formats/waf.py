"""AWS WAF logs (web ACL traffic logs delivered to S3), written from the AWS WAF Developer
Guide ("Log fields for web ACL traffic", "Log examples"): one JSON object per line, the time
in milliseconds since the epoch (`timestamp`), the request under `httpRequest`.

The matching detail (rule group lists, rate-based rules, non-terminating matches, labels'
details) is kept as JSON text, so a web ACL's rules never become mapped fields by the hundred.
"""

from __future__ import annotations

import json
from typing import Any

from log_shipper.formats.common import FormatError, Parsed, ip, keep_rest, number, put

DETAIL = ("ruleGroupList", "rateBasedRuleList", "nonTerminatingMatchingRules",
          "terminatingRuleMatchDetails", "captchaResponse", "challengeResponse",
          "requestHeadersInserted", "responseCodeSent")  # fmt: skip  # names packed, not one a line


def parse(line: str) -> Parsed:
    try:
        record = json.loads(line)
    except (ValueError, RecursionError):
        raise FormatError("not a WAF log line (not JSON)") from None
    if not isinstance(record, dict) or not isinstance(record.get("timestamp"), int):
        raise FormatError("a WAF log line without its timestamp")
    fields: dict[str, Any] = {}
    put(fields, "event.dataset", "aws.waf")
    action = record.get("action")
    put(fields, "event.action", action.lower() if isinstance(action, str) else None)
    put(fields, "rule.id", record.get("terminatingRuleId"))
    put(fields, "rule.ruleset", record.get("webaclId"))
    request = record.get("httpRequest")
    if isinstance(request, dict):
        _request(fields, request)
    status = record.get("responseCodeSent")
    put(fields, "http.response.status_code", number(str(status)) if status is not None else None)
    labels = record.get("labels")
    if isinstance(labels, list):
        put(fields, "aws.waf.labels", [x.get("name") for x in labels if isinstance(x, dict)])
    keep_rest(
        fields, "aws.waf", record, skip=("httpRequest", "labels", "timestamp"), as_text=DETAIL
    )
    return Parsed(record["timestamp"], fields)


def _request(fields: dict[str, Any], request: dict[str, Any]) -> None:
    put(fields, "source.ip", ip(request.get("clientIp")))
    put(fields, "source.geo.country_iso_code", request.get("country"))
    put(fields, "url.path", request.get("uri"))
    put(fields, "url.query", request.get("args"))
    put(fields, "http.request.method", request.get("httpMethod"))
    put(fields, "http.request.id", request.get("requestId"))
    version = request.get("httpVersion")
    if isinstance(version, str):
        put(fields, "http.version", version.removeprefix("HTTP/"))
    headers = request.get("headers")
    if isinstance(headers, list):
        named = {
            str(h.get("name", "")).lower(): h.get("value") for h in headers if isinstance(h, dict)
        }
        put(fields, "user_agent.original", named.get("user-agent"))
        put(fields, "url.domain", named.get("host"))
        put(fields, "aws.waf.headers", json.dumps(headers, separators=(",", ":")))
