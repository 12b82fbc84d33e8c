"""Shared builders for the log shipper's unit tests (no network: see tests/unit/conftest.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from log_shipper import assemble

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "log_shipper"


@pytest.fixture(autouse=True)
def clean_shipper_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("OPENSEARCH_", "LOG_SHIPPER_")):
            monkeypatch.delenv(name)
    monkeypatch.setattr(assemble, "_templates", {})
    monkeypatch.setattr(assemble, "_clients", {})


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())
