"""The monitors' own settings come from each test too (tests/unit/conftest.py clears the rest)."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True)
def clean_monitor_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(("DEVOPS_", "PIPELINE_", "TARGETS_")):
            monkeypatch.delenv(name)
