"""Lambda's own lines parsed into fields: pure, for dashboards (durations, memory, cold starts,
timeouts).

Text format (the default), as the Lambda service writes it (fields apart by tabs; AWS's pages
and some tools show spaces, read the same):
    START RequestId: <id> Version: <version>
    END RequestId: <id>
    REPORT RequestId: <id>  Duration: 2.26 ms  Billed Duration: 3 ms  Memory Size: 128 MB
        Max Memory Used: 71 MB  Init Duration: 190.35 ms  [Status: timeout]
    REPORT … Restore Duration: 398.97 ms  Billed Restore Duration: 182 ms      (SnapStart)
    INIT_REPORT Init Duration: 150.79 ms  Phase: init  Status: error  Error Type: Runtime.ExitError
    RESTORE_REPORT Restore Duration: 1236.04 ms  Status: timeout
    <time> <id> Task timed out after 3.00 seconds
and the runtimes' own prefixes ("[ERROR]\t<time>\t<request id>\t..." in Python, with a bare
"[ERROR] " before the handler runs; "<time>\t<request id>\tERROR\t..." in Node.js, whose id is
"undefined" outside a request). JSON format (LoggingConfig LogFormat JSON): platform.* records,
{"type": "platform.report", "record": {"requestId", "status", "metrics": {...}}}.

Request ids are taken whole or not at all: letters, digits and dashes, up to 64, then a blank
or the end of the line (AWS's own examples write ids like `8f507cfc-xmpl-4697-…`). An id with
anything else in it is left out, never cut short; the rest of the line is still read.

SnapStart: REPORT's `Restore Duration` (restoring the snapshot, loading the runtime, the
after-restore hooks) and `Billed Restore Duration` (what of it is billed) are two fields. AWS's
SnapStart monitoring page counts the first as start-up time (a cold start lasts Restore
Duration + Duration, and its example query groups REPORTs with an Init or a Restore Duration as
cold starts), so a REPORT with a Restore Duration is a cold start (`cold_start: true`), as one
with an Init Duration is.

Only REPORT (and platform.report) carries `duration_ms`: an INIT_REPORT's or a RESTORE_REPORT's
duration is `init_duration_ms` or `restore_duration_ms`, and an END (platform.runtimeDone) has
none, so no start-up time ever passes for an invocation's.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

# A request id, whole: a longer or odder token matches the second branch, which reads it as
# no id at all.
_ID = r"[0-9A-Za-z-]{1,64}"
_WHOLE_ID = rf"(?:(?P<request_id>{_ID})(?![^\s])|\S*)"
_START = re.compile(r"START RequestId: " + _WHOLE_ID + r"(?:\s+Version: (?P<version>\S+))?")
_END = re.compile(r"END RequestId: " + _WHOLE_ID)
_REPORT = re.compile(r"REPORT RequestId: " + _WHOLE_ID)
_NUMBER_FIELDS = {
    "Duration": "duration_ms",
    "Billed Duration": "billed_duration_ms",
    "Memory Size": "memory_size_mb",
    "Max Memory Used": "max_memory_used_mb",
    "Init Duration": "init_duration_ms",
    "Restore Duration": "restore_duration_ms",
    "Billed Restore Duration": "billed_restore_duration_ms",
}
# A field's whole name (capitalised words), so that "Billed Restore Duration" is never read as
# "Restore Duration", nor any "… Duration" as "Duration"; names not above are left alone.
_NUMBER_FIELD = re.compile(r"([A-Z][a-z]*(?: [A-Z][a-z]*)*): ([0-9][0-9.]*) (?:ms|MB)")
_WORD_FIELD = re.compile(r"(?<!\S)(Status|Phase|Error Type): (\S{1,128})")
_WORD_FIELDS = {"Status": "status", "Phase": "phase", "Error Type": "error_type"}
# The usual REPORT line, its fields in the order Lambda writes them, read in one match. Its
# numbers are JSON numbers as they stand (no leading zero, short enough to stay finite, whole
# megabytes), so a document takes their text without a float round trip; anything else goes
# the general way.
_DECIMAL = r"((?:0|[1-9][0-9]{0,11})(?:\.[0-9]{1,6})?)"
_WHOLE = r"(0|[1-9][0-9]{0,8})"
_USUAL_REPORT = re.compile(
    r"REPORT RequestId: ("
    + _ID
    + r")\tDuration: "
    + _DECIMAL
    + r" ms\tBilled Duration: "
    + _DECIMAL
    + r" ms\tMemory Size: "
    + _WHOLE
    + r" MB\tMax Memory Used: "
    + _WHOLE
    + r" MB"
    + r"(?:\tInit Duration: "
    + _DECIMAL
    + r" ms)?"
)
# What may follow the usual fields for them to be all there is: blanks, and X-Ray's line.
_PLAIN_TAIL = re.compile(r"\s*(?:XRAY TraceId: [^\n]*\s*)?\Z")
_TIMESTAMP = r"\d{4}-\d\d-\d\dT[0-9:.]+Z"
_PY_PREFIX = re.compile(
    r"\[(?P<level>[A-Z]+)\]\t" + _TIMESTAMP + r"\t(?P<request_id>" + _ID + r")\t"
)
# Before the handler runs (an import error), Python writes "[ERROR] Runtime.…" with no time.
_PY_BARE = re.compile(r"\[(?P<level>CRITICAL|ERROR|WARNING|WARN|INFO|DEBUG)\] (?=\S)")
_NODE_PREFIX = re.compile(
    _TIMESTAMP + r"\t(?:undefined|(?P<request_id>" + _ID + r"))\t(?P<level>[A-Z]+)\t"
)
_TIMED_OUT = re.compile(
    _TIMESTAMP + r"[ \t](?P<request_id>" + _ID + r")[ \t]Task timed out after "
    r"(?P<seconds>[0-9]{1,9}(?:\.[0-9]{1,9})?) seconds"
)
_PLATFORM_TYPES = {
    "platform.start": "START",
    "platform.runtimeDone": "END",
    "platform.report": "REPORT",
    "platform.initReport": "INIT_REPORT",
    "platform.restoreReport": "RESTORE_REPORT",
}
# The metrics read from each kind of record (platform.runtimeDone's durationMs is the
# runtime's share of the invocation: the REPORT that follows has the invocation's own).
_PLATFORM_METRICS: dict[str, dict[str, str]] = {
    "platform.report": {
        "durationMs": "duration_ms",
        "billedDurationMs": "billed_duration_ms",
        "memorySizeMB": "memory_size_mb",
        "maxMemoryUsedMB": "max_memory_used_mb",
        "initDurationMs": "init_duration_ms",
        "restoreDurationMs": "restore_duration_ms",
        "billedRestoreDurationMs": "billed_restore_duration_ms",
    },
    "platform.initReport": {"durationMs": "init_duration_ms"},
    "platform.restoreReport": {"durationMs": "restore_duration_ms"},
}
# Record strings kept as keyword fields (a longer one is left out: never cut).
_PLATFORM_WORDS = {
    "requestId": ("request_id", 64),
    "version": ("version", 128),
    "status": ("status", 32),
    "phase": ("phase", 32),
    "errorType": ("error_type", 128),
}


def parse_text(message: str) -> tuple[dict[str, Any] | None, str | None]:
    """(lambda fields, log level) of a text line; (None, None) when it is neither."""
    first = message[:1]
    if first == "[" or first.isdigit():
        return _runtime_fields(message)
    return _lambda_fields(message), None


def _lambda_fields(message: str) -> dict[str, Any] | None:
    """The fields of a line the Lambda service writes (START, END, the reports)."""
    start = start_line(message)
    if start is not None:
        return _with({"type": "START"}, request_id=start[0], version=start[1])
    end = end_line(message)
    if end is not None:
        return _with({"type": "END"}, request_id=end or None)
    if message.startswith("REPORT RequestId: "):
        return _report(message)
    for prefix in ("INIT_REPORT ", "RESTORE_REPORT "):
        if message.startswith(prefix):
            return _read_fields(message, len(prefix), {"type": prefix[:-1]})
    return None


def _report(message: str) -> dict[str, Any] | None:
    match = _REPORT.match(message)
    if match is None:
        return None
    fields = _with({"type": "REPORT"}, request_id=match["request_id"])
    _read_fields(message, match.end(), fields)
    fields["cold_start"] = "init_duration_ms" in fields or "restore_duration_ms" in fields
    return fields


def _runtime_fields(message: str) -> tuple[dict[str, Any] | None, str | None]:
    """(fields, level) of a runtime's line, or of Lambda's "Task timed out" line."""
    prefix = runtime_prefix(message)
    if prefix is not None:
        return _with({}, request_id=prefix[0]) or None, prefix[1]
    timed_out = timeout_line(message) if message[:1].isdigit() else None
    if timed_out is None:
        return None, None
    return {"request_id": timed_out[0], "status": "timeout", "timeout_s": timed_out[1]}, None


def _with(fields: dict[str, Any], **values: Any) -> dict[str, Any]:
    """`fields` with the values that are not None added."""
    fields.update((k, v) for k, v in values.items() if v is not None)
    return fields


def _read_fields(message: str, start: int, fields: dict[str, Any]) -> dict[str, Any]:
    """The named figures and words of a report line from `start`, added to `fields`."""
    for name, value in _NUMBER_FIELD.findall(message, start):
        target = _NUMBER_FIELDS.get(name)
        if target is not None:
            number = _number(value, whole=target.endswith("_mb"))
            if number is not None:  # "1.2.3 ms" or an absurd figure: left out, not fatal
                fields[target] = number
    for name, value in _WORD_FIELD.findall(message, start):
        field = _WORD_FIELDS[name]
        fields[field] = value if field == "error_type" else value.lower()
    return fields


def start_line(message: str) -> tuple[str | None, str | None] | None:
    """(request id or None, version or None) of a START line; None for any other line."""
    if not message.startswith("START RequestId: "):
        return None
    match = _START.match(message)
    if match is None:
        return None
    return match["request_id"], match["version"] or None


def end_line(message: str) -> str | None:
    """The request id of an END line ("" when it has none to take whole); None for any other
    line."""
    if not message.startswith("END RequestId: "):
        return None
    match = _END.match(message)
    if match is None:
        return None
    return match["request_id"] or ""


def runtime_prefix(message: str) -> tuple[str | None, str] | None:
    """(request id or None, level lower-cased) of a runtime's line: "[LEVEL]\t<time>\t<request
    id>\t..." or "[LEVEL] ..." (Python) or "<time>\t<request id>\tLEVEL\t..." (Node.js); None
    for any other line. Anchored patterns without nested repeats: a line that is neither fails
    within its first characters."""
    if message[:1] == "[":
        match = _PY_PREFIX.match(message)
        if match is None:
            bare = _PY_BARE.match(message)
            return None if bare is None else (None, bare["level"].lower())
    else:
        match = _NODE_PREFIX.match(message)
        if match is None:
            return None
    request_id, level = match.group("request_id", "level")
    return request_id, level.lower()


def timeout_line(message: str) -> tuple[str, float] | None:
    """(request id, seconds) of Lambda's "<time> <request id> Task timed out after 3.00
    seconds"; None for any other line."""
    match = _TIMED_OUT.match(message)
    if match is None:
        return None
    return match["request_id"], float(match["seconds"])


