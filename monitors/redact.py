"""Hides secrets in build log lines before they leave AWS (pure).

CodeBuild already masks environment variables that come from Secrets Manager or Parameter
Store; this catches what a build prints by itself: keys, tokens, passwords in URLs and
`name=value` pairs, private keys.
"""

from __future__ import annotations

import re

MASK = "[REDACTED]"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # -----BEGIN RSA PRIVATE KEY----- ... (the header line and any base64 body lines)
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*"), MASK),
    # credentials in URLs: https://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/\s:@]+:[^/\s@]+@"), rf"\1{MASK}@"),
    # Authorization: Bearer / Basic <token>
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {MASK}"),
    # name=value / name: value / "name": "value" for secret-ish names
    (
        re.compile(
            r"(?i)([\"']?[\w.-]*(?:secret|passw(?:or)?d|pwd|token|api[_-]?key|access[_-]?key"
            r"|private[_-]?key|credential|auth)[\w.-]*[\"']?\s*[:=]\s*)"
            r"(\"[^\"]*\"|'[^']*'|[^\s,;&]+)"
        ),
        rf"\1{MASK}",
    ),
    # --password xyz / -p xyz style flags
    (re.compile(r"(?i)(--?(?:password|token|secret|api-key)[ =])\S+"), rf"\1{MASK}"),
    # AWS access key ids
    (re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[A-Z0-9]{16}\b"), MASK),
    # Slack, GitHub, GitLab, npm tokens; JWTs
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), MASK),
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"), MASK),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), MASK),
    (re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), MASK),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), MASK),
)


def redact(line: str) -> str:
    for pattern, replacement in _PATTERNS:
        line = pattern.sub(replacement, line)
    return line


def redact_lines(lines: list[str]) -> list[str]:
    """Redacts each line; inside a private key block, every line until its END line."""
    out: list[str] = []
    in_key = False
    for line in lines:
        if in_key:
            out.append(MASK)
            in_key = "-----END" not in line
            continue
        if "-----BEGIN" in line and "PRIVATE KEY-----" in line and "-----END" not in line:
            in_key = True
        out.append(redact(line))
    return out
