"""Salesforce: a SOQL query over the REST API, paged through `nextRecordsUrl`.

Credentials (the secret's JSON): either {"access_token", "instance_url"}, or a connected
app's {"client_id", "client_secret", "login_url"} for the OAuth client-credentials flow
(the token is fetched once and again once if it expires mid-run).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from opsbundle.exceptions import ConfigError
from report_fn.crm.base import CRMHttp, FetchResult
from report_fn.crm.mapping import FieldMapping
from report_fn.exceptions import CRMAuthError, CRMError

DEFAULT_LOGIN_URL = "https://login.salesforce.com"
API_VERSION = "v60.0"
PAGE_SIZE = 2000
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


class SalesforceConnector:
    kind = "salesforce"
    family = "salesforce"

    def __init__(
        self,
        *,
        credentials: Mapping[str, Any],
        mapping: FieldMapping,
        http: CRMHttp,
        object_name: str = "Lead",
        base_url: str | None = None,
        object_setting: str = "CRM_OBJECT",
        fields_setting: str = "CRM_FIELD_MAP",
    ) -> None:
        self._http = http
        self._credentials = credentials
        self._base_url = base_url.rstrip("/") if base_url else None
        self._token: str | None = credentials.get("access_token")
        self._instance_url: str | None = self._base_url or credentials.get("instance_url")
        self._can_refresh = bool(credentials.get("client_id") and credentials.get("client_secret"))
        if not self._token and not self._can_refresh:
            raise CRMAuthError(
                http.secret_setting,
                'the Salesforce secret needs "access_token" and "instance_url", '
                'or "client_id" and "client_secret"',
            )
        if self._token and not self._instance_url:
            raise CRMAuthError(http.secret_setting, 'the Salesforce secret has no "instance_url"')
        if not _NAME.match(object_name):
            raise ConfigError(object_setting, f"{object_name!r} is not a Salesforce object name")
        for crm_field in mapping.crm_fields():
            if not _NAME.match(crm_field):
                raise ConfigError(fields_setting, f"{crm_field!r} is not a Salesforce field name")
        self._object = object_name
        self._fields = mapping.crm_fields()
        self._created = mapping.fields["created"]

    def soql(self, start: datetime, end: datetime) -> str:
        # Every name in the query matched _NAME in __init__; the times are formatted here.
        return (
            f"SELECT {', '.join(self._fields)} FROM {self._object} "  # noqa: S608
            f"WHERE {self._created} >= {_literal(start)} AND {self._created} < {_literal(end)} "
            f"ORDER BY {self._created} ASC"
        )

    def fetch(self, start: datetime, end: datetime) -> FetchResult:
        result = FetchResult()
        path = f"/services/data/{API_VERSION}/query"
        params: dict[str, str] | None = {"q": self.soql(start, end)}
        while True:
            page = self._get(path, params)
            result.records.extend(page.get("records", []))
            if page.get("done", True):
                break
            path, params = page["nextRecordsUrl"], None
            if not isinstance(path, str) or not path.startswith("/"):
                raise CRMError("Salesforce sent a nextRecordsUrl that is not a path")
        result.requests = self._http.requests
        return result

    def _get(self, path: str, params: dict[str, str] | None) -> dict[str, Any]:
        if self._token is None:
            self._authenticate()
        for attempt in (1, 2):
            try:
                response = self._http.request(
                    "GET",
                    f"{self._instance_url}{path}",
                    params=params,
                    headers={
                        "Authorization": f"Bearer {self._token}",
                        "Sforce-Query-Options": f"batchSize={PAGE_SIZE}",
                        "Accept": "application/json",
                    },
                )
            except CRMAuthError:
                if attempt == 2 or not self._can_refresh:
                    raise
                self._authenticate()  # the token expired mid-run: fetch a new one, once
                continue
            body = response.json()
            if not isinstance(body, dict):
                raise CRMError("Salesforce answered a query with something other than an object")
            return body
        raise AssertionError("unreachable")

    def _authenticate(self) -> None:
        login_url = (
            self._base_url or self._credentials.get("login_url") or DEFAULT_LOGIN_URL
        ).rstrip("/")
        try:
            response = self._http.request(
                "POST",
                f"{login_url}/services/oauth2/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self._credentials["client_id"],
                    "client_secret": self._credentials["client_secret"],
                },
            )
        except CRMAuthError:
            raise
        except CRMError as error:
            if "HTTP 400" not in str(error):
                raise
            raise CRMAuthError(  # OAuth answers 400 invalid_client / invalid_grant
                self._http.secret_setting, f"{error}; check the connected app's credentials"
            ) from None
        body = response.json()
        token, instance = body.get("access_token"), body.get("instance_url")
        if not token or not (instance or self._base_url):
            raise CRMError("Salesforce's token response has no access_token or instance_url")
        self._token = token
        self._instance_url = self._base_url or instance.rstrip("/")


def _literal(moment: datetime) -> str:
    """A SOQL dateTime literal (unquoted, UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
