"""Environment variable names, and typed readers that name the variable when it is wrong.

Precedence everywhere: explicit argument > environment variable > default.
Empty strings count as unset, so a template can pass "" for an optional parameter.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from opsbundle.exceptions import ConfigError

# Shared
AWS_REGION = "AWS_REGION"  # set by Lambda; boto3 reads it too
AWS_ENDPOINT_URL = "AWS_ENDPOINT_URL"  # a local endpoint for every AWS service (tests, moto)
AWS_LAMBDA_FUNCTION_NAME = "AWS_LAMBDA_FUNCTION_NAME"  # set by Lambda
LOG_LEVEL = "LOG_LEVEL"
SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
SLACK_TOKEN_SECRET_ARN = "SLACK_TOKEN_SECRET_ARN"
SLACK_BASE_URL = "SLACK_BASE_URL"
SLACK_CHANNEL = "SLACK_CHANNEL"
SLACK_OPS_CHANNEL = "SLACK_OPS_CHANNEL"
OPS_TOPIC_ARN = "OPS_TOPIC_ARN"

# report_fn
REPORT_NAME = "REPORT_NAME"
REPORT_TIMEZONE = "REPORT_TIMEZONE"
REPORT_TOP_N = "REPORT_TOP_N"
REPORT_ATTACH_CSV = "REPORT_ATTACH_CSV"
REPORT_TABLE = "REPORT_TABLE"
REPORT_ARCHIVE_BUCKET = "REPORT_ARCHIVE_BUCKET"
REPORT_ARCHIVE_PREFIX = "REPORT_ARCHIVE_PREFIX"
REPORT_ARCHIVE_KMS_KEY_ID = "REPORT_ARCHIVE_KMS_KEY_ID"
REPORT_CHART = "REPORT_CHART"
REPORT_EMAIL_FROM = "REPORT_EMAIL_FROM"
REPORT_TEST_CHANNEL = "REPORT_TEST_CHANNEL"
REPORTS_FILE = "REPORTS_FILE"
CRM_KIND = "CRM_KIND"
CRM_BASE_URL = "CRM_BASE_URL"
CRM_SECRET_ARN = "CRM_SECRET_ARN"
CRM_EXPORT_URL = "CRM_EXPORT_URL"
CRM_EXPORT_ENCODING = "CRM_EXPORT_ENCODING"
CRM_OBJECT = "CRM_OBJECT"
CRM_FIELD_MAP = "CRM_FIELD_MAP"
CRM_STATUS_MAP = "CRM_STATUS_MAP"
CRM_RETRY_SECONDS = "CRM_RETRY_SECONDS"
CRM_REQUESTS_PER_SECOND = "CRM_REQUESTS_PER_SECOND"

# log_shipper (issue 3)
OPENSEARCH_URL = "OPENSEARCH_URL"
OPENSEARCH_AUTH = "OPENSEARCH_AUTH"
OPENSEARCH_SECRET_ARN = "OPENSEARCH_SECRET_ARN"
OPENSEARCH_REGION = "OPENSEARCH_REGION"
OPENSEARCH_TIMEOUT_SECONDS = "OPENSEARCH_TIMEOUT_SECONDS"
OPENSEARCH_GZIP = "OPENSEARCH_GZIP"
LOG_SHIPPER_INDEX = "LOG_SHIPPER_INDEX"
LOG_SHIPPER_ROUTES = "LOG_SHIPPER_ROUTES"
LOG_SHIPPER_REDACT = "LOG_SHIPPER_REDACT"
LOG_SHIPPER_TEMPLATE = "LOG_SHIPPER_TEMPLATE"
LOG_SHIPPER_INSTALL_TEMPLATE = "LOG_SHIPPER_INSTALL_TEMPLATE"
LOG_SHIPPER_DATA_STREAM = "LOG_SHIPPER_DATA_STREAM"
LOG_SHIPPER_RETENTION_DAYS = "LOG_SHIPPER_RETENTION_DAYS"
LOG_SHIPPER_REPLICAS = "LOG_SHIPPER_REPLICAS"
LOG_SHIPPER_SHARD_SIZE_GB = "LOG_SHIPPER_SHARD_SIZE_GB"
LOG_SHIPPER_ISM = "LOG_SHIPPER_ISM"
LOG_SHIPPER_BATCH_BYTES = "LOG_SHIPPER_BATCH_BYTES"
LOG_SHIPPER_BATCH_COUNT = "LOG_SHIPPER_BATCH_COUNT"
LOG_SHIPPER_MAX_ATTEMPTS = "LOG_SHIPPER_MAX_ATTEMPTS"
LOG_SHIPPER_SAFETY_MARGIN_MS = "LOG_SHIPPER_SAFETY_MARGIN_MS"
LOG_SHIPPER_MAX_FIELDS = "LOG_SHIPPER_MAX_FIELDS"
LOG_SHIPPER_MAX_DEPTH = "LOG_SHIPPER_MAX_DEPTH"
LOG_SHIPPER_DLQ_BUCKET = "LOG_SHIPPER_DLQ_BUCKET"
LOG_SHIPPER_DLQ_PREFIX = "LOG_SHIPPER_DLQ_PREFIX"
LOG_SHIPPER_DLQ_KMS_KEY_ID = "LOG_SHIPPER_DLQ_KMS_KEY_ID"

# monitors (issue 4)
DEVOPS_TOPIC_ARN = "DEVOPS_TOPIC_ARN"
PIPELINE_SLACK_CHANNEL = "PIPELINE_SLACK_CHANNEL"
PIPELINE_LOG_LINES = "PIPELINE_LOG_LINES"
PIPELINE_THREAD_LOOKBACK_HOURS = "PIPELINE_THREAD_LOOKBACK_HOURS"
TARGETS_MAX_LISTED = "TARGETS_MAX_LISTED"

# audit (issue 14)
AUDIT_CONTACT_DOMAINS = "AUDIT_CONTACT_DOMAINS"
AUDIT_OPERATIONS_CONTACT = "AUDIT_OPERATIONS_CONTACT"
AUDIT_BILLING_CONTACT = "AUDIT_BILLING_CONTACT"
AUDIT_SECURITY_CONTACT = "AUDIT_SECURITY_CONTACT"
AUDIT_MONITORS_STACK = "AUDIT_MONITORS_STACK"
AUDIT_MONITORS = "AUDIT_MONITORS"
AUDIT_MAX_KEY_AGE_DAYS = "AUDIT_MAX_KEY_AGE_DAYS"
AUDIT_INACTIVE_DAYS = "AUDIT_INACTIVE_DAYS"
AUDIT_TRAIL_DELIVERY_HOURS = "AUDIT_TRAIL_DELIVERY_HOURS"
AUDIT_STATE_TABLE = "AUDIT_STATE_TABLE"

# dashboards (issue 6)
PUSHGATEWAY_URL = "PUSHGATEWAY_URL"
GRAFANA_URL = "GRAFANA_URL"
GRAFANA_TOKEN = "GRAFANA_TOKEN"
GRAFANA_TOKEN_SECRET_ARN = "GRAFANA_TOKEN_SECRET_ARN"
GRAFANA_FOLDER = "GRAFANA_FOLDER"
DASHBOARDS_RUNBOOK_BASE_URL = "DASHBOARDS_RUNBOOK_BASE_URL"
PROMETHEUS_URL = "PROMETHEUS_URL"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class Env:
    """Reads settings from one environment mapping (os.environ unless one is given)."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def raw(self, name: str) -> str | None:
        value = self._environ.get(name, "").strip()
        return value or None

    def string(
        self, name: str, explicit: str | None = None, default: str | None = None
    ) -> str | None:
        if explicit:
            return explicit
        value = self.raw(name)
        return value if value is not None else default

    def required(self, name: str, explicit: str | None = None, why: str = "") -> str:
        value = self.string(name, explicit)
        if value is None:
            suffix = f" ({why})" if why else ""
            raise ConfigError(name, f"is not set{suffix}")
        return value

    def integer(
        self,
        name: str,
        explicit: int | None = None,
        default: int = 0,
        *,
        minimum: int,
        maximum: int,
    ) -> int:
        if explicit is not None:
            value, text = explicit, str(explicit)
        else:
            text = self.raw(name) or str(default)
            try:
                value = int(text)
            except ValueError:
                raise ConfigError(name, f"expected a whole number, got {text!r}") from None
        if not minimum <= value <= maximum:
            raise ConfigError(name, f"must be between {minimum} and {maximum}, got {text}")
        return value

    def boolean(self, name: str, explicit: bool | None = None, default: bool = False) -> bool:
        if explicit is not None:
            return explicit
        text = self.raw(name)
        if text is None:
            return default
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ConfigError(name, f"expected true or false, got {text!r}")

    def choice(
        self, name: str, explicit: str | None, default: str, choices: tuple[str, ...]
    ) -> str:
        value = self.string(name, explicit, default) or default
        if value not in choices:
            raise ConfigError(name, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def timezone(self, name: str, explicit: str | None = None, default: str = "UTC") -> ZoneInfo:
        value = self.string(name, explicit, default) or default
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError(
                name, f"unknown time zone {value!r}; use an IANA name such as America/New_York"
            ) from None

    def json_object(self, name: str, explicit: Mapping[str, Any] | None = None) -> dict[str, Any]:
        if explicit is not None:
            return dict(explicit)
        text = self.raw(name)
        if text is None:
            return {}
        try:
            value = json.loads(text)
        except json.JSONDecodeError as error:
            raise ConfigError(
                name, f"is not valid JSON ({error.msg} at char {error.pos})"
            ) from None
        if not isinstance(value, dict):
            raise ConfigError(name, "must be a JSON object")
        return value
