"""CloudWatch Logs events → OpenSearch documents: pure, deterministic, no I/O.

A document:
    @timestamp              the event's own time (ms precision, UTC)
    event.ingested          when the shipper transformed it
    message                 the line as sent (masked when the route redacts)
    cloud.provider/account.id/region
    aws.cloudwatch.log_group/log_stream/event_id
    lambda.*                START/END/REPORT/INIT_REPORT/RESTORE_REPORT fields, request id,
                            timeouts (see lambda_lines)
    log.level               from the runtime's prefix or the JSON's level field
    log.flags               multiline, multiline_continued: lines a route merged (see multiline)
    json.*                  a JSON message, parsed: field names made safe, depth and field
                            counts capped (the full text stays in `message`)
    tags                    json_truncated, json_as_text (after a mapping conflict)
    redaction.count/kinds   how many values were masked, and of which kinds
The `_id` is a digest of (account, log group, log stream, event id), so any retry, replay or
duplicate delivery of the same event writes the same document, once.

Speed matters here (a busy log group sends 10,000 events in one payload): each document is
written straight to its `_bulk` lines (action and JSON text, in one string) with the parts
that are the same for the whole batch serialized once, Lambda's own lines written from their
matches without a dictionary, and a JSON message that needs no change copied in as it came.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from json.encoder import encode_basestring
from operator import itemgetter
from typing import Any

import orjson

from log_shipper import lambda_lines, multiline
from log_shipper.events import LogBatch, LogEvent
from log_shipper.layout import utc_day
from log_shipper.routing import IndexNamer, Route, first_kept_day
from opsbundle.redaction import redact

_LEVEL_KEYS = ("level", "levelname", "severity", "log.level")


# json.dumps(value, ensure_ascii=False, separators=(",", ":")) with the encoder built once
# (the benchmark's floor serializes with the same public API, the same way).
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), check_circular=False).encode


# Keys that need changing: a dot, or blank (OpenSearch expands the one and refuses the
# other). A JSON text with neither (and no escape, which these patterns can't see past) is
# copied in as it is, once orjson has proved it one valid object.
# (From a key's last dot: stopping at any other dot keeps a text of many dots linear.)
_DOTTED_KEY = re.compile(r'\.[^".]*"\s*:')
_BLANK_KEY = re.compile(r'"\s*"\s*:')
_LONG_DIGITS = re.compile(r"\d{20}")  # maybe an integer past 64 bits


def create_action(index: str, document_id: str) -> str:
    """The `_bulk` action line that creates a document (index and id need no escaping)."""
    return f'{{"create":{{"_index":"{index}","_id":"{document_id}"}}}}'


# A document on its way to `_bulk`, as the hot path makes it: (its create action and JSON
# text, each line ending in a newline; the event; its batch; whether its parsed JSON was
# dropped after a mapping conflict). A plain tuple: a payload makes 10,000 of them, and an
# object with named fields made the whole path 4% slower (measured on Python 3.12).
# `Document` names the same fields where speed doesn't matter: failures, tests.
Pending = tuple[str, LogEvent, LogBatch, bool]


@dataclass(slots=True)
class Document:
    """An event ready for `_bulk`: `lines` is its create action and its JSON text, each ending
    in a newline (`body` is the second line)."""

    id: str
    index: str
    lines: str
    event: LogEvent
    batch: LogBatch
    json_dropped: bool = False  # rewritten by as_text after a mapping conflict

    @classmethod
    def of(
        cls,
        document_id: str,
        index: str,
        body: str,
        event: LogEvent,
        batch: LogBatch,
        *,
        json_dropped: bool = False,
    ) -> Document:
        lines = f"{create_action(index, document_id)}\n{body}\n"
        return cls(document_id, index, lines, event, batch, json_dropped)

    @classmethod
    def of_pending(cls, pending: Pending) -> Document:
        """The fields of a pending document, its id and index read back from its action."""
        lines, event, batch, json_dropped = pending
        action = json.loads(lines[: lines.index("\n")])["create"]
        return cls(action["_id"], action["_index"], lines, event, batch, json_dropped)

    @property
    def pending(self) -> Pending:
        return (self.lines, self.event, self.batch, self.json_dropped)

    @property
    def body(self) -> str:
        """The document's JSON text (one line: it holds no newline)."""
        return self.lines[self.lines.rindex("\n", 0, len(self.lines) - 1) + 1 : -1]

    @property
    def source(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value


@dataclass
class TransformStats:
    filtered: int = 0
    expired: int = 0  # dated before the route's retention: not indexed
    redacted: Counter[str] = field(default_factory=Counter)
    json_truncated: int = 0
    merged: int = 0  # events joined to an earlier one's document (a multiline route)


@dataclass(frozen=True)
class Limits:
    max_fields: int = 200  # keys in a message's JSON (object fields, all levels)
    max_depth: int = 6  # nesting of objects and arrays in it


def stream_key(owner: str, log_group: str, log_stream: str) -> str:
    """128 bits of blake2b over (account, log group, log stream): the first half of an _id."""
    # surrogatepass: a lone surrogate (an escape in a crafted event) hashes, never raises
    key = f"{owner}\x1f{log_group}\x1f{log_stream}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(key, digest_size=16).hexdigest()


def document_id(owner: str, log_group: str, log_stream: str, event_id: str) -> str:
    """`<stream key>-<CloudWatch event id>`: the same event always gets the same _id (the event
    id, 56 digits, is unique within its stream; the stream key tells streams apart)."""
    return f"{stream_key(owner, log_group, log_stream)}-{event_id}"


def iso_millis(timestamp_ms: int) -> str:
    seconds, millis = divmod(timestamp_ms, 1000)
    return f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%S}.{millis:03d}Z"


