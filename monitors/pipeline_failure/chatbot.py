"""AWS Chatbot (Amazon Q Developer in chat applications) custom notifications (pure).

Schema: {"version": "1.0", "source": "custom", "id"?, "content": {"textType"?:
"client-markdown", "title"?, "description" (required), "nextSteps"?, "keywords"?},
"metadata"?: {"threadId", "summary", "eventType", "relatedResources", "additionalContext"}}.
Chatbot admin guide, "Custom notifications". Published as the SNS message body, no subject.
"""

from __future__ import annotations

import json
from typing import Any

from opsbundle.mrkdwn import clip

MAX_TITLE = 250
MAX_DESCRIPTION = 3800  # stays well inside what Chatbot renders in one Slack message


def custom_notification(
    *,
    title: str,
    description: str,
    next_steps: list[str] | None = None,
    keywords: list[str] | None = None,
    thread_id: str | None = None,
    summary: str | None = None,
    event_type: str | None = None,
    related_resources: list[str] | None = None,
    additional_context: dict[str, str] | None = None,
    notification_id: str | None = None,
) -> dict[str, Any]:
    if not description.strip():
        raise ValueError("a Chatbot custom notification needs a description")
    content: dict[str, Any] = {
        "textType": "client-markdown",
        "title": clip(title, MAX_TITLE),
        "description": clip(description, MAX_DESCRIPTION),
    }
    if next_steps:
        content["nextSteps"] = [clip(step, 500) for step in next_steps[:5]]
    if keywords:
        content["keywords"] = [k for k in keywords if k][:10]
    message: dict[str, Any] = {"version": "1.0", "source": "custom", "content": content}
    if notification_id:
        message["id"] = notification_id
    metadata: dict[str, Any] = {}
    if thread_id:
        metadata["threadId"] = thread_id
    if summary:
        metadata["summary"] = clip(summary, MAX_TITLE)
    if event_type:
        metadata["eventType"] = event_type
    if related_resources:
        metadata["relatedResources"] = related_resources
    if additional_context:
        metadata["additionalContext"] = additional_context
    if metadata:
        message["metadata"] = metadata
    return message


def to_sns_message(notification: dict[str, Any]) -> str:
    return json.dumps(notification, ensure_ascii=False, separators=(",", ":"))
