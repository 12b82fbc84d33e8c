"""The index template: mappings for the fields transform writes, installed once.

`install` puts it when it is missing or older than this code's version (GET first, so a
warm Lambda makes no call at all and a cold one makes one small GET).
"""

from __future__ import annotations

import re
from typing import Any

from opensearchpy.exceptions import TransportError

from log_shipper.exceptions import OpenSearchError
from log_shipper.routing import Router

VERSION = 1
_KEYWORD = {"type": "keyword", "ignore_above": 1024}


def index_patterns(router: Router) -> list[str]:
    patterns = {router.default.index} | {route.index for _, route in router.routes}
    out = set()
    for pattern in patterns:
        wild = re.sub(r"\{[^{}]*\}", "*", pattern)
        out.add(re.sub(r"\*+", "*", wild))
    return sorted(out)


def template_body(router: Router, *, data_stream: bool = False, shards: int = 1) -> dict[str, Any]:
    mappings: dict[str, Any] = {
        "dynamic_templates": [
            {"json_strings": {"path_match": "json.*", "match_mapping_type": "string",
                              "mapping": _KEYWORD}},
        ],
        "properties": {
            "@timestamp": {"type": "date"},
            "event": {"properties": {"ingested": {"type": "date"}}},
            "message": {"type": "text"},
            "cloud": {"properties": {
                "provider": {"type": "keyword"},
                "region": {"type": "keyword"},
                "account": {"properties": {"id": {"type": "keyword"}}},
            }},
            "aws": {"properties": {"cloudwatch": {"properties": {
                "log_group": {"type": "keyword"},
                "log_stream": {"type": "keyword"},
                "event_id": {"type": "keyword"},
            }}}},
            "lambda": {"properties": {
                "type": {"type": "keyword"},
                "request_id": {"type": "keyword"},
                "version": {"type": "keyword"},
                "duration_ms": {"type": "float"},
                "billed_duration_ms": {"type": "float"},
                "init_duration_ms": {"type": "float"},
                "restore_duration_ms": {"type": "float"},
                "memory_size_mb": {"type": "integer"},
                "max_memory_used_mb": {"type": "integer"},
                "cold_start": {"type": "boolean"},
            }},
            "log": {"properties": {"level": {"type": "keyword"}}},
            "tags": {"type": "keyword"},
            "redaction": {"properties": {
                "count": {"type": "integer"},
                "kinds": {"type": "keyword"},
            }},
            "error": {"properties": {"message": {"type": "text"}}},
            "json": {"type": "object", "dynamic": True},
        },
    }  # fmt: skip
    body: dict[str, Any] = {
        "index_patterns": index_patterns(router),
        "priority": 200,
        "template": {
            "settings": {
                "index": {
                    "number_of_shards": shards,
                    "mapping": {"total_fields": {"limit": 2000}},
                    "refresh_interval": "5s",
                }
            },
            "mappings": mappings,
        },
        "_meta": {"managed_by": "opsbundle log_shipper", "version": VERSION},
    }
    if data_stream:
        body["data_stream"] = {}
    return body


def install(client: Any, name: str, body: dict[str, Any], *, force: bool = False) -> bool:
    """Put the template unless the same version is there; True when it was put."""
    try:
        if not force:
            found = client.indices.get_index_template(name=name, ignore=[404])
            for item in (found or {}).get("index_templates", []):
                meta = item.get("index_template", {}).get("_meta", {})
                if (
                    meta.get("version") == body["_meta"]["version"]
                    and item.get("index_template", {}).get("index_patterns")
                    == body["index_patterns"]
                ):
                    return False
        client.indices.put_index_template(name=name, body=body)
    except TransportError as error:
        status = error.status_code
        failed = OpenSearchError(
            f"could not install index template {name}: HTTP {status} {error.error}"
        )
        # Unreachable, overloaded or failing: the events can still go to the dead letters.
        failed.retryable = not isinstance(status, int) or status == 429 or status >= 500
        raise failed from None
    return True
