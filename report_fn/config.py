"""The report's settings, read and checked once; errors name the variable to fix."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from opsbundle import settings as names
from opsbundle.settings import Env
from report_fn.crm.mapping import FieldMapping

CRM_KINDS = ("sample", "salesforce", "hubspot", "csv", "json")
FAMILIES = {"sample": "export", "csv": "export", "json": "export",
            "salesforce": "salesforce", "hubspot": "hubspot"}  # fmt: skip
DEFAULT_OBJECTS = {"salesforce": "Lead", "hubspot": "contacts"}
DEFAULT_TIMEZONE = "America/New_York"


@dataclass(frozen=True)
class ReportSettings:
    name: str
    timezone: ZoneInfo
    top_n: int
    attach_csv: bool
    crm_kind: str
    mapping: FieldMapping
    crm_base_url: str | None = None
    crm_secret_arn: str | None = None
    crm_export_url: str | None = None
    crm_object: str | None = None
    crm_retry_seconds: int = 60
    crm_requests_per_second: int = 4
    slack_secret_arn: str | None = None
    slack_channel: str | None = None
    slack_ops_channel: str | None = None
    slack_base_url: str | None = None
    ops_topic_arn: str | None = None
    table: str | None = None
    archive_bucket: str | None = None
    archive_prefix: str = "reports/"
    archive_kms_key_id: str | None = None

    @classmethod
    def load(
        cls,
        env: Env | None = None,
        *,
        crm_kind: str | None = None,
        timezone: str | None = None,
        top_n: int | None = None,
        dry_run: bool = False,
    ) -> ReportSettings:
        env = env or Env()
        kind = env.choice(names.CRM_KIND, crm_kind, "sample", CRM_KINDS)
        mapping = FieldMapping.for_crm(
            FAMILIES[kind],
            fields=env.json_object(names.CRM_FIELD_MAP),
            statuses=env.json_object(names.CRM_STATUS_MAP),
        )
        values: dict[str, Any] = {
            "name": env.string(names.REPORT_NAME, default="leads"),
            "timezone": env.timezone(
                "--timezone" if timezone else names.REPORT_TIMEZONE, timezone, DEFAULT_TIMEZONE
            ),
            "top_n": env.integer(
                "--top" if top_n is not None else names.REPORT_TOP_N,
                top_n,
                5,
                minimum=1,
                maximum=100,
            ),
            "attach_csv": env.boolean(names.REPORT_ATTACH_CSV),
            "crm_kind": kind,
            "mapping": mapping,
            "crm_base_url": env.string(names.CRM_BASE_URL),
            "crm_object": env.string(names.CRM_OBJECT, default=DEFAULT_OBJECTS.get(kind)),
            "crm_requests_per_second": env.integer(
                names.CRM_REQUESTS_PER_SECOND, None, 4, minimum=0, maximum=100
            ),
            "crm_retry_seconds": env.integer(
                names.CRM_RETRY_SECONDS, None, 60, minimum=0, maximum=600
            ),
            "slack_base_url": env.string(names.SLACK_BASE_URL),
            "slack_ops_channel": env.string(names.SLACK_OPS_CHANNEL),
            "ops_topic_arn": env.string(names.OPS_TOPIC_ARN),
            "archive_prefix": env.string(names.REPORT_ARCHIVE_PREFIX, default="reports/"),
            "archive_kms_key_id": env.string(names.REPORT_ARCHIVE_KMS_KEY_ID),
            "table": env.string(names.REPORT_TABLE),
            "archive_bucket": env.string(names.REPORT_ARCHIVE_BUCKET),
            "slack_secret_arn": env.string(names.SLACK_TOKEN_SECRET_ARN),
            "slack_channel": env.string(names.SLACK_CHANNEL),
        }
        if kind in ("salesforce", "hubspot"):
            values["crm_secret_arn"] = env.required(
                names.CRM_SECRET_ARN, why=f"the {kind} credentials' Secrets Manager ARN"
            )
        if kind in ("csv", "json"):
            values["crm_export_url"] = env.required(
                names.CRM_EXPORT_URL, why=f"where the {kind} export is: https://, s3:// or a path"
            )
        if not dry_run:
            posting = "needed to post the report; use --dry-run to preview"
            for setting, field in (
                (names.SLACK_TOKEN_SECRET_ARN, "slack_secret_arn"),
                (names.SLACK_CHANNEL, "slack_channel"),
                (names.REPORT_TABLE, "table"),
                (names.REPORT_ARCHIVE_BUCKET, "archive_bucket"),
            ):
                values[field] = env.required(setting, why=posting)
        return cls(**values)
