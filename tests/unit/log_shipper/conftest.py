"""Shared builders for the log shipper's unit tests (no network: see tests/unit/conftest.py)."""

from __future__ import annotations

import os

import pytest

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
