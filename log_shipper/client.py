"""The OpenSearch client: base URL from settings; no auth, basic (a secret) or SigV4.

opensearch-py's own retries are off (max_retries=0): bulk.py retries item by item, within
the Lambda's remaining time. Connections are kept alive and reused by a warm Lambda.
"""

from __future__ import annotations

from typing import Any

import botocore.session
from opensearchpy import OpenSearch, Urllib3HttpConnection
from opensearchpy.helpers.signer import Urllib3AWSV4SignerAuth

from log_shipper.config import ShipperSettings
from log_shipper.exceptions import LogShipperError
from opsbundle import settings as names
from opsbundle.exceptions import SecretError
from opsbundle.secrets import Secrets


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
        connection_class=Urllib3HttpConnection,
        timeout=settings.timeout_seconds,
        max_retries=0,
        retry_on_timeout=False,
        pool_maxsize=4,
    )
