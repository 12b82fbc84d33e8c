"""Opt-in masking of personal data and credentials before indexing: pure, counted by kind.

Every kind of opsbundle.redaction (emails, phone numbers, SSNs, card numbers, AWS keys, JWTs,
bearer, Basic, Slack, GitHub and other API tokens, secrets after a secret's name, private
keys), in plain text, JSON and escaped JSON alike. A match becomes "[REDACTED:<kind>]"; the
counts say how many of each were masked, never what they were.
"""

from __future__ import annotations

from collections import Counter

from opsbundle.redaction import ALL, luhn_ok, mask

__all__ = ["luhn_ok", "redact"]


def redact(text: str, counts: Counter[str]) -> str:
    """`text` with personal data and credentials masked; `counts` gains one per masked value."""
    return mask(text, counts, kinds=ALL)
