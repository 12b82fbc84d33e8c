"""Builds a report's preview, test post or scheduled job from settings: the one place that
creates clients for the report."""

from __future__ import annotations

from typing import Any

from opsbundle import aws
from opsbundle import settings as names
from opsbundle.metrics import RunMetrics
from opsbundle.notify import Notifier
from opsbundle.secrets import Secrets
from opsbundle.settings import Env
from opsbundle.slack import SlackClient
from report_fn.archive import ReportArchive
from report_fn.builder import ReportBuilder
from report_fn.config import ReportSettings
from report_fn.crm.base import Connector, CRMHttp, OnPage
from report_fn.crm.export import ExportConnector
from report_fn.crm.hubspot import HubSpotConnector
from report_fn.crm.salesforce import SalesforceConnector
from report_fn.crm.sample import SampleConnector
from report_fn.job import ReportJob, ReportTest
from report_fn.ledger import SlotLedger
from report_fn.mail import Mailer
from report_fn.thread_files import ThreadFiles


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


def build_preview(
    settings: ReportSettings,
    *,
    metrics: RunMetrics,
    secrets: Secrets | None = None,
    archive: ReportArchive | None = None,
    clients: dict[str, Any] | None = None,
    on_page: OnPage | None = None,
) -> ReportBuilder:
    """What builds the report: enough for a preview (no archive) or a test post. `on_page`
    is told of each page the CRM answers (the CLI's progress)."""
    clients = clients or {}
    secrets = secrets or Secrets(boto3_client=clients.get("secretsmanager"))
    return ReportBuilder(
        name=settings.name,
        timezone=settings.timezone,
        connector=build_connector(
            settings, secrets=secrets, s3_client=clients.get("s3"), on_page=on_page
        ),
        mapping=settings.mapping,
        metrics=metrics,
        archive=archive,
        top_n=settings.top_n,
        filters=settings.filters,
        dimensions=settings.breakdowns,
        title=settings.title,
        thresholds=settings.thresholds,
    )


def thread_files(
    settings: ReportSettings, *, slack: SlackClient, metrics: RunMetrics
) -> ThreadFiles:
    return ThreadFiles(
        slack=slack, metrics=metrics, chart=settings.chart, attach_csv=settings.attach_csv
    )


def build_test(
    settings: ReportSettings,
    *,
    metrics: RunMetrics,
    slack: SlackClient,
    on_page: OnPage | None = None,
) -> ReportTest:
    """`opsbundle report test`: the report built from the CRM, posted with `slack`."""
    return ReportTest(
        builder=build_preview(settings, metrics=metrics, on_page=on_page),
        files=thread_files(settings, slack=slack, metrics=metrics),
    )


def build_job(
    settings: ReportSettings,
    *,
    metrics: RunMetrics,
    secrets: Secrets | None = None,
    clients: dict[str, Any] | None = None,
    on_page: OnPage | None = None,
) -> ReportJob:
    """The scheduled post. `clients` may hold ready boto3 clients by service name (dynamodb,
    s3, sns, sesv2, secretsmanager)."""
    clients = clients or {}
    secrets = secrets or Secrets(boto3_client=clients.get("secretsmanager"))
    assert settings.slack_secret_arn and settings.table and settings.archive_bucket
    archive = ReportArchive(
        bucket=settings.archive_bucket,
        prefix=settings.archive_prefix,
        kms_key_id=settings.archive_kms_key_id,
        boto3_client=clients.get("s3"),
    )
    builder = build_preview(
        settings,
        metrics=metrics,
        secrets=secrets,
        archive=archive,
        clients=clients,
        on_page=on_page,
    )
    slack = slack_client(settings, secrets=secrets)  # after the CRM's secret, as it always was
    mailer = None
    if settings.email_to and settings.email_from:
        mailer = Mailer(sender=settings.email_from, sesv2_client=clients.get("sesv2"))
    return ReportJob(
        builder=builder,
        slack=slack,
        channels=settings.channels or ((settings.slack_channel,) if settings.slack_channel else ()),
        ledger=SlotLedger(table_name=settings.table, boto3_client=clients.get("dynamodb")),
        archive=archive,
        notifier=Notifier(
            topic_arn=settings.ops_topic_arn,
            slack=slack,
            channel=settings.slack_ops_channel,
            sns_client=clients.get("sns"),
        ),
        files=thread_files(settings, slack=slack, metrics=metrics),
        mailer=mailer,
        email_to=settings.email_to,
        email_subject=settings.email_subject,
        post_when_flagged=settings.post_when_flagged,
        channel_setting=settings.channel_setting,
    )
