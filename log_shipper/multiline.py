"""Multi-line events for CloudWatch: one stack trace the container runtime split into one event
per line, merged back into one document. Pure; opt-in per route.

The ECS `awslogs` driver without `awslogs-multiline-pattern` sends each line of a Java or
Python stack trace as an event of its own. A route's `multiline` takes the same start pattern
ECS takes (and the Elastic Serverless Forwarder's `pattern` with `negate: true, match:
after`): a line the pattern matches (`re.search`, on the event's first line) starts an event;
the lines after it that it does not match are joined to it, in order, with "\\n".

    {"log_group": "/ecs/orders", "multiline": {"start": "^\\\\S", "max_lines": 500,
                                                "max_bytes": 262144}}

Within one payload (one subscription message: the events of one log stream, in order):
- the merged event keeps the first event's id and timestamp, so its document's `_id` is the one
  its first line alone would have had: a re-delivered payload meets the same `_id`, once;
- at most `max_lines` lines and `max_bytes` bytes (UTF-8, with the "\\n"s) go in one event;
  the line that would pass either starts the next one. Nothing is ever cut or dropped: a single
  event longer than the bounds stays whole, on its own;
- a trace split across two payloads (CloudWatch cut the batch mid-trace, a Kinesis record
  boundary, a backfill page) becomes two documents: the second starts with a line the pattern
  does not match, and says so (`log.flags: multiline_continued`). Both are deterministic: each
  payload, delivered again, gives the same two.
Merged documents have `log.flags: ["multiline"]`. One trailing newline of each part is left
out before the join (the awslogs driver leaves none; Lambda ends its lines with one).
The bounds are counted on the joined text itself, so a merged event that is dead-lettered and
replayed through the same route comes out as the same one event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, NamedTuple

from log_shipper.events import LogEvent
from opsbundle.exceptions import ConfigError

DEFAULT_MAX_LINES = 500  # ESF's default
MAX_LINES = 10_000
DEFAULT_MAX_BYTES = 262_144  # the size a CloudWatch Logs event had for years: a document of one
MAX_BYTES = 1_048_576
MIN_BYTES = 1024
MERGED = "multiline"
CONTINUED = "multiline_continued"


@dataclass(frozen=True)
class Multiline:
    start: re.Pattern[str]
    max_lines: int = DEFAULT_MAX_LINES
    max_bytes: int = DEFAULT_MAX_BYTES


class Merged(NamedTuple):
    events: list[LogEvent]
    # id() of an event of `events` → its log.flags (only the events that have some)
    flags: dict[int, tuple[str, ...]]


def parse(value: Any, where: str) -> Multiline:
    """A route's `multiline` object; ConfigError names the route and the field."""
    if not isinstance(value, dict):
        raise ConfigError(where, 'must be an object with a "start" pattern')
    unknown = set(value) - {"start", "max_lines", "max_bytes"}
    if unknown:
        raise ConfigError(where, f"unknown keys {sorted(unknown)}")
    start = value.get("start")
    if not isinstance(start, str) or not start:
        raise ConfigError(
            f"{where}.start",
            "must be a regular expression matching the first line of an event, e.g. '^\\\\S' "
            "(a line not starting with a blank) or '^\\\\d{4}-\\\\d\\\\d-\\\\d\\\\d' (a date)",
        )
    try:
        pattern = re.compile(start)
    except re.error as error:
        raise ConfigError(f"{where}.start", f"bad regular expression: {error}") from None
    if pattern.search(""):
        raise ConfigError(
            f"{where}.start",
            f"{start!r} matches an empty line, so it matches every line and nothing would be "
            "merged; anchor it on what a first line has, e.g. '^\\\\S'",
        )
    return Multiline(
        start=pattern,
        max_lines=_bounded(
            value, "max_lines", where, default=DEFAULT_MAX_LINES, low=2, high=MAX_LINES
        ),
        max_bytes=_bounded(
            value, "max_bytes", where, default=DEFAULT_MAX_BYTES, low=MIN_BYTES, high=MAX_BYTES
        ),
    )


def _bounded(
    value: dict[str, Any], key: str, where: str, *, default: int, low: int, high: int
) -> int:
    number = value.get(key, default)
    if not isinstance(number, int) or isinstance(number, bool) or not low <= number <= high:
        raise ConfigError(f"{where}.{key}", f"must be a whole number from {low} to {high}")
    return number


def merge(events: list[LogEvent], rule: Multiline) -> Merged:
    """The events with each start line and the lines after it that are no start joined, in
    order, within the rule's bounds; see the module's docstring."""
    search, max_lines, max_bytes = rule.start.search, rule.max_lines, rule.max_bytes
    out: list[LogEvent] = []
    flags: dict[int, tuple[str, ...]] = {}
    head: LogEvent | None = None
    parts: list[str] = []
    lines = size = 0
    head_starts = True
    for event in events:
        part = event.message
        if part.endswith("\n"):
            part = part[:-2] if part.endswith("\r\n") else part[:-1]
        newlines = part.count("\n")
        part_size = len(part) if part.isascii() else len(part.encode("utf-8", "surrogatepass"))
        starts = search(part[: part.index("\n")] if newlines else part) is not None
        if (
            not starts
            and head is not None
            and lines + newlines + 1 <= max_lines
            and size + 1 + part_size <= max_bytes
        ):
            parts.append(part)
            lines += newlines + 1
            size += 1 + part_size
            continue
        if head is not None:
            if len(parts) == 1 and head_starts:
                out.append(head)  # the usual line: as it came, no flag
            else:
                _close(out, flags, head, parts, head_starts=head_starts)
        head, parts, lines, size, head_starts = event, [part], newlines + 1, part_size, starts
    if head is not None:
        _close(out, flags, head, parts, head_starts=head_starts)
    return Merged(out, flags)


def _close(
    out: list[LogEvent],
    flags: dict[int, tuple[str, ...]],
    head: LogEvent,
    parts: list[str],
    *,
    head_starts: bool,
) -> None:
    """Add the event a group of lines makes (its head as it came when it is alone)."""
    if len(parts) == 1:
        event = head
        names: tuple[str, ...] = () if head_starts else (CONTINUED,)
    else:
        event = LogEvent(head.id, head.timestamp, "\n".join(parts))
        names = (MERGED,) if head_starts else (MERGED, CONTINUED)
    out.append(event)
    if names:
        flags[id(event)] = names