# ".000Z" … ".999Z": the milliseconds of a timestamp, looked up instead of formatted per event.
_MILLIS = tuple(f".{m:03d}Z" for m in range(1000))


def transform_batch(
    batch: LogBatch,
    route: Route,
    *,
    region: str,
    ingested: datetime,
    limits: Limits | None = None,
    stats: TransformStats | None = None,
) -> Iterator[Pending]:
    """Documents for the events of one batch that the route wants, in order.

    A route with `multiline` first merges the batch's split lines (multiline.merge: once per
    batch, nothing per event when the route has none), then flags the merged documents."""
    limits = limits or Limits()
    stats = stats if stats is not None else TransformStats()
    if route.multiline is None:
        return _documents(
            batch,
            batch.events,
            route=route,
            region=region,
            ingested=ingested,
            limits=limits,
            stats=stats,
        )
    merged = multiline.merge(batch.events, route.multiline)
    stats.merged += len(batch.events) - len(merged.events)
    documents = _documents(
        batch,
        merged.events,
        route=route,
        region=region,
        ingested=ingested,
        limits=limits,
        stats=stats,
    )
    return _flagged(documents, merged.flags)


def _documents(  # noqa: PLR0915 - the hot loop stays whole: a call per event costs
    batch: LogBatch,
    events: list[LogEvent],
    *,
    route: Route,
    region: str,
    ingested: datetime,
    limits: Limits,
    stats: TransformStats,
) -> Iterator[Pending]:
    """The hot loop: a document for each of `events` (the batch's) that the route wants.

    What is the same for the whole batch (cloud and log group fields, the id prefix) is
    serialized once; the second of a timestamp and the index of a day are worked out once
    per second and per day (events come in time order)."""
    name = IndexNamer(route.index, log_group=batch.log_group, account=batch.owner).name
    fixed_index = batch.index
    enc = encode_basestring
    head, static = _batch_parts(batch, region, ingested)
    id_prefix = stream_key(batch.owner, batch.log_group, batch.log_stream) + "-"
    filters, redacting, wants = route.filters, route.redact, route.wants
    millis_text = _MILLIS
    plain_ids = _plain_ids(events)
    first_kept = first_kept_day(route, utc_day(ingested))
    kept = -(1 << 100) if first_kept is None else first_kept  # the first day retention keeps
    second_ms, day = -(1 << 100), None  # the current second's start (ms) and day
    second_text = index = create = ""
    expired = False
    for event in events:
        event_id, timestamp, message = event
        millis = timestamp - second_ms
        if not 0 <= millis < 1000:  # another second (the first event's, at the start)
            millis = timestamp % 1000
            second_ms = timestamp - millis
            seconds = second_ms // 1000
            second_text = f"{datetime.fromtimestamp(seconds, UTC):%Y-%m-%dT%H:%M:%S}"
            if seconds // 86_400 != day:
                day = seconds // 86_400
                expired = day < kept
                index = fixed_index or name(timestamp)
                create = create_action(index, id_prefix)[:-3]  # up to the event's part of _id
        if expired:  # its day is past retention: its index is gone, or about to go
            stats.expired += 1
            continue
        if filters and not wants(message):
            stats.filtered += 1
            continue
        extra = ""
        if redacting:
            message, extra = _redacted(message, stats)
        first = message[:1]
        if first in _TEXT_STARTS:
            fields = _text_fields(message)
        elif first == "{" or (first.isspace() and message.lstrip()[:1] == "{"):
            parsed = _json_fields(message.strip(), limits, stats)
            fields = _text_fields(message) if parsed is None else parsed
        elif first.isdigit():
            fields = _text_fields(message)
        else:
            fields = ""
        if plain_ids or _plain_id(event_id):
            # ASCII letters and digits (a CloudWatch id is 56 digits): the _id as it is, and
            # nothing to escape in the JSON string.
            yield (
                f'{create}{event_id}"}}}}\n{{"@timestamp":"{second_text}{millis_text[millis]}'
                f'{head}{enc(message)}{static}"{event_id}"}}}}{fields}{extra}}}\n',
                event,
                batch,
                False,
            )
        else:
            raw_id = event_id.encode("utf-8", "surrogatepass")
            hashed = hashlib.blake2b(raw_id, digest_size=16).hexdigest()
            yield (
                f'{create}{hashed}"}}}}\n{{"@timestamp":"{second_text}{millis_text[millis]}'
                f"{head}{enc(message)}{static}{enc(event_id)}}}}}{fields}{extra}}}\n",
                event,
                batch,
                False,
            )


