"""A CSV or JSON export at a URL: https://, s3://bucket/key, or a local path.

The export is read once per run and every window is cut from it. JSON may be a list of
objects, {"records": [...]}, or one object per line (NDJSON). The text is UTF-8 (a BOM is
allowed) unless CRM_EXPORT_ENCODING says otherwise: bytes that are not of that encoding
are refused, naming the setting, never read as replacement characters. An export that
cannot be what it says it is (empty, not JSON, a JSON file read as CSV) is a ConfigError
naming CRM_EXPORT_URL: no retry would fix it.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Mapping
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import requests
from botocore.exceptions import BotoCoreError, ClientError
from urllib3.exceptions import HTTPError

from opsbundle import settings
from opsbundle.exceptions import ConfigError
from opsbundle.inflate import Inflater, TooLarge
from opsbundle.urls import require_https, shown
from report_fn.crm.base import CRMHttp, FetchResult
from report_fn.crm.mapping import FieldMapping, field_value, parse_time
from report_fn.exceptions import CRMError

MAX_EXPORT_BYTES = 512 * 1024 * 1024


class ExportConnector:
    family = "export"

    def __init__(
        self,
        *,
        kind: str,
        url: str,
        mapping: FieldMapping,
        http: CRMHttp,
        timezone: tzinfo,
        s3_client_factory: Callable[[], Any] | None = None,
        encoding: str = "utf-8",
    ) -> None:
        if kind not in ("csv", "json"):
            raise ValueError(f"unknown export kind {kind!r}")
        self.kind = kind
        self._encoding = encoding
        self._url = url
        self._http = http
        self._s3_client_factory = s3_client_factory
        self._created = mapping.fields["created"]
        self._required_columns = (mapping.fields["id"], mapping.fields["created"])
        self._timezone = timezone
        self._rows: list[Any] | None = None

    def fetch(self, start: datetime, end: datetime) -> FetchResult:
        rows = self._load()
        selected: list[Any] = []
        earliest: datetime | None = None
        for row in rows:
            created = (
                parse_time(field_value(row, self._created), self._timezone)
                if isinstance(row, Mapping)
                else None
            )
            if created is not None and (earliest is None or created < earliest):
                earliest = created
            # Rows without a usable time stay in, so the parser can count them as skipped.
            if created is None or start <= created < end:
                selected.append(row)
        return FetchResult(records=selected, covers_from=earliest)

    def _load(self) -> list[Any]:
        if self._rows is None:
            data = self._read_bytes()
            if not data.strip():
                raise ConfigError(
                    settings.CRM_EXPORT_URL,
                    f"the export {shown(self._url)} is empty ({len(data)} bytes): nothing to "
                    "report from; check the job that writes it",
                )
            text = _decoded(data, self._encoding)
            if self.kind == "csv":
                self._rows = _parse_csv(text, required=self._required_columns)
            else:
                self._rows = _parse_json(text)
        return self._rows

    def _read_bytes(self) -> bytes:
        parsed = urlparse(self._url)
        if parsed.scheme in ("http", "https"):
            require_https(self._url, setting=settings.CRM_EXPORT_URL)
            return self._download()
        if parsed.scheme == "s3":
            if self._s3_client_factory is None:
                raise CRMError("an s3:// export needs an S3 client")
            try:
                body = self._s3_client_factory().get_object(
                    Bucket=parsed.netloc, Key=parsed.path.lstrip("/")
                )["Body"]
                return _capped(body.read(MAX_EXPORT_BYTES + 1), self._url)
            except (BotoCoreError, ClientError) as error:
                raise CRMError(f"could not read the export {shown(self._url)}: {error}") from None
        if parsed.scheme not in ("", "file"):
            raise ConfigError(
                settings.CRM_EXPORT_URL,
                f"{self._url!r}: use an https:// URL, s3://bucket/key or a file path",
            )
        path = Path(parsed.path if parsed.scheme == "file" else self._url)
        try:
            return _capped(path.read_bytes(), self._url)
        except OSError as error:
            raise CRMError(f"could not read the export {path}: {error.strerror}") from None

    def _download(self) -> bytes:
        """The export, read as it arrives and inflated here (Content-Encoding gzip or
        deflate) a piece at a time: past MAX_EXPORT_BYTES it stops, a gzip bomb included,
        whatever urllib3 the runtime has."""
        response = self._http.request(
            "GET", self._url, stream=True, headers={"Accept-Encoding": "gzip, deflate"}
        )
        chunks: list[bytes] = []
        try:
            inflater = Inflater(
                response.headers.get("Content-Encoding", ""), limit=MAX_EXPORT_BYTES
            )
            for piece in response.raw.stream(64 * 1024, decode_content=False):
                chunks.append(inflater.feed(piece))
        except TooLarge:
            raise _too_large(self._url) from None
        except ValueError as error:
            raise CRMError(f"could not read the export {shown(self._url)}: {error}") from None
        except (requests.RequestException, OSError, HTTPError) as error:
            raise CRMError(
                f"could not read the export {shown(self._url)} ({type(error).__name__})"
            ) from None
        finally:
            response.close()
        return b"".join(chunks)


def _too_large(url: str) -> CRMError:
    return CRMError(f"the export {shown(url)} is larger than {MAX_EXPORT_BYTES // 2**20} MiB")


def _capped(data: bytes, url: str) -> bytes:
    if len(data) > MAX_EXPORT_BYTES:
        raise _too_large(url)
    return data


def _decoded(data: bytes, encoding: str) -> str:
    """The export's text; bytes that are not `encoding` are refused with the likely one."""
    codec = "utf-8-sig" if encoding.replace("_", "-").lower() in ("utf-8", "utf8") else encoding
    try:
        return data.decode(codec)
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        guess = "cp1252" if _decodes(data, "cp1252") else "latin-1"
        raise ConfigError(
            settings.CRM_EXPORT_ENCODING,
            f"the export is not {encoding} (byte 0x{data[error.start]:02x} on line {line}); "
            f"it reads as {guess}: set {settings.CRM_EXPORT_ENCODING}={guess}, or export it "
            "as UTF-8",
        ) from None


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _parse_csv(text: str, *, required: tuple[str, ...]) -> list[Any]:
    if text.lstrip()[:1] in ("{", "["):
        raise ConfigError(
            settings.CRM_EXPORT_URL,
            "the export looks like JSON, not CSV: use --source json (CRM_KIND=json)",
        )
    try:
        reader = csv.DictReader(io.StringIO(text))
        columns = reader.fieldnames or []
        missing = [name for name in required if name not in columns]
        if missing:
            shown_columns = ", ".join(repr(c[:40]) for c in columns[:10])
            more = f" and {len(columns) - 10} more" if len(columns) > 10 else ""
            raise ConfigError(
                settings.CRM_FIELD_MAP,
                f"the CSV export has no column {', '.join(map(repr, missing))} "
                f"(its columns: {shown_columns or 'none'}{more})",
            )
        return list(reader)
    except csv.Error as error:
        raise CRMError(f"the CSV export is not readable CSV ({error})") from None


