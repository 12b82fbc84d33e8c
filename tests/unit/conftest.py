"""Unit tests never reach the network: any socket connection fails the test loudly."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"unit tests must not open connections: {args!r}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    yield


@pytest.fixture(autouse=True)
def clean_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings come from each test, not from the developer's shell."""
    import os

    for name in list(os.environ):
        if name.startswith(("REPORT_", "CRM_", "SLACK_", "OPS_", "PUSHGATEWAY_", "GRAFANA_")):
            monkeypatch.delenv(name)
