"""Reading a log file from S3 as a stream of lines: never the whole object in memory.

The object is read as it downloads (the GetObject body), through gzip when it starts with
gzip's magic bytes (what AWS services write: .log.gz, .json.gz), a line at a time. A line
longer than MAX_LINE_BYTES is cut there (the rest of it skipped, the line marked) so one
pathological line can't take the function's memory. A resumed read skips the lines an earlier
invocation shipped. CloudTrail files are one JSON object, read whole but bounded
(MAX_JSON_BYTES); their records are then handed on one by one.
"""

from __future__ import annotations

import gzip
import io
import json
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from log_shipper.exceptions import LogShipperError
from log_shipper.formats import cloudfront, cloudtrail, vpc_flow
from log_shipper.formats.common import FormatError
from log_shipper.s3_events import ObjectRef
from opsbundle import aws

MAX_LINE_BYTES = 1024 * 1024
MAX_JSON_BYTES = 256 * 1024 * 1024
READ_BUFFER = 1024 * 1024
GZIP_MAGIC = b"\x1f\x8b"


class ObjectError(LogShipperError):
    """An object that could not be read: its reason goes to the dead letters."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Line:
    number: int  # from 1
    text: str
    cut: bool = False  # longer than MAX_LINE_BYTES: the rest was skipped


class _Body(io.RawIOBase):
    """A raw stream over a GetObject body, with the bytes already read put back in front."""

    def __init__(self, head: bytes, body: Any) -> None:
        self._head = head
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        if self._head:
            size = min(len(buffer), len(self._head))
            buffer[:size] = self._head[:size]
            self._head = self._head[size:]
            return size
        chunk = self._body.read(len(buffer))
        buffer[: len(chunk)] = chunk
        return len(chunk)


def open_object(s3: Any, ref: ObjectRef) -> io.BufferedIOBase:
    """The object's bytes, decompressed when gzip'd, as a buffered stream."""
    request: dict[str, Any] = {"Bucket": ref.bucket, "Key": ref.key}
    if ref.version_id:
        request["VersionId"] = ref.version_id
    elif ref.etag:  # the write the notification was about, not a newer one
        request["IfMatch"] = ref.etag if ref.etag.startswith('"') else f'"{ref.etag}"'
    try:
        body = s3.get_object(**request)["Body"]
        head = body.read(2)
    except ClientError as error:
        code = aws.error_code(error, "ClientError")
        reason = {
            "NoSuchKey": "s3_object_missing",
            "NoSuchVersion": "s3_object_missing",
            "PreconditionFailed": "s3_object_replaced",
            "AccessDenied": "s3_access_denied",
            "403": "s3_access_denied",
            "404": "s3_object_missing",
            "412": "s3_object_replaced",
        }.get(code, "s3_error")
        raise ObjectError(reason, f"GetObject {ref.url}: {code}") from None
    except BotoCoreError as error:
        raise ObjectError("s3_error", f"GetObject {ref.url}: {type(error).__name__}") from None
    raw = io.BufferedReader(_Body(head, body), buffer_size=READ_BUFFER)
    if head == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw, mode="rb")
    return raw


def lines(stream: io.BufferedIOBase, *, start: int = 0) -> Iterator[Line]:
    """Each line (its newline removed), numbered from 1; those up to `start` skipped."""
    number = 0
    try:
        while True:
            raw = stream.readline(MAX_LINE_BYTES + 1)
            if not raw:
                return
            number += 1
            cut = len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n")
            if cut:
                _skip_rest_of_line(stream)
            if number <= start:
                continue
            text = raw[:MAX_LINE_BYTES].decode("utf-8", "replace").rstrip("\r\n")
            yield Line(number, text, cut)
    except (OSError, EOFError, zlib.error) as error:  # a damaged gzip stream, a dropped read
        raise ObjectError("unreadable_object", f"at line {number + 1}: {error}") from None


def _skip_rest_of_line(stream: io.BufferedIOBase) -> None:
    while True:
        rest = stream.readline(READ_BUFFER)
        if not rest or rest.endswith(b"\n"):
            return


def headed_lines(
    stream: io.BufferedIOBase, source: str, *, start: int = 0
) -> tuple[tuple[str, ...], Iterator[Line]]:
    """(the field names the file declares, its records): CloudFront's `#Fields:` line, VPC
    Flow Logs' first line; comment lines (`#Version`) are not records."""
    iterator = lines(stream)
    header: tuple[str, ...] = ()
    pending: list[Line] = []
    for line in iterator:
        names = (
            cloudfront.fields_header(line.text)
            if source == "cloudfront"
            else vpc_flow.fields_header(line.text)
        )
        if names:
            header = tuple(names)
            break
        if not line.text.startswith("#"):
            pending.append(line)  # no header before it: read as records (and fail to parse)
            break

    def records() -> Iterator[Line]:
        for line in [*pending, *iterator]:
            if line.number > start and line.text and not line.text.startswith("#"):
                yield line

    return header, records()


def cloudtrail_records(stream: io.BufferedIOBase) -> list[Any]:
    try:
        text = stream.read(MAX_JSON_BYTES + 1)
    except (OSError, EOFError, zlib.error) as error:
        raise ObjectError("unreadable_object", str(error)) from None
    if len(text) > MAX_JSON_BYTES:
        raise ObjectError(
            "object_too_large", f"a CloudTrail file past {MAX_JSON_BYTES // 2**20} MiB"
        )
    try:
        return cloudtrail.records(text)
    except FormatError as error:
        raise ObjectError("unreadable_object", str(error)) from None


def record_text(record: Any) -> str:
    return json.dumps(record, separators=(",", ":"), ensure_ascii=False)