def _flagged(documents: Iterator[Pending], flags: dict[int, tuple[str, ...]]) -> Iterator[Pending]:
    """The documents, those of merged (or continued) events with `log.flags` added: parsed and
    written again, which only a multiline route pays, once per such document."""
    for pending in documents:
        names = flags.get(id(pending[1]))
        if names is None:
            yield pending
            continue
        lines, event, batch, json_dropped = pending
        cut = lines.index("\n") + 1
        source = json.loads(lines[cut:-1])
        log = source.get("log")
        source["log"] = {**(log if isinstance(log, dict) else {}), "flags": list(names)}
        yield (f"{lines[:cut]}{_dumps(source)}\n", event, batch, json_dropped)


MAX_PLAIN_ID = 128  # characters of an event id used as it is in the _id; longer ones hashed


def _plain_id(event_id: str) -> bool:
    """ASCII letters and digits, not too long (bytes.isalnum is the fast check)."""
    return event_id.isascii() and event_id.encode().isalnum() and len(event_id) <= MAX_PLAIN_ID


def _plain_ids(events: list[LogEvent]) -> bool:
    """_plain_id for every event id of a batch, checked on them all at once (CloudWatch's
    always pass: one check per batch instead of one per event)."""
    ids = list(map(itemgetter(0), events))
    joined = "".join(ids)
    return (
        joined.isascii()
        and joined.encode().isalnum()
        and all(ids)  # an empty id would hide in the joined text
        and max(map(len, ids), default=0) <= MAX_PLAIN_ID
    )


