"""Slack Web API emulator: the methods opsbundle calls, with Slack's shapes, limits and errors.

Point slack_sdk at it with `WebClient(base_url=emu.api_url, token=emu.token)`.

What it reproduces (Slack Web API reference, docs.slack.dev, and slack_sdk 3.48's calls):
- every method answers HTTP 200 with `{"ok": false, "error": "..."}` on API errors; rate limits
  answer HTTP 429 with `Retry-After` (seconds) and `{"ok": false, "error": "ratelimited"}`;
- token from `Authorization: Bearer` (or a `token` form field, never inside a JSON body):
  missing → `not_authed`, wrong → `invalid_auth`;
- form-encoded, JSON and multipart bodies, plus query-string arguments;
- chat.postMessage: channel by ID, "#name" or "name"; `channel_not_found`, `is_archived`,
  `not_in_channel`, `no_text`, `invalid_blocks_format`, `invalid_blocks` (with `errors` and
  `response_metadata.messages`) for Block Kit limits, `invalid_metadata_format` /
  `invalid_metadata_schema`, `too_many_attachments`; text over 40,000 characters is truncated;
- conversations.list / conversations.history with cursor paging, conversations.join;
- files.upload answers `method_deprecated` (retired on 2025-11-12); the v2 flow
  files.getUploadURLExternal → POST to the upload URL → files.completeUploadExternal works end
  to end (that is all `WebClient.files_upload_v2` calls), and files.info shows the shares.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import mimetypes
import re
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from tests.emulators.server import EmulatorServer, Request, Response

__all__ = ["DEFAULT_CHANNELS", "TEST_TOKEN", "SlackEmulator", "validate_blocks"]

TEST_TOKEN = "xoxb-test-token"
DEFAULT_CHANNELS: Mapping[str, str] = {"lead-reports": "C0LEADS01", "ops-alerts": "C0OPS0001"}

TEAM_ID = "T0TEST001"
BOT_USER_ID = "U0BOT0001"
BOT_ID = "B0BOT0001"
APP_ID = "A0APP0001"

MAX_TEXT_CHARS = 40_000
MAX_BLOCKS = 50
MAX_BLOCK_ID_CHARS = 255
MAX_SECTION_TEXT_CHARS = 3000
MAX_SECTION_FIELDS = 10
MAX_SECTION_FIELD_CHARS = 2000
MAX_HEADER_TEXT_CHARS = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_ATTACHMENTS = 100
MAX_LIST_LIMIT = 1000
MAX_HISTORY_LIMIT = 999
DEFAULT_LIMIT = 100

KNOWN_BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)
TEXT_TYPES = ("plain_text", "mrkdwn")
CONVERSATION_TYPES = frozenset({"public_channel", "private_channel", "mpim", "im"})
# files.completeUploadExternal rejects channel IDs that do not match this (invalid_arguments).
CHANNEL_ID_PATTERN = re.compile(r"^[CGDZ][A-Z0-9]{8,}$")
TS_PATTERN = re.compile(r"^\d+(\.\d+)?$")


class SlackApiError(Exception):
    """An `{"ok": false}` answer; raised inside the emulator and turned into a Response."""

    def __init__(self, error: str, status: int = 200, **extra: Any) -> None:
        super().__init__(error)
        self.response = Response(status, {"ok": False, "error": error, **extra})


@dataclass
class _Channel:
    id: str
    name: str
    is_private: bool = False
    is_archived: bool = False
    is_member: bool = True
    created: int = 1_700_000_000
    messages: list[dict[str, Any]] = field(default_factory=list)

    def as_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_general": False,
            "is_member": self.is_member,
            "is_shared": False,
            "is_ext_shared": False,
            "is_org_shared": False,
            "created": self.created,
            "creator": "U0ADMIN01",
            "name_normalized": self.name,
            "previous_names": [],
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }


@dataclass
class _Upload:
    file_id: str
    filename: str
    length: int
    alt_txt: str | None
    created: int
    data: bytes | None = None
    title: str | None = None
    completed: bool = False
    shares: list[tuple[str, str]] = field(default_factory=list)  # (channel id, message ts)


@dataclass
class _RateLimit:
    per_second: int
    retry_after: int
    calls: deque[float] = field(default_factory=deque)


class SlackEmulator(EmulatorServer):
    """A local Slack Web API. `api_url` is the `base_url` for slack_sdk's WebClient."""

    def __init__(
        self,
        token: str = TEST_TOKEN,
        channels: Mapping[str, str] | None = None,
        *,
        member_of: Iterable[str] | None = None,
        private: Iterable[str] = (),
        archived: Iterable[str] = (),
        filler_channels: int = 0,
        clock: Callable[[], float] = time.time,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """`channels` maps name → ID; the bot is a member of `member_of` (names or IDs; all of
        `channels` by default). `filler_channels` adds public channels "filler-0001"... that
        the bot is not in, so that conversations.list has to page."""
        super().__init__(host=host, port=port)
        self.token = token
        self._clock = clock
        self._last_ts = Decimal(0)
        self._channels: dict[str, _Channel] = {}
        self._uploads: dict[str, _Upload] = {}
        self._tickets: dict[str, str] = {}
        self._limits: dict[str, _RateLimit] = {}
        named = dict(DEFAULT_CHANNELS if channels is None else channels)
        members = set(named) | set(named.values()) if member_of is None else set(member_of)
        private_set, archived_set = set(private), set(archived)
        for name, channel_id in named.items():
            self.add_channel(
                name,
                channel_id,
                private=bool({name, channel_id} & private_set),
                archived=bool({name, channel_id} & archived_set),
                member=bool({name, channel_id} & members),
            )
        for i in range(1, filler_channels + 1):
            self.add_channel(f"filler-{i:04d}", f"C9F{i:06d}", member=False)
        self._methods: dict[str, Callable[[dict[str, Any]], Response]] = {
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "conversations.history": self._conversations_history,
            "conversations.join": self._conversations_join,
            "conversations.list": self._conversations_list,
            "files.completeUploadExternal": self._files_complete_upload_external,
            "files.getUploadURLExternal": self._files_get_upload_url_external,
            "files.info": self._files_info,
            "files.upload": self._files_upload,
        }

    # -- test-facing API -----------------------------------------------------------------

    @property
    def api_url(self) -> str:
        """`base_url` for slack_sdk: "http://127.0.0.1:PORT/api/"."""
        return f"{self.url}/api/"

    def add_channel(
        self,
        name: str,
        channel_id: str | None = None,
        *,
        private: bool = False,
        archived: bool = False,
        member: bool = True,
    ) -> str:
        with self._lock:
            channel_id = channel_id or f"C{uuid.uuid4().hex[:10].upper()}"
            self._channels[channel_id] = _Channel(
                channel_id, name, is_private=private, is_archived=archived, is_member=member
            )
            return channel_id

    def channel_id(self, name: str) -> str:
        with self._lock:
            channel = self._resolve(name)
        if channel is None:
            raise KeyError(name)
        return channel.id

    def messages(self, channel: str) -> list[dict[str, Any]]:
        """Every message stored in a channel (ID or name), oldest first, thread replies and
        metadata included, as copies."""
        with self._lock:
            found = self._resolve(channel)
            if found is None:
                raise KeyError(channel)
            return copy.deepcopy(found.messages)

    def file_content(self, file_id: str) -> bytes:
        with self._lock:
            data = self._uploads[file_id].data
            if data is None:
                raise KeyError(f"{file_id} was never uploaded")
            return data

    def rate_limit(self, method: str, per_second: int, *, retry_after: int = 1) -> None:
        """Allow `per_second` calls of `method` in any one-second window; the rest get
        HTTP 429 with `Retry-After: retry_after`."""
        with self._lock:
            self._limits[method] = _RateLimit(per_second, retry_after)

    def ratelimit_next(
        self, *, retry_after: int = 1, times: int = 1, method: str | None = None
    ) -> None:
        """Answer the next `times` calls (of `method`, if given) with 429 + Retry-After."""
        self.fail_next(
            429,
            {"ok": False, "error": "ratelimited"},
            {"Retry-After": str(retry_after)},
            times=times,
            path=f"/api/{method}" if method else None,
        )

    # -- dispatch -------------------------------------------------------------------------

    def parse_body(self, path: str, content_type: str, raw: bytes) -> tuple[Any, str | None]:
        if path.startswith("/upload/"):
            return raw or None, None
        return super().parse_body(path, content_type, raw)

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/upload/v1/"):
            return self._upload(request)
        if not request.path.startswith("/api/"):
            return Response(404, "Not Found")
        method = request.path.removeprefix("/api/")
        try:
            if request.json_error is not None:
                raise SlackApiError("invalid_json")
            params = _params(request)
            self._authenticate(request, params)
            handler = self._methods.get(method)
            if handler is None:
                raise SlackApiError("unknown_method", status=404, req_method=method)
            self._check_rate_limit(method)
            return handler(params)
        except SlackApiError as exc:
            return exc.response

    def _authenticate(self, request: Request, params: dict[str, Any]) -> None:
        authorization = request.header("Authorization") or ""
        token = authorization.removeprefix("Bearer ").strip() if authorization else None
        if not token and request.content_type != "application/json":
            token = params.get("token") or None
        if not token:
            raise SlackApiError("not_authed")
        if token != self.token:
            raise SlackApiError("invalid_auth")

    def _check_rate_limit(self, method: str) -> None:
        limit = self._limits.get(method)
        if limit is None:
            return
        now = time.monotonic()
        while limit.calls and now - limit.calls[0] >= 1.0:
            limit.calls.popleft()
        if len(limit.calls) >= limit.per_second:
            error = SlackApiError("ratelimited", status=429)
            error.response.headers["Retry-After"] = str(limit.retry_after)
            raise error
        limit.calls.append(now)

    # -- methods ----------------------------------------------------------------------------

    def _auth_test(self, params: dict[str, Any]) -> Response:
        return _ok(
            url="https://emulated.slack.com/",
            team="Emulated Workspace",
            user="opsbundle",
            team_id=TEAM_ID,
            user_id=BOT_USER_ID,
            bot_id=BOT_ID,
            is_enterprise_install=False,
        )

    def _chat_post_message(self, params: dict[str, Any]) -> Response:
        channel = self._postable_channel(str(params.get("channel") or ""))
        text = str(params.get("text") or "")
        blocks = _json_param(params.get("blocks"), "invalid_blocks_format")
        attachments = _json_param(params.get("attachments"), "invalid_attachments")
        if not text and not blocks and not attachments:
            raise SlackApiError("no_text")
        if blocks is not None:
            _check_blocks(blocks)
        if attachments is not None and not isinstance(attachments, list):
            raise SlackApiError("invalid_attachments")
        if attachments and len(attachments) > MAX_ATTACHMENTS:
            raise SlackApiError("too_many_attachments")
        metadata = _json_param(params.get("metadata"), "invalid_metadata_format")
        if metadata is not None:
            _check_metadata(metadata)
        message: dict[str, Any] = {
            "user": BOT_USER_ID,
            "type": "message",
            "ts": self._next_ts(),
            "bot_id": BOT_ID,
            "app_id": APP_ID,
            "text": text[:MAX_TEXT_CHARS],
            "team": TEAM_ID,
        }
        if blocks:
            message["blocks"] = blocks
        if attachments:
            message["attachments"] = attachments
        if metadata is not None:
            message["metadata"] = metadata
        self._store(channel, message, params.get("thread_ts"), params.get("reply_broadcast"))
        return _ok(channel=channel.id, ts=message["ts"], message=copy.deepcopy(message))

    def _conversations_list(self, params: dict[str, Any]) -> Response:
        types = {t.strip() for t in str(params.get("types") or "public_channel").split(",")}
        if not types <= CONVERSATION_TYPES:
            raise SlackApiError("invalid_types")
        limit = min(_limit(params.get("limit")), MAX_LIST_LIMIT)
        exclude_archived = _bool(params.get("exclude_archived"))
        listed = sorted(
            (
                c
                for c in self._channels.values()
                if ("private_channel" in types if c.is_private else "public_channel" in types)
                and (c.is_member or not c.is_private)
                and not (exclude_archived and c.is_archived)
            ),
            key=lambda c: (c.name, c.id),
        )
        start = 0
        cursor = params.get("cursor")
        if cursor:
            after_id = _decode_cursor(str(cursor), "team:")
            ids = [c.id for c in listed]
            if after_id not in ids:
                raise SlackApiError("invalid_cursor")
            start = ids.index(after_id)
        page = listed[start : start + limit]
        rest = listed[start + limit : start + limit + 1]
        next_cursor = _encode_cursor("team:", rest[0].id) if rest else ""
        return _ok(
            channels=[c.as_api() for c in page],
            response_metadata={"next_cursor": next_cursor},
        )

    def _conversations_history(self, params: dict[str, Any]) -> Response:
        channel = self._channels.get(str(params.get("channel") or ""))
        if channel is None:
            raise SlackApiError("channel_not_found")
        if not channel.is_member:
            raise SlackApiError("not_in_channel")
        oldest = _ts_param(params.get("oldest"), Decimal(0), "invalid_ts_oldest")
        latest = _ts_param(params.get("latest"), Decimal("Infinity"), "invalid_ts_latest")
        inclusive = _bool(params.get("inclusive"))
        limit = min(_limit(params.get("limit")), MAX_HISTORY_LIMIT)
        with_metadata = _bool(params.get("include_all_metadata"))

        def in_range(ts: Decimal) -> bool:
            if inclusive:
                return oldest <= ts <= latest
            return oldest < ts < latest

        selected = [
            m
            for m in reversed(channel.messages)
            if (m.get("thread_ts") in (None, m["ts"]) or m.get("subtype") == "thread_broadcast")
            and in_range(Decimal(m["ts"]))
        ]
        cursor = params.get("cursor")
        if cursor:
            resume_at = _ts_param(_decode_cursor(str(cursor), "next_ts:"), None, "invalid_cursor")
            selected = [m for m in selected if Decimal(m["ts"]) <= resume_at]
        page = [_visible(m, with_metadata) for m in selected[:limit]]
        body: dict[str, Any] = {"messages": page, "has_more": len(selected) > limit, "pin_count": 0}
        if len(selected) > limit:
            body["response_metadata"] = {
                "next_cursor": _encode_cursor("next_ts:", selected[limit]["ts"])
            }
        return _ok(**body)

    def _conversations_join(self, params: dict[str, Any]) -> Response:
        channel = self._channels.get(str(params.get("channel") or ""))
        if channel is None:
            raise SlackApiError("channel_not_found")
        if channel.is_private:
            raise SlackApiError("method_not_supported_for_channel_type")
        if channel.is_archived:
            raise SlackApiError("is_archived")
        channel.is_member = True
        return _ok(channel=channel.as_api())

    def _files_upload(self, params: dict[str, Any]) -> Response:
        raise SlackApiError("method_deprecated")

    def _files_get_upload_url_external(self, params: dict[str, Any]) -> Response:
        filename = params.get("filename")
        if not filename:
            raise _invalid_arguments("missing required field: filename", "/filename")
        raw_length = params.get("length")
        if raw_length in (None, ""):
            raise _invalid_arguments("missing required field: length", "/length")
        length = _int(raw_length)
        if length is None or length < 0:
            raise _invalid_arguments("must be a positive integer", "/length")
        if length == 0:
            raise SlackApiError("missing_argument")
        alt_txt = params.get("alt_txt")
        if alt_txt and len(str(alt_txt)) > 1000:
            raise SlackApiError("alt_txt_too_large")
        file_id = f"F{uuid.uuid4().hex[:10].upper()}"
        ticket = uuid.uuid4().hex
        self._uploads[file_id] = _Upload(
            file_id, str(filename), length, alt_txt, int(self._clock())
        )
        self._tickets[ticket] = file_id
        return _ok(upload_url=f"{self.url}/upload/v1/{ticket}", file_id=file_id)

    def _upload(self, request: Request) -> Response:
        file_id = self._tickets.get(request.path.removeprefix("/upload/v1/"))
        if file_id is None:
            return Response(404, "Not Found")
        if request.method != "POST":
            return Response(405, "Method Not Allowed")
        data = request.raw_body
        if request.content_type == "multipart/form-data" and isinstance(request.body, dict):
            parts = [v for v in request.body.values() if isinstance(v, bytes)]
            data = parts[0] if parts else b""
        upload = self._uploads[file_id]
        if len(data) != upload.length:
            return Response(400, f"length mismatch: declared {upload.length}, got {len(data)}")
        upload.data = data
        return Response(200, f"OK - {len(data)}")

    def _files_complete_upload_external(self, params: dict[str, Any]) -> Response:
        items = _json_param(params.get("files"), "invalid_arguments")
        if not items or not isinstance(items, list):
            raise _invalid_arguments("missing required field: files", "/files")
        uploads = []
        for item in items:
            upload = self._uploads.get(str(item.get("id"))) if isinstance(item, dict) else None
            if upload is None or upload.data is None:
                raise SlackApiError("file_not_found")
            uploads.append((upload, item.get("title")))
        channel_ids = [c.strip() for c in str(params.get("channels") or "").split(",") if c]
        if params.get("channel_id"):
            channel_ids.insert(0, str(params["channel_id"]))
        channels = [self._share_target(channel_id) for channel_id in channel_ids]
        for upload, title in uploads:
            upload.title = str(title) if title else upload.filename
            upload.completed = True
        shared = [self._file_object(u, shares=False) for u, _ in uploads]
        text = str(params.get("initial_comment") or "")
        for channel in channels:
            message: dict[str, Any] = {
                "user": BOT_USER_ID,
                "type": "message",
                "ts": self._next_ts(),
                "bot_id": BOT_ID,
                "text": text,
                "files": copy.deepcopy(shared),
                "upload": True,
            }
            self._store(channel, message, params.get("thread_ts"), None)
            for upload, _ in uploads:
                upload.shares.append((channel.id, message["ts"]))
        # Slack shares asynchronously: the answer lists the files, not yet their channels.
        return _ok(files=shared)

    def _files_info(self, params: dict[str, Any]) -> Response:
        upload = self._uploads.get(str(params.get("file") or ""))
        if upload is None or not upload.completed:
            raise SlackApiError("file_not_found")
        return _ok(
            file=self._file_object(upload, shares=True),
            comments=[],
            response_metadata={"next_cursor": ""},
        )

    # -- helpers ----------------------------------------------------------------------------

    def _resolve(self, value: str) -> _Channel | None:
        if value in self._channels:
            return self._channels[value]
        name = value.removeprefix("#")
        return next((c for c in self._channels.values() if c.name == name), None)

    def _postable_channel(self, value: str) -> _Channel:
        channel = self._resolve(value) if value else None
        if channel is None:
            raise SlackApiError("channel_not_found")
        if channel.is_archived:
            raise SlackApiError("is_archived")
        if not channel.is_member:
            raise SlackApiError("not_in_channel")
        return channel

    def _share_target(self, channel_id: str) -> _Channel:
        if not CHANNEL_ID_PATTERN.match(channel_id):
            raise _invalid_arguments(
                f"input must match regex pattern: {CHANNEL_ID_PATTERN.pattern}", "/channel_id"
            )
        channel = self._channels.get(channel_id)
        if channel is None:
            raise SlackApiError("invalid_channel")
        if channel.is_archived:
            raise SlackApiError("is_archived")
        if not channel.is_member:
            raise SlackApiError("not_in_channel")
        return channel

    def _next_ts(self) -> str:
        now = Decimal(f"{self._clock():.6f}")
        self._last_ts = max(now, self._last_ts + Decimal("0.000001"))
        return f"{self._last_ts:.6f}"

    def _store(
        self, channel: _Channel, message: dict[str, Any], thread_ts: Any, broadcast: Any
    ) -> None:
        if thread_ts:
            message["thread_ts"] = str(thread_ts)
            message["parent_user_id"] = BOT_USER_ID
            if _bool(broadcast):
                message["subtype"] = "thread_broadcast"
            parent = next((m for m in channel.messages if m["ts"] == str(thread_ts)), None)
            if parent is not None:
                parent["thread_ts"] = parent["ts"]
                parent["reply_count"] = parent.get("reply_count", 0) + 1
                parent["latest_reply"] = message["ts"]
        channel.messages.append(message)

    def _file_object(self, upload: _Upload, *, shares: bool) -> dict[str, Any]:
        mimetype = mimetypes.guess_type(upload.filename)[0] or "application/octet-stream"
        filetype = upload.filename.rsplit(".", 1)[-1].lower() if "." in upload.filename else ""
        share_map: dict[str, dict[str, list[dict[str, Any]]]] = {}
        channels: list[str] = []
        if shares:
            for channel_id, ts in upload.shares:
                channel = self._channels[channel_id]
                kind = "private" if channel.is_private else "public"
                entry = {"ts": ts, "channel_name": channel.name, "team_id": TEAM_ID}
                share_map.setdefault(kind, {}).setdefault(channel_id, []).append(entry)
                channels.append(channel_id)
        return {
            "id": upload.file_id,
            "created": upload.created,
            "timestamp": upload.created,
            "name": upload.filename,
            "title": upload.title or upload.filename,
            "mimetype": mimetype,
            "filetype": filetype,
            "user": BOT_USER_ID,
            "size": len(upload.data or b""),
            "mode": "hosted",
            "is_external": False,
            "is_public": bool(share_map.get("public")),
            "alt_txt": upload.alt_txt,
            "url_private": f"{self.url}/files-pri/{TEAM_ID}-{upload.file_id}/{upload.filename}",
            "channels": sorted(set(channels)),
            "groups": [],
            "ims": [],
            "shares": share_map,
            "comments_count": 0,
        }


# -- Block Kit validation (pure) ------------------------------------------------------------


def validate_blocks(blocks: list[Any]) -> list[str]:
    """Block Kit errors for a message's `blocks`, in Slack's "<reason> [json-pointer:...]"
    style; empty when Slack would accept them."""
    errors: list[str] = []
    if len(blocks) > MAX_BLOCKS:
        errors.append(_pointer(f"no more than {MAX_BLOCKS} items allowed", "/blocks"))
    for i, block in enumerate(blocks):
        errors.extend(_validate_block(block, f"/blocks/{i}"))
    return errors


def _validate_block(block: Any, ptr: str) -> list[str]:
    if not isinstance(block, dict):
        return [_pointer("must be an object", ptr)]
    block_type = block.get("type")
    if block_type is None:
        return [_pointer("missing required field: type", ptr)]
    if block_type not in KNOWN_BLOCK_TYPES:
        return [_pointer(f"unsupported type: {block_type}", f"{ptr}/type")]
    errors: list[str] = []
    block_id = block.get("block_id")
    if block_id is not None and not isinstance(block_id, str):
        errors.append(_pointer("must be a string", f"{ptr}/block_id"))
    elif block_id is not None and len(block_id) > MAX_BLOCK_ID_CHARS:
        message = f"must be less than {MAX_BLOCK_ID_CHARS + 1} characters"
        errors.append(_pointer(message, f"{ptr}/block_id"))
    check = _BLOCK_CHECKS.get(block_type)
    if check is not None:
        errors.extend(check(block, ptr))
    return errors


def _check_section(block: dict[str, Any], ptr: str) -> list[str]:
    text, fields = block.get("text"), block.get("fields")
    if text is None and fields is None:
        return [_pointer("must provide either text or fields", ptr)]
    errors = [] if text is None else _check_text(text, f"{ptr}/text", MAX_SECTION_TEXT_CHARS)
    if fields is None:
        return errors
    if not isinstance(fields, list) or not fields:
        return [*errors, _pointer("must be a non-empty array", f"{ptr}/fields")]
    if len(fields) > MAX_SECTION_FIELDS:
        errors.append(_pointer(f"no more than {MAX_SECTION_FIELDS} items allowed", f"{ptr}/fields"))
    for j, item in enumerate(fields):
        errors.extend(_check_text(item, f"{ptr}/fields/{j}", MAX_SECTION_FIELD_CHARS))
    return errors


def _check_header(block: dict[str, Any], ptr: str) -> list[str]:
    if "text" not in block:
        return [_pointer("missing required field: text", ptr)]
    return _check_text(block["text"], f"{ptr}/text", MAX_HEADER_TEXT_CHARS, ("plain_text",))


def _check_context(block: dict[str, Any], ptr: str) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [_pointer("missing required field: elements", ptr)]
    errors: list[str] = []
    if len(elements) > MAX_CONTEXT_ELEMENTS:
        message = f"no more than {MAX_CONTEXT_ELEMENTS} items allowed"
        errors.append(_pointer(message, f"{ptr}/elements"))
    for j, element in enumerate(elements):
        where = f"{ptr}/elements/{j}"
        if isinstance(element, dict) and element.get("type") == "image":
            errors.extend(_check_image(element, where))
        else:
            errors.extend(_check_text(element, where, None))
    return errors


def _check_actions(block: dict[str, Any], ptr: str) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list) or not elements:
        return [_pointer("missing required field: elements", ptr)]
    if len(elements) > MAX_ACTIONS_ELEMENTS:
        return [_pointer(f"no more than {MAX_ACTIONS_ELEMENTS} items allowed", f"{ptr}/elements")]
    return []


