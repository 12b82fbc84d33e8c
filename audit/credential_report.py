"""The IAM credential report (pure): one CSV for every user, root included, in one call.

Columns, as the IAM User Guide ("Getting credential reports for your AWS account") documents
them: user, arn, user_creation_time, password_enabled, password_last_used,
password_last_changed, password_next_rotation, mfa_active, access_key_{1,2}_active,
access_key_{1,2}_last_rotated, access_key_{1,2}_last_used_date, access_key_{1,2}_last_used_region,
access_key_{1,2}_last_used_service, cert_{1,2}_active, cert_{1,2}_last_rotated.

Values other than dates: "true"/"false", "N/A" (no such key, never used), "no_information"
(not used since IAM began tracking in October 2014) and "not_supported" (root's password
fields). The root user's row is named "<root_account>".
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from audit.exceptions import AuditError

ROOT = "<root_account>"
REQUIRED = (
    "user",
    "arn",
    "password_enabled",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
)


@dataclass(frozen=True)
class AccessKey:
    number: int  # 1 or 2, as the report numbers them
    active: bool
    last_rotated: datetime | None  # created or last rotated
    last_used: datetime | None  # None: never used (or no such key)


@dataclass(frozen=True)
class CredentialRow:
    user: str
    arn: str
    created: datetime | None
    password_enabled: bool  # root: False (the report says not_supported)
    password_last_used: datetime | None
    mfa_active: bool
    keys: tuple[AccessKey, AccessKey]

    @property
    def is_root(self) -> bool:
        return self.user == ROOT

    @property
    def active_keys(self) -> tuple[AccessKey, ...]:
        return tuple(key for key in self.keys if key.active)


def parse(content: bytes | str) -> list[CredentialRow]:
    """Rows of the report; raises AuditError naming the first column it cannot read."""
    text = content.decode("utf-8") if isinstance(content, bytes) else content
    reader = csv.DictReader(io.StringIO(text))
    missing = [name for name in REQUIRED if name not in (reader.fieldnames or ())]
    if missing:
        raise AuditError(f"the credential report has no {missing[0]} column")
    return [_row(record, number) for number, record in enumerate(reader, start=2)]


def _row(record: dict[str, str], line: int) -> CredentialRow:
    def when(column: str) -> datetime | None:
        return _timestamp(record.get(column, ""), column, line)

    return CredentialRow(
        user=record["user"],
        arn=record["arn"],
        created=when("user_creation_time"),
        password_enabled=record["password_enabled"] == "true",  # noqa: S105 - a column
        password_last_used=when("password_last_used"),
        mfa_active=record["mfa_active"] == "true",
        keys=(
            AccessKey(
                1,
                record["access_key_1_active"] == "true",
                when("access_key_1_last_rotated"),
                when("access_key_1_last_used_date"),
            ),
            AccessKey(
                2,
                record["access_key_2_active"] == "true",
                when("access_key_2_last_rotated"),
                when("access_key_2_last_used_date"),
            ),
        ),
    )


_NO_DATE = frozenset({"", "N/A", "no_information", "not_supported"})


def _timestamp(value: str, column: str, line: int) -> datetime | None:
    if value in _NO_DATE:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise AuditError(
            f"the credential report's {column} on line {line} is not a date: {value[:40]!r}"
        ) from None
    if parsed.tzinfo is None:
        raise AuditError(f"the credential report's {column} on line {line} has no time zone")
    return parsed


def root_row(rows: Iterable[CredentialRow]) -> CredentialRow | None:
    return next((row for row in rows if row.is_root), None)
