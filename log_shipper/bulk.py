"""Documents → OpenSearch `_bulk`, item by item, until each is delivered or has a reason.

- Batches bounded by bytes (LOG_SHIPPER_BATCH_BYTES) and count; `create` with the
  document's deterministic `_id`, so a 409 (version_conflict_engine_exception) means the
  document is already there: it counts as delivered (a duplicate), never as a failure.
- Whole-request 429/5xx, timeouts and dropped connections, and per-item 429/5xx
  (es_rejected_execution_exception), are retried with full-jitter exponential backoff,
  never past the time that is left (`remaining`), at most `max_attempts` times.
- What waiting cannot fix is not retried, and is named (refusals.py): a full disk (a 429
  that no wait clears), a write block, a cluster-wide block, the shard limit, a permanent
  circuit breaker. A transient circuit breaker is retried and, if it lasts, named too.
- 413 (request too large) splits the batch in halves; a single document still too large
  fails with reason request_too_large.
- A document refused for a repeated JSON key ("Duplicate field") is sent again with each key
  once; a mapping conflict (mapper_parsing_exception) is retried once with the parsed JSON
  dropped (`message` keeps the line, tagged json_as_text).
- Everything else (and what retries could not deliver) comes back as a Failure with a
  reason for the dead-letter bucket. This module never drops a document.
Clock, sleep and randomness are parameters, so tests run without waiting.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from opensearchpy.exceptions import ConnectionError as TransportConnectionError
from opensearchpy.exceptions import TransportError

from log_shipper.refusals import Cause, classify, exhausted, safe_detail
from log_shipper.transform import Document, Pending, as_text, without_duplicate_keys

MAPPING_ERRORS = frozenset({"mapper_parsing_exception", "document_parsing_exception"})
NDJSON = {"content-type": "application/x-ndjson"}
# What the shipper reads of a _bulk answer: each item's status and error (a whole-request
# error keeps its own shape). The rest (index, id, version, shards, seq_no) is about 90% of
# the answer, which the node would otherwise write and gzip and the Lambda parse.
ANSWER_FIELDS = {"filter_path": "errors,error,status,items.*.status,items.*.error"}


@dataclass(frozen=True)
class Retry:
    """A wait before sending documents again: attempt `attempt` of `of` comes after `delay`."""

    attempt: int
    of: int
    delay: float
    documents: int
    cause: Cause

    def describe(self) -> str:
        why = self.cause.detail or self.cause.reason
        return (
            f"OpenSearch: {self.documents} document(s) not taken ({why[:120]}); attempt "
            f"{self.attempt} of {self.of} in {self.delay:.1f} s"
        )


@dataclass(frozen=True)
class Failure:
    document: Document
    reason: str  # a short code: mapper_parsing_exception, retries_exhausted, deadline, ...
    status: int | None = None
    detail: str = ""  # OpenSearch's explanation, without the field's value


@dataclass
class BulkResult:
    indexed: int = 0
    duplicates: int = 0
    retried: int = 0
    as_text: int = 0
    requests: int = 0
    bytes_sent: int = 0
    failures: list[Failure] = field(default_factory=list)

    @property
    def delivered(self) -> int:
        return self.indexed + self.duplicates


def _repeated_key(error: Any) -> bool:
    """OpenSearch's answer to a document that repeats a key: a mapper_parsing_exception
    caused by json_parse_exception "Duplicate field '...'"."""
    caused = error.get("caused_by") if isinstance(error, dict) else None
    return (
        isinstance(caused, dict)
        and caused.get("type") == "json_parse_exception"
        and str(caused.get("reason", "")).startswith("Duplicate field")
    )


def utf8(lines: str) -> bytes:
    # A lone surrogate (an escape like \\ud800 in the CloudWatch JSON) can't be UTF-8:
    # backslashreplace writes it back as the same JSON escape.
    return lines.encode("utf-8", "backslashreplace")


def bulk_body(documents: Sequence[Pending]) -> bytes:
    """The `_bulk` request body: every document's lines, in order. An ASCII batch (the usual
    one) is joined as text and encoded once; otherwise each document is encoded on its own,
    so one emoji doesn't widen the whole batch to four bytes a character first."""
    texts = [d[0] for d in documents]
    if all(map(str.isascii, texts)):
        return "".join(texts).encode("ascii")
    return b"".join([utf8(text) for text in texts])


