"""Slack Web API client: slack_sdk with rate-limit, connection and server-error retries on.

`Retry-After` on a 429 is honoured by slack_sdk's RateLimitErrorRetryHandler.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)

from opsbundle.exceptions import SlackError

DEFAULT_BASE_URL = "https://slack.com/api/"
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


@dataclass(frozen=True)
class PostedMessage:
    channel: str
    ts: str


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
        url = base_url or DEFAULT_BASE_URL
        self._client = web_client or WebClient(
            token=token,
            base_url=url if url.endswith("/") else url + "/",
            timeout=timeout,
            retry_handlers=[
                ConnectionErrorRetryHandler(max_retry_count=max_retries),
                RateLimitErrorRetryHandler(max_retry_count=max_retries),
                ServerErrorRetryHandler(max_retry_count=max_retries),
            ],
        )
        self._channel_ids: dict[str, str] = {}

    def _call(self, method: str, **kwargs: Any) -> Any:
        """Call a WebClient method by its API name (slack_sdk picks GET/form/JSON per method)."""
        try:
            return getattr(self._client, method.replace(".", "_"))(**kwargs)
        except SlackApiError as error:
            code = str(error.response.get("error") or f"HTTP {error.response.status_code}")
            raise SlackError(method, code, _HINTS.get(code, "")) from None
        except (URLError, OSError) as error:
            raise SlackError(method, f"could not reach Slack ({error})") from None

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
        response = self._call("chat.postMessage", **args)
        return PostedMessage(channel=response["channel"], ts=response["ts"])

    def upload_file(
        self,
        *,
        channel: str,
        filename: str,
        content: bytes,
        title: str,
        thread_ts: str | None = None,
    ) -> str:
        """Share a file with files_upload_v2 (the old files.upload is retired); its file ID."""
        try:
            response = self._client.files_upload_v2(
                channel=self.resolve_channel(channel),
                filename=filename,
                content=content,
                title=title,
                thread_ts=thread_ts,
            )
        except SlackApiError as error:
            code = str(error.response.get("error") or "upload failed")
            raise SlackError("files_upload_v2", code, _HINTS.get(code, "")) from None
        except (URLError, OSError) as error:
            raise SlackError("files_upload_v2", f"could not reach Slack ({error})") from None
        return str(response["file"]["id"])

    def find_message(
        self, *, channel: str, event_type: str, key: str, value: str, oldest: float
    ) -> str | None:
        """The ts of a message since `oldest` whose metadata payload has key == value."""
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
                if metadata.get("event_type") == event_type and payload.get(key) == value:
                    return str(message["ts"])
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
