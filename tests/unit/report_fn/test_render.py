"""Block Kit within Slack's limits, CRM text escaped, deltas that read at a glance."""

from __future__ import annotations

from slack_sdk.models.blocks import Block

from report_fn import render
from tests.unit.report_fn.fixtures import leads_named, make_report


def all_text(message: render.SlackMessage) -> str:
    import json

    return json.dumps(message.blocks) + message.text


def test_crm_text_is_escaped_so_a_lead_named_channel_pings_nobody() -> None:
    report = make_report(leads_named(["<!channel>", "Smith & Sons <script>", "<@U123>"]))
    message = render.slack_message(report)
    text = all_text(message)
    assert "<!channel>" not in text
    assert "<@U123>" not in text
    assert "&lt;!channel&gt;" in text
    assert "Smith &amp; Sons &lt;script&gt;" in text


def test_a_huge_report_stays_within_every_block_kit_limit() -> None:
    names = [f"Campaign {n:04d} " + "&" * 80 for n in range(2500)]
    report = make_report(
        leads_named(names, field="campaign"),
        top_n=100,
        complete=False,
        notes=["HubSpot holds 12000 leads created in the same millisecond " + "<x>" * 2000],
    )
    message = render.slack_message(report)
    blocks = message.blocks
    assert len(blocks) <= 50
    for block in blocks:
        Block.parse(block).validate_json()  # slack_sdk's own limit checks
        if block["type"] == "header":
            assert len(block["text"]["text"]) <= 150
        if block["type"] == "section":
            assert len(block.get("text", {}).get("text", "")) <= 3000
            assert len(block.get("fields", [])) <= 10
            assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
    campaign = next(b for b in blocks if "By campaign" in b.get("text", {}).get("text", ""))
    assert "…and" in campaign["text"]["text"]  # the rest is said, not silently dropped


def test_deltas_read_at_a_glance() -> None:
    assert render.delta(12, 10) == "▲ 2 (+20%)"
    assert render.delta(8, 10) == "▼ 2 (−20%)"
    assert render.delta(5, 5) == "= same"
    assert render.delta(3, 0) == "▲ 3 (new)"
    assert render.delta(3, None) == ""
    assert render.delta(5.5, 4.0, unit=" pts", pct=False) == "▲ 1.5 pts"


def test_message_says_when_data_is_partial_and_what_was_skipped() -> None:
    report = make_report(leads_named(["TV"]), complete=False, notes=["only 10,000 read"])
    message = render.slack_message(report)
    text = all_text(message)
    assert "Partial data" in text
    assert "(partial data)" in message.text
    assert "3 of 4 rows skipped: 2 no created time, 1 repeated id" in text
    assert "no comparison with last week: CRM down" in text
    assert message.metadata["event_payload"] == {"report": "leads", "slot": "2026-11-26T19:00:00Z"}


def test_fallback_text_and_terminal_preview_carry_the_numbers() -> None:
    report = make_report(leads_named(["TV", "Radio", "TV"]))
    assert render.summary_line(report) == (
        "Lead report 14:00 EST: 3 new leads (▼ 1 (−25%) vs yesterday), 1 signed"
    )
    preview = render.text_report(report)
    assert "Lead report · Thu 26 Nov · 14:00 EST" in preview
    assert "New leads" in preview and "By source (2 sources)" in preview


def test_csv_lists_the_leads_and_defuses_spreadsheet_formulas() -> None:
    report = make_report(leads_named(['=HYPERLINK("x")', "TV"]))
    lines = render.leads_csv(report).decode().splitlines()
    assert lines[0] == "id,created,source,campaign,case_type,state,status"
    assert len(lines) == 3
    assert "'=HYPERLINK" in lines[1]
    assert lines[1].split(",")[1] == "2026-11-26T00:00:00-05:00"
