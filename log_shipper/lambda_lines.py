"""Lambda's own lines parsed into fields: pure, for dashboards (durations, memory, cold starts).

Text format (the default): START, END and REPORT lines written by the Lambda service, e.g.
    REPORT RequestId: 3604209a-e9a3-11e6-bf8b-3f0a6ea1f9ce\tDuration: 2.26 ms\t
    Billed Duration: 3 ms\tMemory Size: 128 MB\tMax Memory Used: 71 MB\tInit Duration: 190.35 ms
and the runtimes' own prefixes ("[ERROR]\t<time>\t<request id>\t..." in Python,
"<time>\t<request id>\tERROR\t..." in Node.js). JSON format (LoggingConfig LogFormat JSON):
platform.start / platform.report records with "record": {"requestId", "metrics": {...}}.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

_REQUEST = r"RequestId: (?P<request_id>[0-9a-fA-F-]{8,64})"
_START = re.compile(r"START " + _REQUEST + r"(?:\s+Version: (?P<version>\S+))?")
_END = re.compile(r"END " + _REQUEST)
_REPORT_FIELDS = {
    "Duration": "duration_ms",
    "Billed Duration": "billed_duration_ms",
    "Memory Size": "memory_size_mb",
    "Max Memory Used": "max_memory_used_mb",
    "Init Duration": "init_duration_ms",
    "Restore Duration": "restore_duration_ms",
}
_REPORT_FIELD = re.compile(r"(Duration|Billed Duration|Memory Size|Max Memory Used|"
                           r"Init Duration|Restore Duration): ([0-9.]+) (?:ms|MB)")  # fmt: skip
_REPORT = re.compile(r"REPORT " + _REQUEST)
# The usual REPORT line, its fields in the order Lambda writes them, read in one match. Its
# numbers are JSON numbers as they stand (no leading zero, short enough to stay finite, whole
# megabytes), so a document takes their text without a float round trip; anything else goes
# the general way.
_DECIMAL = r"((?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,6})?)"
_WHOLE = r"(0|[1-9][0-9]{0,8})"
_SHORTEST_FIELD = len("Duration: 0 ms")  # what _REPORT_FIELD needs, at the least
_USUAL_REPORT = re.compile(
    r"REPORT " + _REQUEST + r"\tDuration: " + _DECIMAL + r" ms\tBilled Duration: " + _DECIMAL
    + r" ms\tMemory Size: " + _WHOLE + r" MB\tMax Memory Used: " + _WHOLE + r" MB"
    + r"(?:\tInit Duration: " + _DECIMAL + r" ms)?"
)  # fmt: skip
_PY_PREFIX = re.compile(
    r"\[(?P<level>[A-Z]+)\]\t\d{4}-\d\d-\d\dT[0-9:.]+Z\t(?P<request_id>[0-9a-f-]{36})\t"
)
_NODE_PREFIX = re.compile(
    r"\d{4}-\d\d-\d\dT[0-9:.]+Z\t(?P<request_id>[0-9a-f-]{36})\t(?P<level>[A-Z]+)\t"
)
_PLATFORM_METRICS = {
    "durationMs": "duration_ms",
    "billedDurationMs": "billed_duration_ms",
    "memorySizeMB": "memory_size_mb",
    "maxMemoryUsedMB": "max_memory_used_mb",
    "initDurationMs": "init_duration_ms",
    "restoreDurationMs": "restore_duration_ms",
}


def parse_text(message: str) -> tuple[dict[str, Any] | None, str | None]:
    """(lambda fields, log level) of a text line; (None, None) when it is neither."""
    first = message[:1]
    if first == "S":
        start = start_line(message)
        if start:
            fields: dict[str, Any] = {"type": "START", "request_id": start[0]}
            if start[1]:
                fields["version"] = start[1]
            return fields, None
    elif first == "E":
        request_id = end_line(message)
        if request_id:
            return {"type": "END", "request_id": request_id}, None
    elif first == "R" and message.startswith("REPORT RequestId: "):
        match = _REPORT.match(message)
        if match:
            fields = {"type": "REPORT", "request_id": match["request_id"]}
            for name, value in _REPORT_FIELD.findall(message):
                target = _REPORT_FIELDS[name]
                number = _number(value, whole=target.endswith("_mb"))
                if number is not None:  # "1.2.3 ms" or an absurd figure: left out, not fatal
                    fields[target] = number
            fields["cold_start"] = "init_duration_ms" in fields
            return fields, None
    elif first == "[" or first.isdigit():
        prefix = runtime_prefix(message)
        if prefix:
            return {"request_id": prefix[0]}, prefix[1]
    return None, None


def start_line(message: str) -> tuple[str, str | None] | None:
    """(request id, version or None) of a START line; None for any other line."""
    if not message.startswith("START RequestId: "):
        return None
    match = _START.match(message)
    if match is None:
        return None
    return match["request_id"], match["version"] or None


def end_line(message: str) -> str | None:
    """The request id of an END line; None for any other line."""
    if not message.startswith("END RequestId: "):
        return None
    match = _END.match(message)
    return match["request_id"] if match else None


def runtime_prefix(message: str) -> tuple[str, str] | None:
    """(request id, level lower-cased) of a runtime's line: "[LEVEL]\t<time>\t<request id>\t..."
    (Python) or "<time>\t<request id>\tLEVEL\t..." (Node.js); None for any other line.
    Anchored patterns without nested repeats: a line that is neither fails within its first
    characters."""
    match = (_PY_PREFIX if message[:1] == "[" else _NODE_PREFIX).match(message)
    if match is None:
        return None
    request_id, level = match.group("request_id", "level")
    return request_id, level.lower()


# (request id, duration ms, billed duration ms, memory size MB, max memory used MB, init
# duration ms or None on a warm start), the numbers as JSON number texts: a plain tuple, made
# 1,000s of times per payload.
UsualReport = tuple[str, str, str, str, str, str | None]


def usual_report(message: str) -> UsualReport | None:
    """The fields of a REPORT line in the usual layout (what parse_text reads from it, in the
    same order, without a dictionary or a float); None for any other line: parse_text reads
    those."""
    match = _USUAL_REPORT.match(message)
    if match is None:
        return None
    end = match.end()
    if len(message) - end >= _SHORTEST_FIELD and _REPORT_FIELD.search(message, end):
        return None
    return match.groups()  # type: ignore[return-value]  # the pattern's six groups


def parse_platform(record: Mapping[str, Any]) -> dict[str, Any] | None:
    """Lambda fields of a JSON-format platform record ({"type": "platform.report", ...})."""
    kind = record.get("type")
    body = record.get("record")
    if (
        not isinstance(kind, str)
        or not kind.startswith("platform.")
        or not isinstance(body, Mapping)
    ):
        return None
    names = {"platform.start": "START", "platform.runtimeDone": "END", "platform.report": "REPORT"}
    fields: dict[str, Any] = {"type": names.get(kind, kind)}
    if isinstance(body.get("requestId"), str):
        fields["request_id"] = body["requestId"]
    if isinstance(body.get("version"), str):
        fields["version"] = body["version"]
    metrics = body.get("metrics")
    if isinstance(metrics, Mapping):
        for source, target in _PLATFORM_METRICS.items():
            value = metrics.get(source)
            if isinstance(value, int | float) and not isinstance(value, bool):
                fields[target] = int(value) if target.endswith("_mb") else float(value)
        if kind == "platform.report":
            fields["cold_start"] = "init_duration_ms" in fields
    return fields


def _number(text: str, *, whole: bool) -> float | int | None:
    try:
        value = float(text)
        return int(value) if whole else value
    except (ValueError, OverflowError):
        return None