def _check_image(block: dict[str, Any], ptr: str) -> list[str]:
    errors = []
    if "image_url" not in block and "slack_file" not in block:
        errors.append(_pointer("missing required field: image_url", ptr))
    if not isinstance(block.get("alt_text"), str):
        errors.append(_pointer("missing required field: alt_text", ptr))
    return errors


_BLOCK_CHECKS: dict[str, Callable[[dict[str, Any], str], list[str]]] = {
    "actions": _check_actions,
    "context": _check_context,
    "header": _check_header,
    "image": _check_image,
    "section": _check_section,
}


def _check_text(
    obj: Any, ptr: str, max_chars: int | None, types: tuple[str, ...] = TEXT_TYPES
) -> list[str]:
    if not isinstance(obj, dict):
        return [_pointer("must be an object", ptr)]
    errors = []
    if obj.get("type") not in types:
        errors.append(_pointer(f"must be one of [{', '.join(types)}]", f"{ptr}/type"))
    text = obj.get("text")
    if not isinstance(text, str):
        errors.append(_pointer("missing required field: text", ptr))
    elif not text:
        errors.append(_pointer("must be more than 0 characters", f"{ptr}/text"))
    elif max_chars is not None and len(text) > max_chars:
        errors.append(_pointer(f"must be less than {max_chars + 1} characters", f"{ptr}/text"))
    return errors