class BulkSender:
    def __init__(
        self,
        *,
        client: Any,
        max_bytes: int = 5 * 1024 * 1024,
        max_count: int = 5000,
        max_attempts: int = 8,
        remaining: Callable[[], float] = lambda: float("inf"),
        request_timeout: float = 30.0,
        base_delay: float = 0.2,
        max_delay: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        on_latency: Callable[[float], None] | None = None,
        on_retry: Callable[[Retry], None] | None = None,
    ) -> None:
        """`on_retry` hears of each wait before a next attempt (the CLI shows it)."""
        self._client = client
        self._max_bytes = max_bytes
        self._max_count = max_count
        self._max_attempts = max_attempts
        self._remaining = remaining
        self._timeout = request_timeout
        self._base = base_delay
        self._cap = max_delay
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not secrets
        self._on_latency = on_latency
        self._on_retry = on_retry

    def send(self, documents: Iterable[Pending]) -> BulkResult:
        result = BulkResult()
        for batch in self.batches(documents):
            self._deliver(batch, result)
        return result

    def batches(self, documents: Iterable[Pending]) -> Iterator[list[Pending]]:
        """The documents in request-sized batches (bytes and count), in order."""
        max_bytes, max_count = self._max_bytes, self._max_count
        batch: list[Pending] = []
        size = 0
        for document in documents:
            # Its bytes in the body: an ASCII text (a flag CPython keeps on every string, nothing
            # is scanned) takes as many bytes as characters; others are encoded to count.
            lines = document[0]
            length = len(lines) if lines.isascii() else len(utf8(lines))
            if batch and (size + length > max_bytes or len(batch) >= max_count):
                yield batch
                batch, size = [], 0
            batch.append(document)
            size += length
        if batch:
            yield batch

    def _deliver(self, batch: list[Pending], result: BulkResult) -> None:
        work: list[tuple[list[Pending], int]] = [(batch, 0)]
        while work:
            pending, attempt = work.pop()
            while pending:
                left = self._remaining()
                if left <= 0:
                    self._fail(
                        pending, "deadline", None, "no time left before the Lambda timeout", result
                    )
                    break
                try:
                    response = self._post(pending, min(self._timeout, left), result)
                except TransportError as error:
                    status = error.status_code if isinstance(error.status_code, int) else None
                    if status == 413:
                        if len(pending) == 1:
                            self._fail(
                                pending, "request_too_large", 413, safe_detail(error.info), result
                            )
                        else:
                            middle = len(pending) // 2
                            work.append((pending[middle:], attempt))
                            work.append((pending[:middle], attempt))
                        break
                    cause = _request_cause(error, status)
                    if not cause.retry:
                        self._fail(pending, cause.reason, status, cause.detail, result)
                        break
                    attempt += 1
                    if not self._backoff(attempt, pending, cause, status, result):
                        break
                    result.retried += len(pending)
                    continue
                pending, retry_cause = self._items(pending, response, result)
                if pending:
                    attempt += 1
                    if not self._backoff(
                        attempt,
                        pending,
                        retry_cause or Cause("rewritten", True),
                        None,
                        result,
                        wait=retry_cause is not None,
                    ):
                        break
                    result.retried += len(pending)

    def _post(self, pending: Sequence[Pending], timeout: float, result: BulkResult) -> Any:
        body = bulk_body(pending)
        result.requests += 1
        result.bytes_sent += len(body)
        started = time.perf_counter()
        try:
            return self._client.transport.perform_request(
                "POST", "/_bulk", params=ANSWER_FIELDS, body=body, headers=NDJSON, timeout=timeout
            )
        finally:
            if self._on_latency:
                self._on_latency((time.perf_counter() - started) * 1000)

    def _items(
        self, pending: list[Pending], response: Any, result: BulkResult
    ) -> tuple[list[Pending], Cause | None]:
        """What to send again, and why, when it needs a wait first (None when all of it is
        documents just rewritten); counts and failures go into `result`."""
        items = response.get("items") if isinstance(response, dict) else None
        if not isinstance(items, list) or len(items) != len(pending):
            # Not an answer item by item: retry all (ids make a resend safe).
            return pending, Cause("retries_exhausted", True, "an answer without its items")
        again: list[Pending] = []
        retry_cause: Cause | None = None
        for sent, item in zip(pending, items, strict=True):
            answer: Any = next(iter(item.values()), {}) if isinstance(item, dict) and item else {}
            status = answer.get("status") if isinstance(answer, dict) else None
            if not isinstance(status, int):
                again.append(sent)
                retry_cause = retry_cause or Cause(
                    "retries_exhausted", True, "an item without status"
                )
            elif 200 <= status < 300:
                result.indexed += 1
            elif status == 409:
                result.duplicates += 1
            else:
                error = answer.get("error") if isinstance(answer, dict) else None
                cause = classify(status, error)
                if cause.retry:
                    again.append(sent)
                    retry_cause = retry_cause or cause
                else:
                    again.extend(
                        self._refused(Document.of_pending(sent), status, error, cause, result)
                    )
        return again, retry_cause

    @staticmethod
    def _refused(
        document: Document, status: int, error: Any, cause: Cause, result: BulkResult
    ) -> list[Pending]:
        """A document OpenSearch refused: rewritten to go again at once (each key once after
        a repeated key, then without its JSON after a mapping conflict), or a failure."""
        kind = error.get("type") if isinstance(error, dict) else None
        reason = str(error.get("reason", "")) if isinstance(error, dict) else ""
        mapping_conflict = kind in MAPPING_ERRORS or (
            kind == "illegal_argument_exception" and "Limit of total fields" in reason
        )
        if mapping_conflict and not document.json_dropped:
            fixed = without_duplicate_keys(document) if _repeated_key(error) else None
            if fixed is not None and fixed.lines != document.lines:
                return [fixed.pending]  # the JSON kept, each key once
            result.as_text += 1
            return [as_text(document, safe_detail(error)).pending]
        result.failures.append(Failure(document, cause.reason, status, cause.detail))
        return []

    def _backoff(
        self,
        attempt: int,
        pending: list[Pending],
        cause: Cause,
        status: int | None,
        result: BulkResult,
        *,
        wait: bool = True,
    ) -> bool:
        """Sleep before the next try; False (and the documents failed) when none is left."""
        if attempt >= self._max_attempts:
            last = exhausted(cause, attempt)
            self._fail(pending, last.reason, status, last.detail, result)
            return False
        delay = self._rng.uniform(0, min(self._cap, self._base * 2**attempt)) if wait else 0.0
        if delay >= self._remaining():
            last = exhausted(cause, attempt)
            reason = last.reason if last.reason != "retries_exhausted" else "deadline"
            self._fail(pending, reason, status, f"no time left to retry; {last.detail}", result)
            return False
        if self._on_retry:
            self._on_retry(Retry(attempt + 1, self._max_attempts, delay, len(pending), cause))
        if delay:
            self._sleep(delay)
        return True

    @staticmethod
    def _fail(
        pending: Sequence[Pending],
        reason: str,
        status: int | None,
        detail: str,
        result: BulkResult,
    ) -> None:
        result.failures.extend(
            Failure(Document.of_pending(p), reason, status, detail) for p in pending
        )


def _request_cause(error: TransportError, status: int | None) -> Cause:
    """Why a whole `_bulk` request failed: its status and body, or a connection failure."""
    if status is None:
        retry = isinstance(error, TransportConnectionError) or error.status_code == "N/A"
        return Cause(
            "retries_exhausted" if retry else type(error).__name__, retry, str(error)[:300]
        )
    cause = classify(status, error.info)
    if cause.reason.startswith("http_") or cause.reason == "unknown":  # 401/403 and the like
        return Cause(f"http_{status}", False, cause.detail)
    return cause
