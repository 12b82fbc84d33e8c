"""No credential follows a redirect to another host: the Slack, CRM, Grafana and OpenSearch
clients against a local server that redirects to a second local server (another port is
another origin), which records whatever reaches it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from opsbundle.exceptions import SlackError
from opsbundle.redirects import RedirectRefused, check
from tests.emulators.server import EmulatorServer, Request, Response

TOKEN = "xoxb-000000000000-redirect-test-token"


class Redirector(EmulatorServer):
    def __init__(self, target: str, status: int = 302) -> None:
        super().__init__()
        self.target = target
        self.status = status

    def handle(self, request: Request) -> Response:
        return Response(self.status, headers={"Location": f"{self.target}{request.target}"})


class Elsewhere(EmulatorServer):
    def handle(self, request: Request) -> Response:
        return Response(200, {"ok": True, "channel": "C1", "ts": "1.2", "channels": []})


@pytest.fixture
def elsewhere() -> Iterator[Elsewhere]:
    with Elsewhere().start() as server:
        yield server


@pytest.fixture
def redirector(elsewhere: Elsewhere) -> Iterator[Redirector]:
    with Redirector(elsewhere.url).start() as server:
        yield server


def credentials_seen(server: EmulatorServer) -> list[str]:
    return [str(r.headers) + str(r.body) for r in server.requests]


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_the_slack_bot_token_does_not_follow_a_redirect(elsewhere: Elsewhere, status: int) -> None:
    from opsbundle.slack import SlackClient

    with Redirector(elsewhere.url, status).start() as redirector:
        client = SlackClient(token=TOKEN, base_url=f"{redirector.url}/api/", max_retries=0)
        with pytest.raises(SlackError) as raised:
            client.post_message(channel="C0123456789", text="hello")
    assert "not followed" in str(raised.value) and not raised.value.uncertain
    assert elsewhere.requests == []


def test_a_crm_request_does_not_follow_a_redirect(
    redirector: Redirector, elsewhere: Elsewhere
) -> None:
    from report_fn.crm.base import CRMHttp
    from report_fn.exceptions import CRMError

    http = CRMHttp(crm="HubSpot", secret_setting="CRM_SECRET_ARN", max_attempts=1)
    with pytest.raises(CRMError, match="not followed"):
        http.request(
            "POST",
            f"{redirector.url}/oauth2/token",
            data={"client_secret": "do-not-follow"},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
    assert elsewhere.requests == []


def test_the_grafana_token_does_not_follow_a_redirect(
    redirector: Redirector, elsewhere: Elsewhere
) -> None:
    from dashboards.upload import DashboardUploader
    from opsbundle.exceptions import ConfigError

    uploader = DashboardUploader(url=redirector.url, token=TOKEN)
    with pytest.raises(ConfigError, match="not followed"):
        uploader.folder_uid("Ops")
    assert elsewhere.requests == []


def test_opensearch_credentials_do_not_follow_a_redirect(
    redirector: Redirector, elsewhere: Elsewhere
) -> None:
    """opensearch-py asks urllib3 not to follow redirects (retries=Retry(False)): checked
    here, so an upgrade that changes it shows."""
    from log_shipper.client import build_client
    from log_shipper.config import ShipperSettings
    from opsbundle.settings import Env

    class Secrets:
        def json_object(self, arn: str, *, setting: str) -> dict[str, Any]:
            return {"username": "shipper", "password": "do-not-follow"}

    settings = ShipperSettings.load(
        Env(
            {
                "OPENSEARCH_URL": redirector.url,
                "OPENSEARCH_AUTH": "basic",
                "OPENSEARCH_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:1:secret:x",
            }
        ),
        require_dlq=False,
    )
    client = build_client(settings, secrets=Secrets())  # type: ignore[arg-type]
    with pytest.raises(Exception):  # noqa: B017 - whatever the client makes of a 302
        client.info()
    assert elsewhere.requests == []


@pytest.mark.parametrize(
    ("source", "target", "followed"),
    [
        ("https://slack.com/api/chat.postMessage", "/api/chat.postMessage/", True),
        ("https://slack.com/api/x", "https://slack.com/api/y", True),
        ("https://slack.com/api/x", "http://slack.com/api/x", False),  # off TLS
        ("https://slack.com/api/x", "https://evil.example/api/x", False),  # off host
        ("https://slack.com/api/x", "https://slack.com:8443/api/x", False),  # another port
        ("http://127.0.0.1:8000/a", "/b", True),  # tests: plain http to this machine
        ("http://ops.internal/a", "/b", False),
    ],
)
def test_which_redirects_are_followed(source: str, target: str, followed: bool) -> None:
    if followed:
        check(source, target)
    else:
        with pytest.raises(RedirectRefused):
            check(source, target)
