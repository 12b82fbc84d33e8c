"""What OpenSearch's refusals mean: each error read into a dead-letter reason, and whether
waiting can help. Shapes as a real 2.19 node gives them (tests/integration/log_shipper):

- flood-stage disk watermark, per item: 429 cluster_block_exception "index [x] blocked by:
  [TOO_MANY_REQUESTS/12/disk usage exceeded flood-stage watermark, index has
  read-only-allow-delete block]" -> disk_full (a 429 that no wait clears: disk must be freed)
- index write / read-only block, per item: 403 cluster_block_exception "index [x] blocked by:
  [FORBIDDEN/8/index write (api)]" -> index_blocked
- cluster-wide block, the whole request: 403 {"error": {"type": "cluster_block_exception",
  "reason": "blocked by: [FORBIDDEN/6/cluster read-only (api)];"}} -> cluster_blocked
  ("cluster read-only / allow delete", FORBIDDEN/13, is the disk's: disk_full)
- shard limit, per item, when a new index is needed: 400 validation_exception "this action
  would add [2] total shards, but this cluster currently has [1000]/[1000] maximum shards
  open" -> shard_limit
- circuit breaker: 429 circuit_breaking_exception with "durability": TRANSIENT (retried) or
  PERMANENT (not) -> circuit_breaker
- es_rejected_execution_exception, 5xx, timeouts: retried, then retries_exhausted.
A request-level error's type and reason sit under "error" (with root_cause and suppressed);
Amazon OpenSearch Service's own 403 (IAM) says why under "Message".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
_PREVIEW = re.compile(r"\.?\s*Preview of field's value:.*$", re.DOTALL)

# Reasons an operator must act on: each has its own alarm and troubleshooting row.
DISK_FULL = "disk_full"
INDEX_BLOCKED = "index_blocked"
CLUSTER_BLOCKED = "cluster_blocked"
SHARD_LIMIT = "shard_limit"
CIRCUIT_BREAKER = "circuit_breaker"
INDEX_CLOSED = "index_closed"
TEMPLATE_CLASH = "template_clash"
RETRIES_EXHAUSTED = "retries_exhausted"
NAMED = (DISK_FULL, INDEX_BLOCKED, CLUSTER_BLOCKED, SHARD_LIMIT, CIRCUIT_BREAKER, TEMPLATE_CLASH)


@dataclass(frozen=True)
class Cause:
    reason: str  # the dead-letter reason when it ends here
    retry: bool  # whether waiting and sending again can help
    detail: str = ""  # OpenSearch's words, without any field's value


def safe_detail(error: Any) -> str:
    """OpenSearch's reason without the "Preview of field's value" (it may hold personal data)."""
    if isinstance(error, dict):
        inner = error.get("error")
        if isinstance(inner, dict | str):  # a whole response body: the error is under "error"
            return safe_detail(inner)
        message = error.get("Message") or error.get("message")
        if "type" not in error and isinstance(message, str):
            return _PREVIEW.sub("", message)[:1000]
        kind = str(error.get("type", ""))
        reason = _PREVIEW.sub("", str(error.get("reason", "")))
        caused = error.get("caused_by")
        cause = f" (caused by {caused.get('type')})" if isinstance(caused, dict) else ""
        return f"{kind}: {reason}{cause}"[:1000]
    return _PREVIEW.sub("", str(error))[:1000]


def classify(status: int | None, error: Any) -> Cause:
    """An item's refusal (its status and "error") or a whole request's (its status and body)."""
    body = error.get("error") if isinstance(error, dict) and "error" in error else error
    kind = body.get("type") if isinstance(body, dict) else None
    reason = str(body.get("reason", "")) if isinstance(body, dict) else str(body or "")
    detail = safe_detail(error)
    if kind == "cluster_block_exception":
        return Cause(_block(reason), False, detail)
    if kind == "validation_exception" and "maximum shards open" in reason:
        return Cause(SHARD_LIMIT, False, detail)
    if kind == "circuit_breaking_exception":
        durable = isinstance(body, dict) and body.get("durability") == "PERMANENT"
        return Cause(CIRCUIT_BREAKER, not durable, detail)
    if kind == "index_closed_exception":
        return Cause(INDEX_CLOSED, False, detail)
    if status in RETRYABLE_STATUS:
        return Cause(RETRIES_EXHAUSTED, True, detail)
    return Cause(str(kind or (f"http_{status}" if status else "unknown")), False, detail)


def _block(reason: str) -> str:
    text = reason.lower()
    if "flood-stage" in text or "allow delete" in text or "read-only-allow-delete" in text:
        return DISK_FULL
    if text.startswith("index ["):
        return INDEX_BLOCKED
    return CLUSTER_BLOCKED


def exhausted(cause: Cause, attempts: int) -> Cause:
    """What a retried cause becomes when no try is left: a named cause keeps its name."""
    reason = cause.reason if cause.reason in NAMED else RETRIES_EXHAUSTED
    return Cause(reason, False, f"{attempts} attempts; last: {cause.detail or cause.reason}")
