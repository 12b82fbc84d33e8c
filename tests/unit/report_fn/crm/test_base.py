"""CRM errors say what the CRM said, never the credentials a CRM echoes back, and an export's
pre-signed URL never appears whole in an error.

The HTTP answers are made by a requests transport adapter (requests' own extension point)
with a real urllib3 response behind it, so headers, content encoding and streaming are what
requests and urllib3 do with a server's answer; no socket is opened.
"""

from __future__ import annotations

import gzip
import io
import json
import time
import zlib
from collections.abc import Callable
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPResponse

from report_fn.crm.base import CRMHttp, summarize
from report_fn.exceptions import CRMAuthError, CRMError

TOKEN = "pat-na1-0f8a3b1e-9d0b-4c5f-8e7a-0b1c2d3e4f5a"
SECRET = "9F8E7D6C5B4A39281706F5E4D3C2B1A0"


class Canned(HTTPAdapter):
    """Answers every request with `answer(request)`: (status, headers, body bytes)."""

    def __init__(
        self, answer: Callable[[requests.PreparedRequest], tuple[int, dict[str, str], bytes]]
    ) -> None:
        super().__init__()
        self.answer = answer

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        status, headers, body = self.answer(request)
        raw = HTTPResponse(
            body=io.BytesIO(body),
            headers=headers,
            status=status,
            preload_content=False,
            decode_content=True,
            request_method=request.method,
            request_url=request.url,
        )
        return self.build_response(request, raw)


def crm_http(
    answer: Callable[[requests.PreparedRequest], tuple[int, dict[str, str], bytes]],
) -> CRMHttp:
    session = requests.Session()
    session.mount("https://", Canned(answer))
    return CRMHttp(
        crm="HubSpot",
        secret_setting="CRM_SECRET_ARN",
        session=session,
        max_attempts=1,
        sleep=lambda s: None,
    )


def echo_headers(
    status: int, kind: str = "json"
) -> Callable[[requests.PreparedRequest], tuple[int, dict[str, str], bytes]]:
    """HubSpot's 400/401 quote the request's headers; a Salesforce 500 page shows them."""

    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        headers = "; ".join(f"{k}: {v}" for k, v in request.headers.items())
        body = request.body if isinstance(request.body, str) else (request.body or b"").decode()
        if kind == "html":
            page = f"<html><body><h1>Error</h1><pre>{headers}\n{body}</pre></body></html>"
            return status, {"Content-Type": "text/html"}, page.encode()
        if kind == "text":
            return status, {"Content-Type": "text/plain"}, f"bad request: {headers} {body}".encode()
        message = {
            "status": "error",
            "category": "INVALID_AUTHENTICATION",
            "message": f"Authentication failed for request with headers {{{headers}}} {body}",
        }
        return status, {"Content-Type": "application/json"}, json.dumps(message).encode()

    return answer


@pytest.mark.parametrize(
    ("status", "kind"), [(401, "json"), (400, "json"), (400, "text"), (500, "html")]
)
def test_an_echoed_bearer_token_never_reaches_the_error(status: int, kind: str) -> None:
    http = crm_http(echo_headers(status, kind))
    with pytest.raises((CRMError, CRMAuthError)) as raised:
        http.request(
            "POST",
            "https://api.hubapi.com/crm/v3/objects/contacts/search",
            headers={"Authorization": f"Bearer {TOKEN}"},
            json={"limit": 1},
        )
    text = str(raised.value)
    assert TOKEN not in text and TOKEN[:20] not in text
    assert f"HTTP {status}" in text


def test_an_echoed_client_secret_never_reaches_the_error() -> None:
    http = crm_http(echo_headers(400, "text"))
    with pytest.raises(CRMError) as raised:
        http.request(
            "POST",
            "https://login.salesforce.com/services/oauth2/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "3MVG9",
                "client_secret": SECRET,
            },
        )
    assert SECRET not in str(raised.value)


def test_what_the_crm_says_is_kept() -> None:
    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        body = [{"message": "unexpected token: FROM", "errorCode": "MALFORMED_QUERY"}]
        return 400, {"Content-Type": "application/json"}, json.dumps(body).encode()

    with pytest.raises(CRMError, match="MALFORMED_QUERY: unexpected token: FROM"):
        crm_http(answer).request("GET", "https://x.my.salesforce.com/services/data/v62.0/query")


def test_a_token_the_request_did_not_carry_is_masked_too() -> None:
    response = requests.Response()
    response.status_code, response.reason = 400, "Bad Request"
    response._content = (
        b'{"message": "rejected Authorization: Bearer sk_live_51HqLyjWDarjtT1zdp7dc"}'
    )
    response._content_consumed = True
    assert "sk_live_51HqLyjWDarjtT1zdp7dc" not in summarize(response)


def test_a_huge_error_body_is_read_only_in_part() -> None:
    def answer(request: requests.PreparedRequest) -> tuple[int, dict[str, str], bytes]:
        return 500, {"Content-Type": "text/plain", "Content-Encoding": "gzip"}, bomb(64)

    started = time.process_time()
    with pytest.raises(CRMError):
        crm_http(answer).request("GET", "https://api.hubapi.com/x")
    assert time.process_time() - started < 1.0


def bomb(mebibytes: int) -> bytes:
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    block = b"a" * (1 << 20)
    return b"".join(deflate.compress(block) for _ in range(mebibytes)) + deflate.flush()


PRESIGNED = (
    "https://exports.s3.us-east-1.amazonaws.com/leads.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256"
    "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20261126%2Fus-east-1%2Fs3%2Faws4_request"
    "&X-Amz-Signature=0f8a3b1e9d0b4c5f8e7a0b1c2d3e4f5a0f8a3b1e9d0b4c5f8e7a0b1c2d3e4f5a"
)


def export(monkeypatch: pytest.MonkeyPatch, body: bytes, headers: dict[str, str]) -> Any:
    from report_fn.crm import export as module
    from report_fn.crm.mapping import FieldMapping

    monkeypatch.setattr(module, "MAX_EXPORT_BYTES", 4 * 1024 * 1024)
    http = crm_http(lambda request: (200, headers, body))
    from datetime import UTC

    return module.ExportConnector(
        kind="csv", url=PRESIGNED, mapping=FieldMapping.for_crm("export"), http=http, timezone=UTC
    )


def test_a_gzip_export_that_inflates_past_the_cap_stops_while_it_inflates(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 597 KB gzip export reached 2.4 GB before the size check."""
    connector = export(monkeypatch, bomb(256), {"Content-Encoding": "gzip"})
    started = time.process_time()
    with pytest.raises(CRMError) as raised:
        connector._load()
    assert time.process_time() - started < 2.0
    text = str(raised.value)
    assert "larger than 4 MiB" in text
    assert "X-Amz-Signature" not in text and "AKIAIOSFODNN7EXAMPLE" not in text
    assert "https://exports.s3.us-east-1.amazonaws.com/leads.csv?…" in text


def test_a_small_gzip_export_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    csv = b"id,created_at\n1,2026-11-26T10:00:00Z\n"
    connector = export(monkeypatch, gzip.compress(csv), {"Content-Encoding": "gzip"})
    assert connector._load() == [{"id": "1", "created_at": "2026-11-26T10:00:00Z"}]
