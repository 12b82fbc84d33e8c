"""Chatbot custom notifications keep the documented schema."""

from __future__ import annotations

import json

import pytest

from monitors.pipeline_failure import chatbot


def test_chatbot_custom_notification_schema() -> None:
    message = chatbot.custom_notification(
        title="t" * 300,
        description="what failed",
        next_steps=["open the logs"],
        keywords=["web-release", ""],
        thread_id="exec-1",
        related_resources=["arn:x"],
    )
    assert message["version"] == "1.0" and message["source"] == "custom"
    assert message["content"]["description"] == "what failed"
    assert len(message["content"]["title"]) == chatbot.MAX_TITLE
    assert message["content"]["keywords"] == ["web-release"]
    assert message["metadata"]["threadId"] == "exec-1"
    assert json.loads(chatbot.to_sns_message(message)) == message
    with pytest.raises(ValueError, match="description"):
        chatbot.custom_notification(title="t", description=" ")
