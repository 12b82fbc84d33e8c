"""A moto_server for the commands run as processes: their AWS is on 127.0.0.1 too."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from tests.integration.cli_run import clean_env
from tests.integration.moto_process import moto_server, reset

REGION = "eu-west-1"  # not boto3's default of anything: only AWS_REGION can name it


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@dataclass
class Moto:
    url: str
    env: dict[str, str]  # moto's credentials and endpoint, and AWS_REGION alone

    def client(self, service: str) -> Any:
        return boto3.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
        ).client(service, endpoint_url=self.url)  # type: ignore[call-overload]


@pytest.fixture
def moto(moto_url: str) -> Moto:
    reset(moto_url)
    return Moto(moto_url, clean_env(
        AWS_ENDPOINT_URL=moto_url, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION=REGION,
    ))  # fmt: skip
