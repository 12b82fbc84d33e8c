"""Slack mrkdwn and Block Kit helpers for every part's messages (pure).

Escaping is opsbundle.slack.escape; it is re-exported here so a renderer imports its Slack
helpers from one place. The limits are Block Kit's own.
"""

from __future__ import annotations

from opsbundle.slack import escape, link_url

__all__ = [
    "clip",
    "code",
    "code_block",
    "context",
    "escape",
    "fit_lines",
    "header",
    "link",
    "section",
]

MAX_SECTION_TEXT = 3000
MAX_HEADER = 150
MAX_CONTEXT_TEXT = 2000


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
    """`text` cut to `limit` characters, the last one an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def code(text: str) -> str:
    """Inline code: escaped, a backtick inside shown as a look-alike so it cannot end it."""
    return "`" + escape(text).replace("`", "ˋ") + "`"


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


def fit_lines(head: str, lines: list[str], limit: int = MAX_SECTION_TEXT) -> str:
    """Head and as many lines as fit in `limit` characters, then "…and N more"."""
    text = head
    for index, line in enumerate(lines):
        remaining = len(lines) - index - 1
        tail = f"\n…and {remaining} more" if remaining else ""
        if len(text) + 1 + len(line) + len(tail) > limit:
            return text + f"\n…and {len(lines) - index} more"
        text += "\n" + line
    return text


def section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": clip(text, MAX_SECTION_TEXT)}}


def header(text: str) -> dict[str, object]:
    return {"type": "header", "text": {"type": "plain_text", "text": clip(text, MAX_HEADER)}}


def context(text: str) -> dict[str, object]:
    return {
        "type": "context",
        "elements": [{"type": "mrkdwn", "text": clip(text, MAX_CONTEXT_TEXT)}],
    }