# (request id, duration ms, billed duration ms, memory size MB, max memory used MB, init
# duration ms or None on a warm start), the numbers as JSON number texts: a plain tuple, made
# 1,000s of times per payload.
UsualReport = tuple[str, str, str, str, str, str | None]


def usual_report(message: str) -> UsualReport | None:
    """The fields of a REPORT line in the usual layout (what parse_text reads from it, in the
    same order, without a dictionary or a float); None for any other line, or one with more
    fields (a Restore Duration, a Status): parse_text reads those."""
    match = _USUAL_REPORT.match(message)
    if match is None:
        return None
    end = match.end()
    if len(message) - end > 2 and not _PLAIN_TAIL.match(message, end):
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
    fields: dict[str, Any] = {"type": _PLATFORM_TYPES.get(kind, kind)}
    for source, (target, longest) in _PLATFORM_WORDS.items():
        value = body.get(source)
        if isinstance(value, str) and 0 < len(value) <= longest:
            fields[target] = value.lower() if target in ("status", "phase") else value
    metrics = body.get("metrics")
    wanted = _PLATFORM_METRICS.get(kind)
    if wanted and isinstance(metrics, Mapping):
        for source, target in wanted.items():
            value = metrics.get(source)
            if isinstance(value, int | float) and not isinstance(value, bool):
                fields[target] = int(value) if target.endswith("_mb") else float(value)
    if kind == "platform.report":
        fields["cold_start"] = "init_duration_ms" in fields or "restore_duration_ms" in fields
    return fields


def _number(text: str, *, whole: bool) -> float | int | None:
    try:
        value = float(text)
    except ValueError:
        return None
    if not math.isfinite(value):  # hundreds of digits: no JSON number OpenSearch takes
        return None
    return int(value) if whole else value
