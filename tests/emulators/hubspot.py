"""HubSpot CRM v3 search emulator: `POST /crm/v3/objects/{objectType}/search`.

What it reproduces (HubSpot "Search the CRM" guide, its Limitations section, and recorded
responses in public code):
- private-app auth with `Authorization: Bearer <token>`; missing or wrong → 401
  `{"status": "error", "category": "INVALID_AUTHENTICATION", ...}`;
- `filterGroups` (OR of groups, AND inside a group): at most 5 groups, 6 filters per group and
  18 filters in all, else 400 VALIDATION_ERROR; operators EQ, NEQ, LT, LTE, GT, GTE, BETWEEN
  (value/highValue), IN / NOT_IN (values), HAS_PROPERTY, NOT_HAS_PROPERTY, CONTAINS_TOKEN,
  NOT_CONTAINS_TOKEN; datetimes compared as instants whether the filter gives epoch
  milliseconds or ISO-8601;
- one sort; `properties` (only those, plus hs_object_id, createdate and lastmodifieddate, which
  HubSpot always returns; unset ones come back null; none asked → the object's defaults);
- `limit` default 10, at most 200 (more → 400); `after` an integer string; `paging.next.after`
  only when more results exist; `total` is the true count;
- the 10,000 cap: a page reaching past result 10,000 (`after + limit > 10000`) → 400;
- property values are strings; datetimes as "2026-11-26T13:05:00.123Z";
- optionally the search rate limit (5 requests per second per account) → 429
  "You have reached your secondly limit.".
"""

from __future__ import annotations

import copy
import fnmatch
import functools
import json
import random
import re
import time
import uuid
from collections import OrderedDict, deque
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.emulators.server import EmulatorServer, Request, Response

__all__ = ["TEST_TOKEN", "HubSpotEmulator", "hubspot_datetime", "make_contacts"]

TEST_TOKEN = "pat-test"

MAX_LIMIT = 200
DEFAULT_LIMIT = 10
MAX_RESULTS = 10_000
MAX_FILTER_GROUPS = 5
MAX_FILTERS_PER_GROUP = 6
MAX_FILTERS_TOTAL = 18

AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
    "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
SECONDLY_MESSAGE = "You have reached your secondly limit."

