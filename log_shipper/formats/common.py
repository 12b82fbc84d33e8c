"""What the formats share: the parsed record, timestamps, absent values, safe numbers."""

from __future__ import annotations

import json
import re
import socket
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

ABSENT = "-"  # how the text formats write a value that is not there


class FormatError(ValueError):
    """A line or record that is not what its format documents (indexed as text instead)."""


@dataclass(frozen=True, slots=True)
class Parsed:
    timestamp_ms: int | None  # None: the line has no time of its own (read at ingest time)
    fields: dict[str, Any] = field(default_factory=dict)
    event_id: str | None = None  # the event's own id, where the format has one


def iso_ms(text: str) -> int:
    """An ISO 8601 time (`2018-07-02T22:23:00.186641Z`) in milliseconds since the epoch."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise FormatError(f"not an ISO 8601 time: {text[:40]!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp() * 1000)


def number(text: str | None) -> int | float | None:
    """A number, or None for "-" (and for text that is not one)."""
    if text is None or text in (ABSENT, ""):
        return None
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            return None


def present(text: str | None) -> str | None:
    return None if text is None or text in (ABSENT, "") else text


def ip(text: str | None) -> str | None:
    """An IP address as OpenSearch's `ip` type takes it, or None (a service name, "-").
    (inet_pton checks it in C: ipaddress took a third of an ALB line's parsing.)"""
    if not text or text == ABSENT:
        return None
    try:
        socket.inet_pton(socket.AF_INET6 if ":" in text else socket.AF_INET, text)
    except (OSError, ValueError):
        return None
    return text


def host_port(text: str | None) -> tuple[str | None, int | None]:
    """`10.0.0.1:80`, `[2001:db8::1]:443` or `2001:db8::1:443` (the load balancers' way)."""
    text = present(text)
    if text is None:
        return None, None
    address, _, port = text.rpartition(":")
    if not address:
        return ip(text), None
    address = address.strip("[]")
    port_number = number(port)
    return ip(address), port_number if isinstance(port_number, int) else None


def put(target: dict[str, Any], dotted: str, value: Any) -> None:
    """target["a"]["b"] = value for "a.b"; None and empty strings are left out."""
    if value is None or value == "":
        return
    *parents, last = dotted.split(".")
    node = target
    for name in parents:
        node = node.setdefault(name, {})
    node[last] = value


# A field: quoted parts (which may hold spaces) and bare characters, up to a space outside
# quotes. `"h2","http/1.1"` (the NLB's ALPN list) is one field, kept as written.
_FIELD = re.compile(r'(?:"(?:[^"\\]|\\.)*"|[^\s"]+)+')
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
# The usual line: every field one quoted string or bare, no escape anywhere; then one
# findall reads it (a third of the time of the careful way).
_SIMPLE = re.compile(r'"([^"]*)"|(\S+)')


def tokens(line: str, *, careful: bool = False) -> list[str]:
    """Space-separated fields; one that is a single double-quoted string is unquoted (its
    backslash escapes undone). `careful` for a format whose fields may hold quotes inside
    (the NLB's `"h2","http/1.1"`); a line with an escape is always read carefully."""
    if not careful and "\\" not in line:
        return [quoted or bare for quoted, bare in _SIMPLE.findall(line)]
    out = []
    for match in _FIELD.finditer(line):
        field_text = match.group(0)
        whole = _QUOTED.fullmatch(field_text)
        if whole:
            field_text = whole.group(1).replace('\\"', '"').replace("\\\\", "\\")
        out.append(field_text)
    return out


def snake(name: str) -> str:
    """`x-edge-location` / `cs(User-Agent)` / `eventName` → `x_edge_location` / ... ."""
    name = re.sub(r"[^0-9A-Za-z]+", "_", name).strip("_")
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def keep_rest(
    fields: dict[str, Any],
    prefix: str,
    record: dict[str, Any],
    *,
    skip: tuple[str, ...],
    as_text: tuple[str, ...],
) -> None:
    """A JSON record's other keys under `prefix` (snake_case): plain values as they are, the
    `as_text` ones and every nested object or list as JSON text (no field explosion)."""
    for key, value in record.items():
        if key in skip:
            continue
        if key in as_text or isinstance(value, dict | list):
            put(fields, f"{prefix}.{snake(key)}", json.dumps(value, separators=(",", ":")))
        elif isinstance(value, str | int | float | bool):
            put(fields, f"{prefix}.{snake(key)}", value)
