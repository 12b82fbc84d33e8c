"""What the reports file adds around the numbers: flags first, mentions only from the file,
escaped text in Slack and in the e-mail, settings from the file over the environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from opsbundle.cli import main
from opsbundle.exceptions import ConfigError
from opsbundle.settings import Env
from report_fn import render
from report_fn.config import settings_for
from report_fn.exceptions import EventError
from report_fn.filters import LeadFilter
from report_fn.handler import report_name
from report_fn.mail import email_message
from report_fn.thresholds import Condition, Threshold, evaluate
from tests.unit.report_fn.fixtures import leads_named, make_report

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "reports.example.yml"


def framing(*thresholds: Threshold, ping: bool = True, test: bool = False) -> render.Framing:
    report = make_report(leads_named(["<!channel>", "TV", "TV"]))
    return render.Framing(
        title="Night <desk>",
        flags=tuple(evaluate(report, thresholds)),
        limited_to=LeadFilter.of({"source": "T*"}).describe(),
        ping=ping,
        test=test,
    )


def held(text: str, say: str | None = None, mention: str | None = None) -> Threshold:
    return Threshold(Condition.parse(text), say=say, mention=mention)


def test_a_raised_flag_is_first_with_its_mention_and_escaped_text() -> None:
    report = make_report(leads_named(["<!channel>", "TV", "TV"]))
    frame = framing(
        held("leads >= 3", say="Busy & <loud>", mention="S0123ABCDE"), held("leads > 100")
    )
    message = render.slack_message(report, frame)
    header, flags = message.blocks[0], message.blocks[1]
    assert header["text"]["text"].startswith("Night <desk> · Thu 26 Nov · 14:00 EST")
    assert flags["text"]["text"] == (
        "<!subteam^S0123ABCDE>\n:rotating_light: *Busy &amp; &lt;loud&gt;*: leads 3 &gt;= 3"
    )
    assert message.text.startswith("<!subteam^S0123ABCDE> ⚠ Busy &amp; &lt;loud&gt; · Night")
    blocks = json.dumps(message.blocks)
    assert "Only source T*" in blocks and "leads &gt; 100: clear" in blocks
    assert "<!channel>" not in blocks + message.text  # the CRM's text stays escaped
    assert message.metadata["event_payload"]["report"] == "leads"


@pytest.mark.parametrize(
    ("value", "pinged", "shown"),
    [("here", "<!here>", "@here"), ("channel", "<!channel>", "@channel"),
     ("S0123ABCDE", "<!subteam^S0123ABCDE>", "@usergroup:S0123ABCDE")],
)  # fmt: skip  # one case a line
def test_mentions_notify_only_outside_tests(value: str, pinged: str, shown: str) -> None:
    assert render.mention(value) == pinged
    assert render.mention(value, ping=False) == shown
    report = make_report(leads_named(["TV"]))
    message = render.slack_message(
        report, framing(held("leads > 0", mention=value), ping=False, test=True)
    )
    assert message.text.startswith(f"{shown} ⚠ leads &gt; 0 · TEST · Night")
    assert "<!" not in json.dumps(message.blocks) + message.text


def test_without_thresholds_the_message_is_what_it_always_was() -> None:
    report = make_report(leads_named(["TV", "Radio"]))
    assert render.slack_message(report, render.Framing()) == render.slack_message(report)
    assert render.text_report(report, render.Framing()) == render.text_report(report)


def test_the_email_is_escaped_html_with_the_flags_first() -> None:
    report = make_report(leads_named(["<script>x</script>", "TV & Radio"]))
    mail = email_message(report, framing(held("leads >= 2", say="Two <b>leads</b>")))
    assert mail.subject == "⚠ Night <desk> · Thu 26 Nov 14:00 EST: 2 leads"
    assert "&lt;script&gt;x&lt;/script&gt;" in mail.html and "<script>" not in mail.html
    assert "TV &amp; Radio" in mail.html and "Two &lt;b&gt;leads&lt;/b&gt;" in mail.html
    assert mail.html.index("Two &lt;b&gt;") < mail.html.index("New leads")
    assert mail.text.startswith("Night <desk> · Thu 26 Nov · 14:00 EST")
    assert email_message(report, subject="Daily").subject == "Daily"


def test_a_report_s_settings_come_from_the_file_then_the_environment() -> None:
    env = Env(
        {
            "REPORTS_FILE": str(EXAMPLE),
            "REPORT_TOP_N": "9",
            "CRM_KIND": "sample",
            "SLACK_CHANNEL": "fallback",
            "REPORT_ATTACH_CSV": "true",
        }
    )
    tx = settings_for("tx-mass-torts", env=env, dry_run=True)
    assert tx.name == "tx-mass-torts" and tx.top_n == 3 and tx.channels == ("#tx-intake",)
    assert tx.breakdowns == ("campaign", "source") and tx.attach_csv is True
    assert tx.email_to == ("intake-tx@example.com",) and tx.test_channel == "report-tests"
    assert tx.channel_setting == "reports file: report 'tx-mass-torts', field 'channels'"
    leads = settings_for("leads", env=env, dry_run=True)
    assert leads.top_n == 5 and leads.chart is True  # the file's defaults, then its report
    assert settings_for("leads", env=env, top_n=7, dry_run=True).top_n == 7  # a flag wins


def test_without_a_file_only_the_environment_s_report_exists() -> None:
    env = Env({"REPORT_NAME": "leads"})
    assert settings_for(None, env=env, dry_run=True).name == "leads"
    assert settings_for("leads", env=env, dry_run=True).name == "leads"
    with pytest.raises(ConfigError, match="REPORTS_FILE: is not set, so there is no report 'tx'"):
        settings_for("tx", env=env, dry_run=True)
    with pytest.raises(EventError, match=r"no report named and .* has 3: leads, tx-mass-torts"):
        settings_for(None, env=Env({"REPORTS_FILE": str(EXAMPLE)}), dry_run=True)


def test_posting_an_emailed_report_needs_a_sender() -> None:
    posting = {"SLACK_TOKEN_SECRET_ARN": "arn:x", "REPORT_TABLE": "t", "REPORT_ARCHIVE_BUCKET": "b"}
    env = Env({"REPORTS_FILE": str(EXAMPLE), **posting})
    with pytest.raises(
        ConfigError, match=r"REPORT_EMAIL_FROM: is not set \(report 'tx-mass-torts'"
    ):
        settings_for("tx-mass-torts", env=env)
    with pytest.raises(ConfigError, match="SLACK_CHANNEL: is not set"):
        settings_for(None, env=Env(posting))


@pytest.mark.parametrize(
    ("event", "expected"),
    [({}, None), ({"report": ""}, None), ({"report": "tx-mass-torts"}, "tx-mass-torts")],
)
def test_the_event_names_the_report(event: dict[str, str], expected: str | None) -> None:
    assert report_name(event) == expected


@pytest.mark.parametrize("value", ["Leads Daily", 7, "../etc"])
def test_a_report_name_that_is_not_one_is_refused(value: object) -> None:
    with pytest.raises(EventError, match="is not a report name"):
        report_name({"report": value})


def test_report_run_previews_a_report_of_the_file(capsys: pytest.CaptureFixture[str]) -> None:
    # fmt: skip below: laid out as a table
    argv = [
        "report",
        "run",
        "--report",
        "tx-mass-torts",
        "--file",
        str(EXAMPLE),
        "--dry-run",
        "--format",
        "json",
        "--at",
        "2026-11-27T17:00:00-05:00",
    ]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["report"] == "tx-mass-torts"
    assert set(data["breakdowns"]) == {"campaign", "source"}
    assert {row["name"] for row in data["breakdowns"]["campaign"]["rows"]} <= {
        "Mass Torts – Camp Lejeune",
        "Mass Torts – Hair Relaxer",
        "Other",
    }


def test_in_lambda_a_relative_reports_file_is_read_from_the_code_folder() -> None:
    env = Env({"REPORTS_FILE": "reports.example.yml", "LAMBDA_TASK_ROOT": str(ROOT)})
    assert settings_for("leads-drop", env=env, dry_run=True).post_when_flagged