def _pointer(reason: str, ptr: str) -> str:
    return f"{reason} [json-pointer:{ptr}]"


def _check_blocks(blocks: Any) -> None:
    if not isinstance(blocks, list):
        raise SlackApiError("invalid_blocks_format")
    errors = validate_blocks(blocks)
    if errors:
        raise SlackApiError(
            "invalid_blocks",
            errors=errors,
            response_metadata={"messages": [f"[ERROR] {e}" for e in errors]},
        )


def _check_metadata(metadata: Any) -> None:
    if not isinstance(metadata, dict):
        raise SlackApiError("invalid_metadata_format")
    event_type, payload = metadata.get("event_type"), metadata.get("event_payload")
    if not isinstance(event_type, str) or not event_type or not isinstance(payload, dict):
        raise SlackApiError("invalid_metadata_schema")


# -- argument helpers -----------------------------------------------------------------------


def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if isinstance(request.body, dict):
        params.update(request.body)
    return params


def _ok(**fields: Any) -> Response:
    return Response(200, {"ok": True, **fields})


def _invalid_arguments(reason: str, ptr: str) -> SlackApiError:
    error = _pointer(reason, ptr)
    return SlackApiError(
        "invalid_arguments",
        errors=[error],
        response_metadata={"messages": [f"[ERROR] {error}"]},
    )


