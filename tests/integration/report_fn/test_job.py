"""The lead report end to end on 127.0.0.1: CRM emulators → report_fn → Slack emulator,
with DynamoDB, S3, Secrets Manager and SNS from moto."""

from __future__ import annotations

import csv
import io
import json
import threading
import time
from datetime import timedelta
from typing import Any

import pytest

from opsbundle.cli import main
from opsbundle.exceptions import ConfigError, SlackError
from report_fn.exceptions import CRMAuthError, CRMError, ReportError, SlotBusyError
from report_fn.handler import handler
from tests.emulators.hubspot import HubSpotEmulator, make_contacts
from tests.emulators.salesforce import SalesforceEmulator, make_leads
from tests.emulators.slack import SlackEmulator
from tests.integration.conftest import Aws
from tests.integration.report_fn.fixtures import EVENT, SLOT, WINDOWS, configure


def use_hubspot(
    monkeypatch: pytest.MonkeyPatch,
    aws: Aws,
    slack: SlackEmulator,
    hubspot: HubSpotEmulator,
    **extra: str,
) -> None:
    configure(
        monkeypatch,
        aws,
        slack,
        CRM_KIND="hubspot",
        CRM_SECRET_ARN=aws.hubspot_secret,
        CRM_BASE_URL=hubspot.url,
        **extra,
    )


def slot_record(aws: Aws) -> dict[str, Any]:
    item = aws.dynamodb.get_item(TableName=aws.table, Key={"pk": {"S": f"leads#{SLOT}"}})
    return item.get("Item", {})


def today_contacts(n: int, seed: int = 1) -> list[dict[str, Any]]:
    return make_contacts(n, WINDOWS.today.start, WINDOWS.today.end, seed=seed)


