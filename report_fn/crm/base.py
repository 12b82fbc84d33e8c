"""What every CRM connector gives, and the HTTP calls they share (retries, errors)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

import requests
from requests.exceptions import InvalidSchema, InvalidURL, MissingSchema

from opsbundle.exceptions import ConfigError
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
        self.session = session or requests.Session()
        self.max_attempts = max_attempts
        self.max_wait_seconds = max_wait_seconds
        self.timeout = timeout
        self.sleep = sleep
        self.requests = 0
        self.retries = 0
        self.waited = 0.0  # across the whole run: max_wait_seconds bounds the run, not a call

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        for attempt in range(1, self.max_attempts + 1):
            self.requests += 1
            delay: float | None = None
            try:
                response = self.session.request(method, url, timeout=self.timeout, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as error:
                problem = f"{self.crm} could not be reached ({type(error).__name__})"
            except (InvalidURL, MissingSchema, InvalidSchema):
                raise ConfigError(self.url_setting, f"{url!r} is not a usable URL") from None
            except requests.RequestException as error:
                raise CRMError(f"{self.crm} request failed ({type(error).__name__})") from None
            else:
                if _is_limit(response):
                    raise CRMError(f"{self.crm} API limit reached: {summarize(response)}")
                if response.status_code in (401, 403):
                    raise CRMAuthError(
                        self.secret_setting,
                        f"{self.crm} refused the credentials (HTTP {response.status_code}: "
                        f"{summarize(response)}); update the secret, retrying will not help",
                    )
                problem = f"{self.crm} answered HTTP {response.status_code}: {summarize(response)}"
                if response.status_code not in RETRY_STATUSES:
                    if response.status_code >= 400:
                        raise CRMError(problem)
                    return response
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


def json_body(crm: str, response: requests.Response) -> Any:
    """The response's JSON, or a CRMError saying what came instead (a login page, say)."""
    try:
        return response.json()
    except ValueError:
        kind = response.headers.get("Content-Type", "no content type")
        raise CRMError(
            f"{crm} answered HTTP {response.status_code} with {kind}, not JSON"
        ) from None


def _is_limit(response: requests.Response) -> bool:
    """Salesforce's daily API limit (403 REQUEST_LIMIT_EXCEEDED): not an auth problem, and
    retrying within minutes cannot help."""
    return response.status_code == 403 and "REQUEST_LIMIT_EXCEEDED" in response.text[:2000]


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


def summarize(response: requests.Response, limit: int = 300) -> str:
    """The CRM's own error message, shortened; never the request (it may carry credentials)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:limit].strip() or response.reason or "no body"
    if isinstance(body, list) and body and isinstance(body[0], Mapping):
        body = body[0]  # Salesforce: [{"message": ..., "errorCode": ...}]
    if isinstance(body, Mapping):
        code = body.get("errorCode") or body.get("category") or body.get("error")
        message = body.get("message") or body.get("error_description") or ""
        text = f"{code}: {message}" if code else str(message)
        return text[:limit] or "no message"
    return str(body)[:limit]
