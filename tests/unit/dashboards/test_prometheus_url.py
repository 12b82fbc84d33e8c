"""`--prometheus` / PROMETHEUS_URL may carry credentials (https://user:password@host/): they go
only over https (plain http only to this machine) and never into a message."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from dashboards.check import PrometheusClient
from opsbundle.exceptions import ConfigError

pytestmark = pytest.mark.unit


class Unreachable(requests.Session):
    def get(self, url: str | bytes, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        raise requests.ConnectionError("Connection refused")


def test_credentials_over_plain_http_to_another_host_are_refused_unshown() -> None:
    with pytest.raises(ConfigError) as refused:
        PrometheusClient("http://admin:s3cret@10.9.9.9:9090")
    message = str(refused.value)
    assert message.startswith("--prometheus: 'http://10.9.9.9:9090' must be an https:// URL")
    assert "s3cret" not in message and "admin" not in message


@pytest.mark.parametrize(
    "url", ["https://admin:s3cret@prometheus.example.com", "http://admin:s3cret@127.0.0.1:9090"]
)
def test_a_url_with_credentials_is_shown_without_them(url: str) -> None:
    client = PrometheusClient(url, session=Unreachable())
    with pytest.raises(ConfigError) as failed:
        client.version()
    assert "could not reach Prometheus at " in str(failed.value)
    assert "s3cret" not in str(failed.value) and "admin" not in str(failed.value)
    assert client.url == url  # the requests themselves keep the credentials
