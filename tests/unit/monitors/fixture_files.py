"""Loads the monitors' JSON fixtures (tests/fixtures/monitors), without their "_source" note."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "monitors"
TIME_KEYS = frozenset({"startTime", "endTime", "lastUpdateTime", "Timestamp", "created"})


def load(name: str) -> dict[str, Any]:
    data = json.loads((FIXTURES / name).read_text())
    assert isinstance(data, dict)
    source = data.pop("_source", None)
    assert source, f"{name} has no _source note"
    return data


def with_datetimes(value: Any) -> Any:
    """API answers as boto3 returns them: ISO timestamps under time keys become datetimes."""
    if isinstance(value, dict):
        return {
            k: datetime.fromisoformat(v)
            if k in TIME_KEYS and isinstance(v, str)
            else with_datetimes(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [with_datetimes(v) for v in value]
    return value
