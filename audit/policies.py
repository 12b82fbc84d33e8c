"""Reading IAM policy documents (pure): does an Allow grant `*:*` on `*`, or PassRole on any role?

Matching follows IAM: actions are case-insensitive, `*` matches any run of characters and
`?` one character, in actions and resources alike. `NotAction`/`NotResource` allow what they
do not name. Conditions are not evaluated: a statement that allows PassRole on every role is
reported whatever its condition, since a condition such as `iam:PassedToService` still lets
the holder hand any role to that service.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

PASS_ROLE = "iam:PassRole"  # noqa: S105 - an IAM action, not a password
# A role name no policy would name on purpose: a pattern that matches it matches any role.
PROBE_ROLE = "opsbundle-audit-probe-any-role-7f3a"


def document(value: str | Mapping[str, Any]) -> dict[str, Any]:
    """A policy document from the API: botocore gives a dict; the raw API a URL-encoded string."""
    if isinstance(value, Mapping):
        return dict(value)
    text = value if value.lstrip().startswith("{") else unquote(value)
    parsed = json.loads(text)
    if not isinstance(parsed, dict):
        raise ValueError("a policy document is a JSON object")
    return parsed


def allow_statements(policy: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    statements = policy.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if isinstance(statement, Mapping) and statement.get("Effect") == "Allow":
            yield statement


def _listed(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


@lru_cache(maxsize=4096)
def _pattern(glob: str, case_sensitive: bool) -> re.Pattern[str]:
    body = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in glob)
    return re.compile(f"^{body}$", 0 if case_sensitive else re.IGNORECASE)


def matches(glob: str, value: str, *, case_sensitive: bool = True) -> bool:
    return _pattern(glob, case_sensitive).match(value) is not None


def _covers(statement: Mapping[str, Any], key: str, value: str, *, case_sensitive: bool) -> bool:
    """Whether Action/Resource (or their Not- forms) of `statement` include `value`."""
    if key in statement:
        return any(
            matches(g, value, case_sensitive=case_sensitive) for g in _listed(statement[key])
        )
    negated = f"Not{key}"
    if negated in statement:
        excluded = _listed(statement[negated])
        return not any(matches(g, value, case_sensitive=case_sensitive) for g in excluded)
    return False


def allows_everything(policy: Mapping[str, Any]) -> bool:
    """An Allow of Action "*" (or "*:*") on Resource "*": full administrator (CIS 1.16)."""
    return any(
        {"*", "*:*"} & set(_listed(statement.get("Action")))
        and "*" in _listed(statement.get("Resource"))
        for statement in allow_statements(policy)
    )


def allows_pass_any_role(policy: Mapping[str, Any], *, account: str, partition: str) -> bool:
    """An Allow of iam:PassRole whose resources would match a role of any name."""
    probe = f"arn:{partition}:iam::{account}:role/{PROBE_ROLE}"
    return any(
        _covers(statement, "Action", PASS_ROLE, case_sensitive=False)
        and _covers(statement, "Resource", probe, case_sensitive=True)
        for statement in allow_statements(policy)
    )