def _json_param(value: Any, error: str) -> Any:
    """A JSON argument: a string in form bodies, already parsed in JSON bodies."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise SlackApiError(error) from None


def _bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true")
    return bool(value)


def _int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _limit(value: Any) -> int:
    if value in (None, ""):
        return DEFAULT_LIMIT
    limit = _int(value)
    if limit is None or limit < 0:
        raise SlackApiError("invalid_limit")
    return limit or DEFAULT_LIMIT


def _ts_param(value: Any, default: Decimal | None, error: str) -> Decimal:
    if value in (None, ""):
        if default is None:
            raise SlackApiError(error)
        return default
    text = str(value).strip()
    if not TS_PATTERN.match(text):
        raise SlackApiError(error)
    try:
        return Decimal(text)
    except InvalidOperation:
        raise SlackApiError(error) from None


def _encode_cursor(prefix: str, value: str) -> str:
    return base64.b64encode(f"{prefix}{value}".encode()).decode()


def _decode_cursor(cursor: str, prefix: str) -> str:
    try:
        decoded = base64.b64decode(cursor.encode(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise SlackApiError("invalid_cursor") from None
    if not decoded.startswith(prefix):
        raise SlackApiError("invalid_cursor")
    return decoded.removeprefix(prefix)


def _visible(message: dict[str, Any], with_metadata: bool) -> dict[str, Any]:
    shown = copy.deepcopy(message)
    if not with_metadata:
        shown.pop("metadata", None)
    return shown
