"""A small base for local HTTP emulators of third-party APIs.

Each emulator is a `ThreadingHTTPServer` on 127.0.0.1 (port 0 unless given), served from a
daemon thread. Subclasses implement `handle(request) -> Response`; the base reads and parses
the body, records every request, serves injected faults and turns crashes into HTTP 500 (kept
in `.errors` so a test can tell an emulator bug from a client bug).

Connections are closed after every response (HTTP/1.0), so `stop()` really makes the server
dead: the next request gets "connection refused", even from a client with a connection pool.
`start()` after `stop()` binds the same port again, so `.url` stays valid across a restart.
"""

from __future__ import annotations

import contextlib
import email.parser
import email.policy
import json
import threading
import time
import traceback
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, NamedTuple, Self

__all__ = ["EmulatorServer", "RecordedRequest", "Request", "Response"]


class RecordedRequest(NamedTuple):
    """One request as the emulator saw it, for assertions.

    `path` is the raw request target (path and query string); `headers` has lower-case names;
    `body` is parsed: JSON → object, form or multipart → dict, anything else → bytes or None.
    """

    method: str
    path: str
    headers: dict[str, str]
    body: Any

    @property
    def url_path(self) -> str:
        return urllib.parse.urlsplit(self.path).path

    @property
    def query(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query, True))


@dataclass
class Request:
    """A parsed request handed to `EmulatorServer.handle`."""

    method: str
    target: str
    path: str
    query: dict[str, str]
    headers: Message
    raw_body: bytes
    body: Any
    json_error: str | None = None

    def header(self, name: str, default: str | None = None) -> str | None:
        value = self.headers.get(name)
        return default if value is None else str(value)

    @property
    def content_type(self) -> str:
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()


