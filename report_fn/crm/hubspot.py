"""HubSpot: CRM v3 search, 200 a page through `paging.next.after`.

The search API stops at 10,000 results per query, so a window that holds more is split
into smaller time windows until each fits; one that cannot be split further is reported
as incomplete rather than silently cut.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from opsbundle import settings
from opsbundle.urls import require_https
from report_fn.crm.base import CRMHttp, Fetched, FetchResult, OnPage, json_body
from report_fn.crm.mapping import FieldMapping
from report_fn.exceptions import CRMError

DEFAULT_BASE_URL = "https://api.hubapi.com"
PAGE_SIZE = 200
RESULT_CAP = 10_000
# Aim each split window at 80% of the cap, so uneven spreads rarely need a second split.
SPLIT_TARGET = int(RESULT_CAP * 0.8)
# HubSpot allows 5 search requests a second per account; pacing a little under it avoids
# the 429s (and their backoff) instead of provoking them.
DEFAULT_REQUESTS_PER_SECOND = 4.0


class HubSpotConnector:
    kind = "hubspot"
    family = "hubspot"

    def __init__(
        self,
        *,
        token: str,
        mapping: FieldMapping,
        http: CRMHttp,
        object_type: str = "contacts",
        base_url: str | None = None,
        requests_per_second: float | None = DEFAULT_REQUESTS_PER_SECOND,
        clock: Callable[[], float] = time.monotonic,
        on_page: OnPage | None = None,
    ) -> None:
        """`on_page` hears after each page how many pages, leads and searches so far."""
        self._http = http
        self._on_page = on_page
        self._pages = self._leads = 0
        self._interval = 1 / requests_per_second if requests_per_second else 0.0
        self._clock = clock
        self._next_request = 0.0
        base = require_https(base_url or DEFAULT_BASE_URL, setting=settings.CRM_BASE_URL)
        self._url = f"{base.rstrip('/')}/crm/v3/objects/{object_type}/search"
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self._properties = [name for name in mapping.crm_fields() if name != "hs_object_id"]
        self._created = mapping.fields["created"]
        self.windows_searched = 0

    def fetch(self, start: datetime, end: datetime) -> FetchResult:
        result = FetchResult()
        pending = [(_ms(start), _ms(end))]
        while pending:
            low, high = pending.pop()
            first = self._search(low, high, after=None)
            self.windows_searched += 1
            total = int(first.get("total", 0))
            if total > RESULT_CAP:
                if high - low > 1:
                    pending.extend(reversed(_split(low, high, total)))
                    continue
                result.complete = False
                result.notes.append(
                    f"HubSpot holds {total} leads created in the same millisecond "
                    f"({_iso(low)}); only the first {RESULT_CAP} could be read"
                )
            page = first
            while True:
                result.records.extend(_flatten(record) for record in page.get("results", []))
                self._pages += 1
                self._leads += len(page.get("results", []))
                if self._on_page:
                    self._on_page(Fetched(self._pages, self._leads, self.windows_searched))
                after = ((page.get("paging") or {}).get("next") or {}).get("after")
                if not after or _offset(after) >= RESULT_CAP:
                    break
                page = self._search(low, high, after=str(after))
        return result

    def _search(self, low: int, high: int, *, after: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "filterGroups": [
                {
                    "filters": [
                        {"propertyName": self._created, "operator": "GTE", "value": str(low)},
                        {"propertyName": self._created, "operator": "LT", "value": str(high)},
                    ]
                }
            ],
            "sorts": [{"propertyName": self._created, "direction": "ASCENDING"}],
            "properties": self._properties,
            "limit": PAGE_SIZE,
        }
        if after is not None:
            body["after"] = after
        self._pace()
        response = self._http.request("POST", self._url, json=body, headers=self._headers)
        page = json_body("HubSpot", response)
        if not isinstance(page, dict) or "results" not in page:
            raise CRMError("HubSpot answered a search without a results list")
        return page

    def _pace(self) -> None:
        if not self._interval:
            return
        now = self._clock()
        if now < self._next_request:
            self._http.sleep(self._next_request - now)
            now = self._next_request
        self._next_request = now + self._interval


def _split(low: int, high: int, total: int) -> list[tuple[int, int]]:
    """Equal time slices, enough that each would hold SPLIT_TARGET leads if evenly spread."""
    parts = max(2, math.ceil(total / SPLIT_TARGET))
    width = max(1, math.ceil((high - low) / parts))
    return [(edge, min(edge + width, high)) for edge in range(low, high, width)]


def _flatten(record: Mapping[str, Any]) -> dict[str, Any]:
    return {**(record.get("properties") or {}), "hs_object_id": record.get("id")}


def _offset(after: Any) -> int:
    try:
        return int(after)
    except (TypeError, ValueError):
        return 0


def _ms(moment: datetime) -> int:
    return int(moment.astimezone(UTC).timestamp() * 1000)


def _iso(ms: int) -> str:
    return (datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)).isoformat()
