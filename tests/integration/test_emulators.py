"""The emulators behave like the APIs they stand in for, through the clients production uses:
slack_sdk's WebClient for Slack, `requests` for HubSpot and Salesforce.

Each test states one documented behaviour: a shape, a limit, an error or a paging rule.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

from tests.emulators.hubspot import HubSpotEmulator, make_contacts
from tests.emulators.salesforce import SalesforceEmulator, make_leads, salesforce_id
from tests.emulators.server import EmulatorServer, Request, Response
from tests.emulators.slack import SlackEmulator, validate_blocks

pytestmark = pytest.mark.integration

START = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)
END = datetime(2026, 11, 26, 19, 0, tzinfo=UTC)
TIMEOUT = 5


def epoch_ms(value: datetime) -> str:
    return str(int(value.timestamp() * 1000))


# -- the base server ------------------------------------------------------------------------


class EchoEmulator(EmulatorServer):
    """Answers with what it parsed; "/crash" raises, to show crashes become 500s."""

    def handle(self, request: Request) -> Response:
        if request.path == "/crash":
            raise RuntimeError("boom")
        return Response(200, {"method": request.method, "path": request.path})


@pytest.fixture
def echo() -> Iterator[EchoEmulator]:
    with EchoEmulator() as emulator:
        yield emulator


def test_server_listens_on_loopback_with_an_ephemeral_port(echo: EchoEmulator) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", echo.url)
    assert echo.port > 0
    assert requests.get(f"{echo.url}/x", timeout=TIMEOUT).json()["path"] == "/x"


def test_request_log_keeps_method_path_headers_and_parsed_body(echo: EchoEmulator) -> None:
    requests.post(f"{echo.url}/json?a=1", json={"k": [1, 2]}, timeout=TIMEOUT)
    requests.post(f"{echo.url}/form", data={"k": "v"}, timeout=TIMEOUT)
    requests.post(f"{echo.url}/multi", files={"f": ("a.txt", b"\x00\x01")}, timeout=TIMEOUT)

    first, second, third = echo.requests
    assert (first.method, first.path, first.body) == ("POST", "/json?a=1", {"k": [1, 2]})
    assert first.url_path == "/json"
    assert first.query == {"a": "1"}
    assert first.headers["content-type"] == "application/json"
    assert second.body == {"k": "v"}
    assert third.body == {"f": b"\x00\x01"}
    echo.clear_requests()
    assert echo.requests == []


def test_fail_next_serves_canned_responses_in_order_then_recovers(echo: EchoEmulator) -> None:
    echo.fail_next(503, {"error": "down"}, {"Retry-After": "2"}, times=2)
    echo.fail_next(500, "oops")

    answers = [requests.get(f"{echo.url}/a", timeout=TIMEOUT) for _ in range(4)]

    assert [a.status_code for a in answers] == [503, 503, 500, 200]
    assert answers[0].headers["Retry-After"] == "2"
    assert answers[0].json() == {"error": "down"}
    assert answers[2].text == "oops"


def test_fail_next_can_target_one_path(echo: EchoEmulator) -> None:
    echo.fail_next(429, path="/limited")

    assert requests.get(f"{echo.url}/other", timeout=TIMEOUT).status_code == 200
    assert requests.get(f"{echo.url}/limited", timeout=TIMEOUT).status_code == 429
    assert requests.get(f"{echo.url}/limited", timeout=TIMEOUT).status_code == 200


def test_delay_next_makes_a_client_time_out(echo: EchoEmulator) -> None:
    echo.delay_next(0.5)

    with pytest.raises(requests.Timeout):
        requests.get(f"{echo.url}/slow", timeout=0.1)
    assert requests.get(f"{echo.url}/fast", timeout=TIMEOUT).status_code == 200


def test_a_stopped_server_refuses_connections_and_restarts_on_the_same_url() -> None:
    emulator = EchoEmulator().start()
    url = emulator.url
    session = requests.Session()
    assert session.get(f"{url}/a", timeout=TIMEOUT).ok

    emulator.stop()
    assert not emulator.running
    with pytest.raises(requests.ConnectionError):
        session.get(f"{url}/a", timeout=TIMEOUT)

    emulator.start()
    try:
        assert emulator.url == url
        assert session.get(f"{url}/a", timeout=TIMEOUT).ok
    finally:
        emulator.stop()


def test_an_emulator_crash_is_a_500_and_is_recorded(echo: EchoEmulator) -> None:
    answer = requests.get(f"{echo.url}/crash", timeout=TIMEOUT)

    assert answer.status_code == 500
    assert "boom" in echo.errors[0]


# -- Slack -----------------------------------------------------------------------------------


@pytest.fixture
def slack() -> Iterator[SlackEmulator]:
    emulator = SlackEmulator(
        channels={
            "lead-reports": "C0LEADS01",
            "ops-alerts": "C0OPS0001",
            "not-joined": "C0NOTIN01",
            "old-stuff": "C0ARCHIV1",
            "secret": "C0PRIV001",
        },
        member_of=["lead-reports", "ops-alerts", "secret", "old-stuff"],
        private=["secret"],
        archived=["old-stuff"],
        filler_channels=250,
    )
    with emulator:
        yield emulator
    assert emulator.errors == []


@pytest.fixture
def client(slack: SlackEmulator) -> WebClient:
    return WebClient(base_url=slack.api_url, token=slack.token, timeout=TIMEOUT)


def slack_error(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(SlackApiError) as info:
        call(**kwargs)
    data: dict[str, Any] = info.value.response.data
    assert data["ok"] is False
    return data


def test_slack_api_url_is_what_slack_sdk_expects(slack: SlackEmulator) -> None:
    assert slack.api_url == f"{slack.url}/api/"


def test_auth_test_identifies_the_bot(client: WebClient) -> None:
    answer = client.auth_test()

    assert answer["ok"] is True
    assert answer["user_id"].startswith("U")
    assert answer["bot_id"].startswith("B")


def test_missing_token_is_not_authed_and_wrong_token_invalid_auth(slack: SlackEmulator) -> None:
    anonymous = WebClient(base_url=slack.api_url, timeout=TIMEOUT)
    wrong = WebClient(base_url=slack.api_url, token="xoxb-wrong", timeout=TIMEOUT)

    assert slack_error(anonymous.auth_test)["error"] == "not_authed"
    assert slack_error(wrong.auth_test)["error"] == "invalid_auth"


def test_token_may_be_a_form_field_but_not_inside_a_json_body(slack: SlackEmulator) -> None:
    form = requests.post(
        f"{slack.api_url}auth.test", data={"token": slack.token}, timeout=TIMEOUT
    ).json()
    as_json = requests.post(
        f"{slack.api_url}auth.test", json={"token": slack.token}, timeout=TIMEOUT
    )

    assert form["ok"] is True
    assert as_json.status_code == 200
    assert as_json.json() == {"ok": False, "error": "not_authed"}


def test_conversations_list_pages_with_cursors(client: WebClient) -> None:
    names: list[str] = []
    cursor = None
    pages = 0
    while True:
        answer = client.conversations_list(limit=100, cursor=cursor)
        pages += 1
        names += [c["name"] for c in answer["channels"]]
        cursor = answer["response_metadata"]["next_cursor"]
        if not cursor:
            break

    assert pages == 3
    assert len(names) == len(set(names)) == 254  # 250 fillers + 4 public channels
    assert "secret" not in names  # private channels need types=private_channel


def test_conversations_list_channel_shape_and_filters(client: WebClient) -> None:
    both = "public_channel,private_channel"
    by_name = {c["name"]: c for c in client.conversations_list(limit=1000, types=both)["channels"]}
    active = client.conversations_list(limit=1000, exclude_archived=True)["channels"]
    private = client.conversations_list(types="private_channel")["channels"]

    assert by_name["lead-reports"]["id"] == "C0LEADS01"
    assert by_name["lead-reports"]["is_member"] is True
    assert {"is_channel", "is_private", "is_archived", "is_member"} <= set(by_name["secret"])
    assert by_name["secret"]["is_private"] is True
    assert by_name["not-joined"]["is_member"] is False
    assert by_name["old-stuff"]["is_archived"] is True
    assert "old-stuff" not in {c["name"] for c in active}
    assert [c["name"] for c in private] == ["secret"]


def test_conversations_list_default_limit_is_100(client: WebClient) -> None:
    assert len(client.conversations_list()["channels"]) == 100


def test_conversations_list_rejects_bad_arguments(client: WebClient) -> None:
    assert slack_error(client.conversations_list, types="rooms")["error"] == "invalid_types"
    assert slack_error(client.conversations_list, limit="many")["error"] == "invalid_limit"
    assert slack_error(client.conversations_list, cursor="bogus")["error"] == "invalid_cursor"


@pytest.mark.parametrize("channel", ["C0LEADS01", "#lead-reports", "lead-reports"])
def test_post_message_accepts_an_id_or_a_name(
    client: WebClient, slack: SlackEmulator, channel: str
) -> None:
    answer = client.chat_postMessage(channel=channel, text="hello")

    assert answer["channel"] == "C0LEADS01"
    assert re.fullmatch(r"\d{10}\.\d{6}", answer["ts"])
    assert answer["message"]["text"] == "hello"
    assert slack.messages("C0LEADS01")[0]["ts"] == answer["ts"]


@pytest.mark.parametrize(
    ("channel", "error"),
    [
        ("C0NOPE001", "channel_not_found"),
        ("#nope", "channel_not_found"),
        ("", "channel_not_found"),
        ("not-joined", "not_in_channel"),
        ("old-stuff", "is_archived"),
    ],
)
def test_post_message_rejects_channels_the_bot_cannot_post_to(
    client: WebClient, channel: str, error: str
) -> None:
    assert slack_error(client.chat_postMessage, channel=channel, text="x")["error"] == error


def test_post_message_needs_text_or_blocks(client: WebClient) -> None:
    with pytest.warns(UserWarning, match="text"):  # slack_sdk warns before sending
        data = slack_error(client.chat_postMessage, channel="C0LEADS01")

    assert data["error"] == "no_text"


def test_post_message_ts_is_unique_and_increasing(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C0LEADS01", text=str(i))["ts"] for i in range(20)]

    assert stamps == sorted(stamps, key=float)
    assert len(set(stamps)) == 20


def test_post_message_truncates_text_over_40000_characters(
    client: WebClient, slack: SlackEmulator
) -> None:
    answer = client.chat_postMessage(channel="C0LEADS01", text="x" * 40_123)

    assert len(answer["message"]["text"]) == 40_000
    assert len(slack.messages("C0LEADS01")[0]["text"]) == 40_000


def test_post_message_stores_blocks_metadata_and_thread(
    client: WebClient, slack: SlackEmulator
) -> None:
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*12* new leads"}}]
    metadata = {"event_type": "lead_report", "event_payload": {"slot": "08:00"}}
    parent = client.chat_postMessage(
        channel="C0LEADS01", text="report", blocks=blocks, metadata=metadata
    )
    client.chat_postMessage(channel="C0LEADS01", text="details", thread_ts=parent["ts"])

    stored_parent, reply = slack.messages("lead-reports")
    assert stored_parent["blocks"] == blocks
    assert stored_parent["metadata"] == metadata
    assert stored_parent["reply_count"] == 1
    assert reply["thread_ts"] == parent["ts"]


def test_blocks_may_be_a_json_string_in_a_form_body(slack: SlackEmulator) -> None:
    blocks = [{"type": "divider"}]
    answer = requests.post(
        f"{slack.api_url}chat.postMessage",
        data={"channel": "C0OPS0001", "blocks": json.dumps(blocks), "text": "fallback"},
        headers={"Authorization": f"Bearer {slack.token}"},
        timeout=TIMEOUT,
    ).json()

    assert answer["ok"] is True
    assert slack.messages("ops-alerts")[0]["blocks"] == blocks


def test_blocks_that_are_not_json_are_invalid_blocks_format(slack: SlackEmulator) -> None:
    answer = requests.post(
        f"{slack.api_url}chat.postMessage",
        data={"channel": "C0OPS0001", "blocks": "[{not json", "token": slack.token},
        timeout=TIMEOUT,
    ).json()

    assert answer == {"ok": False, "error": "invalid_blocks_format"}


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def field_text(text: str) -> dict[str, str]:
    return {"type": "mrkdwn", "text": text}


def context(count: int) -> dict[str, Any]:
    return {"type": "context", "elements": [field_text("e")] * count}


def header(text: str, text_type: str = "plain_text") -> dict[str, Any]:
    return {"type": "header", "text": {"type": text_type, "text": text}}


INVALID_BLOCKS = {
    "51 blocks": ([{"type": "divider"}] * 51, "/blocks"),
    "section text 3001": ([section("x" * 3001)], "/blocks/0/text/text"),
    "11 fields": (
        [{"type": "section", "fields": [field_text("f")] * 11}],
        "/blocks/0/fields",
    ),
    "field 2001": (
        [{"type": "section", "fields": [field_text("f" * 2001)]}],
        "/blocks/0/fields/0/text",
    ),
    "header 151": ([header("h" * 151)], "/blocks/0/text/text"),
    "header mrkdwn": ([header("h", "mrkdwn")], "/blocks/0/text/type"),
    "context 11": ([context(11)], "/blocks/0/elements"),
    "unknown block": ([{"type": "carousel"}], "/blocks/0/type"),
    "text type": (
        [{"type": "section", "text": {"type": "markdown", "text": "x"}}],
        "/blocks/0/text/type",
    ),
    "block_id 256": ([{"type": "divider", "block_id": "b" * 256}], "/blocks/0/block_id"),
    "empty section": ([{"type": "section"}], "/blocks/0"),
}


@pytest.mark.parametrize(("blocks", "pointer"), INVALID_BLOCKS.values(), ids=INVALID_BLOCKS)
def test_post_message_rejects_blocks_over_block_kit_limits(
    client: WebClient, slack: SlackEmulator, blocks: list[Any], pointer: str
) -> None:
    data = slack_error(client.chat_postMessage, channel="C0LEADS01", text="t", blocks=blocks)

    assert data["error"] == "invalid_blocks"
    assert any(e.endswith(f"[json-pointer:{pointer}]") for e in data["errors"])
    assert data["response_metadata"]["messages"] == [f"[ERROR] {e}" for e in data["errors"]]
    assert slack.messages("C0LEADS01") == []


def test_blocks_exactly_at_every_limit_are_accepted(client: WebClient) -> None:
    at_limits = [
        section("x" * 3000),
        {"type": "section", "fields": [field_text("f" * 2000)] * 10},
        header("h" * 150),
        context(10),
        {"type": "divider", "block_id": "b" * 255},
    ]
    at_limits += [{"type": "divider"}] * (50 - len(at_limits))

    assert validate_blocks(at_limits) == []
    assert client.chat_postMessage(channel="C0LEADS01", text="t", blocks=at_limits)["ok"]


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ("{oops", "invalid_metadata_format"),
        (json.dumps({"event_type": "x"}), "invalid_metadata_schema"),
        (json.dumps({"event_payload": {}}), "invalid_metadata_schema"),
    ],
)
def test_post_message_rejects_malformed_metadata(
    slack: SlackEmulator, metadata: str, error: str
) -> None:
    answer = requests.post(
        f"{slack.api_url}chat.postMessage",
        data={"channel": "C0LEADS01", "text": "t", "metadata": metadata, "token": slack.token},
        timeout=TIMEOUT,
    ).json()

    assert answer == {"ok": False, "error": error}


def test_history_is_newest_first_and_pages_with_cursors(client: WebClient) -> None:
    posted = [client.chat_postMessage(channel="C0LEADS01", text=str(i))["ts"] for i in range(5)]

    first = client.conversations_history(channel="C0LEADS01", limit=2)
    second = client.conversations_history(
        channel="C0LEADS01", limit=2, cursor=first["response_metadata"]["next_cursor"]
    )
    third = client.conversations_history(
        channel="C0LEADS01", limit=2, cursor=second["response_metadata"]["next_cursor"]
    )

    seen = [m["ts"] for page in (first, second, third) for m in page["messages"]]
    assert seen == posted[::-1]
    assert (first["has_more"], second["has_more"], third["has_more"]) == (True, True, False)
    assert "response_metadata" not in third.data


def test_history_window_is_exclusive_unless_inclusive(client: WebClient) -> None:
    stamps = [client.chat_postMessage(channel="C0LEADS01", text=str(i))["ts"] for i in range(4)]

    exclusive = client.conversations_history(
        channel="C0LEADS01", oldest=stamps[0], latest=stamps[3]
    )
    inclusive = client.conversations_history(
        channel="C0LEADS01", oldest=stamps[0], latest=stamps[3], inclusive=True
    )

    assert [m["ts"] for m in exclusive["messages"]] == [stamps[2], stamps[1]]
    assert len(inclusive["messages"]) == 4


def test_history_returns_metadata_only_when_asked(client: WebClient) -> None:
    metadata = {"event_type": "lead_report", "event_payload": {"n": 3}}
    client.chat_postMessage(channel="C0LEADS01", text="t", metadata=metadata)

    plain = client.conversations_history(channel="C0LEADS01")["messages"][0]
    full = client.conversations_history(channel="C0LEADS01", include_all_metadata=True)

    assert "metadata" not in plain
    assert full["messages"][0]["metadata"] == metadata


def test_history_leaves_thread_replies_out(client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C0LEADS01", text="parent")["ts"]
    client.chat_postMessage(channel="C0LEADS01", text="reply", thread_ts=parent)

    messages = client.conversations_history(channel="C0LEADS01")["messages"]

    assert [m["text"] for m in messages] == ["parent"]
    assert messages[0]["reply_count"] == 1


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"channel": "C0NOPE001"}, "channel_not_found"),
        ({"channel": "lead-reports"}, "channel_not_found"),  # history takes IDs only
        ({"channel": "C0NOTIN01"}, "not_in_channel"),
        ({"channel": "C0LEADS01", "oldest": "yesterday"}, "invalid_ts_oldest"),
        ({"channel": "C0LEADS01", "latest": "soon"}, "invalid_ts_latest"),
        ({"channel": "C0LEADS01", "cursor": "bogus"}, "invalid_cursor"),
    ],
)
def test_history_errors(client: WebClient, arguments: dict[str, str], error: str) -> None:
    assert slack_error(client.conversations_history, **arguments)["error"] == error


def test_conversations_join_lets_the_bot_post(client: WebClient) -> None:
    refused = slack_error(client.chat_postMessage, channel="C0NOTIN01", text="x")

    client.conversations_join(channel="C0NOTIN01")

    assert refused["error"] == "not_in_channel"
    assert client.chat_postMessage(channel="C0NOTIN01", text="x")["ok"] is True


def test_files_upload_is_retired(client: WebClient) -> None:
    with pytest.warns(UserWarning):
        data = slack_error(client.files_upload, content="x", channels="C0LEADS01")

    assert data["error"] == "method_deprecated"


def test_files_upload_v2_end_to_end(client: WebClient, slack: SlackEmulator) -> None:
    parent = client.chat_postMessage(channel="C0LEADS01", text="report")["ts"]
    content = "state,leads\nCA,12\nTX,7\n"

    answer = client.files_upload_v2(
        channel="C0LEADS01",
        content=content,
        filename="leads.csv",
        title="Lead report",
        thread_ts=parent,
        initial_comment="Today's leads",
    )

    file_id = answer["file"]["id"]
    assert answer["file"]["title"] == "Lead report"
    assert answer["file"]["name"] == "leads.csv"
    assert slack.file_content(file_id) == content.encode()
    share = slack.messages("C0LEADS01")[-1]
    assert share["text"] == "Today's leads"
    assert share["thread_ts"] == parent
    assert share["files"][0]["id"] == file_id
    info = client.files_info(file=file_id)["file"]
    assert info["channels"] == ["C0LEADS01"]
    assert info["shares"]["public"]["C0LEADS01"][0]["ts"] == share["ts"]
    paths = [r.url_path for r in slack.requests][1:]
    assert paths[0] == "/api/files.getUploadURLExternal"
    assert paths[1].startswith("/upload/v1/")
    assert paths[2:] == ["/api/files.completeUploadExternal", "/api/files.info"]


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"filename": "a.csv", "length": 0}, "missing_argument"),
        ({"filename": "a.csv", "length": "ten"}, "invalid_arguments"),
        ({"filename": "a.csv", "length": -5}, "invalid_arguments"),
        ({"filename": "a.csv"}, "invalid_arguments"),
        ({"length": 10}, "invalid_arguments"),
    ],
)
def test_get_upload_url_validates_filename_and_length(
    slack: SlackEmulator, arguments: dict[str, Any], error: str
) -> None:
    answer = requests.post(
        f"{slack.api_url}files.getUploadURLExternal",
        data={**arguments, "token": slack.token},
        timeout=TIMEOUT,
    ).json()

    assert answer["error"] == error


def upload_ticket(client: WebClient, data: bytes) -> tuple[str, str]:
    answer = client.files_getUploadURLExternal(filename="a.txt", length=len(data))
    return answer["file_id"], answer["upload_url"]


def test_upload_url_checks_the_ticket_and_the_length(
    client: WebClient, slack: SlackEmulator
) -> None:
    _, upload_url = upload_ticket(client, b"12345")

    unknown = requests.post(f"{slack.url}/upload/v1/nope", data=b"x", timeout=TIMEOUT)
    short = requests.post(upload_url, data=b"1234", timeout=TIMEOUT)
    exact = requests.post(upload_url, data=b"12345", timeout=TIMEOUT)

    assert unknown.status_code == 404
    assert short.status_code == 400
    assert (exact.status_code, exact.text) == (200, "OK - 5")


def test_complete_upload_rejects_unknown_or_unsent_files(client: WebClient) -> None:
    file_id, _ = upload_ticket(client, b"abc")

    for files in ([{"id": "F0NOPE0001"}], [{"id": file_id}]):
        data = slack_error(client.files_completeUploadExternal, files=files, channel_id="C0LEADS01")
        assert data["error"] == "file_not_found"


@pytest.mark.parametrize(
    ("channel_id", "error"),
    [
        ("C0NOPE001", "invalid_channel"),
        ("lead-reports", "invalid_arguments"),
        ("C0NOTIN01", "not_in_channel"),
    ],
)
def test_complete_upload_rejects_channels_it_cannot_share_to(
    client: WebClient, channel_id: str, error: str
) -> None:
    file_id, upload_url = upload_ticket(client, b"abc")
    requests.post(upload_url, data=b"abc", timeout=TIMEOUT)

    data = slack_error(
        client.files_completeUploadExternal, files=[{"id": file_id}], channel_id=channel_id
    )

    assert data["error"] == error


def test_rate_limited_method_answers_429_with_retry_after(slack: SlackEmulator) -> None:
    slack.rate_limit("chat.postMessage", per_second=1)
    url = f"{slack.api_url}chat.postMessage"
    form = {"channel": "C0LEADS01", "text": "x", "token": slack.token}

    first = requests.post(url, data=form, timeout=TIMEOUT)
    second = requests.post(url, data=form, timeout=TIMEOUT)
    other = requests.post(f"{slack.api_url}auth.test", data=form, timeout=TIMEOUT)

    assert first.json()["ok"] is True
    assert second.status_code == 429
    assert second.headers["Retry-After"] == "1"
    assert second.json() == {"ok": False, "error": "ratelimited"}
    assert other.status_code == 200


def test_slack_sdk_retries_after_retry_after(client: WebClient, slack: SlackEmulator) -> None:
    slack.ratelimit_next(retry_after=1, method="chat.postMessage")
    client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=1))

    started = time.monotonic()
    answer = client.chat_postMessage(channel="C0LEADS01", text="eventually")

    assert answer["ok"] is True
    assert time.monotonic() - started >= 1
    assert len(slack.requests_to("/api/chat.postMessage")) == 2
    assert len(slack.messages("C0LEADS01")) == 1


def test_slack_server_errors_and_dead_server(client: WebClient, slack: SlackEmulator) -> None:
    client.retry_handlers.clear()  # slack_sdk retries connection errors once by default
    slack.fail_next(500, "Internal Server Error")

    with pytest.raises(SlackApiError) as info:
        client.auth_test()
    assert info.value.response.status_code == 500

    slack.stop()
    with pytest.raises(OSError):  # urllib.error.URLError: connection refused
        client.auth_test()
    slack.start()


def test_unknown_method(client: WebClient) -> None:
    data = slack_error(client.api_call, api_method="chat.postMesage")

    assert data["error"] == "unknown_method"


# -- HubSpot -----------------------------------------------------------------------------------

CONTACTS = make_contacts(450, START, END, seed=7)


@pytest.fixture
def hubspot() -> Iterator[HubSpotEmulator]:
    with HubSpotEmulator(contacts=CONTACTS) as emulator:
        yield emulator
    assert emulator.errors == []


class HubSpotClient:
    def __init__(self, emulator: HubSpotEmulator, token: str | None = None) -> None:
        self.url = f"{emulator.url}/crm/v3/objects"
        self.session = requests.Session()
        if token is None:
            token = emulator.token
        if token:
            self.session.headers["Authorization"] = f"Bearer {token}"

    def search(self, body: Any, object_type: str = "contacts") -> requests.Response:
        return self.session.post(f"{self.url}/{object_type}/search", json=body, timeout=TIMEOUT)

    def ok(self, body: Any, object_type: str = "contacts") -> dict[str, Any]:
        answer = self.search(body, object_type)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result


@pytest.fixture
def hs(hubspot: HubSpotEmulator) -> HubSpotClient:
    return HubSpotClient(hubspot)


def count(predicate: Any) -> int:
    return sum(1 for c in CONTACTS if predicate(c["properties"]))


def created(props: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(props["createdate"].replace("Z", "+00:00"))


def one_filter(**flt: Any) -> dict[str, Any]:
    return {"filterGroups": [{"filters": [flt]}], "limit": 1}


@pytest.mark.parametrize("token", ["", "pat-wrong"])
def test_hubspot_rejects_missing_or_wrong_token(hubspot: HubSpotEmulator, token: str) -> None:
    answer = HubSpotClient(hubspot, token).search({})

    assert answer.status_code == 401
    body = answer.json()
    assert body["status"] == "error"
    assert body["category"] == "INVALID_AUTHENTICATION"
    assert body["message"].startswith("Authentication credentials not found.")
    assert body["correlationId"]


def test_search_defaults_to_ten_results_with_default_properties(hs: HubSpotClient) -> None:
    answer = hs.ok({})

    assert answer["total"] == 450
    assert len(answer["results"]) == 10
    assert answer["paging"] == {"next": {"after": "10"}}
    first = answer["results"][0]
    assert set(first) == {"id", "properties", "createdAt", "updatedAt", "archived"}
    assert set(first["properties"]) == {
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
        "lastname",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", first["createdAt"])


def test_search_returns_requested_properties_plus_the_always_returned_ones(
    hs: HubSpotClient,
) -> None:
    body = {"properties": ["hs_lead_status", "no_such_property"], "limit": 200}
    results = hs.ok(body)["results"]

    assert {tuple(sorted(r["properties"])) for r in results} == {
        ("createdate", "hs_lead_status", "hs_object_id", "lastmodifieddate", "no_such_property")
    }
    assert all(r["properties"]["no_such_property"] is None for r in results)
    assert all(isinstance(r["properties"]["hs_object_id"], str) for r in results)


def test_createdate_window_in_epoch_ms_or_iso_matches_the_same_contacts(
    hs: HubSpotClient,
) -> None:
    low, high = START + timedelta(hours=3), START + timedelta(hours=9)
    expected = count(lambda p: low <= created(p) < high)

    def window(lo: str, hi: str) -> dict[str, Any]:
        filters = [
            {"propertyName": "createdate", "operator": "GTE", "value": lo},
            {"propertyName": "createdate", "operator": "LT", "value": hi},
        ]
        return {"filterGroups": [{"filters": filters}], "limit": 1}

    as_ms = hs.ok(window(epoch_ms(low), epoch_ms(high)))["total"]
    as_iso = hs.ok(window(low.isoformat(), high.isoformat().replace("+00:00", "Z")))["total"]
    between = hs.ok(
        one_filter(
            propertyName="createdate",
            operator="BETWEEN",
            value=epoch_ms(low),
            highValue=epoch_ms(high - timedelta(milliseconds=1)),
        )
    )["total"]

    assert 0 < expected < 450
    assert as_ms == as_iso == between == expected


@pytest.mark.parametrize(
    ("flt", "predicate"),
    [
        ({"operator": "EQ", "value": "OPEN"}, lambda p: p["hs_lead_status"] == "OPEN"),
        ({"operator": "EQ", "value": "open"}, lambda p: p["hs_lead_status"] == "OPEN"),
        ({"operator": "NEQ", "value": "OPEN"}, lambda p: p["hs_lead_status"] != "OPEN"),
        (
            {"operator": "IN", "values": ["NEW", "OPEN"]},
            lambda p: p["hs_lead_status"] in ("NEW", "OPEN"),
        ),
        (
            {"operator": "NOT_IN", "values": ["NEW", "OPEN"]},
            lambda p: p["hs_lead_status"] not in ("NEW", "OPEN"),
        ),
        ({"operator": "HAS_PROPERTY"}, lambda p: p["hs_lead_status"] is not None),
        ({"operator": "NOT_HAS_PROPERTY"}, lambda p: p["hs_lead_status"] is None),
    ],
)
def test_search_filter_operators(hs: HubSpotClient, flt: dict[str, Any], predicate: Any) -> None:
    total = hs.ok(one_filter(propertyName="hs_lead_status", **flt))["total"]

    assert total == count(predicate)


def test_contains_token_matches_words(hs: HubSpotClient) -> None:
    body = one_filter(propertyName="case_type", operator="CONTAINS_TOKEN", value="injury")

    assert hs.ok(body)["total"] == count(lambda p: p["case_type"] == "Personal Injury")


def test_filter_groups_are_ored_and_filters_anded(hs: HubSpotClient) -> None:
    body = {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": "state", "operator": "EQ", "value": "CA"},
                    {"propertyName": "hs_analytics_source", "operator": "EQ", "value": "REFERRALS"},
                ]
            },
            {"filters": [{"propertyName": "state", "operator": "EQ", "value": "TX"}]},
        ],
        "limit": 1,
    }

    expected = count(
        lambda p: (
            (p["state"] == "CA" and p["hs_analytics_source"] == "REFERRALS") or p["state"] == "TX"
        )
    )
    assert hs.ok(body)["total"] == expected


def test_search_sorts_by_one_property(hs: HubSpotClient) -> None:
    body = {"sorts": [{"propertyName": "createdate", "direction": "DESCENDING"}], "limit": 50}
    stamps = [r["properties"]["createdate"] for r in hs.ok(body)["results"]]

    assert stamps == sorted(stamps, reverse=True)
    assert stamps[0] == max(c["properties"]["createdate"] for c in CONTACTS)


def test_paging_with_after_visits_every_contact_once(hs: HubSpotClient) -> None:
    seen: list[str] = []
    after: str | None = None
    pages = 0
    while True:
        body: dict[str, Any] = {"limit": 200, "sorts": ["createdate"]}
        if after is not None:
            body["after"] = after
        answer = hs.ok(body)
        pages += 1
        seen += [r["id"] for r in answer["results"]]
        if "paging" not in answer:
            break
        after = answer["paging"]["next"]["after"]

    assert pages == 3
    assert len(seen) == len(set(seen)) == 450


@pytest.mark.parametrize(
    "body",
    [
        {"limit": 201},
        {"limit": -1},
        {"after": "abc"},
        {
            "filterGroups": [
                {"filters": [{"propertyName": "state", "operator": "EQ", "value": "CA"}]}
            ]
            * 6
        },
        {"filterGroups": [{"filters": [{"propertyName": "state", "value": "CA"}]}]},
        {
            "filterGroups": [
                {"filters": [{"propertyName": "state", "operator": "EQ", "value": "CA"}] * 7}
            ]
        },
        {
            "filterGroups": [
                {"filters": [{"propertyName": "state", "operator": "EQ", "value": "CA"}] * 5}
            ]
            * 4
        },
        {"filterGroups": [{"filters": [{"propertyName": "state", "operator": "LIKE"}]}]},
        {"filterGroups": [{"filters": [{"propertyName": "state", "operator": "BETWEEN"}]}]},
        {"sorts": ["createdate", "state"]},
    ],
    ids=[
        "limit>200",
        "negative limit",
        "after not integer",
        "6 groups",
        "no operator",
        "7 filters in a group",
        "20 filters in all",
        "unknown operator",
        "BETWEEN without values",
        "two sorts",
    ],
)
def test_search_rejects_what_hubspot_rejects(hs: HubSpotClient, body: dict[str, Any]) -> None:
    answer = hs.search(body)

    assert answer.status_code == 400
    assert answer.json()["category"] == "VALIDATION_ERROR"
    assert answer.json()["status"] == "error"


def test_search_accepts_the_maximum_filters(hs: HubSpotClient) -> None:
    flt = {"propertyName": "state", "operator": "HAS_PROPERTY"}
    body = {"filterGroups": [{"filters": [flt] * 6}] * 3, "limit": 200}

    assert hs.ok(body)["total"] == count(lambda p: p["state"] is not None)


def test_search_rejects_invalid_json(hubspot: HubSpotEmulator) -> None:
    answer = requests.post(
        f"{hubspot.url}/crm/v3/objects/contacts/search",
        data=b"{nope",
        headers={"Authorization": "Bearer pat-test", "Content-Type": "application/json"},
        timeout=TIMEOUT,
    )

    assert answer.status_code == 400
    assert answer.json()["category"] == "VALIDATION_ERROR"


def test_search_cannot_page_past_10000_results() -> None:
    contacts = make_contacts(10_050, START, END, seed=3)
    with HubSpotEmulator(contacts=contacts) as emulator:
        client = HubSpotClient(emulator)

        last_allowed = client.ok({"limit": 200, "after": "9800"})
        beyond = client.search({"limit": 200, "after": "10000"})
        straddling = client.search({"limit": 200, "after": "9900"})

    assert last_allowed["total"] == 10_050
    assert len(last_allowed["results"]) == 200
    assert last_allowed["paging"]["next"]["after"] == "10000"
    for answer in (beyond, straddling):
        assert answer.status_code == 400
        assert answer.json()["category"] == "VALIDATION_ERROR"


def test_search_rate_limit_answers_429() -> None:
    with HubSpotEmulator(contacts=CONTACTS[:5], requests_per_second=5) as emulator:
        client = HubSpotClient(emulator)
        answers = [client.search({}) for _ in range(6)]
        time.sleep(1.05)
        later = client.search({})

    assert [a.status_code for a in answers] == [200] * 5 + [429]
    body = answers[-1].json()
    assert body["status"] == "error"
    assert body["message"] == "You have reached your secondly limit."
    assert body["errorType"] == "RATE_LIMIT"
    assert body["policyName"] == "SECONDLY"
    assert "Retry-After" not in answers[-1].headers
    assert later.status_code == 200


def test_search_rate_limit_can_send_retry_after() -> None:
    with HubSpotEmulator(requests_per_second=1, retry_after=1) as emulator:
        client = HubSpotClient(emulator)
        client.search({})
        limited = client.search({})

    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "1"


def test_other_object_types_are_searchable_and_unknown_ones_rejected() -> None:
    deals = [{"dealname": "Smith v. Jones", "amount": 5000, "createdate": START}]
    with HubSpotEmulator(objects={"deals": deals}) as emulator:
        client = HubSpotClient(emulator)
        found = client.ok({"properties": ["dealname", "amount"]}, "deals")
        empty = client.ok({}, "companies")
        unknown = client.search({}, "widgets")

    deal = found["results"][0]
    assert deal["properties"]["amount"] == "5000"
    assert deal["properties"]["createdate"] == "2026-11-26T05:00:00.000Z"
    assert "hs_lastmodifieddate" in deal["properties"]
    assert empty["total"] == 0
    assert unknown.status_code == 400


def test_make_contacts_is_deterministic_and_within_the_range() -> None:
    again = make_contacts(450, START, END, seed=7)
    stamps = [created(c["properties"]) for c in CONTACTS]

    assert again == CONTACTS
    assert make_contacts(450, START, END, seed=8) != CONTACTS
    assert stamps == sorted(stamps)
    assert all(START <= s < END for s in stamps)
    keys = {"hs_lead_status", "hs_analytics_source", "state", "case_type", "campaign"}
    assert keys <= set(CONTACTS[0]["properties"])


# -- Salesforce ------------------------------------------------------------------------------

LEADS = make_leads(4500, START, END, seed=11)
WINDOW_QUERY = (
    "SELECT Id, CreatedDate, LeadSource, Status, State, Campaign__c, Case_Type__c, Owner.Name "
    "FROM Lead WHERE CreatedDate >= 2026-11-26T05:00:00Z AND CreatedDate < 2026-11-26T19:00:00Z "
    "ORDER BY CreatedDate ASC"
)


@pytest.fixture
def salesforce() -> Iterator[SalesforceEmulator]:
    with SalesforceEmulator("cid", "csecret", records=LEADS) as emulator:
        yield emulator
    assert emulator.errors == []


class SalesforceClient:
    def __init__(self, emulator: SalesforceEmulator, version: str = "v60.0") -> None:
        token = requests.post(
            f"{emulator.url}/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "cid",
                "client_secret": "csecret",
            },
            timeout=TIMEOUT,
        ).json()
        self.instance_url = token["instance_url"]
        self.version = version
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token['access_token']}"

    def query(self, soql: str, batch_size: int | None = None) -> requests.Response:
        headers = {"Sforce-Query-Options": f"batchSize={batch_size}"} if batch_size else {}
        return self.session.get(
            f"{self.instance_url}/services/data/{self.version}/query",
            params={"q": soql},
            headers=headers,
            timeout=TIMEOUT,
        )

    def more(self, next_records_url: str) -> requests.Response:
        return self.session.get(f"{self.instance_url}{next_records_url}", timeout=TIMEOUT)

    def all_pages(self, soql: str, batch_size: int | None = None) -> list[dict[str, Any]]:
        pages = [self.query(soql, batch_size).json()]
        while not pages[-1]["done"]:
            pages.append(self.more(pages[-1]["nextRecordsUrl"]).json())
        return pages


@pytest.fixture
def sf(salesforce: SalesforceEmulator) -> SalesforceClient:
    return SalesforceClient(salesforce)


def sf_error(answer: requests.Response, status: int = 400) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert isinstance(body, list)
    assert len(body) == 1
    error: dict[str, Any] = body[0]
    return error


def test_token_response_shape(salesforce: SalesforceEmulator) -> None:
    answer = requests.post(
        f"{salesforce.url}/services/oauth2/token",
        data={"grant_type": "client_credentials", "client_id": "cid", "client_secret": "csecret"},
        timeout=TIMEOUT,
    )

    token = answer.json()
    assert answer.status_code == 200
    assert {"access_token", "instance_url", "id", "token_type", "issued_at", "signature"} <= set(
        token
    )
    assert token["instance_url"] == salesforce.url
    assert token["token_type"] == "Bearer"
    assert token["issued_at"].isdigit()


@pytest.mark.parametrize(
    ("form", "error", "description"),
    [
        (
            {"grant_type": "client_credentials", "client_id": "cid", "client_secret": "nope"},
            "invalid_client",
            "invalid client credentials",
        ),
        (
            {"grant_type": "client_credentials", "client_id": "nope", "client_secret": "csecret"},
            "invalid_client_id",
            "client identifier invalid",
        ),
        (
            {"grant_type": "password", "client_id": "cid", "client_secret": "csecret"},
            "unsupported_grant_type",
            "grant type not supported",
        ),
    ],
)
def test_token_rejects_bad_credentials(
    salesforce: SalesforceEmulator, form: dict[str, str], error: str, description: str
) -> None:
    answer = requests.post(f"{salesforce.url}/services/oauth2/token", data=form, timeout=TIMEOUT)

    assert answer.status_code == 400
    assert answer.json() == {"error": error, "error_description": description}


def test_token_accepts_http_basic_client_credentials(salesforce: SalesforceEmulator) -> None:
    answer = requests.post(
        f"{salesforce.url}/services/oauth2/token",
        data={"grant_type": "client_credentials"},
        auth=("cid", "csecret"),
        timeout=TIMEOUT,
    )

    assert answer.status_code == 200


def test_query_pages_2000_records_at_a_time(sf: SalesforceClient) -> None:
    pages = sf.all_pages(WINDOW_QUERY)

    assert [len(p["records"]) for p in pages] == [2000, 2000, 500]
    assert [p["done"] for p in pages] == [False, False, True]
    assert all(p["totalSize"] == 4500 for p in pages)
    assert re.fullmatch(r"/services/data/v60\.0/query/01g\w{15}-2000", pages[0]["nextRecordsUrl"])
    assert "nextRecordsUrl" not in pages[-1]
    assert (
        sf.query("SELECT Id FROM Lead LIMIT 1")
        .headers["Sforce-Limit-Info"]
        .startswith("api-usage=")
    )
    ids = [r["Id"] for p in pages for r in p["records"]]
    assert len(set(ids)) == 4500
    stamps = [r["CreatedDate"] for p in pages for r in p["records"]]
    assert stamps == sorted(stamps)


def test_query_record_shape(sf: SalesforceClient) -> None:
    record = sf.query(WINDOW_QUERY).json()["records"][0]
    lead = next(lead for lead in LEADS if lead["Id"] == record["Id"])

    assert record["attributes"] == {
        "type": "Lead",
        "url": f"/services/data/v60.0/sobjects/Lead/{lead['Id']}",
    }
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", record["CreatedDate"])
    assert record["Owner"] == {
        "attributes": {
            "type": "User",
            "url": f"/services/data/v60.0/sobjects/User/{lead['OwnerId']}",
        },
        "Name": lead["Owner"]["Name"],
    }
    assert list(record) == [
        "attributes",
        "Id",
        "CreatedDate",
        "LeadSource",
        "Status",
        "State",
        "Campaign__c",
        "Case_Type__c",
        "Owner",
    ]


def test_query_batch_size_header_is_honoured_within_200_to_2000(sf: SalesforceClient) -> None:
    assert len(sf.query(WINDOW_QUERY, batch_size=500).json()["records"]) == 500
    assert len(sf.query(WINDOW_QUERY, batch_size=50).json()["records"]) == 200
    assert len(sf.query(WINDOW_QUERY, batch_size=5000).json()["records"]) == 2000
    pages = sf.all_pages(WINDOW_QUERY, batch_size=1000)
    assert [len(p["records"]) for p in pages] == [1000] * 4 + [500]


def test_query_filters_orders_and_limits(sf: SalesforceClient) -> None:
    soql = (
        "SELECT Id, Status, CreatedDate FROM Lead WHERE Status = 'qualified' "
        "AND CreatedDate > 2026-11-26T10:00:00.000+00:00 ORDER BY CreatedDate DESC LIMIT 25"
    )
    answer = sf.query(soql).json()
    cutoff = datetime(2026, 11, 26, 10, tzinfo=UTC)
    expected = sorted(
        (lead for lead in LEADS if lead["Status"] == "Qualified" and lead["CreatedDate"] > cutoff),
        key=lambda lead: lead["CreatedDate"],
        reverse=True,
    )[:25]

    assert answer["totalSize"] == 25
    assert [r["Id"] for r in answer["records"]] == [lead["Id"] for lead in expected]


def test_query_in_and_like(sf: SalesforceClient) -> None:
    in_query = "SELECT Id FROM Lead WHERE State IN ('CA', 'TX') AND Case_Type__c LIKE '%injury'"
    total = sf.query(in_query).json()["totalSize"]

    expected = sum(
        1
        for lead in LEADS
        if lead["State"] in ("CA", "TX") and lead["Case_Type__c"] == "Personal Injury"
    )
    assert total == expected > 0


def test_any_api_version_works_and_is_echoed(salesforce: SalesforceEmulator) -> None:
    client = SalesforceClient(salesforce, version="v58.0")
    answer = client.query("SELECT Id FROM Lead").json()

    assert answer["nextRecordsUrl"].startswith("/services/data/v58.0/query/")
    assert answer["records"][0]["attributes"]["url"].startswith("/services/data/v58.0/")


@pytest.mark.parametrize(
    ("soql", "code", "text"),
    [
        (
            "SELECT Id, Foo__c FROM Lead",
            "INVALID_FIELD",
            "No such column 'Foo__c' on entity 'Lead'",
        ),
        (
            "SELECT Id FROM Lead WHERE Bar__c = 'x'",
            "INVALID_FIELD",
            "No such column 'Bar__c' on entity 'Lead'",
        ),
        (
            "SELECT Id, Boss.Name FROM Lead",
            "INVALID_FIELD",
            "Didn't understand relationship 'Boss' in field path",
        ),
        (
            "SELECT Id, Owner.Shoe FROM Lead",
            "INVALID_FIELD",
            "No such column 'Shoe' on entity 'User'",
        ),
        (
            "SELECT Id FROM Lead WHERE CreatedDate >= '2026-11-26T05:00:00Z'",
            "INVALID_FIELD",
            "must be of type dateTime and should not be enclosed in quotes",
        ),
        (
            "SELECT Id FROM Lead WHERE CreatedDate >= 2026-11-26",
            "INVALID_FIELD",
            "must be of type dateTime",
        ),
        (
            "SELECT Id FROM Lead WHERE Status = 5",
            "INVALID_FIELD",
            "must be of type string and should be enclosed in quotes",
        ),
        ("SELECT Id FROM Leed", "INVALID_TYPE", "sObject type 'Leed' is not supported"),
        ("SELECT Id, FROM Lead", "MALFORMED_QUERY", "unexpected token: 'FROM'"),
        ("SELECT Id FROM Lead WHERE", "MALFORMED_QUERY", "unexpected token: '<EOF>'"),
        ("SELEC Id FROM Lead", "MALFORMED_QUERY", "unexpected token: 'SELEC'"),
        ("SELECT Id FROM Lead WHERE Id = 'abc'", "MALFORMED_QUERY", "invalid ID field: abc"),
    ],
)
def test_query_rejects_what_salesforce_rejects(
    sf: SalesforceClient, soql: str, code: str, text: str
) -> None:
    error = sf_error(sf.query(soql))

    assert error["errorCode"] == code
    assert text in error["message"]


def test_query_errors_point_at_the_offending_column(sf: SalesforceClient) -> None:
    error = sf_error(sf.query("SELECT Id, Foo__c FROM Lead"))

    assert error["message"].startswith(
        "\nSELECT Id, Foo__c FROM Lead\n           ^\nERROR at Row:1:Column:12\n"
    )


def test_unsupported_soql_is_reported_as_the_emulators_limit(sf: SalesforceClient) -> None:
    error = sf_error(sf.query("SELECT Id FROM Lead WHERE State = 'CA' OR State = 'TX'"))

    assert error["errorCode"] == "MALFORMED_QUERY"
    assert "emulator:" in error["message"]


def test_unknown_or_evicted_query_locator(sf: SalesforceClient) -> None:
    bogus = sf.more("/services/data/v60.0/query/01gXXXXXXXXXXXXXXX-2000")
    first = sf.query(WINDOW_QUERY).json()["nextRecordsUrl"]
    for _ in range(10):  # Salesforce keeps at most 10 open cursors per user
        sf.query(WINDOW_QUERY)

    assert sf_error(bogus)["errorCode"] == "INVALID_QUERY_LOCATOR"
    assert sf_error(sf.more(first))["errorCode"] == "INVALID_QUERY_LOCATOR"
    beyond = first.rsplit("-", 1)[0] + "-9999"
    assert sf_error(sf.more(beyond))["errorCode"] == "INVALID_QUERY_LOCATOR"


def test_expired_or_missing_session_is_401(
    salesforce: SalesforceEmulator, sf: SalesforceClient
) -> None:
    assert sf.query("SELECT Id FROM Lead").ok

    salesforce.expire_tokens()
    expired = sf.query("SELECT Id FROM Lead")
    anonymous = requests.get(
        f"{salesforce.url}/services/data/v60.0/query",
        params={"q": "SELECT Id FROM Lead"},
        timeout=5,
    )

    for answer in (expired, anonymous):
        error = sf_error(answer, 401)
        assert error == {"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}
    assert SalesforceClient(salesforce).query("SELECT Id FROM Lead").ok


def test_request_limit_exceeded(salesforce: SalesforceEmulator, sf: SalesforceClient) -> None:
    salesforce.request_limit_exceeded_next()

    error = sf_error(sf.query("SELECT Id FROM Lead"), 403)

    assert error == {
        "message": "TotalRequests Limit exceeded.",
        "errorCode": "REQUEST_LIMIT_EXCEEDED",
    }
    assert sf.query("SELECT Id FROM Lead").ok


def test_make_leads_is_deterministic_and_realistic() -> None:
    statuses = {lead["Status"] for lead in LEADS}
    stamps = [lead["CreatedDate"] for lead in LEADS]

    assert make_leads(4500, START, END, seed=11) == LEADS
    assert statuses == {
        "Open - Not Contacted",
        "Working - Contacted",
        "Qualified",
        "Closed - Converted",
        "Closed - Not Converted",
    }
    assert stamps == sorted(stamps)
    assert all(START <= s < END for s in stamps)
    assert all(re.fullmatch(r"00Q\w{15}", lead["Id"]) for lead in LEADS)
    assert salesforce_id("00Q", 1000) == LEADS[0]["Id"]