def test_the_same_slot_invoked_twice_posts_once(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, hubspot: HubSpotEmulator
) -> None:
    hubspot.add_objects("contacts", today_contacts(300))
    hubspot.add_objects(
        "contacts", make_contacts(250, WINDOWS.yesterday.start, WINDOWS.yesterday.end, seed=2)
    )
    use_hubspot(monkeypatch, aws, slack, hubspot, REPORT_ATTACH_CSV="true")

    first = handler(EVENT, None)
    second = handler({**EVENT, "attempt": "2"}, None)

    assert first["status"] == "posted"
    assert first["leads"] == 300
    assert second["status"] == "duplicate"
    assert second["ts"] == first["ts"]
    top_level = [m for m in slack.messages("lead-reports") if m.get("thread_ts") in (None, m["ts"])]
    assert len(top_level) == 1
    message = top_level[0]
    assert message["ts"] == first["ts"]
    assert message["metadata"]["event_payload"]["slot"] == SLOT
    assert "300 new leads" in message["text"]
    assert "▲ 50 (+20%) vs yesterday" in message["text"]
    record = slot_record(aws)
    assert record["status"]["S"] == "POSTED"
    assert record["ts"]["S"] == first["ts"]
    assert record["archived"]["BOOL"] is True
    # The archive holds the same numbers under the local, date-partitioned key.
    key = "reports/leads/year=2026/month=11/day=26/1400.json"
    archived = json.loads(aws.s3.get_object(Bucket=aws.bucket, Key=key)["Body"].read())
    assert archived["totals"]["leads"] == 300
    assert archived["comparisons"]["yesterday"]["totals"]["leads"] == 250
    head = aws.s3.head_object(Bucket=aws.bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == aws.kms_key_arn
    # The lead list went into the thread as a CSV, through the v2 upload flow.
    assert not slack.requests_to("/api/files.upload")
    replies = [m for m in slack.messages("lead-reports") if m["ts"] != first["ts"]]
    assert all(m["thread_ts"] == first["ts"] for m in replies)
    (file_id,) = [f["id"] for m in replies for f in m.get("files", [])]
    rows = list(csv.DictReader(io.StringIO(slack.file_content(file_id).decode())))
    assert len(rows) == 300


def test_concurrent_duplicates_still_post_once(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, hubspot: HubSpotEmulator
) -> None:
    hubspot.add_objects("contacts", today_contacts(50))
    use_hubspot(monkeypatch, aws, slack, hubspot)
    results: list[Any] = []

    def invoke() -> None:
        try:
            results.append(handler(EVENT, None)["status"])
        except SlotBusyError as error:
            results.append(type(error).__name__)

    threads = [threading.Thread(target=invoke) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("posted") == 1
    assert set(results) <= {"posted", "duplicate", "SlotBusyError"}
    assert handler(EVENT, None)["status"] == "duplicate"  # the scheduler's retry
    assert len(slack.messages("lead-reports")) == 1


def test_a_crm_outage_posts_a_notice_fails_and_the_retry_posts_once(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, hubspot: HubSpotEmulator
) -> None:
    hubspot.add_objects("contacts", today_contacts(40))
    use_hubspot(monkeypatch, aws, slack, hubspot)
    hubspot.stop()  # the CRM is down: connection refused

    with pytest.raises(CRMError, match="could not be reached"):
        handler(EVENT, None)

    assert slack.messages("lead-reports") == []
    (notice,) = slack.messages("ops-alerts")
    assert "leads report for Thu 26 Nov 14:00 EST failed" in notice["text"]
    (published,) = aws.notices()
    assert published["Subject"] == "leads report for Thu 26 Nov 14:00 EST failed"
    assert slot_record(aws)["status"]["S"] == "FAILED"

    hubspot.start()  # back up: the scheduler's retry builds and posts the slot
    assert handler(EVENT, None)["status"] == "posted"
    assert handler(EVENT, None)["status"] == "duplicate"
    assert len(slack.messages("lead-reports")) == 1


def test_crm_401_is_one_request_a_clear_message_and_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    aws: Aws,
    slack: SlackEmulator,
) -> None:
    with HubSpotEmulator(token="pat-another-portal") as hubspot:
        use_hubspot(monkeypatch, aws, slack, hubspot)
        with pytest.raises(CRMAuthError, match="refused the credentials"):
            handler(EVENT, None)
        assert len(hubspot.requests) == 1  # no retry storm
        code = main(["report", "run", "--at", SLOT])
        assert len(hubspot.requests) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert err[-1].startswith("opsbundle: configuration error: CRM_SECRET_ARN: hubspot refused")
    assert "INVALID_AUTHENTICATION" in err[-1]


def test_hubspot_window_over_10k_is_split_and_every_lead_counted(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, hubspot: HubSpotEmulator
) -> None:
    hubspot.add_objects("contacts", today_contacts(23_456, seed=3))
    use_hubspot(monkeypatch, aws, slack, hubspot, CRM_REQUESTS_PER_SECOND="0")
    hubspot.fail_next(
        429,
        {
            "status": "error",
            "message": "You have reached your secondly limit.",
            "category": "RATE_LIMITS",
        },
        {"Retry-After": "1"},
    )

    started = time.monotonic()
    outcome = handler(EVENT, None)

    assert time.monotonic() - started >= 1.0  # the 429's Retry-After was waited out
    assert outcome["leads"] == 23_456
    statuses = [r for r in hubspot.requests if "/search" in r.path]
    assert all(isinstance(r.body, dict) and r.body["limit"] == 200 for r in statuses)
    (message,) = slack.messages("lead-reports")
    assert "Partial data" not in json.dumps(message["blocks"])


def test_salesforce_pages_through_next_records_url_and_refreshes_an_expired_token(
    monkeypatch: pytest.MonkeyPatch,
    aws: Aws,
    slack: SlackEmulator,
    salesforce: SalesforceEmulator,
) -> None:
    salesforce.add_records(make_leads(4_500, WINDOWS.today.start, WINDOWS.today.end, seed=4))
    salesforce.add_records(
        make_leads(10, WINDOWS.today.end, WINDOWS.today.end + timedelta(hours=1))
    )
    configure(
        monkeypatch,
        aws,
        slack,
        CRM_KIND="salesforce",
        CRM_SECRET_ARN=aws.salesforce_secret,
        CRM_BASE_URL=salesforce.url,
    )
    salesforce.fail_next(
        401,
        [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}],
        path="/services/data/v60.0/query/",
    )

    outcome = handler(EVENT, None)

    assert outcome["leads"] == 4_500
    token_calls = salesforce.requests_to("/services/oauth2/token")
    assert len(token_calls) == 2  # first login, then once more after the 401
    # 4,500 leads: the query's first page, then two nextRecordsUrl pages (2,000 a page);
    # the first of those was refused once (expired session), then asked again.
    paths = [r.path.split("?")[0] for r in salesforce.requests[:6]]
    page_2, page_3 = paths[2], paths[5]
    assert paths == [
        "/services/oauth2/token",
        "/services/data/v60.0/query",
        page_2,
        "/services/oauth2/token",
        page_2,
        page_3,
    ]
    assert page_2.endswith("-2000") and page_3.endswith("-4000")


