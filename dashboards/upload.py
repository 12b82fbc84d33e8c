"""Upload dashboards to Grafana's HTTP API: find or create the folder (`GET`/`POST
/api/folders`), then `POST /api/dashboards/db` with `overwrite` and a version message.

Plain `requests`, not grafana-client: grafana-client 5 brings niquests and urllib3-future,
which replaces the files of the `urllib3` package that boto3 and requests run on.

The token is a Grafana service account token (role Editor, or a custom role with
`dashboards:write` and `folders:create`): `GRAFANA_TOKEN`, or `GRAFANA_TOKEN_SECRET_ARN`
naming a Secrets Manager secret holding it (plain or `{"token": "glsa_..."}`).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests

from dashboards.exceptions import UploadError
from opsbundle import redirects, settings
from opsbundle.exceptions import ConfigError
from opsbundle.redirects import RedirectRefused
from opsbundle.secrets import Secrets
from opsbundle.settings import Env
from opsbundle.urls import require_https, shown

DEFAULT_TIMEOUT_SECONDS = 15.0


@dataclass(frozen=True)
class Uploaded:
    title: str
    uid: str
    url: str
    version: int


def grafana_url(explicit: str | None = None, env: Env | None = None) -> str:
    """The Grafana base URL (flag > GRAFANA_URL): https (the token goes with every request),
    plain http only to this machine."""
    value = (env or Env()).required(settings.GRAFANA_URL, explicit, "or pass --grafana-url")
    parts = urllib.parse.urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(settings.GRAFANA_URL, f"expected an https URL, got {shown(value)!r}")
    return require_https(value, setting=settings.GRAFANA_URL).rstrip("/")


def grafana_token(
    *, explicit_secret: str | None = None, env: Env | None = None, secrets: Secrets | None = None
) -> str:
    """The token: GRAFANA_TOKEN, else the secret named by the flag or GRAFANA_TOKEN_SECRET_ARN."""
    env = env or Env()
    if not explicit_secret:
        token = env.raw(settings.GRAFANA_TOKEN)
        if token:
            return token
    ref = env.string(settings.GRAFANA_TOKEN_SECRET_ARN, explicit_secret)
    if not ref:
        raise ConfigError(
            settings.GRAFANA_TOKEN, f"is not set (or set {settings.GRAFANA_TOKEN_SECRET_ARN})"
        )
    return (secrets or Secrets()).token(ref, setting=settings.GRAFANA_TOKEN_SECRET_ARN)


class DashboardUploader:
    """Writes dashboards into one Grafana; every call names what was wrong when it fails."""

    def __init__(
        self,
        *,
        url: str,
        token: str,
        session: requests.Session | None = None,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.url = url
        self._session = session or redirects.session()
        self._session.headers.update(
            {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        )
        self._timeout = timeout

    def folder_uid(self, title: str | None) -> str | None:
        """The uid of the folder titled `title`, created when missing; None for General."""
        if not title:
            return None
        folders = self._call("list folders", "GET", "/api/folders", params={"limit": 1000})
        for folder in folders or []:
            if isinstance(folder, dict) and folder.get("title") == title:
                return str(folder["uid"])
        created = self._call(
            f"create folder {title!r}", "POST", "/api/folders", json={"title": title}
        )
        return str(created["uid"])

    def upload(self, board: Mapping[str, Any], *, folder_uid: str | None, message: str) -> Uploaded:
        payload: dict[str, Any] = {"dashboard": dict(board), "overwrite": True, "message": message}
        if folder_uid:
            payload["folderUid"] = folder_uid
        title = str(board.get("title", board.get("uid")))
        answer = self._call(f"save {title!r}", "POST", "/api/dashboards/db", json=payload)
        return Uploaded(
            title=title,
            uid=str(answer.get("uid", board.get("uid"))),
            url=urllib.parse.urljoin(self.url + "/", str(answer.get("url", "")).lstrip("/")),
            version=int(answer.get("version", 0)),
        )

    def _call(self, what: str, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._session.request(
                method, self.url + path, timeout=self._timeout, **kwargs
            )
        except RedirectRefused as error:
            raise ConfigError(settings.GRAFANA_URL, str(error)) from None
        except requests.RequestException as error:
            raise ConfigError(
                settings.GRAFANA_URL,
                f"could not reach Grafana at {self.url} ({type(error).__name__}); "
                "check the URL and that Grafana is up",
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if response.status_code >= 500:
            reason = body.get("message") if isinstance(body, dict) else response.reason
            raise UploadError(what, response.status_code, str(reason), "Grafana failed; try again")
        if response.status_code >= 400:
            raise self._refused(what, response.status_code, body, response.reason)
        if body is None:
            raise ConfigError(
                settings.GRAFANA_URL,
                f"{self.url}{path} did not answer JSON (HTTP {response.status_code}); "
                "is this Grafana's base URL?",
            )
        return body

    def _refused(self, what: str, status: int, answer: Any, fallback: str) -> Exception:
        body = answer if isinstance(answer, dict) else {}
        reason = str(body.get("message") or fallback)
        if status == 401:
            return ConfigError(
                settings.GRAFANA_TOKEN,
                f"Grafana at {self.url} refused the token (HTTP 401: {reason}); use a "
                "service account token of this Grafana and organisation",
            )
        if status == 403:
            return ConfigError(
                settings.GRAFANA_TOKEN,
                f"the token may not {what} (HTTP 403: {reason}); give its service account "
                "the Editor role",
            )
        if status == 404:
            return ConfigError(
                settings.GRAFANA_URL,
                f"no Grafana API at {self.url} (HTTP 404 on {what}); use Grafana's base URL, "
                "including any sub-path it is served under",
            )
        if status == 412:
            kind = str(body.get("status") or "precondition failed")
            hints = {
                "version-mismatch": "someone saved it in Grafana meanwhile; upload again to "
                "overwrite it, or export their changes into the code first",
                "name-exists": "another dashboard in that folder has the same title; rename "
                "or move it",
                "plugin-dashboard": "a plugin owns this dashboard; remove the plugin's copy",
            }
            return UploadError(what, status, f"{kind}: {reason}", hints.get(kind, ""))
        return UploadError(what, status, reason)
