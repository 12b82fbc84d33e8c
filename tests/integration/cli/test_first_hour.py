"""Issue 12's table, row by row: what a new user tried in their first hour, run as they ran it
(the real `opsbundle` command in a process of its own) against moto_server and the emulators.

The log shipper's rows that need OpenSearch itself are in tests/integration/log_shipper/
test_cli_first_hour.py, deploy's progress in tests/integration/deploy/test_deploy_progress.py.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.emulators.hubspot import HubSpotEmulator, make_contacts
from tests.integration.cli_run import ROOT, clean_env, command, no_traceback, on_terminal, run
from tests.integration.conftest import MOTO_REGION as REGION
from tests.integration.conftest import Moto
from tests.integration.moto_process import free_port

FIXTURES = ROOT / "tests" / "fixtures" / "log_shipper"
SHIPPER_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:opsbundle-dev-log-shipper"
AT = "2026-11-26T14:00:00-05:00"


def one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    return lines[0]


# --- AWS_REGION is read everywhere ---------------------------------------------------------


@pytest.fixture
def hubspot(moto: Moto) -> Iterator[tuple[HubSpotEmulator, dict[str, str]]]:
    """20,000 HubSpot contacts created today, and the settings to read them (the token in
    moto's Secrets Manager, which only AWS_REGION locates)."""
    secret = moto.client("secretsmanager").create_secret(Name="hubspot", SecretString="pat-x")
    with HubSpotEmulator(token="pat-x") as emulator:
        start = datetime(2026, 11, 26, 5, 0, tzinfo=UTC)  # local midnight in New York
        emulator.add_objects("contacts", make_contacts(20_000, start, start + timedelta(hours=9)))
        yield (
            emulator,
            moto.env
            | {
                "CRM_SECRET_ARN": secret["ARN"],
                "CRM_BASE_URL": emulator.url,
                "CRM_REQUESTS_PER_SECOND": "0",
            },
        )


def test_report_from_hubspot_with_only_aws_region(
    hubspot: tuple[HubSpotEmulator, dict[str, str]],
) -> None:
    _, env = hubspot

    result = run(
        "report", "run", "--source", "hubspot", "--dry-run", "--at", AT, "--format", "json", env=env
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["totals"]["leads"] == 20_000
    assert result.stderr == ""  # not a terminal: no progress, nothing else to say


def test_hubspot_fetch_shows_pages_and_leads_on_a_terminal(
    hubspot: tuple[HubSpotEmulator, dict[str, str]],
) -> None:
    _, env = hubspot

    screen = on_terminal("report", "run", "--source", "hubspot", "--dry-run", "--at", AT, env=env)

    assert screen.returncode == 0, screen.terminal
    drawn = re.findall(
        r"hubspot: leads: ([\d,.k]+) leads .*?(\d+) pages, (\d+) searches", screen.terminal
    )
    assert drawn, screen.terminal
    assert int(drawn[-1][1]) >= 100  # 20,000 leads at 200 a page, in split windows
    assert int(drawn[-1][2]) > 3  # more searches than the report's three windows: split
    assert "New leads" in screen.stdout


def test_logs_subscribe_with_only_aws_region(moto: Moto) -> None:
    logs = moto.client("logs")
    for name in ("/aws/lambda/orders", "/aws/lambda/opsbundle-dev-log-shipper"):
        logs.create_log_group(logGroupName=name)

    result = run(
        "logs",
        "subscribe",
        "--prefix",
        "/aws/lambda/",
        "--destination-arn",
        SHIPPER_ARN,
        "--dry-run",
        "--format",
        "json",
        env=moto.env,
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["subscribed"] == ["/aws/lambda/orders"]


def test_targets_inspect_classic_with_only_aws_region(moto: Moto) -> None:
    moto.client("elb").create_load_balancer(
        LoadBalancerName="web",
        AvailabilityZones=[f"{REGION}a"],
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 8080}],
    )

    result = run("targets", "inspect", "web", "--classic", "--format", "json", env=moto.env)

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["region"] == REGION


def test_no_region_at_all_is_one_line_that_says_what_to_set(moto: Moto) -> None:
    env = {k: v for k, v in moto.env.items() if k != "AWS_REGION"}

    result = run(
        "logs", "subscribe", "--prefix", "/aws/", "--destination-arn", SHIPPER_ARN, env=env
    )

    assert result.returncode == 2
    assert one_line(result.stderr) == (
        "opsbundle: configuration error: AWS_REGION: no AWS region: set AWS_REGION "
        "(or AWS_DEFAULT_REGION), or use a profile with a region"
    )


def test_an_unknown_region_is_exit_2_naming_it() -> None:
    env = clean_env(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")

    result = run("targets", "inspect", "web", "--classic", "--region", "mars-1", env=env)

    assert result.returncode == 2, result.stderr
    assert one_line(result.stderr).startswith(
        "opsbundle: configuration error: --region: unknown region 'mars-1'; e.g. us-east-1"
    )


def test_targets_inspect_that_reaches_nothing_says_so_and_exits_1() -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    env = clean_env(
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION=REGION,
        AWS_ENDPOINT_URL=closed,
        AWS_MAX_ATTEMPTS="1",
    )
    arn = f"arn:aws:elasticloadbalancing:{REGION}:123456789012:targetgroup/web/0123456789abcdef"

    result = run("targets", "inspect", arn, env=env)

    assert result.returncode == 1, result.stderr
    line = one_line(result.stderr)
    assert line.startswith(f"opsbundle: failed: could not inspect {arn}: could not reach {closed}")
    assert "0 of 0" not in result.stdout + result.stderr


# --- OpenSearch that cannot be reached -------------------------------------------------------


def shipper_env(moto: Moto, url: str, **more: str) -> dict[str, str]:
    moto.client("s3").create_bucket(
        Bucket="dead-letters", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    return moto.env | {"OPENSEARCH_URL": url, "LOG_SHIPPER_DLQ_BUCKET": "dead-letters", **more}


def test_opensearch_at_a_closed_port_is_exit_2_naming_the_setting_and_loses_nothing(
    moto: Moto,
) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    env = shipper_env(moto, closed)
    started = time.monotonic()

    result = run("logs", "ship", str(FIXTURES / "cloudwatch_logs_event.json"), env=env)

    assert result.returncode == 2, result.stderr
    assert one_line(result.stderr) == (
        f"opsbundle: configuration error: OPENSEARCH_URL: nothing answers at {closed}: "
        "connection refused (3 tries); check the URL, that the cluster is up, and that this "
        "machine can reach it (VPC, security group, proxy)"
    )
    assert time.monotonic() - started < 15  # not 24 s of backoff
    listed = moto.client("s3").list_objects_v2(Bucket="dead-letters")
    assert listed.get("KeyCount", 0) == 0  # nothing was tried, so nothing was dead-lettered


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A port that accepts connections and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


def test_opensearch_that_never_answers_shows_each_try_and_when_it_gives_up(
    moto: Moto, silent_server: str
) -> None:
    env = shipper_env(moto, silent_server, OPENSEARCH_TIMEOUT_SECONDS="1")

    screen = on_terminal("logs", "ship", str(FIXTURES / "cloudwatch_logs_event.json"), env=env)

    assert screen.returncode == 2, screen.terminal
    lines = screen.lines()
    assert (
        f"OpenSearch at {silent_server}: no answer within 1 s (OPENSEARCH_TIMEOUT_SECONDS); "
        "attempt 2 of 3 (gives up after 3)"
    ) in lines, lines
    assert any(
        "attempt 1 of 3, waiting up to 1 s for an answer" in line
        for line in screen.terminal.split("\r")
    ), screen.terminal
    assert lines[-2] == (
        f"opsbundle: configuration error: OPENSEARCH_URL: nothing answers at {silent_server}: "
        "no answer within 1 s (OPENSEARCH_TIMEOUT_SECONDS) (3 tries); check the URL, that the "
        "cluster is up, and that this machine can reach it (VPC, security group, proxy)"
    ), lines


# --- logs without OpenSearch ------------------------------------------------------------------


def test_logs_ship_dry_run_prints_bulk_lines_offline_with_no_settings() -> None:
    env = clean_env(LOG_SHIPPER_RETENTION_DAYS="0")  # AWS's samples are from 2015

    result = run("logs", "ship", str(FIXTURES / "cloudwatch_logs_event.json"), "--dry-run", env=env)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 4
    actions, documents = [json.loads(x) for x in lines[::2]], [json.loads(x) for x in lines[1::2]]
    assert [a["create"]["_index"] for a in actions] == ["opsbundle-logs-default-2015.08.24"] * 2
    assert [a["create"]["_id"].split("-")[1] for a in actions] == ["eventId1", "eventId2"]
    assert {d["aws"]["cloudwatch"]["log_group"] for d in documents} == {"testLogGroup"}
    assert documents[0]["message"] == "[ERROR] First test message"
    assert one_line(result.stderr) == (
        "dry run (cloudwatch): 2 document(s) from 2 event(s); nothing sent"
    )


def test_logs_setup_print_works_offline() -> None:
    result = run("logs", "setup", "--print", env=clean_env())

    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["index_templates"]["opsbundle-logs"]["index_patterns"] == [
        "opsbundle-logs-default-*"
    ]


def test_logs_subscribe_refuses_a_destination_that_is_no_arn() -> None:
    result = run(
        "logs",
        "subscribe",
        "--prefix",
        "/aws/lambda/",
        "--destination-arn",
        "not-an-arn",
        "--dry-run",
        env=clean_env(AWS_REGION=REGION),
    )

    assert result.returncode == 2
    assert one_line(result.stderr).startswith(
        "opsbundle: configuration error: --destination-arn: 'not-an-arn' is not a Lambda "
        "function or Kinesis stream ARN"
    )


# --- exports ------------------------------------------------------------------------------------


def export(
    tmp_path: Path, name: str, content: bytes, kind: str, **more: str
) -> tuple[int, str, str]:
    path = tmp_path / name
    path.write_bytes(content)
    env = clean_env(CRM_EXPORT_URL=str(path), **more)
    result = run(
        "report", "run", "--source", kind, "--dry-run", "--at", AT, "--format", "json", env=env
    )
    no_traceback(result.stdout, result.stderr)
    return result.returncode, result.stdout, result.stderr


def test_an_empty_json_export_fails_as_an_empty_csv_does(tmp_path: Path) -> None:
    for name, kind in (("leads.json", "json"), ("leads.csv", "csv")):
        code, out, err = export(tmp_path, name, b"", kind)

        assert code == 2 and out == ""
        assert one_line(err) == (
            f"opsbundle: configuration error: CRM_EXPORT_URL: the export {tmp_path / name} is "
            "empty (0 bytes): nothing to report from; check the job that writes it"
        )


LATIN1 = "id,created_at,source,campaign\n1,2026-11-26T10:00:00-05:00,web,Campaña Señor\n"


def test_a_latin1_csv_is_refused_with_the_encoding_to_set(tmp_path: Path) -> None:
    code, out, err = export(tmp_path, "leads.csv", LATIN1.encode("latin-1"), "csv")

    assert code == 2 and out == ""
    assert one_line(err) == (
        "opsbundle: configuration error: CRM_EXPORT_ENCODING: the export is not utf-8 (byte "
        "0xf1 on line 2); it reads as cp1252: set CRM_EXPORT_ENCODING=cp1252, or export it as "
        "UTF-8"
    )


def test_the_encoding_setting_reads_it(tmp_path: Path) -> None:
    code, out, err = export(
        tmp_path, "leads.csv", LATIN1.encode("latin-1"), "csv", CRM_EXPORT_ENCODING="cp1252"
    )

    assert code == 0, err
    assert "Campaña Señor" in out


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (
            b'[{"id": "1", "created_at": "2026-11-26T10:00:00-05:00"}, {"id": "2", "cre',
            "line 1, column 70 (offset 69: Unterminated string starting at)",
        ),
        (b'{"id": "1"}\n{"id": "2"', "line 2, column 11 (offset 22: Expecting ',' delimiter)"),
        (b"\n\n  nonsense\n", "line 3, column 3 (offset 4: Expecting value)"),
    ],
)
def test_a_json_export_that_is_not_json_says_where(
    tmp_path: Path, content: bytes, where: str
) -> None:
    code, _, err = export(tmp_path, "leads.json", content, "json")

    assert code == 2
    assert one_line(err) == (
        f"opsbundle: configuration error: CRM_EXPORT_URL: the export is not valid JSON at "
        f'{where}; it must be a list of objects, {{"records": [...]}}, or one object a line '
        "(NDJSON)"
    )
    assert "CRM_FIELD_MAP" not in err


def test_a_json_export_that_is_an_object_is_exit_2_naming_the_shapes(tmp_path: Path) -> None:
    code, _, err = export(tmp_path, "leads.json", b'{"leads": [{"lead_id": "1"}]}', "json")

    assert code == 2
    assert one_line(err) == (
        "opsbundle: configuration error: CRM_EXPORT_URL: the JSON export is an object with "
        'keys leads; it must be a list of objects, {"records": [...]}, or one object a line '
        "(NDJSON)"
    )


def test_a_json_file_read_as_csv_is_a_short_message(tmp_path: Path) -> None:
    records = [{"lead_id": str(n), "notes": "x" * 500} for n in range(200)]
    code, _, err = export(tmp_path, "leads.json", json.dumps(records).encode(), "csv")

    assert code == 2
    assert one_line(err) == (
        "opsbundle: configuration error: CRM_EXPORT_URL: the export looks like JSON, not CSV: "
        "use --source json (CRM_KIND=json)"
    )


# --- deploy, dashboards, cost, help ---------------------------------------------------------


def test_deploy_dry_run_lists_every_placeholder_of_the_committed_plan_at_once() -> None:
    result = run("deploy", "--env", "dev", "--dry-run", env=clean_env())

    assert result.returncode == 2
    line = one_line(result.stderr)
    assert line.startswith(
        "opsbundle: configuration error: cloudformation/params/dev.json: "
        "7 placeholders (REPLACE_ME) to set first: "
    )
    placeholders = (ROOT / "cloudformation/params/dev.json").read_text().count("REPLACE_ME")
    assert line.count("stacks.") == placeholders - 1  # one more is in the file's description


def test_dashboards_build_to_a_folder_it_cannot_write_names_out() -> None:
    result = run("dashboards", "build", "--out", "/proc/nope", env=clean_env())

    assert result.returncode == 2
    assert one_line(result.stderr).startswith(
        "opsbundle: configuration error: --out: cannot write /proc/nope"
    )


@pytest.mark.parametrize("url", ["notaurl", "https://exa mple.com/x", "ftp://example.com/"])
def test_a_runbook_base_url_that_is_no_url_is_refused(tmp_path: Path, url: str) -> None:
    result = run(
        "dashboards",
        "build",
        "--out",
        str(tmp_path),
        "--runbook-base-url",
        url,
        env=clean_env(),
    )

    assert result.returncode == 2
    assert one_line(result.stderr).startswith(
        f"opsbundle: configuration error: --runbook-base-url: {url!r} is not a URL"
    )
    assert list(tmp_path.iterdir()) == []  # refused before writing anything


def test_log_level_help_says_the_true_default() -> None:
    result = run("--help", env=clean_env())

    assert result.returncode == 0
    help_text = " ".join(result.stdout.split())
    assert "DEBUG, INFO, WARNING (default), ERROR" in help_text
    assert "INFO (default)" not in help_text


def test_cost_in_json_is_money_to_the_cent() -> None:
    result = run("cost", "--format", "json", env=clean_env())

    assert result.returncode == 0, result.stderr
    estimate = json.loads(result.stdout)
    for value in [line["cost"] for line in estimate["lines"]] + [estimate["total_usd"]]:
        assert round(value, 2) == value and len(repr(value).partition(".")[2]) <= 2, value
    assert 0.45 in [line["cost"] for line in estimate["lines"]]  # 0.44999999999999996 before


# --- pipes, Ctrl-C, set-up --------------------------------------------------------------------


def test_output_closed_early_is_a_quiet_exit() -> None:
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        command("report", "run", "--source", "sample", "--dry-run"),
        cwd=ROOT,
        env=clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()  # as `| head` does once it has its lines
    err = process.stderr.read()
    process.wait(timeout=60)

    assert err == ""
    assert process.returncode == 141


def test_the_hubspot_benchmark_stops_cleanly_on_ctrl_c() -> None:
    process = subprocess.Popen(
        [sys.executable, "bench/hubspot_fetch_bench.py", "--leads", "20000"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    process.stdout.readline()  # its first line: the emulator is loaded, the runs start
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=60)

    assert process.returncode == 130, err
    assert err.strip() == "interrupted"
    no_traceback(out, err)


def test_report_validate_refuses_what_the_deploy_would_and_says_it_in_one_line(
    tmp_path: Path,
) -> None:
    reports = tmp_path / "reports.yml"
    reports.write_text("reports:\n  tx-a: {times: ['08:00']}\n  tx_a: {times: ['09:00']}\n")

    result = run("report", "validate", str(reports), env=clean_env())

    assert result.returncode == 2 and result.stdout == ""
    assert one_line(result.stderr) == (
        f"opsbundle: configuration error: {reports}: report 'tx_a': its schedule would be "
        "named TxA, as report 'tx-a''s is: rename one of them"
    )
    rendered = subprocess.run(  # noqa: S603 - our own module, as make lint runs it
        [sys.executable, "-m", "opsbundle.deployment.report_stack", str(reports), str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert rendered.returncode == 2 and one_line(rendered.stderr) == one_line(result.stderr)


def test_audit_shows_what_it_waits_on_on_a_terminal_and_nothing_in_a_pipe(moto: Moto) -> None:
    env = {**moto.env, "AUDIT_CONTACT_DOMAINS": "example.com", "AUDIT_MONITORS": "none"}

    screen = on_terminal("audit", env=env)

    assert screen.returncode == 1, screen.terminal  # a fresh account breaks the baseline
    assert "reading the account (" in screen.terminal  # the wait, with the time waited
    assert "root-mfa" in screen.stdout or "Root" in screen.stdout
    piped = run("audit", env=env)
    assert piped.returncode == 1 and "reading the account" not in piped.stderr
