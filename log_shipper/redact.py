"""Opt-in masking of personal data and credentials before indexing: pure, counted by kind.

Emails, phone numbers (North American, and international written with a "+", grouped or not),
US SSNs, card numbers (13-19 digits that pass the Luhn check, so order numbers stay), AWS
access key ids and secret keys after a key name, bearer tokens and JWTs. A match becomes
"[REDACTED:<kind>]"; the counts say how many of each were masked, never what they were.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable

_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("jwt", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}")),
    ("bearer", re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]{8,}")),
    ("aws_access_key", re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA)[A-Z0-9]{16}\b")),
    ("aws_secret_key", re.compile(
        r"(?i)(?P<keep>aws_secret_access_key[\"']?\s*[:=]\s*[\"']?)[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"
    )),
    ("email", re.compile(r"\b[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,255}\.[A-Za-z]{2,24}\b")),
    ("ssn", re.compile(r"\b(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}\b")),
    ("card", re.compile(r"\b(?:\d[ -]?){12,18}\d\b")),
    ("phone", re.compile(
        r"(?<![\w-])(?:\+?1[ .-]?)?\(?[2-9]\d{2}\)?[ .-]?[2-9]\d{2}[ .-]?\d{4}(?![\w-])"
        # E.164 as people write it: "+" and 8 to 15 digits, in groups split by a blank, dot or
        # dash, maybe with the national trunk "(0)": +44 20 7946 0958, +44 (0)20 7946 0958.
        r"|(?<![\w+])\+[1-9](?:[ .-]?(?:\(0\)[ .-]?)?\d){7,14}(?!\d)"
    )),
]  # fmt: skip
# A cheap pre-check: most log lines hold none of these, and skip every regex.
_HINT = re.compile(r"@|\d{3}|\+\d|eyJ|(?i:bearer)|AKIA|ASIA|AIDA|AROA|(?i:secret)")


def luhn_ok(digits: str) -> bool:
    total, double = 0, False
    for char in reversed(digits):
        value = ord(char) - 48
        if double:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
        double = not double
    return total % 10 == 0


def _replacer(kind: str, counts: Counter[str]) -> Callable[[re.Match[str]], str]:
    def replace(match: re.Match[str]) -> str:
        if kind == "card":
            digits = re.sub(r"[ -]", "", match.group(0))
            if not 13 <= len(digits) <= 19 or not luhn_ok(digits):
                return match.group(0)
        counts[kind] += 1
        keep = match.groupdict().get("keep") or ""
        return f"{keep}[REDACTED:{kind}]"

    return replace


def redact(text: str, counts: Counter[str]) -> str:
    """`text` with personal data masked; `counts` gains one per masked value, by kind."""
    if not _HINT.search(text):
        return text
    for kind, pattern in _RULES:
        text = pattern.sub(_replacer(kind, counts), text)
    return text
