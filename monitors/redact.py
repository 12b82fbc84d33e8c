"""Hides credentials in build log lines, error messages, stack events and commit messages
before they leave AWS (pure).

CodeBuild already masks environment variables that come from Secrets Manager or Parameter
Store; this catches what a build prints by itself. The rules are opsbundle.redaction's
credential kinds (keys, tokens, passwords in URLs, after a secret's name or a flag, private
keys), each match shown as [REDACTED].
"""

from __future__ import annotations

import re

from opsbundle.redaction import CREDENTIALS, mask

MASK = "[REDACTED]"
_BEGIN = re.compile(r"-----BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY")
_END = re.compile(r"-----END [A-Z0-9 ]{0,40}PRIVATE KEY")
# A line of a PEM body: base64 and nothing else (64 characters but the last).
_KEY_BODY = re.compile(r"\s*[A-Za-z0-9+/]{16,76}={0,2}\s*")


def _label(kind: str) -> str:
    return MASK


def redact(line: str) -> str:
    return mask(line, kinds=CREDENTIALS, label=_label)


def redact_lines(lines: list[str]) -> list[str]:
    """Redacts each line; a private key block is masked from its BEGIN line to its END line,
    and lines that start the list inside a block (its BEGIN line was cut off) are masked up to
    its END line, or while they look like key material when no END line follows."""
    out = list(lines)
    first_begin = next((i for i, line in enumerate(lines) if _BEGIN.search(line)), len(lines))
    first_end = next((i for i, line in enumerate(lines) if _END.search(line)), None)
    start = 0
    if first_end is not None and first_end < first_begin:  # began before the first line
        out[: first_end + 1] = [MASK] * (first_end + 1)
        start = first_end + 1
    else:
        while start < first_begin and _KEY_BODY.fullmatch(lines[start]):
            out[start] = MASK
            start += 1
    in_key = False
    for index in range(start, len(lines)):
        line = lines[index]
        if in_key:
            out[index] = MASK
            in_key = not _END.search(line)
            continue
        if _BEGIN.search(line) and not _END.search(line):
            in_key = True
        out[index] = redact(line)
    return out
