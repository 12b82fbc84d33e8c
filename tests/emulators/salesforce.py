"""Salesforce REST emulator: OAuth client-credentials token and SOQL query with paging.

What it reproduces (Salesforce REST API Developer Guide: Query, Query More Results, Query
Options Header; OAuth 2.0 client credentials flow; error bodies seen from real orgs):
- `POST /services/oauth2/token` (form): grant_type=client_credentials with client_id and
  client_secret (form fields or HTTP Basic) → access_token, instance_url (this server), id,
  token_type, issued_at, signature; unknown client → 400 invalid_client_id, wrong secret →
  400 invalid_client, other grant types → 400 unsupported_grant_type;
- `GET /services/data/vNN.N/query?q=SOQL` (and queryAll): a SOQL subset — SELECT fields and
  one-level relationship fields (Owner.Name) FROM one object, WHERE conditions joined by AND
  (=, !=, <, <=, >, >=, LIKE, IN, NOT IN; quoted strings, unquoted datetime/date literals,
  numbers, TRUE/FALSE/NULL), ORDER BY (ASC/DESC, NULLS FIRST/LAST), LIMIT, OFFSET;
- errors as Salesforce words them, with the query, a caret and "ERROR at Row:1:Column:N":
  unknown field → 400 INVALID_FIELD "No such column 'X' on entity 'Lead'..."; a quoted value
  for a datetime field → 400 INVALID_FIELD "...must be of type dateTime and should not be
  enclosed in quotes"; unknown object → 400 INVALID_TYPE; bad syntax → 400 MALFORMED_QUERY;
  constructs this emulator does not implement are 400 MALFORMED_QUERY starting "emulator:";
- pages of 2,000 records (`Sforce-Query-Options: batchSize=N`, clamped to 200..2,000),
  `nextRecordsUrl` ".../query/01g...-2000"; a locator that is unknown, out of range or
  evicted (at most 10 open per user, oldest dropped first) → 400 INVALID_QUERY_LOCATOR;
- datetimes as "2026-11-26T13:05:00.000+0000"; relationship fields nested with attributes;
- bad or expired token → 401 INVALID_SESSION_ID "Session expired or invalid".
"""

from __future__ import annotations

import base64
import functools
import hmac
import random
import re
import secrets
import string
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from tests.emulators.server import EmulatorServer, Request, Response

__all__ = [
    "LEAD_FIELDS",
    "TEST_CLIENT_ID",
    "TEST_CLIENT_SECRET",
    "SalesforceEmulator",
    "make_leads",
    "salesforce_datetime",
    "salesforce_id",
]

TEST_CLIENT_ID = "test-client-id"
TEST_CLIENT_SECRET = "test-client-secret"
DEFAULT_BATCH_SIZE = 2000
MIN_BATCH_SIZE = 200
MAX_OPEN_CURSORS = 10
MAX_OFFSET = 2000
DAILY_API_LIMIT = 15_000

# Field types of the emulated object (Lead by default); relationship fields are
# "Relationship.Field" and need a matching entry in RELATIONSHIPS.
LEAD_FIELDS: Mapping[str, str] = {
    "Id": "id",
    "CreatedDate": "datetime",
    "LastModifiedDate": "datetime",
    "FirstName": "string",
    "LastName": "string",
    "Name": "string",
    "Company": "string",
    "Email": "string",
    "LeadSource": "string",
    "Status": "string",
    "State": "string",
    "IsConverted": "boolean",
    "OwnerId": "id",
    "Campaign__c": "string",
    "Case_Type__c": "string",
}
RELATIONSHIPS: Mapping[str, tuple[str, str, Mapping[str, str]]] = {
    # relationship name → (related object, foreign-key field, related fields)
    "Owner": ("User", "OwnerId", {"Id": "id", "Name": "string", "Email": "string"}),
}
LEAD_STATUSES = (
    "Open - Not Contacted",
    "Working - Contacted",
    "Qualified",
    "Closed - Converted",
    "Closed - Not Converted",
)
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other")

