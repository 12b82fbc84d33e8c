"""What every CRM connector gives, and the HTTP calls they share (retries, errors)."""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import requests
from requests.exceptions import InvalidSchema, InvalidURL, MissingSchema

from opsbundle import redirects
from opsbundle.exceptions import ConfigError
from opsbundle.redaction import MASK, redact_credentials
from opsbundle.redirects import RedirectRefused
from opsbundle.urls import shown
from report_fn.exceptions import CRMAuthError, CRMError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass
class FetchResult:
    """Raw records for a window. `complete` is False when the CRM could not give them all."""

    records: list[Mapping[str, Any]] = field(default_factory=list)
    complete: bool = True
    notes: list[str] = field(default_factory=list)
    # The earliest time the source holds (an export); a window ending before it is not covered.
    covers_from: datetime | None = None


@dataclass(frozen=True)
class Fetched:
    """How far a CRM's fetching has got in this run (for progress on a terminal)."""

    pages: int
    leads: int
    windows: int = 1  # searches made; more than the report's windows when some were split


OnPage = Callable[[Fetched], None]


class Connector(Protocol):
    kind: str  # salesforce, hubspot, csv, json, sample
    family: str  # which default field mapping applies: salesforce, hubspot, export

    def fetch(self, start: datetime, end: datetime) -> FetchResult:
        """Records created in [start, end) (aware datetimes)."""
        ...


class CRMHttp:
    """One keep-alive session; 429/5xx/timeouts retried with backoff, 401/403 never."""

    def __init__(
        self,
        *,
        crm: str,
        secret_setting: str,
        url_setting: str = "CRM_BASE_URL",
        session: requests.Session | None = None,
        max_attempts: int = 5,
        max_wait_seconds: float = 60.0,
        timeout: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.crm = crm
        self.secret_setting = secret_setting
        self.url_setting = url_setting
        self.session = session or redirects.session()
        self.max_attempts = max_attempts
        self.max_wait_seconds = max_wait_seconds
        self.timeout = timeout
        self.sleep = sleep
        self.requests = 0
        self.retries = 0
        self.waited = 0.0  # across the whole run: max_wait_seconds bounds the run, not a call

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        hide = _credentials(self.session, kwargs)
        for attempt in range(1, self.max_attempts + 1):
            self.requests += 1
            delay: float | None = None
            try:
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as error:
                problem = f"{self.crm} could not be reached ({type(error).__name__})"
            except (InvalidURL, MissingSchema, InvalidSchema):
                raise ConfigError(self.url_setting, f"{shown(url)!r} is not a usable URL") from None
            except RedirectRefused as error:
                raise CRMError(f"{self.crm} request failed ({error})") from None
            except requests.RequestException as error:
                raise CRMError(f"{self.crm} request failed ({type(error).__name__})") from None
            else:
                if response.status_code < 400:
                    return response
                problem = self._refusal(response, hide)  # raises unless a retry may help
                delay = _retry_after(response)
            if attempt == self.max_attempts:
                break
            if delay is None:
                delay = random.uniform(0, min(30.0, 0.5 * 2**attempt))  # noqa: S311 - jitter
            if self.max_wait_seconds <= 0 or self.waited + delay > self.max_wait_seconds:
                break
            self.waited += delay
            self.retries += 1
            self.sleep(delay)
        raise CRMError(f"{problem} (gave up after {attempt} attempts)")

    def _refusal(self, response: requests.Response, hide: tuple[str, ...]) -> str:
        """What an error answer said: raised when retrying cannot help, else returned."""
        head = _head(response)  # read once: the body may be a stream
        said = _summary(response, head, hide=hide)
        if _is_limit(response, head):
            raise CRMError(f"{self.crm} API limit reached: {said}")
        if response.status_code in (401, 403):
            raise CRMAuthError(
                self.secret_setting,
                f"{self.crm} refused the credentials (HTTP {response.status_code}: "
                f"{said}); update the secret, retrying will not help",
            )
        problem = f"{self.crm} answered HTTP {response.status_code}: {said}"
        if response.status_code not in RETRY_STATUSES:
            raise CRMError(problem)
        return problem


def json_body(crm: str, response: requests.Response) -> Any:
    """The response's JSON, or a CRMError saying what came instead (a login page, say)."""
    try:
        return response.json()
    except (ValueError, RecursionError):
        kind = response.headers.get("Content-Type", "no content type")
        raise CRMError(
            f"{crm} answered HTTP {response.status_code} with {kind}, not JSON"
        ) from None


def _is_limit(response: requests.Response, head: bytes) -> bool:
    """Salesforce's daily API limit (403 REQUEST_LIMIT_EXCEEDED): not an auth problem, and
    retrying within minutes cannot help."""
    return response.status_code == 403 and b"REQUEST_LIMIT_EXCEEDED" in head


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


# Request headers and form fields that carry a credential: never quoted back in an error.
_SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "x-api-key", "cookie"})
# fmt: skip below: names packed, not one a line
_SECRET_FIELDS = frozenset(
    {
        "client_secret",
        "password",
        "refresh_token",
        "access_token",
        "token",
        "code",
        "assertion",
        "hapikey",
    }
)
MAX_ERROR_BODY = 64 * 1024  # what is read of an error body (it may be huge, or a bomb)