def test_malformed_rows_are_skipped_counted_and_shown(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, tmp_path: Any
) -> None:
    export = tmp_path / "leads.csv"
    export.write_text(
        "id,created_at,source,campaign,case_type,state,status\n"
        "1,2026-11-26T09:00:00-05:00,TV,<!channel> Spot,Mass Torts,TX,new\n"
        "2,11/26/2026 10:30,Radio,Drive Time,Dog Bite,FL,signed\n"
        "3,,TV,Spot,MVA,TX,new\n"
        "4,not a date,TV,Spot,MVA,TX,new\n"
        "2,2026-11-26T11:00:00-05:00,Radio,Drive Time,Dog Bite,FL,signed\n"
        "5,2026-11-26T12:00:00-05:00,TV,Spot,MVA,TX,Retained\n"
    )
    configure(monkeypatch, aws, slack, CRM_KIND="csv", CRM_EXPORT_URL=str(export))

    outcome = handler(EVENT, None)

    assert outcome["leads"] == 3
    (message,) = slack.messages("lead-reports")
    blocks = json.dumps(message["blocks"])
    assert (
        "3 of 6 rows skipped: 1 unreadable created time, 1 repeated id, 1 no created time" in blocks
    )
    assert "counted as other: Retained (1)" in blocks
    assert "&lt;!channel&gt; Spot" in blocks and "<!channel>" not in blocks


def test_comparisons_come_from_the_archive_when_the_export_does_not_reach_back(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, tmp_path: Any
) -> None:
    export = tmp_path / "today.json"
    export.write_text(
        json.dumps(
            {
                "records": [
                    {"id": str(n), "created_at": f"2026-11-26T1{n}:00:00Z", "status": "new"}
                    for n in range(5)
                ]
            }
        )
    )
    yesterday_key = "reports/leads/year=2026/month=11/day=25/1400.json"
    aws.s3.put_object(
        Bucket=aws.bucket, Key=yesterday_key, Body=json.dumps({"totals": {"leads": 4, "signed": 1}})
    )
    configure(monkeypatch, aws, slack, CRM_KIND="json", CRM_EXPORT_URL=f"file://{export}")

    handler(EVENT, None)

    key = "reports/leads/year=2026/month=11/day=26/1400.json"
    report = json.loads(aws.s3.get_object(Bucket=aws.bucket, Key=key)["Body"].read())
    assert report["totals"]["leads"] == 5
    assert report["comparisons"]["yesterday"]["origin"] == "archive"
    assert report["comparisons"]["yesterday"]["totals"]["leads"] == 4
    assert report["comparisons"]["last_week"]["origin"] == "unavailable"
    assert "does not reach back" in report["comparisons"]["last_week"]["note"]