WSDL_HINT = "Please reference your WSDL or the describe call for the appropriate names."
VERSION_PATH = re.compile(r"^/services/data/(?P<version>v\d+\.\d)/(?P<rest>.*)$")
ID_PATTERN = re.compile(r"^[A-Za-z0-9]{15}([A-Za-z0-9]{3})?$")
KEYWORDS = frozenset(
    {
        "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "LIKE", "ORDER", "BY", "ASC",
        "DESC", "NULLS", "FIRST", "LAST", "LIMIT", "OFFSET", "NULL", "TRUE", "FALSE",
        "GROUP", "HAVING", "WITH", "FOR", "USING", "INCLUDES", "EXCLUDES", "TYPEOF",
    }
)  # fmt: skip  # names packed, not one a line
TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
    |(?P<string>'(?:\\.|[^'\\])*')
    |(?P<datetime>\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?(?:Z|[+-]\d{2}:\d{2}))
    |(?P<date>\d{4}-\d{2}-\d{2})
    |(?P<number>-?\d+(?:\.\d+)?)
    |(?P<op><=|>=|!=|<>|=|<|>)
    |(?P<punct>[(),])
    |(?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
    """,
    re.VERBOSE,
)


def salesforce_datetime(value: datetime) -> str:
    """Salesforce's JSON datetime form: "2026-11-26T13:05:00.000+0000" (UTC)."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


class SalesforceError(Exception):
    def __init__(self, status: int, error_code: str, message: str) -> None:
        super().__init__(message)
        self.response = Response(status, [{"message": message, "errorCode": error_code}])


class _SoqlError(Exception):
    def __init__(self, code: str, message: str, position: int | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.position = code, message, position

    def for_query(self, query: str) -> SalesforceError:
        if self.position is None:
            return SalesforceError(400, self.code, self.message)
        row = query.count("\n", 0, self.position) + 1
        line_start = query.rfind("\n", 0, self.position) + 1
        column = self.position - line_start
        line = query[line_start:].split("\n", 1)[0]
        text = f"\n{line}\n{' ' * column}^\nERROR at Row:{row}:Column:{column + 1}\n{self.message}"
        return SalesforceError(400, self.code, text)


def _unsupported(what: str, position: int | None = None) -> _SoqlError:
    return _SoqlError("MALFORMED_QUERY", f"emulator: {what} is not supported", position)


# -- SOQL parsing (pure) ------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int

    @property
    def word(self) -> str:
        return self.text.upper() if self.kind == "ident" else ""


@dataclass(frozen=True)
class _Condition:
    field: str
    operator: str
    value: Any  # str | int | float | bool | datetime | date | None, or a list for IN
    kind: str  # literal kind: string, datetime, date, number, boolean, null, list
    position: int
    value_position: int


@dataclass(frozen=True)
class _Order:
    field: str
    descending: bool
    nulls_last: bool
    position: int


@dataclass
class _Query:
    fields: list[tuple[str, int]]
    object_name: tuple[str, int]
    conditions: list[_Condition] = field(default_factory=list)
    order: list[_Order] = field(default_factory=list)
    limit: int | None = None
    offset: int = 0


def _tokenize(query: str) -> list[_Token]:
    tokens, position = [], 0
    while position < len(query):
        match = TOKEN.match(query, position)
        if match is None:
            raise _SoqlError("MALFORMED_QUERY", f"unexpected token: '{query[position]}'", position)
        if match.lastgroup != "ws":
            tokens.append(_Token(str(match.lastgroup), match.group(), position))
        position = match.end()
    tokens.append(_Token("eof", "<EOF>", len(query)))
    return tokens


class _Parser:
    def __init__(self, query: str) -> None:
        self.tokens = _tokenize(query)
        self.index = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.current
        self.index += 1
        return token

    def accept(self, word: str) -> bool:
        if self.current.word == word:
            self.index += 1
            return True
        return False

    def expect(self, word: str) -> None:
        if not self.accept(word):
            raise self.unexpected()

    def unexpected(self) -> _SoqlError:
        token = self.current
        return _SoqlError("MALFORMED_QUERY", f"unexpected token: '{token.text}'", token.position)

    def name(self) -> tuple[str, int]:
        token = self.current
        if token.kind != "ident" or token.word in KEYWORDS:
            raise self.unexpected()
        self.index += 1
        if self.current.text == "(":
            raise _unsupported(f"function {token.text}()", token.position)
        return token.text, token.position

    def parse(self) -> _Query:
        self.expect("SELECT")
        fields = [self.name()]
        while self.current.text == ",":
            self.advance()
            fields.append(self.name())
        self.expect("FROM")
        query = _Query(fields, self.name())
        if self.accept("WHERE"):
            query.conditions.append(self.condition())
            while self.accept("AND"):
                query.conditions.append(self.condition())
            if self.current.word == "OR":
                raise _unsupported("OR", self.current.position)
        if self.accept("ORDER"):
            self.expect("BY")
            query.order.append(self.order_item())
            while self.current.text == ",":
                self.advance()
                query.order.append(self.order_item())
        if self.accept("LIMIT"):
            query.limit = self.integer()
        if self.accept("OFFSET"):
            query.offset = self.integer()
        if self.current.kind != "eof":
            if self.current.word in KEYWORDS:
                raise _unsupported(self.current.word, self.current.position)
            raise self.unexpected()
        return query

    def condition(self) -> _Condition:
        if self.current.text == "(" or self.current.word == "NOT":
            raise _unsupported("nested or negated conditions", self.current.position)
        name, position = self.name()
        if self.accept("NOT"):
            self.expect("IN")
            return self.in_list(name, position, "NOT IN")
        if self.accept("IN"):
            return self.in_list(name, position, "IN")
        if self.accept("LIKE"):
            operator = "LIKE"
        elif self.current.kind == "op":
            operator = self.advance().text.replace("<>", "!=")
        else:
            raise self.unexpected()
        value_position = self.current.position
        kind, value = self.literal()
        return _Condition(name, operator, value, kind, position, value_position)

    def in_list(self, name: str, position: int, operator: str) -> _Condition:
        if self.current.text != "(":
            raise self.unexpected()
        self.advance()
        value_position = self.current.position
        values = [self.literal()[1]]
        while self.current.text == ",":
            self.advance()
            values.append(self.literal()[1])
        if self.current.text != ")":
            raise self.unexpected()
        self.advance()
        return _Condition(name, operator, values, "list", position, value_position)

    def literal(self) -> tuple[str, Any]:
        token = self.advance()
        if token.kind == "string":
            return "string", re.sub(r"\\(.)", r"\1", token.text[1:-1])
        if token.kind == "datetime":
            return "datetime", datetime.fromisoformat(token.text.replace("Z", "+00:00"))
        if token.kind == "date":
            return "date", date.fromisoformat(token.text)
        if token.kind == "number":
            return "number", float(token.text) if "." in token.text else int(token.text)
        if token.word in ("TRUE", "FALSE"):
            return "boolean", token.word == "TRUE"
        if token.word == "NULL":
            return "null", None
        if token.kind == "ident" and token.word not in KEYWORDS:
            raise _unsupported(f"date literal or bind {token.text}", token.position)
        self.index -= 1
        raise self.unexpected()

    def order_item(self) -> _Order:
        name, position = self.name()
        descending = False
        if self.accept("DESC"):
            descending = True
        else:
            self.accept("ASC")
        nulls_last = descending
        if self.accept("NULLS"):
            if self.accept("LAST"):
                nulls_last = True
            else:
                self.expect("FIRST")
                nulls_last = False
        return _Order(name, descending, nulls_last, position)

    def integer(self) -> int:
        token = self.advance()
        if token.kind != "number" or not token.text.isdigit():
            self.index -= 1
            raise self.unexpected()
        return int(token.text)


# -- the emulator ---------------------------------------------------------------------------


@dataclass
class _Cursor:
    version: str
    records: list[dict[str, Any]]
    batch_size: int


@dataclass
class _Schema:
    object_name: str
    fields: dict[str, str]  # canonical name → type
    relationships: Mapping[str, tuple[str, str, Mapping[str, str]]]

    def field(self, name: str, position: int) -> tuple[str, str]:
        """(canonical path, type) for "Field" or "Relationship.Field"."""
        if "." not in name:
            canonical = _lookup(self.fields, name)
            if canonical is None:
                raise _SoqlError("INVALID_FIELD", self._no_column(name, self.object_name), position)
            return canonical, self.fields[canonical]
        head, _, tail = name.partition(".")
        relationship = _lookup(self.relationships, head)
        if relationship is None or "." in tail:
            message = (
                f"Didn't understand relationship '{head}' in field path. If you are attempting "
                "to use a custom relationship, be sure to append the '__r' after the custom "
                f"relationship name. {WSDL_HINT}"
            )
            raise _SoqlError("INVALID_FIELD", message, position)
        related_object, _, related_fields = self.relationships[relationship]
        canonical = _lookup(related_fields, tail)
        if canonical is None:
            raise _SoqlError("INVALID_FIELD", self._no_column(tail, related_object), position)
        return f"{relationship}.{canonical}", related_fields[canonical]

    @staticmethod
    def _no_column(name: str, entity: str) -> str:
        return (
            f"No such column '{name}' on entity '{entity}'. If you are attempting to use a "
            f"custom field, be sure to append the '__c' after the custom field name. {WSDL_HINT}"
        )


class SalesforceEmulator(EmulatorServer):
    """A local Salesforce org with one queryable object (Lead by default)."""

    def __init__(
        self,
        client_id: str = TEST_CLIENT_ID,
        client_secret: str = TEST_CLIENT_SECRET,
        records: Iterable[Mapping[str, Any]] = (),
        object_name: str = "Lead",
        *,
        fields: Mapping[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """`fields` maps field API names to types (id, string, datetime, date, boolean,
        number) and defaults to LEAD_FIELDS; fields found in `records` but not declared are
        added with a type guessed from their values."""
        super().__init__(host=host, port=port)
        self.client_id = client_id
        self.client_secret = client_secret
        self._tokens: set[str] = set()
        self._api_calls = 0
        self._cursors: OrderedDict[str, _Cursor] = OrderedDict()
        self._schema = _Schema(object_name, dict(fields or LEAD_FIELDS), RELATIONSHIPS)
        self._records: list[dict[str, Any]] = []
        self.add_records(records)

    # -- test-facing API -----------------------------------------------------------------

    def add_records(self, records: Iterable[Mapping[str, Any]]) -> None:
        with self._lock:
            for record in records:
                self._records.append(self._normalize(record))

    @property
    def records(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(r) for r in self._records]

    def expire_tokens(self) -> None:
        """Invalidate every issued access token (the next call gets 401 INVALID_SESSION_ID)."""
        with self._lock:
            self._tokens.clear()

    def expire_query_locators(self) -> None:
        with self._lock:
            self._cursors.clear()

    def request_limit_exceeded_next(self, *, times: int = 1) -> None:
        """The org's daily API request limit: 403 REQUEST_LIMIT_EXCEEDED."""
        body = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
        self.fail_next(403, body, times=times, path="/services/data/")

    # -- dispatch -------------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        try:
            if request.path == "/services/oauth2/token":
                return self._token(request)
            match = VERSION_PATH.match(request.path)
            if match is None:
                raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")
            self._authenticate(request)
            version, rest = match["version"], match["rest"].rstrip("/")
            handler = self._route(rest)
            if request.method != "GET":
                message = f"HTTP Method '{request.method}' not allowed. Allowed are GET,HEAD"
                raise SalesforceError(405, "METHOD_NOT_ALLOWED", message)
            self._api_calls += 1
            response = handler(request, version, rest)
            response.headers["Sforce-Limit-Info"] = f"api-usage={self._api_calls}/{DAILY_API_LIMIT}"
            return response
        except SalesforceError as exc:
            if exc.response.status == 401:
                exc.response.headers["WWW-Authenticate"] = "Token"
            return exc.response

    def _route(self, rest: str) -> Callable[[Request, str, str], Response]:
        if rest in ("query", "queryAll"):
            return self._query
        if rest.startswith(("query/", "queryAll/")):
            return self._query_more
        raise SalesforceError(404, "NOT_FOUND", "The requested resource does not exist")

    def _token(self, request: Request) -> Response:
        if request.method != "POST":
            return Response(405, "Method Not Allowed")
        # Salesforce reads form-encoded bodies (and the query string), nothing else.
        form: dict[str, Any] = dict(request.query)
        if request.content_type == "application/x-www-form-urlencoded":
            form.update(request.body if isinstance(request.body, dict) else {})
        client_id, client_secret = _basic_credentials(request.header("Authorization"))
        client_id = str(form.get("client_id") or client_id or "")
        client_secret = str(form.get("client_secret") or client_secret or "")
        if form.get("grant_type") != "client_credentials":
            return _oauth_error("unsupported_grant_type", "grant type not supported")
        if client_id != self.client_id:
            return _oauth_error("invalid_client_id", "client identifier invalid")
        if not hmac.compare_digest(client_secret, self.client_secret):
            return _oauth_error("invalid_client", "invalid client credentials")
        token = f"00DTEST0000000001!AQ{secrets.token_urlsafe(48)}"
        self._tokens.add(token)
        issued_at = str(int(time.time() * 1000))
        digest = hmac.new(self.client_secret.encode(), f"{self.url}{issued_at}".encode(), "sha256")
        return Response(
            200,
            {
                "access_token": token,
                "signature": base64.b64encode(digest.digest()).decode(),
                "scope": "api",
                "instance_url": self.url,
                "id": f"{self.url}/id/00DTEST0000000001AAA/005TEST0000000001AAA",
                "token_type": "Bearer",
                "issued_at": issued_at,
            },
        )

    def _authenticate(self, request: Request) -> None:
        authorization = request.header("Authorization") or ""
        scheme, _, token = authorization.partition(" ")
        if scheme not in ("Bearer", "OAuth") or token.strip() not in self._tokens:
            raise SalesforceError(401, "INVALID_SESSION_ID", "Session expired or invalid")

    # -- query ----------------------------------------------------------------------------

    def _query(self, request: Request, version: str, rest: str) -> Response:
        soql = request.query.get("q", "")
        if not soql.strip():
            raise SalesforceError(400, "MALFORMED_QUERY", "A query string has to be specified")
        try:
            records = self._run(soql, version)
        except _SoqlError as exc:
            raise exc.for_query(soql) from None
        batch_size = _batch_size(request.header("Sforce-Query-Options"))
        cursor = _Cursor(version, records, batch_size)
        return Response(200, self._page(cursor, 0, rest.split("/", maxsplit=1)[0]))

    def _query_more(self, request: Request, version: str, rest: str) -> Response:
        resource, _, locator_text = rest.partition("/")
        locator, _, offset_text = locator_text.rpartition("-")
        cursor = self._cursors.get(locator)
        offset = int(offset_text) if offset_text.isdigit() else -1
        if cursor is None or not 0 < offset < len(cursor.records):
            raise SalesforceError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        self._cursors.move_to_end(locator)
        return Response(200, self._page(cursor, offset, resource, locator))

    def _page(
        self, cursor: _Cursor, offset: int, resource: str, locator: str | None = None
    ) -> dict[str, Any]:
        end = offset + cursor.batch_size
        body: dict[str, Any] = {
            "totalSize": len(cursor.records),
            "done": end >= len(cursor.records),
            "records": cursor.records[offset:end],
        }
        if not body["done"]:
            if locator is None:
                locator = "01g" + "".join(
                    secrets.choice(string.ascii_uppercase + string.digits) for _ in range(15)
                )
                self._cursors[locator] = cursor
                while len(self._cursors) > MAX_OPEN_CURSORS:
                    self._cursors.popitem(last=False)
            body["nextRecordsUrl"] = f"/services/data/{cursor.version}/{resource}/{locator}-{end}"
        return body

    def _run(self, soql: str, version: str) -> list[dict[str, Any]]:
        query = _Parser(soql).parse()
        schema = self._schema
        name, position = query.object_name
        if name.casefold() != schema.object_name.casefold():
            message = (
                f"sObject type '{name}' is not supported. If you are attempting to use a custom "
                f"object, be sure to append the '__c' after the entity name. {WSDL_HINT}"
            )
            raise _SoqlError("INVALID_TYPE", message, position)
        selected = [schema.field(n, p)[0] for n, p in query.fields]
        conditions = [(schema.field(c.field, c.position), c) for c in query.conditions]
        for (path, field_type), condition in conditions:
            _check_literal(path, field_type, condition)
        orders = [(schema.field(o.field, o.position)[0], o) for o in query.order]
        if query.offset > MAX_OFFSET:
            message = f"Maximum SOQL offset allowed is {MAX_OFFSET}"
            raise _SoqlError("NUMBER_OUTSIDE_VALID_RANGE", message)
        matched = [
            r
            for r in self._records
            if all(_condition_holds(_value(r, path), c) for (path, _), c in conditions)
        ]
        for path, order in reversed(orders):
            present = [r for r in matched if _value(r, path) is not None]
            missing = [r for r in matched if _value(r, path) is None]
            present.sort(key=functools.partial(_sort_key, path), reverse=order.descending)
            matched = present + missing if order.nulls_last else missing + present
        end = None if query.limit is None else query.offset + query.limit
        return [self._render(r, selected, version) for r in matched[query.offset : end]]

    def _render(self, record: dict[str, Any], selected: list[str], version: str) -> dict[str, Any]:
        object_name = self._schema.object_name
        rendered: dict[str, Any] = {
            "attributes": {
                "type": object_name,
                "url": f"/services/data/{version}/sobjects/{object_name}/{record.get('Id')}",
            }
        }
        for path in dict.fromkeys(selected):
            if "." not in path:
                rendered[path] = _json_value(record.get(path))
                continue
            relationship, _, name = path.partition(".")
            related = record.get(relationship)
            if related is None:
                rendered[relationship] = None
                continue
            related_object, foreign_key, _ = self._schema.relationships[relationship]
            related_id = related.get("Id") or record.get(foreign_key)
            holder = rendered.setdefault(
                relationship,
                {
                    "attributes": {
                        "type": related_object,
                        "url": f"/services/data/{version}/sobjects/{related_object}/{related_id}",
                    }
                },
            )
            holder[name] = _json_value(related.get(name))
        return rendered

    def _normalize(self, record: Mapping[str, Any]) -> dict[str, Any]:
        normalized: dict[str, Any] = {}
        for key, value in record.items():
            if key in self._schema.relationships:
                normalized[key] = dict(value) if value is not None else None
                continue
            field_type = self._schema.fields.setdefault(key, _guess_type(value))
            normalized[key] = _coerce(value, field_type)
        return normalized


# -- evaluation helpers (pure) --------------------------------------------------------------


def _check_literal(path: str, field_type: str, condition: _Condition) -> None:
    values = condition.value if condition.kind == "list" else [condition.value]
    kinds = [_literal_kind(v) for v in values]
    for kind in kinds:
        if kind == "null" or kind == _EXPECTED_KIND.get(field_type, kind):
            continue
        if field_type in ("datetime", "date"):
            wanted = "dateTime" if field_type == "datetime" else "date"
            message = (
                f"value of filter criterion for field '{path}' must be of type {wanted} and "
                "should not be enclosed in quotes"
            )
        elif field_type in ("string", "id"):
            message = (
                f"value of filter criterion for field '{path}' must be of type string and "
                "should be enclosed in quotes"
            )
        else:
            message = f"value of filter criterion for field '{path}' must be of type {field_type}"
        raise _SoqlError("INVALID_FIELD", message, condition.value_position)
    if field_type == "id":
        for value in values:
            if isinstance(value, str) and not ID_PATTERN.match(value):
                message = f"invalid ID field: {value}"
                raise _SoqlError("MALFORMED_QUERY", message, condition.value_position)
    if condition.operator == "LIKE" and field_type != "string":
        message = f"invalid operator on {field_type} field: LIKE"
        raise _SoqlError("INVALID_QUERY_FILTER_OPERATOR", message, condition.position)


_EXPECTED_KIND = {
    "id": "string",
    "string": "string",
    "datetime": "datetime",
    "date": "date",
    "boolean": "boolean",
    "number": "number",
}


def _literal_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, int | float):
        return "number"
    return "string"


def _condition_holds(stored: Any, condition: _Condition) -> bool:
    operator, wanted = condition.operator, condition.value
    if operator in ("IN", "NOT IN"):
        hit = stored is not None and any(_order(stored, v) == 0 for v in wanted)
        return hit if operator == "IN" else not hit
    if wanted is None:
        return (stored is None) == (operator == "=") if operator in ("=", "!=") else False
    if stored is None:
        return operator == "!="
    if operator == "LIKE":
        pattern = re.escape(str(wanted)).replace("%", ".*").replace("_", ".")
        return re.fullmatch(pattern, str(stored), re.IGNORECASE | re.DOTALL) is not None
    order = _order(stored, wanted)
    return {
        "=": order == 0,
        "!=": order != 0,
        "<": order < 0,
        "<=": order <= 0,
        ">": order > 0,
        ">=": order >= 0,
    }[operator]


def _order(stored: Any, wanted: Any) -> int:
    if isinstance(stored, str) and isinstance(wanted, str):
        stored, wanted = stored.casefold(), wanted.casefold()
    if isinstance(stored, datetime) and isinstance(wanted, datetime):
        stored, wanted = stored.astimezone(UTC), wanted.astimezone(UTC)
    try:
        return int(stored > wanted) - int(stored < wanted)
    except TypeError:
        return 1


def _sort_key(path: str, record: dict[str, Any]) -> Any:
    value = _value(record, path)
    return value.casefold() if isinstance(value, str) else value


def _value(record: dict[str, Any], path: str) -> Any:
    if "." not in path:
        return record.get(path)
    relationship, _, name = path.partition(".")
    related = record.get(relationship)
    return related.get(name) if isinstance(related, dict) else None


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return salesforce_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _lookup(names: Mapping[str, Any], wanted: str) -> str | None:
    folded = wanted.casefold()
    return next((name for name in names if name.casefold() == folded), None)


def _guess_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, datetime):
        return "datetime"
    if isinstance(value, date):
        return "date"
    if isinstance(value, int | float):
        return "number"
    return "string"


def _coerce(value: Any, field_type: str) -> Any:
    if value is None or field_type not in ("datetime", "date") or not isinstance(value, str):
        return value
    text = value.replace("Z", "+00:00")
    if re.search(r"[+-]\d{4}$", text):
        text = f"{text[:-2]}:{text[-2:]}"
    parsed = datetime.fromisoformat(text)
    if field_type == "date":
        return parsed.date()
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _batch_size(header: str | None) -> int:
    match = re.search(r"batchSize\s*=\s*(\d+)", header or "")
    if match is None:
        return DEFAULT_BATCH_SIZE
    return max(MIN_BATCH_SIZE, min(DEFAULT_BATCH_SIZE, int(match.group(1))))


def _basic_credentials(header: str | None) -> tuple[str | None, str | None]:
    if not header or not header.startswith("Basic "):
        return None, None
    try:
        decoded = base64.b64decode(header.removeprefix("Basic ")).decode()
    except ValueError:
        return None, None
    client_id, _, client_secret = decoded.partition(":")
    return client_id, client_secret


def _oauth_error(error: str, description: str) -> Response:
    return Response(400, {"error": error, "error_description": description})


# -- synthetic data -------------------------------------------------------------------------

_BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
OWNER_NAMES = ("Dana Whitfield", "Marcus Lee", "Priya Raman")
STATES = ("CA", "TX", "FL", "NY", "IL", "GA", "AZ", "NV", "PA", "OH", "NC", "WA")
CASE_TYPES = (
    "Personal Injury",
    "Car Accident",
    "Workers' Compensation",
    "Medical Malpractice",
    "Family Law",
    "Criminal Defense",
)
CAMPAIGNS = ("google-pi-brand", "google-auto-accident", "meta-workers-comp", "tv-spring")


def salesforce_id(prefix: str, number: int) -> str:
    """An 18-character Salesforce ID with its real case-safe checksum suffix."""
    digits = ""
    while number:
        number, rest = divmod(number, 62)
        digits = _BASE62[rest] + digits
    body = (prefix + "5g" + digits.rjust(10, "0"))[:15]
    suffix = ""
    for start in (0, 5, 10):
        chunk = body[start : start + 5]
        bits = sum(1 << i for i, char in enumerate(chunk) if char.isupper())
        suffix += "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"[bits]
    return body + suffix


def make_leads(n: int, start: datetime, end: datetime, seed: int = 0) -> list[dict[str, Any]]:
    """`n` synthetic Leads created at random whole seconds in [start, end), oldest first,
    with Status, LeadSource, State, Campaign__c, Case_Type__c and an Owner. The same seed
    gives the same leads."""
    rng = random.Random(seed)
    span = int((end - start).total_seconds())
    if span <= 0:
        raise ValueError("end must be after start")
    leads = []
    for i, offset in enumerate(sorted(rng.randrange(span) for _ in range(n))):
        created = (start + timedelta(seconds=offset)).astimezone(UTC)
        status = rng.choice(LEAD_STATUSES)
        owner = rng.randrange(len(OWNER_NAMES))
        owner_id, owner_name = salesforce_id("005", 1 + owner), OWNER_NAMES[owner]
        first_name = rng.choice(("Ana", "Ben", "Chloe", "Diego", "Emma", "Farah"))
        last_name = f"Lead{i:05d}"
        leads.append(
            {
                "Id": salesforce_id("00Q", 1000 + i),
                "CreatedDate": created,
                "LastModifiedDate": created + timedelta(minutes=rng.randrange(0, 120)),
                "FirstName": first_name,
                "LastName": last_name,
                "Name": f"{first_name} {last_name}",
                "Company": f"Household {i}",
                "Email": f"lead{i}@example.com",
                "LeadSource": rng.choice(LEAD_SOURCES),
                "Status": status,
                "State": rng.choice(STATES),
                "IsConverted": status == "Closed - Converted",
                "OwnerId": owner_id,
                "Owner": {"Id": owner_id, "Name": owner_name},
                "Campaign__c": rng.choice(CAMPAIGNS),
                "Case_Type__c": rng.choice(CASE_TYPES),
            }
        )
    return leads