OPERATORS_WITH_VALUE = frozenset(
    {"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}
)
OPERATORS_WITH_VALUES = frozenset({"IN", "NOT_IN"})
OPERATORS = OPERATORS_WITH_VALUE | OPERATORS_WITH_VALUES | {"HAS_PROPERTY", "NOT_HAS_PROPERTY"}

# Properties a search returns when the request names none (HubSpot's per-object defaults).
DEFAULT_PROPERTIES: Mapping[str, tuple[str, ...]] = {
    "contacts": (
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    ),
    "companies": ("createdate", "domain", "hs_lastmodifieddate", "hs_object_id", "name"),
    "deals": (
        "amount",
        "closedate",
        "createdate",
        "dealname",
        "dealstage",
        "hs_lastmodifieddate",
        "hs_object_id",
        "pipeline",
    ),
}
STANDARD_OBJECT_TYPES = frozenset(
    {"contacts", "companies", "deals", "tickets", "products", "line_items", "quotes", "leads"}
)
DATETIME_PROPERTIES = frozenset(
    {"createdate", "lastmodifieddate", "hs_lastmodifieddate", "closedate", "hs_createdate"}
)
SEARCH_PATH = re.compile(r"^/crm/v3/objects/(?P<object_type>[A-Za-z0-9_-]+)/search/?$")
ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$")


class HubSpotError(Exception):
    def __init__(self, status: int, message: str, category: str, **extra: Any) -> None:
        super().__init__(message)
        body = {
            "status": "error",
            "message": message,
            "correlationId": str(uuid.uuid4()),
            "category": category,
            **extra,
        }
        self.response = Response(status, body)


def hubspot_datetime(value: datetime) -> str:
    """HubSpot's datetime form: UTC, milliseconds, "Z" ("2026-11-26T13:05:00.123Z")."""
    value = value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"


class HubSpotEmulator(EmulatorServer):
    """A local HubSpot account holding objects per type (contacts, deals, ...)."""

    def __init__(
        self,
        token: str = TEST_TOKEN,
        contacts: Iterable[Mapping[str, Any]] = (),
        *,
        objects: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
        requests_per_second: int | None = None,
        retry_after: float | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """`contacts` (and `objects`, by type) are `{"id", "properties", "createdAt", ...}`
        records like `make_contacts` makes, or plain property dicts. `requests_per_second`
        turns on the search rate limit (HubSpot's is 5); `retry_after` adds a `Retry-After`
        header (seconds) to its 429s, which HubSpot does not document."""
        super().__init__(host=host, port=port)
        self.token = token
        self.requests_per_second = requests_per_second
        self.retry_after = retry_after
        self._objects: dict[str, list[dict[str, Any]]] = {}
        self._next_id = 1
        self._calls: deque[float] = deque()
        self._cache: OrderedDict[str, list[dict[str, Any]]] = OrderedDict()
        self.add_objects("contacts", contacts)
        for object_type, records in (objects or {}).items():
            self.add_objects(object_type, records)

    # -- test-facing API -----------------------------------------------------------------

    def add_objects(self, object_type: str, records: Iterable[Mapping[str, Any]]) -> None:
        with self._lock:
            stored = self._objects.setdefault(object_type, [])
            for record in records:
                stored.append(self._normalize(object_type, record))
            self._cache.clear()

    def objects(self, object_type: str = "contacts") -> list[dict[str, Any]]:
        with self._lock:
            return copy.deepcopy(self._objects.get(object_type, []))

    # -- dispatch -------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        match = SEARCH_PATH.match(request.path)
        if match is None:
            return Response(404, "Not Found")
        try:
            self._authenticate(request)
            if request.method != "POST":
                raise HubSpotError(405, f"{request.method} is not allowed", "VALIDATION_ERROR")
            self._check_rate_limit()
            object_type = match["object_type"]
            if object_type not in self._objects and object_type not in STANDARD_OBJECT_TYPES:
                message = f"Unable to infer object type from: {object_type}"
                raise HubSpotError(400, message, "VALIDATION_ERROR")
            return Response(200, self._search(object_type, _search_body(request)))
        except HubSpotError as exc:
            return exc.response

    def _authenticate(self, request: Request) -> None:
        authorization = request.header("Authorization") or ""
        if authorization != f"Bearer {self.token}":
            raise HubSpotError(401, AUTH_MESSAGE, "INVALID_AUTHENTICATION")

    def _check_rate_limit(self) -> None:
        if self.requests_per_second is None:
            return
        now = time.monotonic()
        while self._calls and now - self._calls[0] >= 1.0:
            self._calls.popleft()
        if len(self._calls) >= self.requests_per_second:
            error = HubSpotError(
                429,
                SECONDLY_MESSAGE,
                "RATE_LIMITS",
                errorType="RATE_LIMIT",
                policyName="SECONDLY",
            )
            if self.retry_after is not None:
                error.response.headers["Retry-After"] = f"{self.retry_after:g}"
            raise error
        self._calls.append(now)

    # -- search -------------------------------------------------------------------------

    def _search(self, object_type: str, body: dict[str, Any]) -> dict[str, Any]:
        limit = _limit(body.get("limit"))
        after = _after(body.get("after"))
        groups = _filter_groups(body.get("filterGroups"))
        sorts = _sorts(body.get("sorts"))
        names = _property_names(body.get("properties"))
        if after + limit > MAX_RESULTS:
            message = (
                f"Paging beyond {MAX_RESULTS} results is not supported: after ({after}) + "
                f"limit ({limit}) must be at most {MAX_RESULTS}. Narrow the search instead."
            )
            raise HubSpotError(400, message, "VALIDATION_ERROR")
        matches = self._matches(object_type, groups, sorts, body.get("query"))
        wanted = names or DEFAULT_PROPERTIES.get(object_type, ("createdate", "hs_object_id"))
        always = _always_returned(object_type)
        page = [_result(obj, wanted, always) for obj in matches[after : after + limit]]
        response: dict[str, Any] = {"total": len(matches), "results": page}
        if after + limit < len(matches):
            response["paging"] = {"next": {"after": str(after + limit)}}
        return response

    def _matches(
        self,
        object_type: str,
        groups: list[list[dict[str, Any]]],
        sorts: list[tuple[str, bool]],
        query: Any,
    ) -> list[dict[str, Any]]:
        key = json.dumps([object_type, groups, sorts, query], sort_keys=True, default=str)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        found = [
            obj
            for obj in self._objects.get(object_type, [])
            if (not groups or any(all(_passes(obj, f) for f in g) for g in groups))
            and _query_matches(obj, query)
        ]
        found.sort(key=_id_key)
        for name, descending in reversed(sorts):
            present = [o for o in found if _is_set(o["properties"].get(name))]
            missing = [o for o in found if not _is_set(o["properties"].get(name))]
            present.sort(key=functools.partial(_sort_key, name), reverse=descending)
            found = present + missing
        self._cache[key] = found
        if len(self._cache) > 32:
            self._cache.popitem(last=False)
        return found

    def _normalize(self, object_type: str, record: Mapping[str, Any]) -> dict[str, Any]:
        raw = record.get("properties", record)
        meta = {"id", "properties", "createdAt", "updatedAt", "archived"}
        extra = {} if "properties" in record else {k: v for k, v in raw.items() if k in meta}
        properties = {k: _property_value(k, v) for k, v in raw.items() if k not in extra}
        object_id = str(record.get("id") or properties.get("hs_object_id") or self._next_id)
        if object_id.isdigit():
            self._next_id = max(self._next_id, int(object_id) + 1)
        created = properties.get("createdate") or _property_value(
            "createdate", record.get("createdAt") or datetime.now(UTC)
        )
        modified_name = "lastmodifieddate" if object_type == "contacts" else "hs_lastmodifieddate"
        modified = properties.get(modified_name) or _property_value(
            modified_name, record.get("updatedAt") or created
        )
        properties.update(
            {"hs_object_id": object_id, "createdate": created, modified_name: modified}
        )
        return {
            "id": object_id,
            "properties": properties,
            "createdAt": created,
            "updatedAt": modified,
            "archived": bool(record.get("archived", False)),
        }


# -- request validation (pure) ------------------------------------------------------------


def _invalid(message: str) -> HubSpotError:
    return HubSpotError(400, message, "VALIDATION_ERROR")


def _search_body(request: Request) -> dict[str, Any]:
    if request.json_error is not None:
        raise _invalid(f"Invalid input JSON on line 1: {request.json_error}")
    body = request.body if request.body is not None else {}
    if not isinstance(body, dict):
        raise _invalid("Invalid input JSON: expected an object")
    return body


def _limit(value: Any) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
        raise _invalid(f"Invalid limit: {value!r}")
    limit = int(value)
    if limit > MAX_LIMIT:
        raise _invalid(f"limit must be less than or equal to {MAX_LIMIT}, but was {limit}")
    return limit


def _after(value: Any) -> int:
    if value in (None, ""):
        return 0
    if isinstance(value, bool) or not str(value).isdigit():
        raise _invalid(f"Invalid after: {value!r}; it must be formatted as an integer")
    return int(value)


def _filter_groups(value: Any) -> list[list[dict[str, Any]]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _invalid("filterGroups must be an array")
    if len(value) > MAX_FILTER_GROUPS:
        raise _invalid(
            f"Too many filter groups: {len(value)}. A search can have at most "
            f"{MAX_FILTER_GROUPS} filterGroups."
        )
    groups: list[list[dict[str, Any]]] = []
    for i, group in enumerate(value):
        filters = group.get("filters") if isinstance(group, dict) else None
        if not isinstance(filters, list):
            raise _invalid(f"filterGroups[{i}].filters must be an array")
        if len(filters) > MAX_FILTERS_PER_GROUP:
            raise _invalid(
                f"Too many filters in filterGroups[{i}]: {len(filters)}. A filter group can "
                f"have at most {MAX_FILTERS_PER_GROUP} filters."
            )
        groups.append([_filter(f, i, j) for j, f in enumerate(filters)])
    total = sum(len(g) for g in groups)
    if total > MAX_FILTERS_TOTAL:
        raise _invalid(
            f"Too many filters: {total}. A search can have at most {MAX_FILTERS_TOTAL} filters "
            "across all filterGroups."
        )
    return groups


def _filter(value: Any, group: int, index: int) -> dict[str, Any]:
    where = f"filterGroups[{group}].filters[{index}]"
    if not isinstance(value, dict) or not isinstance(value.get("propertyName"), str):
        raise _invalid(f"{where}.propertyName is required")
    operator = value.get("operator")
    if operator is None:
        raise _invalid(f"{where}.operator is required")
    if operator not in OPERATORS:
        raise _invalid(f"{where}.operator: unknown operator {operator!r}")
    if operator in OPERATORS_WITH_VALUE and value.get("value") is None:
        raise _invalid(f"{where}: operator {operator} requires a value")
    if operator == "BETWEEN" and value.get("highValue") is None:
        raise _invalid(f"{where}: operator BETWEEN requires a highValue")
    if operator in OPERATORS_WITH_VALUES and not isinstance(value.get("values"), list):
        raise _invalid(f"{where}: operator {operator} requires values")
    return dict(value)


def _sorts(value: Any) -> list[tuple[str, bool]]:
    if not value:
        return []
    if not isinstance(value, list) or len(value) > 1:
        raise _invalid("Only one sort can be applied to a search")
    sort = value[0]
    if isinstance(sort, str):
        return [(sort.removeprefix("-"), sort.startswith("-"))]
    if not isinstance(sort, dict) or not isinstance(sort.get("propertyName"), str):
        raise _invalid("sorts[0].propertyName is required")
    direction = sort.get("direction", "ASCENDING")
    if direction not in ("ASCENDING", "DESCENDING"):
        raise _invalid(f"sorts[0].direction must be ASCENDING or DESCENDING, not {direction!r}")
    return [(sort["propertyName"], direction == "DESCENDING")]


def _property_names(value: Any) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _invalid("properties must be an array of strings")
    return list(dict.fromkeys(value))


def _always_returned(object_type: str) -> tuple[str, ...]:
    if object_type == "contacts":
        return ("createdate", "hs_object_id", "lastmodifieddate")
    return ("createdate", "hs_lastmodifieddate", "hs_object_id")


# -- matching (pure) ------------------------------------------------------------------------


def _passes(obj: dict[str, Any], flt: dict[str, Any]) -> bool:
    stored = obj["properties"].get(flt["propertyName"])
    operator = flt["operator"]
    negated = operator in ("NEQ", "NOT_IN", "NOT_CONTAINS_TOKEN", "NOT_HAS_PROPERTY")
    if not _is_set(stored):
        return negated
    return _positive_match(stored, operator, flt) != negated


def _positive_match(stored: str, operator: str, flt: dict[str, Any]) -> bool:
    """Whether a set property value matches the filter's positive form (NEQ as EQ, ...)."""
    if operator in ("HAS_PROPERTY", "NOT_HAS_PROPERTY"):
        return True
    if operator in ("IN", "NOT_IN"):
        return any(_compare(stored, v) == 0 for v in flt["values"])
    if operator in ("CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"):
        return _contains_token(stored, str(flt["value"]))
    if operator == "BETWEEN":
        low, high = _compare(stored, flt["value"]), _compare(stored, flt["highValue"])
        return low is not None and high is not None and low >= 0 and high <= 0
    order = _compare(stored, flt["value"])
    return order is not None and _COMPARISONS[operator.replace("NEQ", "EQ")](order)


_COMPARISONS = {
    "EQ": lambda order: order == 0,
    "LT": lambda order: order < 0,
    "LTE": lambda order: order <= 0,
    "GT": lambda order: order > 0,
    "GTE": lambda order: order >= 0,
}


def _compare(stored: str, wanted: Any) -> int | None:
    """-1/0/1 comparing a stored property value with a filter value, typed like HubSpot:
    datetimes as instants (filter in epoch ms or ISO), numbers as numbers, else text
    (case-insensitive). None when the two cannot be compared."""
    stored_ms = _datetime_ms(stored)
    if stored_ms is not None:
        wanted_ms = _filter_ms(wanted)
        return None if wanted_ms is None else (stored_ms > wanted_ms) - (stored_ms < wanted_ms)
    left, right = _number(stored), _number(wanted)
    if left is not None and right is not None:
        return (left > right) - (left < right)
    a, b = stored.casefold(), str(wanted).casefold()
    return (a > b) - (a < b)


def _filter_ms(value: Any) -> int | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    return int(text) if text.lstrip("-").isdigit() else _datetime_ms(text)


@functools.lru_cache(maxsize=65536)
def _datetime_ms(text: str) -> int | None:
    if not ISO_DATETIME.match(text):
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp() * 1000)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _contains_token(stored: str, pattern: str) -> bool:
    tokens = [t for t in re.split(r"[^\w*]+", stored.casefold()) if t]
    wanted = pattern.casefold()
    return fnmatch.fnmatchcase(stored.casefold(), wanted) or any(
        fnmatch.fnmatchcase(token, wanted) for token in tokens
    )


def _query_matches(obj: dict[str, Any], query: Any) -> bool:
    if not query:
        return True
    needle = str(query).casefold()
    return any(needle in str(v).casefold() for v in obj["properties"].values() if _is_set(v))


def _is_set(value: Any) -> bool:
    return value is not None and value != ""


def _id_key(obj: dict[str, Any]) -> tuple[int, int, str]:
    object_id: str = obj["id"]
    return (0, int(object_id), "") if object_id.isdigit() else (1, 0, object_id)


def _sort_key(name: str, obj: dict[str, Any]) -> tuple[int, Any]:
    """Orders set values of one property: datetimes, then numbers, then text."""
    value: str = obj["properties"][name]
    millis = _datetime_ms(value)
    if millis is not None:
        return (0, millis)
    number = _number(value)
    return (1, number) if number is not None else (2, value.casefold())


def _result(obj: dict[str, Any], wanted: Iterable[str], always: Iterable[str]) -> dict[str, Any]:
    names = dict.fromkeys([*wanted, *always])
    return {
        "id": obj["id"],
        "properties": {name: obj["properties"].get(name) for name in names},
        "createdAt": obj["createdAt"],
        "updatedAt": obj["updatedAt"],
        "archived": obj["archived"],
    }


def _property_value(name: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return hubspot_datetime(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if name in DATETIME_PROPERTIES:
        millis = _filter_ms(text)
        if millis is not None:
            return hubspot_datetime(datetime.fromtimestamp(millis / 1000, UTC))
    return text


# -- synthetic data -------------------------------------------------------------------------

LEAD_STATUSES = (
    "NEW",
    "OPEN",
    "IN_PROGRESS",
    "OPEN_DEAL",
    "UNQUALIFIED",
    "ATTEMPTED_TO_CONTACT",
    "CONNECTED",
    "BAD_TIMING",
)
ANALYTICS_SOURCES = (
    "ORGANIC_SEARCH",
    "PAID_SEARCH",
    "EMAIL_MARKETING",
    "SOCIAL_MEDIA",
    "REFERRALS",
    "OTHER_CAMPAIGNS",
    "DIRECT_TRAFFIC",
    "OFFLINE",
    "PAID_SOCIAL",
)
STATES = ("CA", "TX", "FL", "NY", "IL", "GA", "AZ", "NV", "PA", "OH", "NC", "WA")
CASE_TYPES = (
    "Personal Injury",
    "Car Accident",
    "Workers' Compensation",
    "Medical Malpractice",
    "Family Law",
    "Criminal Defense",
    "Immigration",
    "Employment",
)
CAMPAIGNS = (
    "google-pi-brand",
    "google-auto-accident",
    "meta-workers-comp",
    "bing-family-law",
    "tv-spring",
    "referral-partners",
)
FIRST_NAMES = ("Ana", "Ben", "Chloe", "Diego", "Emma", "Farah", "Grace", "Hugo", "Iris", "Jamal")
LAST_NAMES = ("Garcia", "Smith", "Nguyen", "Johnson", "Patel", "Brown", "Kim", "Lopez", "Davis")


def make_contacts(n: int, start: datetime, end: datetime, seed: int = 0) -> list[dict[str, Any]]:
    """`n` synthetic contacts created at random instants in [start, end), oldest first, ids
    from 1001 up. About 1 in 20 has no hs_lead_status and 1 in 25 no state, so filters on
    missing properties have something to find. The same seed gives the same contacts."""
    rng = random.Random(seed)
    span_ms = int((end - start).total_seconds() * 1000)
    if span_ms <= 0:
        raise ValueError("end must be after start")
    offsets = sorted(rng.randrange(span_ms) for _ in range(n))
    contacts = []
    for i, offset in enumerate(offsets):
        created = start + timedelta(milliseconds=offset)
        modified = min(created + timedelta(minutes=rng.randrange(0, 240)), end)
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        contact_id = str(1001 + i)
        properties: dict[str, str | None] = {
            "createdate": hubspot_datetime(created),
            "lastmodifieddate": hubspot_datetime(modified),
            "hs_object_id": contact_id,
            "firstname": first,
            "lastname": last,
            "email": f"{first}.{last}.{contact_id}@example.com".lower(),
            "hs_lead_status": None if rng.random() < 0.05 else rng.choice(LEAD_STATUSES),
            "hs_analytics_source": rng.choice(ANALYTICS_SOURCES),
            "state": None if rng.random() < 0.04 else rng.choice(STATES),
            "case_type": rng.choice(CASE_TYPES),
            "campaign": rng.choice(CAMPAIGNS),
        }
        contacts.append(
            {
                "id": contact_id,
                "properties": properties,
                "createdAt": properties["createdate"],
                "updatedAt": properties["lastmodifieddate"],
                "archived": False,
            }
        )
    return contacts
