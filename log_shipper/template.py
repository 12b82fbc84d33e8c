"""Index templates, one per index family: mappings for the fields transform writes.

Each family (index pattern of the routes) gets a composable template of its own, matching
only its indices (`opsbundle-logs-default-*`), at priority 237: an uncommon number, so a
template of another tool that also matches our indices almost never has the same one
(OpenSearch refuses two overlapping templates of one priority). Whoever wins is checked, not
assumed: of the templates that match a name the family makes, the one of highest priority
is the one a new index gets. When another template wins, or ours can't be put beside it, the
family is in *clash*: events for indices that don't exist yet are dead-lettered as
`template_clash` (an index made with someone else's mappings keeps them for its whole
day), existing indices still take theirs, and the operator is told which template it is.

`install` puts a template when it is missing or differs from this code's (GET first, so a
warm Lambda makes no call at all and a cold one makes two small requests per family). The
shard count is the one thing it keeps from the template in place: `logs maintain` sizes it to
the family's daily volume.

Mappings without traps: no date detection (a string that once looked like a date would refuse
every later "yesterday"); every JSON number a `double` (a first `1` would make the field an
integer and cut every later 1.7); JSON strings `keyword` for exact match and aggregations,
with a `.text` sub-field so that values past 1,024 characters stay findable.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from opensearchpy.exceptions import TransportError

from log_shipper.exceptions import OpenSearchError
from log_shipper.layout import Family
from log_shipper.routing import name_slug

VERSION = 2
PRIORITY = 237
MANAGED_BY = "opsbundle log_shipper"
_KEYWORD = {"type": "keyword", "ignore_above": 1024}
_JSON_STRING = {**_KEYWORD, "fields": {"text": {"type": "text", "norms": False}}}
_LONG_STRING = _JSON_STRING  # a URL, a user agent: exact under 1,024 characters, words past it


@dataclass(frozen=True)
class Layout:
    """How the indices of every family are made (from settings)."""

    template_name: str = "opsbundle-logs"  # the default family's; others add their own suffix
    replicas: str = "auto"  # "auto": one replica where a second data node can hold it
    data_stream: bool = False


@dataclass(frozen=True)
class TemplateCheck:
    family: Family
    name: str
    put: bool = False  # put (or updated) now
    clash: str | None = None  # why new indices of the family would not get our mappings


def template_name(layout: Layout, family: Family, default: Family) -> str:
    if family.pattern == default.pattern:
        return layout.template_name
    return f"{layout.template_name}-{name_slug(family.wildcard.replace('*', ''))}"


def mappings(family: Family) -> dict[str, Any]:
    return {
        "_meta": {"managed_by": MANAGED_BY, "family": family.pattern, "version": VERSION},
        "date_detection": False,
        "dynamic_templates": [
            _dynamic("json_strings", "json.*", "string", _JSON_STRING),
            _dynamic("json_integers", "json.*", "long", {"type": "double"}),
            _dynamic("json_decimals", "json.*", "double", {"type": "double"}),
            # The rest of the AWS log files' fields (aws.elb.*, aws.cloudfront.*, ...).
            _dynamic("aws_strings", "aws.*", "string", _KEYWORD),
            _dynamic("aws_integers", "aws.*", "long", {"type": "double"}),
        ],
        "properties": {
            "@timestamp": {"type": "date"},
            "message": {"type": "text"},
            "event": _object(
                ingested={"type": "date"},
                start={"type": "date"},
                end={"type": "date"},
                duration={"type": "long"},
                **_keywords("dataset", "action", "outcome", "provider", "id"),
            ),
            "cloud": _object(
                **_keywords("provider", "region", "availability_zone"),
                account=_object(**_keywords("id")),
                instance=_object(**_keywords("id")),
            ),
            "aws": _object(
                cloudwatch=_object(**_keywords("log_group", "log_stream", "event_id")),
            ),
            "lambda": _object(
                **_keywords("type", "request_id", "version", "status", "phase", "error_type"),
                **{
                    f"{n}_ms": {"type": "float"}
                    for n in (
                        "duration",
                        "billed_duration",
                        "init_duration",
                        "restore_duration",
                        "billed_restore_duration",
                    )
                },
                memory_size_mb={"type": "integer"},
                max_memory_used_mb={"type": "integer"},
                cold_start={"type": "boolean"},
                timeout_s={"type": "float"},
            ),
            "log": _object(
                **_keywords("level", "flags"),
                file=_object(**_keywords("path")),
                offset={"type": "long"},
            ),
            "tags": {"type": "keyword"},
            "redaction": _object(count={"type": "integer"}, kinds={"type": "keyword"}),
            "error": _object(message={"type": "text"}, code={"type": "keyword"}),
            "json": {"type": "object", "dynamic": True},
            # ECS fields of the AWS log files read from S3 (formats/), typed as ECS types them.
            "source": _endpoint(address=True),
            "destination": _endpoint(),
            "http": _object(
                version={"type": "keyword"},
                request=_object(bytes={"type": "long"}, **_keywords("method", "id", "referrer")),
                response=_object(
                    status_code={"type": "long"},
                    bytes={"type": "long"},
                    **_keywords("mime_type"),
                ),
            ),
            "url": _object(
                original=_LONG_STRING,
                path=_LONG_STRING,
                query=_LONG_STRING,
                port={"type": "long"},
                **_keywords("scheme", "domain"),
            ),
            "user_agent": _object(original=_LONG_STRING),
            "tls": _object(
                **_keywords("cipher", "version_protocol"),
                client=_object(**_keywords("subject", "serial_number", "server_name")),
            ),
            "network": _object(
                iana_number={"type": "long"},
                packets={"type": "long"},
                bytes={"type": "long"},
                **_keywords("transport", "protocol", "direction"),
            ),
            "user": _object(**_keywords("name", "id")),
            "rule": _object(**_keywords("id", "ruleset")),
            "trace": _object(**_keywords("id")),
        },
    }


def _dynamic(name: str, path: str, kind: str, mapping: dict[str, Any]) -> dict[str, Any]:
    return {name: {"path_match": path, "match_mapping_type": kind, "mapping": mapping}}


def _object(**properties: Any) -> dict[str, Any]:
    return {"properties": properties}


def _keywords(*names: str) -> dict[str, Any]:
    return {name: {"type": "keyword"} for name in names}


def _endpoint(*, address: bool = False) -> dict[str, Any]:
    """ECS source / destination: an address, a port, bytes, a country."""
    endpoint = _object(
        ip={"type": "ip"},
        port={"type": "long"},
        bytes={"type": "long"},
        geo=_object(**_keywords("country_iso_code")),
    )
    if address:
        endpoint["properties"]["address"] = {"type": "keyword"}
    return endpoint


def replica_settings(replicas: str) -> dict[str, Any]:
    """ "auto": 0 replicas on one data node (green, not yellow for good), 1 from two on."""
    if replicas == "auto":
        return {"auto_expand_replicas": "0-1"}
    return {"auto_expand_replicas": "false", "number_of_replicas": int(replicas)}


def template_body(family: Family, layout: Layout, *, shards: int = 1) -> dict[str, Any]:
    body: dict[str, Any] = {
        "index_patterns": [family.wildcard],
        "priority": PRIORITY,
        "template": {
            "settings": {
                "index": {
                    "number_of_shards": shards,
                    **replica_settings(layout.replicas),
                    "mapping": {"total_fields": {"limit": 2000}},
                    "refresh_interval": "5s",
                }
            },
            "mappings": mappings(family),
        },
    }
    if layout.data_stream:
        body["data_stream"] = {}
    body["_meta"] = {
        "managed_by": MANAGED_BY,
        "version": VERSION,
        "family": family.pattern,
        "retention_days": family.retention_days,
        "digest": digest(body),
    }
    return body


def digest(body: dict[str, Any]) -> str:
    """What the template says, but for its shard count (maintain's to change)."""
    settings = dict(body["template"]["settings"]["index"])
    settings.pop("number_of_shards", None)
    same = {**body, "template": {**body["template"], "settings": {"index": settings}}}
    same.pop("_meta", None)
    text = json.dumps(same, sort_keys=True).encode()
    return hashlib.blake2b(text, digest_size=8).hexdigest()


def shards_of(template: dict[str, Any]) -> int | None:
    settings = template.get("template", {}).get("settings", {}).get("index", {})
    value = settings.get("number_of_shards")
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def get(client: Any, name: str) -> dict[str, Any] | None:
    """The template as OpenSearch holds it, or None."""
    found = client.indices.get_index_template(name=name, ignore=[404])
    for item in (found or {}).get("index_templates", []):
        if item.get("name") == name:
            template: dict[str, Any] = item.get("index_template", {})
            return template
    return None


def install(
    client: Any,
    name: str,
    family: Family,
    layout: Layout,
    *,
    force: bool = False,
    shards: int | None = None,
) -> TemplateCheck:
    """Put the family's template unless the same one is there, then check that it is the one a
    new index gets. Raises OpenSearchError (retryable for 429/5xx/unreachable) when OpenSearch
    can't be asked; a clash is an answer, not an error."""
    try:
        existing = get(client, name)
        kept = shards or (shards_of(existing) if existing else None) or 1
        body = template_body(family, layout, shards=kept)
        same = (
            existing is not None
            and existing.get("_meta", {}).get("digest") == body["_meta"]["digest"]
        )
        put = False
        if force or not same or (shards is not None and shards_of(existing or {}) != shards):
            try:
                client.indices.put_index_template(name=name, body=body)
                put = True
            except TransportError as error:
                reason = _reason(error)
                if error.status_code == 400 and "same priority" in reason:
                    return TemplateCheck(family, name, clash=reason)
                raise
        return TemplateCheck(family, name, put=put, clash=winner(client, name, family))
    except TransportError as error:
        raise _failed(f"index template {name}", error) from None


def winner(client: Any, name: str, family: Family) -> str | None:
    """None when a new index of the family gets our mappings; else which template it gets.

    Composable templates don't merge: of those whose patterns match a new index's name, the
    one of highest priority is the one (OpenSearch refuses two of one priority that overlap).
    Worked out from the templates as listed, rather than with `_simulate_index`, which some
    templates make fail (a template without a `template` section: HTTP 500 on 2.19)."""
    sample = family.sample(datetime.now(UTC).date())
    listed = client.indices.get_index_template().get("index_templates", [])
    matching = [
        (int(t.get("index_template", {}).get("priority") or 0), str(t.get("name")), t)
        for t in listed
        if any(simple_match(p, sample) for p in _patterns(t))
    ]
    if not matching:
        return f"{name} is not installed: new indices like {sample} get dynamic mappings"
    priority, top, held = max(matching, key=lambda m: m[0])
    if top == name:
        return None
    patterns = held.get("index_template", {}).get("index_patterns")
    return (
        f"new indices like {sample} would get the mappings of {top} (priority {priority}, "
        f"patterns {patterns}), not of {name}: give that template a priority below "
        f"{PRIORITY} or patterns that leave {family.wildcard} out"
    )


def simple_match(pattern: str, name: str) -> bool:
    """OpenSearch's index-pattern match: `*` is the only wildcard."""
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, name) is not None


def _patterns(template: dict[str, Any]) -> list[str]:
    patterns = template.get("index_template", {}).get("index_patterns", [])
    return [patterns] if isinstance(patterns, str) else list(patterns)


def _reason(error: TransportError) -> str:
    info = error.info if isinstance(error.info, dict) else {}
    inner = info.get("error")
    if isinstance(inner, dict):
        return str(inner.get("reason") or inner.get("type") or error.error)
    return str(inner or error.error)


def _failed(what: str, error: TransportError) -> OpenSearchError:
    status = error.status_code
    failed = OpenSearchError(f"could not install {what}: HTTP {status} {_reason(error)}")
    # Unreachable, overloaded or failing: the events can still go to the dead letters.
    failed.retryable = not isinstance(status, int) or status == 429 or status >= 500
    return failed
