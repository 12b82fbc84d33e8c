"""Slack mrkdwn and Block Kit helpers for the monitors' messages (pure).

Escaping is opsbundle.slack.escape, shared by every part; it is re-exported here so the
monitors' renderers import their Slack helpers from one place.
"""

from __future__ import annotations

from opsbundle.slack import escape, link_url

__all__ = ["clip", "code_block", "context", "escape", "header", "link", "section"]

MAX_SECTION_TEXT = 3000
MAX_HEADER = 150


def link(url: str, label: str) -> str:
    """A mrkdwn link; the label is escaped (`|` would end it early, so it is replaced) and the
    URL made safe by opsbundle.slack.link_url. A URL that may not be a link (not https, not
    the AWS console or a code host) is shown after the label as text, never behind it."""
    text = escape(label).replace("|", "¦")
    safe = link_url(url)
    if safe is None:
        return f"{text}: {escape(url)}" if url else text
    return f"<{safe}|{text}>"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def code_block(lines: list[str], limit: int = MAX_SECTION_TEXT) -> str:
    """Lines in a ``` block that fits `limit`, keeping the last lines (the ones that failed)."""
    fence = "```"
    kept: list[str] = []
    size = len(fence) * 2 + 2  # and room for the "…" line
    for line in reversed(lines):
        shown = escape(line.replace("```", "ˋˋˋ"))
        if size + len(shown) + 1 > limit:
            kept.append("…")
            break
        kept.append(shown)
        size += len(shown) + 1
    return fence + "\n".join(reversed(kept)) + fence


def section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}}


def header(text: str) -> dict[str, object]:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, MAX_HEADER)}}


def context(text: str) -> dict[str, object]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text, 2000)}]}