def test_a_run_that_died_after_posting_is_recovered_without_a_second_post(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, hubspot: HubSpotEmulator
) -> None:
    from report_fn import ledger

    hubspot.add_objects("contacts", today_contacts(20))
    use_hubspot(monkeypatch, aws, slack, hubspot)

    def die(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("Lambda timed out")

    with monkeypatch.context() as patch:
        patch.setattr(ledger.SlotLedger, "mark_posted", die)
        with pytest.raises(RuntimeError):
            handler(EVENT, None)
    assert len(slack.messages("lead-reports")) == 1
    assert slot_record(aws)["status"]["S"] == "IN_PROGRESS"

    # While the dead run's lease holds, a retry is told to come back later.
    with pytest.raises(SlotBusyError):
        handler(EVENT, None)
    aws.dynamodb.update_item(  # the lease runs out
        TableName=aws.table,
        Key={"pk": {"S": f"leads#{SLOT}"}},
        UpdateExpression="SET lease_until = :past",
        ExpressionAttributeValues={":past": {"N": "1"}},
    )
    outcome = handler(EVENT, None)
    assert outcome["status"] == "recovered"
    assert len(slack.messages("lead-reports")) == 1
    assert slot_record(aws)["status"]["S"] == "POSTED"


def test_slack_refusing_the_channel_fails_the_run_and_tells_ops(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, hubspot: HubSpotEmulator
) -> None:
    use_hubspot(
        monkeypatch, aws, slack, hubspot, SLACK_CHANNEL="no-such-channel", SLACK_OPS_CHANNEL=""
    )
    with pytest.raises(ConfigError, match=r"SLACK_CHANNEL: .*channel_not_found"):
        handler(EVENT, None)
    (published,) = aws.notices()
    assert "channel_not_found" in published["Message"]
    assert slot_record(aws)["status"]["S"] == "FAILED"


def test_slack_rate_limit_is_waited_out(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, hubspot: HubSpotEmulator
) -> None:
    use_hubspot(monkeypatch, aws, slack, hubspot)
    slack.ratelimit_next(retry_after=1, method="chat.postMessage")
    assert handler(EVENT, None)["status"] == "posted"
    assert len(slack.messages("lead-reports")) == 1


def test_cli_posts_for_real_and_a_missing_secret_is_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    aws: Aws,
    slack: SlackEmulator,
) -> None:
    configure(monkeypatch, aws, slack)  # CRM_KIND defaults to the sample
    assert main(["report", "run", "--at", SLOT]) == 0
    assert "posted: channel C0LEADS01" in capsys.readouterr().out
    assert main(["report", "run", "--at", SLOT, "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["outcome"]["status"] == "duplicate"

    monkeypatch.setenv(
        "SLACK_TOKEN_SECRET_ARN",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf",
    )
    assert main(["report", "run", "--at", "2026-11-26T13:00:00Z"]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (
        "opsbundle: configuration error: SLACK_TOKEN_SECRET_ARN: could not read secret "
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf: "
        "ResourceNotFoundException"
    )


def test_a_post_that_timed_out_but_went_through_is_not_posted_again(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, hubspot: HubSpotEmulator
) -> None:
    from opsbundle.slack import SlackClient
    from report_fn import assemble

    hubspot.add_objects("contacts", today_contacts(30))
    use_hubspot(monkeypatch, aws, slack, hubspot)
    real_client = SlackClient

    def impatient(**kwargs: Any) -> SlackClient:
        return real_client(**{**kwargs, "timeout": 1})

    monkeypatch.setattr(assemble, "SlackClient", impatient)
    slack.delay_next(2.5, path="/api/chat.postMessage")  # Slack is slow, then posts anyway

    with pytest.raises(SlackError) as failed:
        handler(EVENT, None)
    assert failed.value.uncertain
    assert slot_record(aws)["status"]["S"] == "FAILED"
    time.sleep(2.0)  # the slow post lands
    assert len(slack.messages("lead-reports")) == 1

    outcome = handler(EVENT, None)  # the platform's retry finds it instead of posting again
    assert outcome["status"] == "recovered"
    assert len(slack.messages("lead-reports")) == 1
    assert slot_record(aws)["ts"]["S"] == slack.messages("lead-reports")[0]["ts"]


def test_a_crm_answering_html_fails_cleanly_and_releases_the_slot(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, hubspot: HubSpotEmulator
) -> None:
    use_hubspot(monkeypatch, aws, slack, hubspot)
    hubspot.fail_next(200, b"<html>Maintenance</html>", {"Content-Type": "text/html"})
    with pytest.raises(CRMError, match="HTTP 200 with text/html, not JSON"):
        handler(EVENT, None)
    assert slot_record(aws)["status"]["S"] == "FAILED"
    assert len(slack.messages("ops-alerts")) == 1
    assert handler(EVENT, None)["status"] == "posted"


def test_an_export_without_the_mapped_columns_is_a_setting_error(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    aws: Aws,
    slack: SlackEmulator,
    tmp_path: Any,
) -> None:
    export = tmp_path / "leads.csv"
    export.write_text("Lead ID,Created On,Status\n1,2026-11-26T09:00:00-05:00,new\n")
    configure(monkeypatch, aws, slack, CRM_KIND="csv", CRM_EXPORT_URL=str(export))
    assert main(["report", "run", "--at", SLOT]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("opsbundle: configuration error: CRM_FIELD_MAP: the CSV export has no")
    assert "'id', 'created_at'" in err and "'Lead ID', 'Created On', 'Status'" in err
    assert slack.messages("lead-reports") == []
    assert len(slack.messages("ops-alerts")) == 1


def test_a_failed_csv_attachment_fails_the_run_but_never_posts_twice(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, hubspot: HubSpotEmulator
) -> None:
    hubspot.add_objects("contacts", today_contacts(10))
    use_hubspot(monkeypatch, aws, slack, hubspot, REPORT_ATTACH_CSV="true")
    slack.fail_next(
        200, {"ok": False, "error": "internal_error"}, path="/api/files.getUploadURLExternal"
    )
    with pytest.raises(ReportError, match="report posted, but: the CSV was not attached"):
        handler(EVENT, None)
    assert handler(EVENT, None)["status"] == "duplicate"
    assert len(slack.messages("lead-reports")) == 1
    assert slot_record(aws)["archived"]["BOOL"] is True


def test_a_huge_report_is_accepted_by_slack(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, tmp_path: Any
) -> None:
    rows = ["id,created_at,source,campaign,case_type,state,status"]
    for n in range(3000):
        rows.append(
            f"{n},2026-11-26T1{n % 9}:00:00Z,Source {n % 700} & <co>,"
            f"Campaign {n} {'x' * 90},Case {n % 400},S{n % 60},signed"
        )
    export = tmp_path / "big.csv"
    export.write_text("\n".join(rows) + "\n")
    configure(
        monkeypatch, aws, slack, CRM_KIND="csv", CRM_EXPORT_URL=str(export), REPORT_TOP_N="100"
    )
    assert handler(EVENT, None)["leads"] == 3000
    (message,) = slack.messages("lead-reports")
    assert len(message["blocks"]) <= 50


def test_the_claim_lasts_as_long_as_the_lambda_may_run(
    monkeypatch: pytest.MonkeyPatch, aws: Aws, slack: SlackEmulator, hubspot: HubSpotEmulator
) -> None:
    from report_fn import ledger

    use_hubspot(monkeypatch, aws, slack, hubspot)

    class Context:
        def get_remaining_time_in_millis(self) -> int:
            return 120_000

    def die(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("killed")

    monkeypatch.setattr(ledger.SlotLedger, "mark_posted", die)
    before = time.time()
    with pytest.raises(RuntimeError):
        handler(EVENT, Context())
    lease_until = int(slot_record(aws)["lease_until"]["N"])
    assert before + 120 + 30 - 2 <= lease_until <= time.time() + 120 + 30


def test_no_aws_region_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    aws: Aws,
    slack: SlackEmulator,
) -> None:
    configure(monkeypatch, aws, slack)
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    assert main(["report", "run", "--at", SLOT]) == 2
    assert capsys.readouterr().err.strip() == (
        "opsbundle: configuration error: AWS_REGION: no AWS region: "
        "set AWS_REGION (or AWS_DEFAULT_REGION), or use a profile with a region"
    )