def _batch_parts(batch: LogBatch, region: str, ingested: datetime) -> tuple[str, str]:
    """The JSON text the documents of a batch share: from the end of @timestamp to the start
    of message, and from the end of message to the start of the event id."""
    cloud = {"provider": "aws", "account": {"id": batch.owner}, "region": batch.region or region}
    head = '","event":{"ingested":"' + iso_millis(int(ingested.timestamp() * 1000))
    head += '"},"message":'
    static = (
        ',"cloud":'
        + _dumps(cloud)
        + ',"aws":{"cloudwatch":{"log_group":'
        + encode_basestring(batch.log_group)
        + ',"log_stream":'
        + encode_basestring(batch.log_stream)
        + ',"event_id":'
    )
    return head, static


def _redacted(message: str, stats: TransformStats) -> tuple[str, str]:
    """(the message masked, the redaction field as JSON text starting with a comma, or "")."""
    counts: Counter[str] = Counter()
    message = redact(message, counts)
    if not counts:
        return message, ""
    stats.redacted.update(counts)
    extra = ',"redaction":{"count":%d,"kinds":%s}' % (  # noqa: UP031
        sum(counts.values()),
        _dumps(sorted(counts)),
    )
    return message, extra


# First characters of the text lines lambda_lines.parse_text can read (START, END, REPORT,
# RESTORE_REPORT, INIT_REPORT, a Python runtime's "[LEVEL]" prefix; a Node.js runtime's
# timestamp and Lambda's "Task timed out" start with a digit): others skip it.
_TEXT_STARTS = frozenset("SERI[")


def _text_fields(message: str) -> str:  # noqa: PLR0911 - one call per line, no helper's
    """The fields of a Lambda text line, as JSON text starting with a comma ("" for none).

    Written straight from what lambda_lines read (the same text _dumps would give: request
    ids are letters, digits and dashes, levels capital letters, lower-cased)."""
    first = message[:1]
    if first == "[" or first.isdigit():  # a runtime's prefix (a third of a busy log group)
        prefix = lambda_lines.runtime_prefix(message)
        if prefix is None:
            return _timeout_fields(message) if first != "[" else ""
        request_id, level = prefix
        if request_id is None:
            return f',"log":{{"level":"{level}"}}'
        return f',"lambda":{{"request_id":"{request_id}"}},"log":{{"level":"{level}"}}'
    if first == "R":
        report = lambda_lines.usual_report(message)
        if report is not None:
            return _report_fields(report)
    elif first == "S":
        return _start_fields(lambda_lines.start_line(message))
    elif first == "E":
        return _end_fields(lambda_lines.end_line(message))
    elif not message.startswith("INIT_REPORT "):  # "I": most such lines are someone's INFO
        return ""
    fields, _ = lambda_lines.parse_text(message)  # a REPORT in another layout, INIT_REPORT…
    return ',"lambda":' + _dumps(fields) if fields else ""


def _timeout_fields(message: str) -> str:
    """The fields of Lambda's "<time> <id> Task timed out after 3.00 seconds" ("" for any
    other line starting with a digit)."""
    timed_out = lambda_lines.timeout_line(message)
    if timed_out is None:
        return ""
    fields = {"request_id": timed_out[0], "status": "timeout", "timeout_s": timed_out[1]}
    return ',"lambda":' + _dumps(fields)


def _report_fields(report: lambda_lines.UsualReport) -> str:
    request_id, duration, billed, memory, used, init = report
    text = (
        f',"lambda":{{"type":"REPORT","request_id":"{request_id}","duration_ms":{duration},'
        f'"billed_duration_ms":{billed},"memory_size_mb":{memory},"max_memory_used_mb":{used}'
    )
    if init is None:
        return text + ',"cold_start":false}'
    return f'{text},"init_duration_ms":{init},"cold_start":true}}'


