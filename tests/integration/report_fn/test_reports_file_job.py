"""Several reports from one reports file, end to end on 127.0.0.1: report_fn → the Slack
emulator, with DynamoDB, S3, SNS and SES from moto."""

from __future__ import annotations

import io
import json
import threading
from pathlib import Path
from typing import Any

import pytest
from moto.core import DEFAULT_ACCOUNT_ID
from moto.ses.models import ses_backends
from PIL import Image

from opsbundle.cli import main
from opsbundle.exceptions import ConfigError
from report_fn import builder as builder_module
from report_fn.exceptions import CRMError, ReportError, SlotBusyError
from report_fn.handler import handler
from tests.emulators.slack import SlackEmulator
from tests.integration.conftest import REGION, Aws
from tests.integration.report_fn.fixtures import EVENT, SLOT, configure

CSV_HEADER = "id,created_at,source,campaign,case_type,state,status\n"


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def use_file(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, reports: Path, **extra: str
) -> None:
    configure(monkeypatch, aws, slack, REPORTS_FILE=str(reports), **extra)
    monkeypatch.delenv("SLACK_CHANNEL")  # every report names its own channels


def event(report: str, attempt: int = 1) -> dict[str, Any]:
    return {**EVENT, "report": report, "attempt": str(attempt)}


def top_level(slack: SlackEmulator, channel: str) -> list[dict[str, Any]]:
    return [m for m in slack.messages(channel) if m.get("thread_ts") in (None, m["ts"])]


def record(aws: Aws, report: str) -> dict[str, Any]:
    key = {"pk": {"S": f"{report}#{SLOT}"}}
    return aws.dynamodb.get_item(TableName=aws.table, Key=key).get("Item", {})


def export(tmp_path: Path, rows: list[str]) -> Path:
    return write(tmp_path / "leads.csv", CSV_HEADER + "".join(row + "\n" for row in rows))


TWO_AT_ONCE = """\
version: 1
defaults:
  timezone: America/New_York
  times: ["14:00"]
reports:
  leads:
    channels: [lead-reports]
    chart: true
  texas:
    title: Texas leads
    channels: [lead-reports, tx-intake]
    filters: {state: TX}
"""


