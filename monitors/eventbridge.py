"""The EventBridge envelope the monitors' rules deliver: `detail-type` and `detail` (pure)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from monitors.exceptions import EventError


def envelope(event: Any, *, types: Collection[str], what: str) -> tuple[str, Mapping[str, Any]]:
    """(detail-type, detail) of an EventBridge event whose detail type is one of `types`.
    Raises EventError naming what is wrong; `what` says which events the rule should send."""
    if not isinstance(event, Mapping):
        raise EventError("the event is not a JSON object")
    detail_type = event.get("detail-type")
    if detail_type not in types:
        raise EventError(
            f"detail-type {detail_type!r} is not {what}; check the EventBridge rule's pattern"
        )
    detail = event.get("detail")
    if not isinstance(detail, Mapping):
        raise EventError("detail is missing or not an object")
    return str(detail_type), detail
