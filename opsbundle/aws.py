"""boto3 clients with standard retries. boto3 itself honours AWS_ENDPOINT_URL and AWS_PROFILE."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.config import Config

RETRIES = Config(
    retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=30
)


def client(service: str, *, region: str | None = None, session: boto3.Session | None = None) -> Any:
    """A client for `service`, built only when the caller did not hand one in."""
    factory: Any = (session or boto3.Session()).client  # typed per service by boto3-stubs
    return factory(service, region_name=region, config=RETRIES)
