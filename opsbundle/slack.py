"""Slack Web API client: slack_sdk with rate-limit, connection and server-error retries on.

`Retry-After` on a 429 is honoured by slack_sdk's RateLimitErrorRetryHandler. Posting a
message retries only 429s (Slack did not take the message): after a timeout or a dropped
connection the message may have been posted, so the caller gets an `uncertain` error and
decides (the report looks for the message by its metadata) instead of posting twice.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.error import URLError
from urllib.request import BaseHandler, HTTPSHandler, ProxyHandler, Request, build_opener

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from opsbundle import settings
from opsbundle.console import HOSTS
from opsbundle.exceptions import ConfigError, SlackError
from opsbundle.redirects import RedirectRefused, SameHostRedirects
from opsbundle.urls import require_https

DEFAULT_BASE_URL = "https://slack.com/api/"
# Slack errors that no retry fixes, and the setting that does.
# fmt: skip below: names packed, not one a line
TOKEN_ERRORS = frozenset(
    {
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "token_expired",
        "missing_scope",
    }
)
CHANNEL_ERRORS = frozenset({"channel_not_found", "not_in_channel", "is_archived"})
_CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{8,}$")
_HINTS = {
    "channel_not_found": "check the channel name or ID; private channels need the app invited",
    "not_in_channel": "invite the app to the channel: /invite @<app name>",
    "invalid_auth": "the bot token is wrong or revoked: check the Slack token secret",
    "not_authed": "no bot token was sent: check the Slack token secret",
    "account_inactive": "the bot token belongs to a deleted app or user",
    "token_revoked": "the bot token was revoked: reinstall the app and update the secret",
    "missing_scope": "add the scope to the Slack app and reinstall it",
    "invalid_blocks": "the message broke a Block Kit limit",
    "ratelimited": "Slack kept rate-limiting after the retries",
}


def escape(text: str) -> str:
    """Slack's control characters escaped as its docs ask (&, <, >): text from outside
    (a CRM, a log line, a tag) is shown, never obeyed as a mention or a link."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# What a URL may hold, unencoded, inside a Slack link (<url|label>): RFC 3986's unreserved
# and reserved characters and "%", less what ends the link or the label ("|", "<", ">").
_URL_SAFE = set(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?#[]@!$&'()*+,;=%"
)
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})+")
# Hosts a link may go to with our label on it: the AWS console and the code hosts a pipeline
# reads from. Any other URL is shown as it is, so nobody clicks a label that hides it.
LINK_HOSTS = (*HOSTS.values(), "github.com", "gitlab.com", "bitbucket.org")


def link_url(url: str) -> str | None:
    """`url` made safe inside a Slack link, or None when it should not be one: not https,
    a user name before the host (https://console.aws.amazon.com@evil.example), a host that
    is no DNS name or not one of LINK_HOSTS. Characters that would end the link or its label
    are percent-encoded and "&" escaped, so a value from an event never turns into a mention
    or a second link."""
    scheme, _, rest = url.partition("://")
    if scheme.lower() != "https":
        return None
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    host = authority.lower().rsplit(":", 1)[0] if authority.count(":") == 1 else authority.lower()
    if "@" in authority or not _HOST.fullmatch(host):
        return None
    if not any(host == trusted or host.endswith("." + trusted) for trusted in LINK_HOSTS):
        return None
    encoded = "".join(
        char if char in _URL_SAFE else "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))
        for char in url
    )
    return encoded.replace("&", "&amp;")


@dataclass(frozen=True)
class PostedMessage:
    channel: str
    ts: str


class _WebClient(WebClient):
    """slack_sdk's WebClient opening its URLs with a redirect handler that keeps the bot token
    on Slack's host and on TLS: urllib's own forwards every header to whatever host a
    redirect names. What it returns is what slack_sdk's own method returns."""

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        handlers: list[BaseHandler] = [HTTPSHandler(context=self.ssl), SameHostRedirects()]
        if isinstance(self.proxy, str):
            handlers.insert(0, ProxyHandler({"http": self.proxy, "https": self.proxy}))
        with build_opener(*handlers).open(req, timeout=self.timeout) as response:
            body: bytes = response.read()
            if response.headers.get_content_type() == "application/gzip":
                return {"status": response.code, "headers": response.headers, "body": body}
            charset = response.headers.get_content_charset() or "utf-8"
            return {
                "status": response.code,
                "headers": response.headers,
                "body": body.decode(charset),
            }


