"""The open findings of the last weekly run, kept in DynamoDB (KMS-encrypted by the table).

One item, `pk = "findings"`: the findings as zlib-compressed JSON (check, resource, severity:
no finding text, so no contact address or other detail is kept), and a `version` that every
save checks and increments. Two runs at once (the weekly one and one started by hand) cannot
both post the same change: the second save fails its condition and that run stays quiet.
"""

from __future__ import annotations

import json
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from audit.exceptions import AuditError, StateConflict
from audit.findings import Finding
from audit.render import Changes, Resolved
from opsbundle import aws
from opsbundle import settings as names
from opsbundle.exceptions import ConfigError

KEY = {"pk": {"S": "findings"}}
SETUP_CODES = frozenset(
    {
        "ResourceNotFoundException",
        "AccessDeniedException",
        "KMSAccessDeniedException",
        "KMSDisabledException",
        "KMSNotFoundException",
        "KMSInvalidStateException",
    }
)


@dataclass(frozen=True)
class Stored:
    findings: Mapping[str, Mapping[str, str]]  # key -> {"check", "resource", "severity"}
    version: int  # 0: nothing saved yet


def entries(findings: Iterable[Finding]) -> dict[str, dict[str, str]]:
    return {
        f.key: {"check": f.check, "resource": f.resource, "severity": f.severity} for f in findings
    }


def diff(stored: Stored, findings: Iterable[Finding]) -> Changes:
    current = list(findings)
    keys = {f.key for f in current}
    return Changes(
        new=tuple(f for f in current if f.key not in stored.findings),
        resolved=tuple(
            Resolved(check=entry["check"], resource=entry["resource"])
            for key, entry in sorted(stored.findings.items())
            if key not in keys
        ),
        still_open=len(current),
    )


class FindingsState:
    def __init__(
        self,
        *,
        table: str,
        boto3_client: Any = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._table = table
        self._client = boto3_client
        self._clock = clock

    def _dynamodb(self) -> Any:
        if self._client is None:
            self._client = aws.client("dynamodb")
        return self._client

    def load(self) -> Stored:
        item = self._call("GetItem", TableName=self._table, Key=KEY, ConsistentRead=True)
        found = item.get("Item")
        if not found:
            return Stored(findings={}, version=0)
        try:
            data = json.loads(zlib.decompress(found["findings"]["B"]))
            version = int(found["version"]["N"])
        except (KeyError, ValueError, zlib.error) as error:
            raise AuditError(
                f"the findings state in {self._table} is unreadable ({error!r}); delete the "
                "item pk=findings to start afresh (the next run reports every finding as new)"
            ) from None
        return Stored(findings=data, version=version)

    def save(self, findings: Mapping[str, Mapping[str, str]], *, expected_version: int) -> int:
        """Store `findings` if nobody saved since `expected_version`; the new version."""
        body = zlib.compress(json.dumps(findings, sort_keys=True).encode("utf-8"), 9)
        version = expected_version + 1
        condition = "attribute_not_exists(pk)" if expected_version == 0 else "version = :expected"
        values = {":expected": {"N": str(expected_version)}} if expected_version else {}
        try:
            self._call(
                "PutItem",
                TableName=self._table,
                Item={
                    **KEY,
                    "findings": {"B": body},
                    "version": {"N": str(version)},
                    "count": {"N": str(len(findings))},
                    "saved_at": {"S": self._clock().isoformat()},
                },
                ConditionExpression=condition,
                **({"ExpressionAttributeValues": values} if values else {}),
            )
        except _ConditionFailed:
            raise StateConflict(
                "another audit run saved its findings first; it reports the changes"
            ) from None
        return version

    def _call(self, operation: str, **kwargs: Any) -> Any:
        method = {"GetItem": "get_item", "PutItem": "put_item"}[operation]
        try:
            return getattr(self._dynamodb(), method)(**kwargs)
        except ClientError as error:
            code = aws.error_code(error)
            if code == "ConditionalCheckFailedException":
                raise _ConditionFailed from None
            if code in SETUP_CODES:
                raise ConfigError(
                    names.AUDIT_STATE_TABLE, f"{operation} on {self._table} refused: {code}"
                ) from None
            raise AuditError(f"DynamoDB {operation} on {self._table} failed: {code}") from None
        except BotoCoreError as error:
            if problem := aws.setup_problem(error):
                raise problem from None
            raise AuditError(f"DynamoDB {operation} on {self._table} failed: {error}") from None


class _ConditionFailed(Exception):
    pass
