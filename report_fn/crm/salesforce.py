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

from opsbundle import settings
from opsbundle.exceptions import ConfigError
from opsbundle.urls import require_https
from report_fn.crm.base import CRMHttp, Fetched, FetchResult, OnPage, json_body
from report_fn.crm.mapping import FieldMapping
from report_fn.exceptions import CRMAuthError, CRMError

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
        on_page: OnPage | None = None,
    ) -> None:
        """`on_page` hears after each page how many pages and leads so far."""
        self._http = http
        self._on_page = on_page
        self._pages = self._leads = self._windows = 0
        secret = http.secret_setting
        self._base_url = _https(base_url, settings.CRM_BASE_URL)
        self._token: str | None = credentials.get("access_token")
        self._instance_url = self._base_url or _https(credentials.get("instance_url"), secret)
        self._client = (credentials.get("client_id"), credentials.get("client_secret"))
        self._can_refresh = all(self._client)
        # The client-credentials flow only works on the org's My Domain URL.
        self._login_url = self._base_url or _https(credentials.get("login_url"), secret)
        if not self._token and not self._can_refresh:
            raise ConfigError(
                secret,
                'the Salesforce secret needs "access_token" and "instance_url", '
                'or "client_id", "client_secret" and "login_url"',
            )
        if self._token and not self._instance_url:
            raise ConfigError(secret, 'the Salesforce secret has no "instance_url"')
        if self._can_refresh and not self._login_url:
            raise ConfigError(
                secret,
                'the Salesforce secret needs "login_url": your My Domain URL, e.g. '
                "https://yourfirm.my.salesforce.com (the client-credentials flow "
                "fails on login.salesforce.com)",
            )
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
        self._windows += 1
        while True:
            page = self._get(path, params)
            result.records.extend(page.get("records", []))
            self._pages += 1
            self._leads += len(page.get("records", []))
            if self._on_page:
                self._on_page(Fetched(self._pages, self._leads, self._windows))
            if page.get("done") is True:
                break
            next_url = page.get("nextRecordsUrl")
            if not isinstance(next_url, str) or not next_url.startswith("/"):
                raise CRMError("Salesforce said the query is not done but gave no nextRecordsUrl")
            path, params = next_url, None
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
            body = json_body("Salesforce", response)
            if not isinstance(body, dict):
                raise CRMError("Salesforce answered a query with something other than an object")
            return body
        raise AssertionError("unreachable")

    def _authenticate(self) -> None:
        login_url = str(self._login_url).rstrip("/")
        try:
            response = self._http.request(
                "POST",
                f"{login_url}/services/oauth2/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": self._client[0],
                    "client_secret": self._client[1],
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
        body = json_body("Salesforce", response)
        token, instance = body.get("access_token"), body.get("instance_url")
        if not token or not (instance or self._base_url):
            raise CRMError("Salesforce's token response has no access_token or instance_url")
        self._token = token
        self._instance_url = self._base_url or _https(instance, "Salesforce's instance_url")


def _literal(moment: datetime) -> str:
    """A SOQL dateTime literal (unquoted, UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _https(url: Any, setting: str) -> str | None:
    if not url:
        return None
    return require_https(str(url), setting=setting).rstrip("/")
