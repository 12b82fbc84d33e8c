"""The report's settings, read and checked once; errors name the variable to fix.

Without a reports file the environment describes one report, as it always has. With one
(REPORTS_FILE), each report's fields come from the file, and what the file leaves out from
the same environment variables: explicit argument > reports file > environment > default.
What every report shares (the slot table, the archive, the Slack and CRM secrets, where
failures are told) stays in the environment.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from opsbundle import settings as names
from opsbundle.exceptions import ConfigError
from opsbundle.settings import Env
from report_fn import reports_file
from report_fn.crm.mapping import FieldMapping
from report_fn.exceptions import EventError
from report_fn.filters import LeadFilter
from report_fn.leads import DIMENSIONS
from report_fn.reports_file import ReportSpec
from report_fn.thresholds import Threshold

CRM_KINDS = ("sample", "salesforce", "hubspot", "csv", "json")
# fmt: skip below: names packed, not one a line
FAMILIES = {
    "sample": "export",
    "csv": "export",
    "json": "export",
    "salesforce": "salesforce",
    "hubspot": "hubspot",
}
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
    crm_export_encoding: str = "utf-8"
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
    title: str | None = None
    channels: tuple[str, ...] = ()  # where the report is posted; slack_channel is the first
    filters: LeadFilter = field(default_factory=LeadFilter)
    breakdowns: tuple[str, ...] = DIMENSIONS
    thresholds: tuple[Threshold, ...] = ()
    post_when_flagged: bool = False
    chart: bool = False
    email_to: tuple[str, ...] = ()
    email_subject: str | None = None
    email_from: str | None = None
    test_channel: str | None = None
    channel_setting: str = names.SLACK_CHANNEL  # what to fix when Slack refuses a channel

    @classmethod
    def load(
        cls,
        env: Env | None = None,
        *,
        crm_kind: str | None = None,
        timezone: str | None = None,
        top_n: int | None = None,
        dry_run: bool = False,
        report: ReportSpec | None = None,
        test_channel: str | None = None,
    ) -> ReportSettings:
        """`report`: one report of the reports file; None: the environment's one report."""
        env = env or Env()
        spec = report
        crm = dict(spec.crm) if spec else {}
        kind = env.choice(names.CRM_KIND, crm_kind or crm.get("kind"), "sample", CRM_KINDS)
        where = f"report {spec.name!r} crm" if spec else None
        mapping = FieldMapping.for_crm(
            FAMILIES[kind],
            fields=crm.get("field_map") or env.json_object(names.CRM_FIELD_MAP),
            statuses=crm.get("status_map") or env.json_object(names.CRM_STATUS_MAP),
            fields_setting=f"{where}.field_map" if "field_map" in crm else names.CRM_FIELD_MAP,
            statuses_setting=(
                f"{where}.status_map" if "status_map" in crm else names.CRM_STATUS_MAP
            ),
        )
        channel = env.string(names.SLACK_CHANNEL)
        channels = spec.channels if spec and spec.channels else ((channel,) if channel else ())
        values: dict[str, Any] = {
            "name": spec.name if spec else env.string(names.REPORT_NAME, default="leads"),
            "timezone": env.timezone(
                "--timezone" if timezone else names.REPORT_TIMEZONE,
                timezone or (spec.timezone if spec else None),
                DEFAULT_TIMEZONE,
            ),
            "top_n": env.integer(
                "--top" if top_n is not None else names.REPORT_TOP_N,
                top_n if top_n is not None else (spec.top_n if spec else None),
                5,
                minimum=1,
                maximum=100,
            ),
            "attach_csv": env.boolean(names.REPORT_ATTACH_CSV, spec.attach_csv if spec else None),
            "chart": env.boolean(names.REPORT_CHART, spec.chart if spec else None),
            "crm_kind": kind,
            "mapping": mapping,
            "crm_base_url": crm.get("base_url") or env.string(names.CRM_BASE_URL),
            "crm_object": crm.get("object")
            or env.string(names.CRM_OBJECT, default=DEFAULT_OBJECTS.get(kind)),
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
            "slack_channel": channels[0] if channels else None,
            "channels": channels,
            "test_channel": test_channel or env.string(names.REPORT_TEST_CHANNEL),
            "email_from": env.string(names.REPORT_EMAIL_FROM),
        }
        if spec:
            values |= {
                "title": spec.title,
                "filters": spec.filters,
                "breakdowns": spec.breakdowns if spec.breakdowns is not None else DIMENSIONS,
                "thresholds": spec.thresholds,
                "post_when_flagged": spec.post_when_flagged,
                "email_to": spec.email.to if spec.email else (),
                "email_subject": spec.email.subject if spec.email else None,
            }
            if spec.channels:
                values["channel_setting"] = f"reports file: report {spec.name!r}, field 'channels'"
        if kind in ("salesforce", "hubspot"):
            values["crm_secret_arn"] = env.required(
                names.CRM_SECRET_ARN, why=f"the {kind} credentials' Secrets Manager ARN"
            )
        if kind in ("csv", "json"):
            values["crm_export_url"] = env.required(
                names.CRM_EXPORT_URL,
                crm.get("export_url"),
                why=f"where the {kind} export is: https://, s3:// or a path",
            )
            values["crm_export_encoding"] = _encoding(env)
        if not dry_run:
            posting = "needed to post the report; use --dry-run to preview"
            for setting, key in (
                (names.SLACK_TOKEN_SECRET_ARN, "slack_secret_arn"),
                (names.REPORT_TABLE, "table"),
                (names.REPORT_ARCHIVE_BUCKET, "archive_bucket"),
            ):
                values[key] = env.required(setting, why=posting)
            if not channels:
                why = posting if not spec else f"report {spec.name!r} names no channels"
                values["slack_channel"] = env.required(names.SLACK_CHANNEL, why=why)
            if values.get("email_to") and not values["email_from"]:
                raise ConfigError(
                    names.REPORT_EMAIL_FROM,
                    f"is not set (report {values['name']!r} sends e-mail: set it to an SES "
                    "verified identity, e.g. reports@example.com)",
                )
        return cls(**values)