def test_two_reports_due_at_the_same_minute_each_invoked_twice_at_once_post_once_each(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, tmp_path: Path
) -> None:
    slack.add_channel("tx-intake", "C0TXINTAKE")
    use_file(monkeypatch, aws, slack, write(tmp_path / "reports.yml", TWO_AT_ONCE))
    results: dict[str, list[str]] = {"leads": [], "texas": []}
    start = threading.Barrier(4)

    def invoke(name: str, attempt: int) -> None:
        start.wait()
        try:
            results[name].append(handler(event(name, attempt), None)["status"])
        except SlotBusyError:
            results[name].append("busy")

    threads = [
        threading.Thread(target=invoke, args=(name, attempt))
        for name in results
        for attempt in (1, 2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    for name, statuses in results.items():
        assert statuses.count("posted") == 1, (name, statuses)
        assert set(statuses) <= {"posted", "duplicate", "busy"}
        assert handler(event(name, 3), None)["status"] == "duplicate"  # the platform's retry
    shared = top_level(slack, "lead-reports")
    assert sorted(m["metadata"]["event_payload"]["report"] for m in shared) == ["leads", "texas"]
    assert {m["metadata"]["event_payload"]["slot"] for m in shared} == {SLOT}
    (texas,) = top_level(slack, "tx-intake")
    assert texas["text"].startswith("Texas leads 14:00 EST:")
    assert "Only state TX" in json.dumps(texas["blocks"])
    assert record(aws, "leads")["status"]["S"] == "POSTED"
    posts = record(aws, "texas")["posts"]["M"]
    assert set(posts) == {"lead-reports", "tx-intake"}
    assert posts["tx-intake"]["S"] == texas["ts"]
    # The chart went into the thread of the leads report's message through files_upload_v2.
    assert not slack.requests_to("/api/files.upload")
    leads_ts = next(m["ts"] for m in shared if m["metadata"]["event_payload"]["report"] == "leads")
    (reply,) = [
        m
        for m in slack.messages("lead-reports")
        if m.get("thread_ts") == leads_ts and m["ts"] != leads_ts
    ]
    (shared_file,) = reply["files"]
    assert shared_file["name"] == "leads-2026-11-26-1400-per-hour.png"
    assert shared_file["alt_txt"].startswith("Leads per hour · Thu 26 Nov to 14:00 EST. Today ")
    image = Image.open(io.BytesIO(slack.file_content(shared_file["id"])))
    assert image.format == "PNG" and image.size == (1000, 600)


def test_a_report_that_failed_before_posting_is_not_mistaken_for_another_in_its_channel(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, tmp_path: Path
) -> None:
    slack.add_channel("tx-intake", "C0TXINTAKE")
    use_file(monkeypatch, aws, slack, write(tmp_path / "reports.yml", TWO_AT_ONCE))
    assert handler(event("leads"), None)["status"] == "posted"
    real_build = builder_module.ReportBuilder.build
    calls = {"texas": 0}

    def flaky(self: builder_module.ReportBuilder, at: Any) -> Any:
        if self.name == "texas" and not calls["texas"]:
            calls["texas"] += 1
            raise CRMError("hubspot could not be reached (ConnectionError)")
        return real_build(self, at)

    monkeypatch.setattr(builder_module.ReportBuilder, "build", flaky)
    with pytest.raises(CRMError):
        handler(event("texas"), None)
    # The retry takes the slot over and looks for its message first: the leads report's
    # message of the same slot in the same channel is not it.
    assert handler(event("texas", 2), None)["status"] == "posted"
    reports = [m["metadata"]["event_payload"]["report"] for m in top_level(slack, "lead-reports")]
    assert sorted(reports) == ["leads", "texas"]


ALERTS = """\
reports:
  alert:
    times: ["14:00"]
    channels: [ops-alerts]
    post: when_flagged
    mention: S0123ABCDE
    thresholds:
      - when: leads >= 3
        say: Three or more leads today
      - signed == 0 after 15:00
  quiet:
    times: ["14:00"]
    channels: [ops-alerts]
    post: when_flagged
    thresholds: [leads > 1000]
"""


def test_a_condition_only_report_posts_only_when_something_holds_and_says_so_at_the_top(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, tmp_path: Path
) -> None:
    leads = export(
        tmp_path, [f"{n},2026-11-26T1{n}:00:00Z,<!here> Ads,Spot,MVA,TX,new" for n in range(4)]
    )
    use_file(
        monkeypatch,
        aws,
        slack,
        write(tmp_path / "reports.yml", ALERTS),
        CRM_KIND="csv",
        CRM_EXPORT_URL=str(leads),
    )

    assert handler(event("quiet"), None)["status"] == "quiet"
    assert handler(event("quiet", 2), None)["status"] == "duplicate"
    assert record(aws, "quiet")["status"]["S"] == "QUIET"
    assert slack.messages("ops-alerts") == []

    outcome = handler(event("alert"), None)

    assert outcome["status"] == "posted" and outcome["flags"] == ["Three or more leads today"]
    (message,) = slack.messages("ops-alerts")
    assert message["text"].startswith("<!subteam^S0123ABCDE> ⚠ Three or more leads today · ")
    header, flags = message["blocks"][:2]
    assert header["type"] == "header"
    assert flags["text"]["text"] == (
        "<!subteam^S0123ABCDE>\n:rotating_light: *Three or more leads today*: leads 4 &gt;= 3"
    )
    blocks = json.dumps(message["blocks"])
    assert "signed == 0 after 15:00: checked from 15:00" in blocks
    assert "&lt;!here&gt; Ads" in blocks and "<!here>" not in blocks + message["text"]


EMAILED = """\
reports:
  leads:
    times: ["14:00"]
    channels: [lead-reports]
    email:
      to: [intake@example.com, partner@example.com]
"""


def test_the_email_goes_once_through_ses_with_crm_text_escaped(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, tmp_path: Path
) -> None:
    import boto3

    boto3.client("sesv2", region_name=REGION).create_email_identity(
        EmailIdentity="reports@example.com"
    )
    leads = export(
        tmp_path,
        [
            "1,2026-11-26T15:00:00Z,<script>alert(1)</script>,Spot,MVA,TX,new",
            "2,2026-11-26T16:00:00Z,TV & Radio,Spot,MVA,TX,signed",
        ],
    )
    use_file(
        monkeypatch,
        aws,
        slack,
        write(tmp_path / "reports.yml", EMAILED),
        CRM_KIND="csv",
        CRM_EXPORT_URL=str(leads),
        REPORT_EMAIL_FROM="reports@example.com",
    )
    sent = ses_backends[DEFAULT_ACCOUNT_ID][REGION].sent_messages

    first = handler(event("leads"), None)
    second = handler(event("leads", 2), None)

    assert first["status"] == "posted" and first["emailed"] is True
    assert second["status"] == "duplicate"
    (mail,) = sent
    assert mail.source == "reports@example.com"
    assert mail.destinations["ToAddresses"] == ["intake@example.com", "partner@example.com"]
    assert mail.subject == "Lead report · Thu 26 Nov 14:00 EST: 2 leads"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in mail.body and "<script>" not in mail.body
    assert "TV &amp; Radio" in mail.body
    assert record(aws, "leads")["email"]["S"] == "sent"
    assert len(slack.messages("lead-reports")) == 1


def test_an_unverified_sender_fails_the_run_after_posting_and_never_reposts(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, tmp_path: Path
) -> None:
    use_file(
        monkeypatch,
        aws,
        slack,
        write(tmp_path / "reports.yml", EMAILED),
        REPORT_EMAIL_FROM="reports@unverified.example",
    )
    refused = r"\(REPORT_EMAIL_FROM: SES refused to send from reports@unverified"
    with pytest.raises(
        ReportError, match=r"report posted, but: the e-mail was not sent " + refused
    ):
        handler(event("leads"), None)
    assert record(aws, "leads")["email"]["S"] == "failed"
    with pytest.raises(ReportError, match="report duplicate, but: the e-mail was not sent"):
        handler(event("leads", 2), None)  # the retry tries the e-mail again, not the post
    assert len(slack.messages("lead-reports")) == 1


def test_a_channel_that_refuses_is_named_and_the_retry_posts_only_there(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, tmp_path: Path
) -> None:
    slack.add_channel("exec-reports", "C0EXEC0001", member=False)
    reports = write(
        tmp_path / "reports.yml",
        "reports:\n  leads:\n    times: ['14:00']\n    channels: [lead-reports, exec-reports]\n",
    )
    use_file(monkeypatch, aws, slack, reports)

    with pytest.raises(ConfigError) as refused:
        handler(event("leads"), None)
    assert str(refused.value).startswith(
        "reports file: report 'leads', field 'channels': Slack chat.postMessage failed: "
        "not_in_channel"
    )
    (notice,) = slack.messages("ops-alerts")
    assert "Posted to lead-reports, not yet to exec-reports" in notice["text"]
    slack.add_channel("exec-reports", "C0EXEC0001")  # the app is invited

    assert handler(event("leads", 2), None)["status"] == "posted"
    assert len(slack.messages("lead-reports")) == 1
    assert len(slack.messages("exec-reports")) == 1
    assert record(aws, "leads")["status"]["S"] == "POSTED"


def test_report_test_posts_to_the_test_channel_without_pinging_or_recording(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    aws: Aws,
    slack: SlackEmulator,
    tmp_path: Path,
) -> None:
    slack.add_channel("report-tests", "C0TESTS001")
    leads = export(tmp_path, [f"{n},2026-11-26T1{n}:00:00Z,TV,Spot,MVA,TX,new" for n in range(4)])
    reports = write(tmp_path / "reports.yml", "test_channel: report-tests\n" + ALERTS)
    use_file(monkeypatch, aws, slack, reports, CRM_KIND="csv", CRM_EXPORT_URL=str(leads))

    assert main(["report", "test", "quiet", "--at", SLOT]) == 0
    assert "on schedule, quiet would have posted nothing" in capsys.readouterr().out
    assert main(["report", "test", "alert", "--at", SLOT]) == 0
    assert "posted a test of alert to report-tests" in capsys.readouterr().out

    quiet, alert = slack.messages("report-tests")
    assert quiet["blocks"][0]["text"]["text"].startswith("TEST · Lead report: quiet · ")
    assert alert["text"].startswith("@usergroup:S0123ABCDE ⚠ Three or more leads today")
    assert "<!subteam" not in json.dumps(alert)
    assert record(aws, "alert") == {} and record(aws, "quiet") == {}
    assert slack.messages("ops-alerts") == []

    assert main(["report", "test", "alert", "--dry-run", "--format", "json", "--at", SLOT]) == 0
    flags = json.loads(capsys.readouterr().out)["flags"]
    assert [flag["state"] for flag in flags] == ["holds", "unknown"]
    assert main(["report", "test", "nope", "--dry-run"]) == 2
    assert "has no report 'nope' (has: alert, quiet)" in capsys.readouterr().err
