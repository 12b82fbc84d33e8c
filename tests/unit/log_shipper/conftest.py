"""Fixtures of the log shipper's unit tests (no network: see tests/unit/conftest.py): clean
settings and a cold start for each test, and a dead-letter bucket in moto, in process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from log_shipper import handler, maintain
from log_shipper.assemble import WarmClients


@pytest.fixture(autouse=True)
def clean_shipper_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("OPENSEARCH_", "LOG_SHIPPER_")):
            monkeypatch.delenv(name)
    # A cold start for each test: no clients or template checks kept from another.
    monkeypatch.setattr(handler, "WARM", WarmClients())
    monkeypatch.setattr(maintain, "WARM", WarmClients())


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="dlq")
        yield client