@dataclass
class Response:
    """What the emulator answers. dict/list bodies are sent as JSON, str as text."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None

    def encode(self) -> tuple[bytes, str]:
        if self.body is None:
            return b"", self.content_type or "text/plain; charset=utf-8"
        if isinstance(self.body, bytes):
            return self.body, self.content_type or "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), self.content_type or "text/plain; charset=utf-8"
        payload = json.dumps(self.body, separators=(",", ":")).encode()
        return payload, self.content_type or "application/json; charset=utf-8"


@dataclass
class _Fault:
    response: Response | None
    delay: float
    remaining: int
    path: str | None

    def matches(self, path: str) -> bool:
        return self.path is None or path.startswith(self.path)


class EmulatorServer:
    """Base class: lifecycle, request log and fault injection for one local HTTP emulator."""

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._host = host
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.RLock()
        self._log_lock = threading.Lock()
        self._requests: list[RecordedRequest] = []
        self._errors: list[str] = []
        self._faults: list[_Fault] = []

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind and serve in a daemon thread. After `stop()`, binds the same port again."""
        if self._server is not None:
            return self
        server = ThreadingHTTPServer((self._host, self._port), _make_handler(self))
        server.daemon_threads = True
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"{type(self).__name__}:{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket: clients now get "connection refused"."""
        server, thread = self._server, self._thread
        self._server, self._thread = None, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def port(self) -> int:
        if not self._port:
            raise RuntimeError(f"{type(self).__name__} was never started")
        return self._port

    @property
    def url(self) -> str:
        """Base URL without a trailing slash, e.g. "http://127.0.0.1:43123"."""
        return f"http://{self._host}:{self.port}"

    # -- request log -------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A copy of every request received so far, oldest first."""
        with self._log_lock:
            return list(self._requests)

    def requests_to(self, path_prefix: str) -> list[RecordedRequest]:
        return [r for r in self.requests if r.url_path.startswith(path_prefix)]

    def clear_requests(self) -> None:
        with self._log_lock:
            self._requests.clear()

    @property
    def errors(self) -> list[str]:
        """Tracebacks of emulator crashes (each was answered with HTTP 500)."""
        with self._log_lock:
            return list(self._errors)

    # -- fault injection -------------------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        body: Any = None,
        headers: Mapping[str, str] | None = None,
        *,
        times: int = 1,
        path: str | None = None,
    ) -> None:
        """Answer the next `times` requests (whose path starts with `path`, if given) with a
        canned response instead of handling them. Faults queue up in the order given."""
        response = Response(status, body, dict(headers or {}))
        with self._lock:
            self._faults.append(_Fault(response, 0.0, times, path))

    def delay_next(self, seconds: float, *, times: int = 1, path: str | None = None) -> None:
        """Sleep `seconds` before handling the next `times` matching requests normally."""
        with self._lock:
            self._faults.append(_Fault(None, seconds, times, path))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.matches(path):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    # -- hooks for subclasses -------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Answer one request. Called with the emulator's lock held."""
        raise NotImplementedError

    def parse_body(self, path: str, content_type: str, raw: bytes) -> tuple[Any, str | None]:
        """Parse a request body; returns (body, json_error)."""
        return _parse_body(content_type, raw)

    # -- plumbing -------------------------------------------------------------------------

    def _serve(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        raw = _read_body(handler)
        split = urllib.parse.urlsplit(handler.path)
        content_type = (handler.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        body, json_error = self.parse_body(split.path, content_type, raw)
        request = Request(
            method=method,
            target=handler.path,
            path=split.path,
            query=dict(urllib.parse.parse_qsl(split.query, keep_blank_values=True)),
            headers=handler.headers,
            raw_body=raw,
            body=body,
            json_error=json_error,
        )
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self._log_lock:
            self._requests.append(RecordedRequest(method, handler.path, headers, body))
        response = self._respond(request)
        # A client that gave up (a timeout test) has nobody left to tell.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            _write_response(handler, response)

    def _respond(self, request: Request) -> Response:
        fault = self._take_fault(request.path)
        if fault is not None:
            if fault.delay:
                time.sleep(fault.delay)
            if fault.response is not None:
                return fault.response
        try:
            with self._lock:
                return self.handle(request)
        except Exception:  # an emulator bug must surface as a 500, not a hung client
            detail = traceback.format_exc()
            with self._log_lock:
                self._errors.append(detail)
            return Response(500, {"error": "emulator_crashed", "detail": detail})


def _make_handler(emulator: EmulatorServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"
        server_version = f"{type(emulator).__name__}/1.0"

        def do_GET(self) -> None:
            emulator._serve(self, "GET")

        def do_POST(self) -> None:
            emulator._serve(self, "POST")

        def do_PUT(self) -> None:
            emulator._serve(self, "PUT")

        def do_PATCH(self) -> None:
            emulator._serve(self, "PATCH")

        def do_DELETE(self) -> None:
            emulator._serve(self, "DELETE")

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


def _read_body(handler: BaseHTTPRequestHandler) -> bytes:
    if (handler.headers.get("Transfer-Encoding") or "").lower() == "chunked":
        chunks: list[bytes] = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                handler.rfile.readline()
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def _write_response(handler: BaseHTTPRequestHandler, response: Response) -> None:
    payload, content_type = response.encode()
    handler.send_response(response.status)
    names = {name.lower() for name in response.headers}
    if "content-type" not in names:
        handler.send_header("Content-Type", content_type)
    for name, value in response.headers.items():
        handler.send_header(name, value)
    handler.send_header("Content-Length", str(len(payload)))
    handler.send_header("Connection", "close")
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(payload)


def _parse_body(content_type: str, raw: bytes) -> tuple[Any, str | None]:
    if not raw:
        return None, None
    if content_type == "application/json":
        try:
            return json.loads(raw), None
        except ValueError as exc:
            return raw.decode("utf-8", "replace"), str(exc)
    parse = _BODY_PARSERS.get(content_type)
    return (raw if parse is None else parse(raw)), None


def _parse_form(raw: bytes) -> dict[str, str] | bytes:
    try:
        return dict(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True))
    except UnicodeDecodeError:
        return raw


def _parse_multipart(raw: bytes) -> dict[str, str | bytes]:
    """Fields of a multipart body: text parts as str, file parts as bytes."""
    # The boundary lives in the Content-Type header, so re-attach it for the parser.
    boundary = raw.split(b"\r\n", 1)[0][2:]
    head = b'Content-Type: multipart/form-data; boundary="' + boundary + b'"\r\n\r\n'
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + raw)
    fields: dict[str, str | bytes] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        payload = part.get_payload(decode=True)
        data = payload if isinstance(payload, bytes) else b""
        fields[name] = data if part.get_filename() else data.decode("utf-8", "replace")
    return fields


_BODY_PARSERS: dict[str, Callable[[bytes], Any]] = {
    "application/x-www-form-urlencoded": _parse_form,
    "multipart/form-data": _parse_multipart,
}