def reports_path(env: Env | None = None, explicit: str | Path | None = None) -> Path | None:
    """The reports file to use: --file, else REPORTS_FILE; None: the environment's report.
    In Lambda a relative REPORTS_FILE is read from the function's code folder."""
    env = env or Env()
    if explicit:
        return Path(explicit)
    value = env.string(names.REPORTS_FILE)
    if not value:
        return None
    root = env.string("LAMBDA_TASK_ROOT")
    return Path(root) / value if root and not Path(value).is_absolute() else Path(value)


def settings_for(
    report: str | None,
    *,
    env: Env | None = None,
    path: str | Path | None = None,
    **overrides: Any,
) -> ReportSettings:
    """The settings of the report named `report` (from an event or --report), from the
    reports file when there is one, else from the environment alone."""
    env = env or Env()
    where = reports_path(env, path)
    if where is None:
        default = env.string(names.REPORT_NAME, default="leads")
        if report and report != default:
            raise ConfigError(
                names.REPORTS_FILE,
                f"is not set, so there is no report {report!r} (the environment's is {default!r})",
            )
        return ReportSettings.load(env, **overrides)
    loaded = load_reports(where)
    if report is None:
        if len(loaded.reports) != 1:
            raise EventError(
                f"no report named and {where} has {len(loaded.reports)}: "
                f"{', '.join(loaded.reports)}; the schedule's input names one"
            )
        report = next(iter(loaded.reports))
    return ReportSettings.load(
        env, report=loaded.get(report), test_channel=loaded.test_channel, **overrides
    )


_LOADED: dict[tuple[str, int, int], reports_file.ReportsFile] = {}


def load_reports(path: Path) -> reports_file.ReportsFile:
    """The reports file, parsed once per warm container (keyed by path, size and mtime)."""
    try:
        stat = path.stat()
    except OSError:
        return reports_file.load(path)  # says what is wrong with it
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _LOADED:
        _LOADED.clear()
        _LOADED[key] = reports_file.load(path)
    return _LOADED[key]


def _encoding(env: Env) -> str:
    """CRM_EXPORT_ENCODING: a codec Python knows (utf-8, cp1252, latin-1, utf-16...)."""
    value = env.string(names.CRM_EXPORT_ENCODING, default="utf-8") or "utf-8"
    try:
        codecs.lookup(value)
    except LookupError:
        raise ConfigError(
            names.CRM_EXPORT_ENCODING, f"unknown encoding {value!r}; e.g. utf-8, cp1252, latin-1"
        ) from None
    return value
