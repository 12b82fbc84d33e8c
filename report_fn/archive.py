"""Each report's JSON in S3 under a date-partitioned key; earlier numbers read back from it.

Key: {prefix}{report}/year=YYYY/month=MM/day=DD/HHMM.json, in the report's local time,
so Athena or a person browsing the bucket finds a day's reports together.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from opsbundle import aws, settings
from opsbundle.exceptions import ConfigError, OpsbundleError
from report_fn.aggregate import Totals
from report_fn.exceptions import ReportError


class ReportArchive:
    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "reports/",
        kms_key_id: str | None = None,
        boto3_client: Any = None,
    ) -> None:
        self._bucket = bucket
        self._prefix = prefix if not prefix or prefix.endswith("/") else prefix + "/"
        self._kms_key_id = kms_key_id
        self._client = boto3_client or aws.client("s3")

    def key(self, report: str, local_end: datetime) -> str:
        return (
            f"{self._prefix}{report}/year={local_end:%Y}/month={local_end:%m}/"
            f"day={local_end:%d}/{local_end:%H%M}.json"
        )

    def put(self, report_json: dict[str, Any], *, report: str, local_end: datetime) -> str:
        key = self.key(report, local_end)
        extra: dict[str, str] = {}
        if self._kms_key_id:  # otherwise the bucket's default encryption applies
            extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": self._kms_key_id}
        try:
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=json.dumps(report_json, sort_keys=True).encode("utf-8"),
                ContentType="application/json",
                **extra,
            )
        except (BotoCoreError, ClientError) as error:
            raise self._problem(error, f"could not archive to s3://{self._bucket}/{key}") from None
        return key

    def totals(self, report: str, local_end: datetime) -> Totals | None:
        """The totals archived for that slot, or None when there is no such report."""
        key = self.key(report, local_end)
        try:
            body = self._client.get_object(Bucket=self._bucket, Key=key)["Body"].read()
        except ClientError as error:
            if aws.error_code(error) in ("NoSuchKey", "404"):
                return None
            raise self._problem(error, f"could not read s3://{self._bucket}/{key}") from None
        except BotoCoreError as error:
            raise self._problem(error, f"could not read s3://{self._bucket}/{key}") from None
        try:
            return Totals.from_json(json.loads(body)["totals"])
        except (ValueError, KeyError, TypeError):
            raise ReportError(f"s3://{self._bucket}/{key} is not an archived report") from None

    def _problem(self, error: BotoCoreError | ClientError, doing: str) -> OpsbundleError:
        setup = aws.setup_problem(error)
        if setup:
            return setup
        if isinstance(error, ClientError):
            code = aws.error_code(error)
            if code == "NoSuchBucket":
                return ConfigError(settings.REPORT_ARCHIVE_BUCKET, f"{self._bucket} does not exist")
        return ReportError(f"{doing}: {error}")
