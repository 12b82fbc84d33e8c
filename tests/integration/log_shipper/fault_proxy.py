"""A small HTTP proxy in front of the OpenSearch node that misbehaves on purpose.

Each `_bulk` request draws one fault from a seeded plan:
    429 / 503      the whole request refused (nothing forwarded)
    413            the body is larger than `max_body` (nothing forwarded)
    drop_before    the connection closed before forwarding (nothing indexed)
    drop_after     forwarded, then the connection closed without an answer (all indexed,
                   the client can't know: its retry must meet 409s, not make duplicates)
    reject_items   some items answered 429 es_rejected_execution_exception in the real
                   bulk response shape, and only the others forwarded
    pass           forwarded as is
Other paths are forwarded untouched. Request bodies may be gzip'd (Content-Encoding).
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
import random
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

REJECTED = {
    "type": "es_rejected_execution_exception",
    "reason": "rejected execution of coordinating operation [coordinating_and_primary_bytes=0, "
    "replica_bytes=0, all_bytes=0, coordinating_operation_bytes=1024, max_coordinating_and_"
    "primary_bytes=53687091]",
}


class FaultProxy:
    def __init__(
        self,
        upstream: str,
        *,
        weights: dict[str, float] | None = None,
        max_body: int | None = None,
        reject_fraction: float = 0.3,
        seed: int = 7,
    ) -> None:
        parts = urlsplit(upstream)
        self.upstream = (parts.hostname or "127.0.0.1", parts.port or 9200)
        self.weights = weights or {"pass": 1.0}
        self.max_body = max_body
        self.reject_fraction = reject_fraction
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.faults: Counter[str] = Counter()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def draw(self, body_size: int) -> str:
        with self.lock:
            if self.max_body is not None and body_size > self.max_body:
                fault = "413"
            else:
                names, weights = zip(*self.weights.items(), strict=True)
                fault = self.rng.choices(names, weights)[0]
            self.faults[fault] += 1
            return fault

    def forward(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, bytes, str]:
        connection = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            connection.request(method, path, body=body, headers=headers)
            answer = connection.getresponse()
            return (
                answer.status,
                answer.read(),
                answer.getheader("content-type") or "application/json",
            )
        finally:
            connection.close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _reply(
                self, status: int, body: bytes, content_type: str = "application/json"
            ) -> None:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _drop(self) -> None:
                self.close_connection = True
                with contextlib.suppress(OSError):
                    self.connection.shutdown(2)

            def _handle(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else None
                if raw and self.headers.get("content-encoding") == "gzip":
                    raw = gzip.decompress(raw)
                headers = {"content-type": self.headers.get("content-type") or "application/json"}
                if not self.path.split("?")[0].endswith("/_bulk") or raw is None:
                    status, body, kind = proxy.forward(self.command, self.path, raw, headers)
                    return self._reply(status, body, kind)
                fault = proxy.draw(len(raw))
                if fault in ("429", "503", "413"):
                    error = {
                        "error": {"type": "fault_proxy", "reason": f"injected {fault}"},
                        "status": int(fault),
                    }
                    return self._reply(int(fault), json.dumps(error).encode())
                if fault == "drop_before":
                    return self._drop()
                if fault == "drop_after":
                    proxy.forward(self.command, self.path, raw, headers)
                    return self._drop()
                if fault == "reject_items":
                    return self._reject_some(raw, headers)
                status, body, kind = proxy.forward(self.command, self.path, raw, headers)
                return self._reply(status, body, kind)

            def _reject_some(self, raw: bytes, headers: dict[str, str]) -> None:
                lines = raw.splitlines()
                pairs = [(lines[i], lines[i + 1]) for i in range(0, len(lines) - 1, 2)]
                with proxy.lock:
                    rejected = {
                        i for i in range(len(pairs)) if proxy.rng.random() < proxy.reject_fraction
                    }
                kept = [p for i, p in enumerate(pairs) if i not in rejected]
                answers: list[Any] = []
                took = 0
                if kept:
                    body = b"".join(a + b"\n" + s + b"\n" for a, s in kept)
                    status, text, _ = proxy.forward(self.command, self.path, body, headers)
                    if status != 200:
                        return self._reply(status, text)
                    forwarded = json.loads(text)
                    answers, took = forwarded["items"], forwarded.get("took", 1)
                items, position = [], 0
                for i, (action, _) in enumerate(pairs):
                    if i in rejected:
                        meta = json.loads(action)["create"]
                        items.append(
                            {
                                "create": {
                                    "_index": meta["_index"],
                                    "_id": meta["_id"],
                                    "status": 429,
                                    "error": REJECTED,
                                }
                            }
                        )
                    else:
                        items.append(answers[position])
                        position += 1
                answer = {"took": took, "errors": True, "items": items}
                return self._reply(200, json.dumps(answer).encode())

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        return Handler