def _end_fields(request_id: str | None) -> str:
    if request_id is None:
        return ""
    if not request_id:  # an END line whose id could not be taken whole
        return ',"lambda":{"type":"END"}'
    return f',"lambda":{{"type":"END","request_id":"{request_id}"}}'


def _start_fields(start: tuple[str | None, str | None] | None) -> str:
    if start is None:
        return ""
    request_id, version = start
    if request_id is not None and version is not None:  # the usual START line
        return (
            f',"lambda":{{"type":"START","request_id":"{request_id}",'
            f'"version":{encode_basestring(version)}}}'
        )
    text = ',"lambda":{"type":"START"'
    if request_id is not None:
        text += f',"request_id":"{request_id}"'
    if version is not None:
        text += ',"version":' + encode_basestring(version)
    return text + "}"


_LEVEL_FIELDS: dict[str, str] = {}  # the "level" of a JSON message → its log.level field


def _json_fields(text: str, limits: Limits, stats: TransformStats) -> str | None:
    """The fields of a JSON-object message (`text`: stripped, starts with "{"), as JSON text
    starting with a comma; None when it is not a JSON object."""
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:  # not JSON (or NaN, a lone surrogate, past 1,024 levels)
        return None
    if type(parsed) is not dict:
        return None
    out = ""
    if "type" in parsed:
        platform = lambda_lines.parse_platform(parsed)
        if platform:
            out = ',"lambda":' + _dumps(platform)
    level = parsed.get("level")
    if type(level) is str and 0 < len(level) <= 16:  # what _level takes first (Powertools)
        level_field = _LEVEL_FIELDS.get(level)
        if level_field is None:
            level_field = ',"log":{"level":' + encode_basestring(level.lower()) + "}"
            if len(_LEVEL_FIELDS) < 64:  # a few values recur: their field, made once
                _LEVEL_FIELDS[level] = level_field
        out += level_field
    else:
        level = _level(parsed)
        if level:
            out += ',"log":{"level":' + encode_basestring(level) + "}"
    if "\n" not in text and (
        # Plain text (no escape, ASCII only): the patterns see every key as it is.
        (
            "\\" not in text  # an escape may spell a dot, a blank or a quote in a key
            and text.isascii()  # so may a non-ASCII blank (a no-break space)
            # n keys take at least 5n + 1 characters ({"":0,...}): a short text can't have too
            # many
            and (len(text) <= 5 * limits.max_fields or text.count(":") <= limits.max_fields)
            and (text.count("{") + text.count("[") if "[" in text else text.count("{"))
            <= limits.max_depth
            and not ("." in text and _DOTTED_KEY.search(text))
            and not (
                _BLANK_KEY.search(text)  # rarely matches: the cheaper test of the two, first
                and ('""' in text or '" ' in text or '"\t' in text)
            )
        )
        # Otherwise (an escaped newline or quote in a value, an accent): the keys as parsed.
        or (("\\" in text or not text.isascii()) and _unchanged(parsed, limits))
    ):
        return f'{out},"json":{text}'  # valid (orjson said so) and nothing to change
    budget = [limits.max_fields]
    if _LONG_DIGITS.search(text):  # orjson makes a float of an integer past 64 bits: exact
        parsed = json.loads(text)
    safe = safe_object(parsed, limits.max_depth, budget)
    out += ',"json":' + _dumps(safe)
    if budget[0] < 0:
        out += ',"tags":["json_truncated"]'
        stats.json_truncated += 1
    return out


def _unchanged(parsed: dict[str, Any], limits: Limits) -> bool:
    """Whether safe_object would give `parsed` back as it is (so its text can be copied)."""
    return _object_unchanged(parsed, limits.max_depth, [limits.max_fields])