def _credentials(session: requests.Session, kwargs: Mapping[str, Any]) -> tuple[str, ...]:
    """The credentials a request carries (header values, the token after "Bearer ", secret
    form fields and query parameters): an error body that echoes them must not repeat them."""
    found: list[str] = []
    headers = {**session.headers, **(kwargs.get("headers") or {})}
    for name, value in headers.items():
        if str(name).lower() in _SECRET_HEADERS and value:
            text = value.decode() if isinstance(value, bytes) else str(value)
            found += [text, text.split(" ", 1)[-1]]
    for fields in (kwargs.get("data"), kwargs.get("params")):
        if isinstance(fields, Mapping):
            found += [str(v) for k, v in fields.items() if str(k).lower() in _SECRET_FIELDS and v]
    return tuple(sorted({f for f in found if len(f) >= 6}, key=len, reverse=True))


def _head(response: requests.Response, limit: int = MAX_ERROR_BODY) -> bytes:
    """At most `limit` bytes of the body, decoded (read in chunks: a streamed body is never
    read whole for an error)."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(chunk_size=8192):
            chunks.append(chunk)
            size += len(chunk)
            if size >= limit:
                break
    except requests.RequestException:
        pass  # what was read is what there is
    return b"".join(chunks)[:limit]


def summarize(response: requests.Response, limit: int = 300, *, hide: tuple[str, ...] = ()) -> str:
    """The CRM's own error message, shortened; never the request (a CRM may echo it: HubSpot
    quotes the headers of a 400/401, a Salesforce 500 page shows them): the credentials the
    request carried are cut out, anything else that looks like one is masked, and an HTML
    page is not quoted at all."""
    return _summary(response, _head(response), limit, hide=hide)


def _summary(
    response: requests.Response, head: bytes, limit: int = 300, *, hide: tuple[str, ...] = ()
) -> str:
    kind = response.headers.get("Content-Type", "")
    if "html" in kind.lower() or head.lstrip()[:1] == b"<":
        return f"an HTML page ({response.reason or 'no reason given'})"
    try:
        body = json.loads(head)
    except (ValueError, RecursionError):
        text = head.decode("utf-8", errors="replace").strip()
        return _clean(text, hide)[:limit] or response.reason or "no body"
    if isinstance(body, list) and body and isinstance(body[0], Mapping):
        body = body[0]  # Salesforce: [{"message": ..., "errorCode": ...}]
    if isinstance(body, Mapping):
        code = body.get("errorCode") or body.get("category") or body.get("error")
        message = body.get("message") or body.get("error_description") or ""
        text = f"{code}: {message}" if code else str(message)
        return _clean(text, hide)[:limit] or "no message"
    return _clean(str(body), hide)[:limit]


def _clean(text: str, hide: tuple[str, ...]) -> str:
    for secret in hide:
        text = text.replace(secret, MASK)
    return redact_credentials(text)