class SlackClient:
    """The few Slack calls the bundle makes, with errors that say what to fix."""

    def __init__(
        self,
        *,
        token: str,
        base_url: str | None = None,
        web_client: WebClient | None = None,
        max_retries: int = 3,
        timeout: int = 30,
    ) -> None:
        url = require_https(base_url or DEFAULT_BASE_URL, setting=settings.SLACK_BASE_URL)
        url = url if url.endswith("/") else url + "/"
        self._client = web_client or _WebClient(
            token=token,
            base_url=url,
            timeout=timeout,
            retry_handlers=[
                ConnectionErrorRetryHandler(max_retry_count=max_retries),
                RateLimitErrorRetryHandler(max_retry_count=max_retries),
                ServerErrorRetryHandler(max_retry_count=max_retries),
            ],
        )
        self._poster = web_client or _WebClient(
            token=token,
            base_url=url,
            timeout=timeout,
            retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=max_retries)],
        )
        self._channel_ids: dict[str, str] = {}

    def _call(self, method: str, *, client: WebClient | None = None, **kwargs: Any) -> Any:
        """Call a WebClient method by its API name (slack_sdk picks GET/form/JSON per method)."""
        try:
            return getattr(client or self._client, method.replace(".", "_"))(**kwargs)
        except SlackApiError as error:
            status = error.response.status_code
            code = str(error.response.get("error") or f"HTTP {status}")
            raise SlackError(method, code, _HINTS.get(code, ""), uncertain=status >= 500) from None
        except RedirectRefused as error:
            raise SlackError(method, str(error), f"check {settings.SLACK_BASE_URL}") from None
        except (URLError, OSError) as error:  # timeouts and dropped connections included
            raise SlackError(method, f"could not reach Slack ({error})", uncertain=True) from None

    def resolve_channel(self, channel: str) -> str:
        """A channel ID for an ID, "name" or "#name" (conversations.list, paged by cursor)."""
        name = channel.strip().lstrip("#")
        if _CHANNEL_ID.match(name):
            return name
        if name in self._channel_ids:
            return self._channel_ids[name]
        cursor = None
        while True:
            page = self._call(
                "conversations.list",
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
                **({"cursor": cursor} if cursor else {}),
            )
            for found in page.get("channels", []):
                self._channel_ids[found["name"]] = found["id"]
            if name in self._channel_ids:
                return self._channel_ids[name]
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                raise SlackError("conversations.list", "channel_not_found", f"no channel #{name}")

    def post_message(
        self,
        *,
        channel: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
        metadata: dict[str, Any] | None = None,
        thread_ts: str | None = None,
    ) -> PostedMessage:
        channel_id = self.resolve_channel(channel)
        args: dict[str, Any] = {"channel": channel_id, "text": text, "unfurl_links": False}
        if blocks:
            args["blocks"] = blocks
        if metadata:
            args["metadata"] = metadata
        if thread_ts:
            args["thread_ts"] = thread_ts
        response = self._call("chat.postMessage", client=self._poster, **args)
        return PostedMessage(channel=response["channel"], ts=response["ts"])

    def upload_file(
        self,
        *,
        channel: str,
        filename: str,
        content: bytes,
        title: str,
        thread_ts: str | None = None,
        alt_text: str | None = None,
    ) -> str:
        """Share a file with files_upload_v2 (the old files.upload is retired); its file ID.
        `alt_text` describes an image for screen readers."""
        extra: dict[str, Any] = {"alt_txt": alt_text[:1000]} if alt_text else {}
        response = self._call(
            "files_upload_v2",
            channel=self.resolve_channel(channel),
            filename=filename,
            content=content,
            title=title,
            thread_ts=thread_ts,
            **extra,
        )
        return str(response["file"]["id"])

    def find_message(
        self,
        *,
        channel: str,
        event_type: str,
        key: str,
        value: str,
        oldest: float,
        also: Mapping[str, str] | None = None,
    ) -> str | None:
        """The ts of a message since `oldest` whose metadata payload has key == value (and
        every pair in `also`: two reports may post the same slot to one channel)."""
        wanted = {key: value, **(also or {})}
        channel_id = self.resolve_channel(channel)
        cursor = None
        while True:
            page = self._call(
                "conversations.history",
                channel=channel_id,
                oldest=f"{oldest:.6f}",
                include_all_metadata=True,
                limit=200,
                **({"cursor": cursor} if cursor else {}),
            )
            for message in page.get("messages", []):
                metadata = message.get("metadata") or {}
                payload = metadata.get("event_payload") or {}
                if metadata.get("event_type") == event_type and all(
                    payload.get(name) == expected for name, expected in wanted.items()
                ):
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None


def setup_problem(error: SlackError, *, channel_setting: str) -> ConfigError | None:
    """The settings error behind a Slack refusal that no retry can fix, if it is one."""
    if error.error in TOKEN_ERRORS:
        return ConfigError(settings.SLACK_TOKEN_SECRET_ARN, str(error))
    if error.error in CHANNEL_ERRORS:
        return ConfigError(channel_setting, str(error))
    return None