def _object_unchanged(value: dict[str, Any], depth: int, budget: list[int]) -> bool:
    """safe_object's walk, without building anything: False at the first change it makes."""
    for key, item in value.items():
        if budget[0] <= 0 or "." in key or not key.strip():  # cut, or renamed by safe_key
            return False
        budget[0] -= 1
        if isinstance(item, dict):
            if depth <= 1 or not _object_unchanged(item, depth - 1, budget):
                return False
        elif isinstance(item, list) and (
            depth <= 1 or not _list_unchanged(item, depth - 1, budget)
        ):
            return False
    return True


def _list_unchanged(items: list[Any], depth: int, budget: list[int]) -> bool:
    """_safe_list's walk, without building anything."""
    for item in items:
        if isinstance(item, dict):
            if depth <= 1 or not _object_unchanged(item, depth, budget):
                return False
        elif isinstance(item, list) and (
            depth <= 1 or not _list_unchanged(item, depth - 1, budget)
        ):
            return False
    return True


def _level(parsed: Mapping[str, Any]) -> str | None:
    for key in _LEVEL_KEYS:
        value = parsed.get(key)
        if isinstance(value, str) and 0 < len(value) <= 16:
            return value.lower()
    return None


def safe_key(key: str) -> str:
    """A field name OpenSearch accepts and won't expand: no dots, not blank. (Long names are
    accepted: index.mapping.field_name_length.limit has no limit unless an admin sets one.)"""
    if "." in key:
        key = key.replace(".", "_")
    if not key.strip():
        return "_blank"
    return key


def safe_object(value: dict[str, Any], depth: int, budget: list[int]) -> dict[str, Any]:
    """A copy with safe names. Objects or arrays nested deeper than `depth` become JSON text;
    at most budget[0] keys in all (budget[0] ends below zero when some were left out)."""
    out: dict[str, Any] = {}
    for key, item in value.items():
        if budget[0] <= 0:
            budget[0] = -1
            break
        budget[0] -= 1
        name = safe_key(key)
        if name in out:  # "a.b" and "a_b" in one object: keep both, apart
            name = f"{name}_{len(out)}"
        if isinstance(item, dict):
            out[name] = safe_object(item, depth - 1, budget) if depth > 1 else _dumps(item)
        elif isinstance(item, list):
            out[name] = _safe_list(item, depth - 1, budget) if depth > 1 else _dumps(item)
        else:
            out[name] = item
    return out


def _safe_list(items: list[Any], depth: int, budget: list[int]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        if budget[0] < 0:
            break
        if isinstance(item, dict):
            out.append(safe_object(item, depth, budget) if depth > 1 else _dumps(item))
        elif isinstance(item, list):  # OpenSearch flattens arrays of arrays: keep them
            out.append(_safe_list(item, depth - 1, budget) if depth > 1 else _dumps(item))
        else:
            out.append(item)
    return out


def without_duplicate_keys(document: Document) -> Document:
    """The same document with each key once (a repeated JSON key keeps its last value, as
    every JSON reader does): OpenSearch refuses a document that repeats a key, and a JSON
    message copied in as it came can (Go's zap, for one, writes the same field twice)."""
    return Document.of(
        document.id, document.index, _dumps(document.source), document.event, document.batch
    )


def as_text(document: Document, reason: str) -> Document:
    """The same document without the parsed JSON (after a mapping conflict): `message` stays."""
    source = {k: v for k, v in document.source.items() if k != "json"}
    source["tags"] = [*[t for t in source.get("tags", []) if t != "json_truncated"], "json_as_text"]
    source["error"] = {"message": reason[:1000]}
    return Document.of(
        document.id,
        document.index,
        _dumps(source),
        document.event,
        document.batch,
        json_dropped=True,
    )


def serialize(source: Mapping[str, Any]) -> str:
    return _dumps(source)
