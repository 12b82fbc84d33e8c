"""What the report's integration tests share: the slot the schedule invokes and the environment
of a report that posts to the Slack emulator, archives to moto and tells ops."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from report_fn.window import report_windows
from tests.emulators.slack import SlackEmulator
from tests.integration.conftest import Aws

NY = ZoneInfo("America/New_York")
SLOT = "2026-11-26T19:00:00Z"  # Thu 14:00 EST
AT = datetime(2026, 11, 26, 19, 0, tzinfo=UTC)
WINDOWS = report_windows(AT, NY)
EVENT = {
    "scheduled_time": SLOT,
    "execution_id": "0f8a3b1e-5d2c-4c57-9e51-6c1f0e7d2a10",
    "attempt": "1",
    "schedule_arn": "arn:aws:scheduler:us-east-1:123456789012:schedule/opsbundle/leads",
}


def configure(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, **extra: str
) -> None:
    env = {
        "REPORT_TIMEZONE": "America/New_York",
        "REPORT_TABLE": aws.table,
        "REPORT_ARCHIVE_BUCKET": aws.bucket,
        "REPORT_ARCHIVE_KMS_KEY_ID": aws.kms_key_arn,
        "SLACK_TOKEN_SECRET_ARN": aws.slack_secret,
        "SLACK_BASE_URL": slack.api_url,
        "SLACK_CHANNEL": "lead-reports",
        "SLACK_OPS_CHANNEL": "ops-alerts",
        "OPS_TOPIC_ARN": aws.topic_arn,
        "CRM_RETRY_SECONDS": "5",
        **extra,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
