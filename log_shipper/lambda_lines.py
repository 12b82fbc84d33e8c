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
    if first == "S" and message.startswith("START RequestId: "):
        match = _START.match(message)
        if match:
            fields: dict[str, Any] = {"type": "START", "request_id": match["request_id"]}
            if match["version"]:
                fields["version"] = match["version"]
            return fields, None
    elif first == "E" and message.startswith("END RequestId: "):
        match = _END.match(message)
        if match:
            return {"type": "END", "request_id": match["request_id"]}, None
    elif first == "R" and message.startswith("REPORT RequestId: "):
        match = _REPORT.match(message)
        if match:
            fields = {"type": "REPORT", "request_id": match["request_id"]}
            for name, value in _REPORT_FIELD.findall(message):
                target = _REPORT_FIELDS[name]
                fields[target] = int(float(value)) if target.endswith("_mb") else float(value)
            fields["cold_start"] = "init_duration_ms" in fields
            return fields, None
    elif first == "[" or first.isdigit():
        # "[LEVEL]\t<time>\t<request id>\t..." (Python) or "<time>\t<request id>\tLEVEL\t..."
        # (Node.js): split first, the regular expression confirms only a likely line.
        parts = message.split("\t", 3)
        if len(parts) == 4 and len(parts[2 if first == "[" else 1]) == 36:
            match = (_PY_PREFIX if first == "[" else _NODE_PREFIX).match(message)
            if match:
                return {"request_id": match["request_id"]}, match["level"].lower()
    return None, None


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
