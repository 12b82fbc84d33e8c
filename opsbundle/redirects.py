"""No credential follows a redirect off its host or off TLS.

requests drops the Authorization header when a redirect changes host, but follows https to
plain http on the same host, keeps the body of a 307/308 (a token request's client secret)
and any cookie; slack_sdk opens URLs with urllib, which keeps every header, the bot token
too, whatever host a redirect names. The clients here refuse such a redirect, naming where it
pointed: the base URL setting is wrong, or something between is not what it should be.
"""

from __future__ import annotations

import urllib.request
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

from opsbundle.urls import LOOPBACK, shown

if TYPE_CHECKING:
    import requests


class RedirectRefused(OSError):
    """A redirect that would take the request's credentials elsewhere (an OSError, as
    requests' and urllib's own errors are)."""


def check(source: str, target: str) -> None:
    """Raise RedirectRefused unless `target` (relative to `source`) is the same host, and
    https unless both are plain http to this machine."""
    old, new = urlsplit(source), urlsplit(urljoin(source, target))
    same_host = (old.hostname, old.port) == (new.hostname, new.port)
    tls_kept = new.scheme == "https" or (
        new.scheme == old.scheme == "http" and new.hostname in LOOPBACK
    )
    if not same_host or not tls_kept:
        raise RedirectRefused(
            f"{shown(source)} redirected to {shown(urljoin(source, target))}: not followed, "
            "the request's credentials would go with it; check the base URL"
        )


def _refuse_unsafe(response: requests.Response, *args: Any, **kwargs: Any) -> None:
    if response.is_redirect:
        check(response.url, response.headers["location"])


def session() -> requests.Session:
    """A requests session that raises RedirectRefused on a redirect off its host or off TLS
    (and follows any other)."""
    import requests  # noqa: PLC0415 - here: the monitors' zip has no requests, nor calls this

    made = requests.Session()
    made.hooks["response"].append(_refuse_unsafe)
    return made


class SameHostRedirects(urllib.request.HTTPRedirectHandler):
    """urllib's redirect handler, refusing redirects off the host or off TLS."""

    def redirect_request(  # noqa: PLR0917 - urllib's own signature
        self, req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any, newurl: str
    ) -> urllib.request.Request | None:
        check(req.full_url, newurl)
        return super().redirect_request(req, fp, code, msg, headers, newurl)
