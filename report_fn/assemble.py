"""Builds a ReportJob from settings: the one place that creates clients for the report."""

from __future__ import annotations

from typing import Any

from opsbundle import aws
from opsbundle import settings as names
from opsbundle.metrics import RunMetrics
from opsbundle.secrets import Secrets
from opsbundle.settings import Env
from opsbundle.slack import SlackClient
from report_fn.archive import ReportArchive
from report_fn.config import ReportSettings
from report_fn.crm.base import Connector, CRMHttp, OnPage
from report_fn.crm.export import ExportConnector
from report_fn.crm.hubspot import HubSpotConnector
from report_fn.crm.salesforce import SalesforceConnector
from report_fn.crm.sample import SampleConnector
from report_fn.job import ReportJob
from report_fn.ledger import SlotLedger
from report_fn.mail import Mailer
from report_fn.notify import FailureNotifier


def build_connector(
    settings: ReportSettings,
    *,
    secrets: Secrets | None = None,
    s3_client: Any = None,
    on_page: OnPage | None = None,
) -> Connector:
    """`on_page`: told of each page a CRM answers (Salesforce, HubSpot)."""
    kind = settings.crm_kind
    if kind == "sample":
        return SampleConnector(timezone=settings.timezone)
    http = CRMHttp(
        crm=kind,
        secret_setting=names.CRM_SECRET_ARN,
        url_setting=names.CRM_EXPORT_URL if kind in ("csv", "json") else names.CRM_BASE_URL,
        max_wait_seconds=settings.crm_retry_seconds,
    )
    if kind in ("csv", "json"):
        assert settings.crm_export_url  # ReportSettings.load requires it
        return ExportConnector(
            kind=kind,
            url=settings.crm_export_url,
            mapping=settings.mapping,
            http=http,
            timezone=settings.timezone,
            s3_client_factory=lambda: s3_client or aws.client("s3"),
            encoding=settings.crm_export_encoding,
        )
    assert settings.crm_secret_arn and settings.crm_object  # ReportSettings.load sets them
    secrets = secrets or Secrets()
    if kind == "salesforce":
        return SalesforceConnector(
            credentials=secrets.json_object(settings.crm_secret_arn, setting=names.CRM_SECRET_ARN),
            mapping=settings.mapping,
            http=http,
            object_name=settings.crm_object,
            base_url=settings.crm_base_url,
            on_page=on_page,
        )
    return HubSpotConnector(
        token=secrets.token(settings.crm_secret_arn, setting=names.CRM_SECRET_ARN),
        mapping=settings.mapping,
        http=http,
        object_type=settings.crm_object,
        base_url=settings.crm_base_url,
        requests_per_second=settings.crm_requests_per_second or None,
        on_page=on_page,
    )


def slack_client(settings: ReportSettings, *, secrets: Secrets) -> SlackClient:
    token_arn = Env().required(
        names.SLACK_TOKEN_SECRET_ARN, settings.slack_secret_arn, why="needed to post to Slack"
    )
    return SlackClient(
        token=secrets.token(token_arn, setting=names.SLACK_TOKEN_SECRET_ARN),
        base_url=settings.slack_base_url,
    )


def build_job(
    settings: ReportSettings,
    *,
    metrics: RunMetrics,
    dry_run: bool = False,
    secrets: Secrets | None = None,
    clients: dict[str, Any] | None = None,
    on_page: OnPage | None = None,
) -> ReportJob:
    """`clients` may hold ready boto3 clients by service name (dynamodb, s3, sns, sesv2)."""
    clients = clients or {}
    secrets = secrets or Secrets(boto3_client=clients.get("secretsmanager"))
    job = ReportJob(
        name=settings.name,
        timezone=settings.timezone,
        connector=build_connector(
            settings, secrets=secrets, s3_client=clients.get("s3"), on_page=on_page
        ),
        mapping=settings.mapping,
        metrics=metrics,
        top_n=settings.top_n,
        attach_csv=settings.attach_csv,
        filters=settings.filters,
        dimensions=settings.breakdowns,
        title=settings.title,
        thresholds=settings.thresholds,
        post_when_flagged=settings.post_when_flagged,
        chart=settings.chart,
        email_to=settings.email_to,
        email_subject=settings.email_subject,
        channel_setting=settings.channel_setting,
    )
    if dry_run:
        return job
    assert settings.slack_secret_arn and settings.table and settings.archive_bucket
    slack = slack_client(settings, secrets=secrets)
    job.slack = slack
    job.channels = settings.channels or (
        (settings.slack_channel,) if settings.slack_channel else ()
    )
    job.ledger = SlotLedger(table_name=settings.table, boto3_client=clients.get("dynamodb"))
    job.archive = ReportArchive(
        bucket=settings.archive_bucket,
        prefix=settings.archive_prefix,
        kms_key_id=settings.archive_kms_key_id,
        boto3_client=clients.get("s3"),
    )
    if settings.email_to and settings.email_from:
        job.mailer = Mailer(sender=settings.email_from, sesv2_client=clients.get("sesv2"))
    job.notifier = FailureNotifier(
        slack=slack,
        ops_channel=settings.slack_ops_channel,
        sns_client=(clients.get("sns") or aws.client("sns")) if settings.ops_topic_arn else None,
        topic_arn=settings.ops_topic_arn,
    )
    return job