SHAPES = 'a list of objects, {"records": [...]}, or one object a line (NDJSON)'


def _parse_json(text: str) -> list[Any]:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as whole:
        return _ndjson(text, whole)
    if isinstance(value, dict) and isinstance(value.get("records"), list):
        return list(value["records"])
    if isinstance(value, list):
        return value
    what = (
        f"an object with keys {', '.join(list(value)[:5])}"
        if isinstance(value, dict)
        else (f"a JSON {type(value).__name__}")
    )
    raise ConfigError(settings.CRM_EXPORT_URL, f"the JSON export is {what}; it must be {SHAPES}")


def _ndjson(text: str, whole: json.JSONDecodeError) -> list[Any]:
    """One object a line. The first line must be JSON, or this is no NDJSON (the error is
    then where the whole text stopped being JSON), and so must the last (or the file was cut
    off). A line between them that is not JSON is a row the report counts as "not a record"
    (nothing is dropped unsaid)."""
    lines, offset = [], 0
    for number, line in enumerate(text.splitlines(keepends=True), 1):
        if line.strip():
            lines.append((number, offset, line))
        offset += len(line)
    rows: list[Any] = []
    for place, (number, start, line) in enumerate(lines):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as error:
            if place == 0:
                raise _not_json(whole.lineno, whole.colno, whole.pos, whole.msg) from None
            if place == len(lines) - 1:
                raise _not_json(number, error.colno, start + error.pos, error.msg) from None
            rows.append(None)  # counted as "not_an_object" by the parser
    if len(rows) == 1 or not isinstance(rows[0], dict):
        raise _not_json(whole.lineno, whole.colno, whole.pos, whole.msg)
    return rows


def _not_json(line: int, column: int, offset: int, why: str) -> ConfigError:
    return ConfigError(
        settings.CRM_EXPORT_URL,
        f"the export is not valid JSON at line {line}, column {column} (offset {offset}: "
        f"{why}); it must be {SHAPES}",
    )
