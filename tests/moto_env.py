"""moto's placeholder credentials for one test: boto3 never finds real ones or a profile."""

from __future__ import annotations

import pytest

REGION = "us-east-1"


def use_moto_credentials(monkeypatch: pytest.MonkeyPatch, region: str = REGION) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": region,
        "AWS_REGION": region,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
