"""The OpenSearch client: base URL from settings; no auth, basic (a secret) or SigV4.

opensearch-py's own retries are off (max_retries=0): bulk.py retries item by item, within
the Lambda's remaining time. Connections are kept alive and reused by a warm Lambda.
Request bodies are gzip'd at level 1 (opensearch-py's default is 9): a 5 MB `_bulk` body
compresses in about a quarter of the time, to a body about a quarter larger.
"""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable
from typing import Any

import botocore.session
from opensearchpy import OpenSearch, Urllib3HttpConnection
from opensearchpy.exceptions import ConnectionTimeout, TransportError
from opensearchpy.helpers.signer import Urllib3AWSV4SignerAuth

from log_shipper.config import ShipperSettings
from log_shipper.exceptions import LogShipperError
from opsbundle import settings as names
from opsbundle.exceptions import ConfigError, SecretError
from opsbundle.secrets import Secrets
from opsbundle.urls import shown

REACH_ATTEMPTS = 3
GZIP_LEVEL = 1


class Connection(Urllib3HttpConnection):
    """opensearch-py's urllib3 connection, compressing bodies at `GZIP_LEVEL`."""

    def _gzip_compress(self, body: Any) -> bytes:
        data = body.encode() if isinstance(body, str) else bytes(body)
        return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)


def http_auth(
    settings: ShipperSettings, *, secrets: Secrets | None = None, session: Any = None
) -> Any:
    if settings.auth == "basic":
        assert settings.secret_arn  # ShipperSettings.load requires it
        secret = (secrets or Secrets()).json_object(
            settings.secret_arn, setting=names.OPENSEARCH_SECRET_ARN
        )
        username, password = secret.get("username"), secret.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            raise SecretError(names.OPENSEARCH_SECRET_ARN, 'needs {"username", "password"} strings')
        return (username, password)
    if settings.auth.startswith("sigv4"):
        credentials = (session or botocore.session.get_session()).get_credentials()
        if credentials is None:
            raise LogShipperError("no AWS credentials to sign OpenSearch requests with (SigV4)")
        service = "aoss" if settings.auth == "sigv4-aoss" else "es"
        return Urllib3AWSV4SignerAuth(credentials, settings.region, service)
    return None


def build_client(
    settings: ShipperSettings, *, secrets: Secrets | None = None, session: Any = None
) -> OpenSearch:
    return OpenSearch(
        hosts=[settings.opensearch_url],
        http_auth=http_auth(settings, secrets=secrets, session=session),
        http_compress=settings.gzip,
        connection_class=Connection,
        timeout=settings.timeout_seconds,
        max_retries=0,
        retry_on_timeout=False,
        pool_maxsize=4,
    )


def reach(
    client: Any,
    settings: ShipperSettings,
    *,
    attempts: int = REACH_ATTEMPTS,
    on_attempt: Callable[[int, int, str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Make sure something answers at OPENSEARCH_URL before the CLI does any work.

    Any HTTP answer will do (a 403 for GET / is normal for a role that may only write): the
    work then says what is wrong. When nothing answers `attempts` times (refused, no such
    host, no answer within OPENSEARCH_TIMEOUT_SECONDS), raises ConfigError naming the
    setting, so no event is dead-lettered for want of a cluster. `on_attempt(n, of, why)`
    hears of each try, with why the last one failed ("" for the first)."""
    why = ""
    for attempt in range(1, attempts + 1):
        if on_attempt:
            on_attempt(attempt, attempts, why)
        try:
            client.info()
        except TransportError as error:
            if isinstance(error.status_code, int):
                return  # it answered
            why = _unanswered(error, settings)
        else:
            return
        if attempt < attempts:
            sleep(float(attempt))
    raise ConfigError(
        names.OPENSEARCH_URL,
        f"nothing answers at {shown(settings.opensearch_url)}: {why} ({attempts} tries); "
        "check the URL, that the cluster is up, and that this machine can reach it "
        "(VPC, security group, proxy)",
    )


def _unanswered(error: TransportError, settings: ShipperSettings) -> str:
    if isinstance(error, ConnectionTimeout):
        return f"no answer within {settings.timeout_seconds} s ({names.OPENSEARCH_TIMEOUT_SECONDS})"
    text = str(error.info or error.error).lower()
    for words, plain in (
        ("refused", "connection refused"),
        ("name or service not known", "no such host"),
        ("nodename nor servname", "no such host"),
        ("certificate", "TLS certificate not accepted"),
        ("timed out", "connection timed out"),
    ):
        if words in text:
            return plain
    return f"could not connect ({type(error.info).__name__})"
