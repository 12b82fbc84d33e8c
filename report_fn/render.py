"""The report as Slack Block Kit, a plain-text fallback, a terminal preview and a CSV (pure).

Every string that came from the CRM goes through `escape()` before it reaches Slack, so a
lead source called "<!channel>" is shown, not obeyed. The only mentions in a message are the
ones the reports file asks for when a threshold holds, built here from checked IDs. Slack's
limits are kept by construction: at most 50 blocks, 3,000 characters a section, 10 fields,
a 150-character header; long breakdowns end in "…and N more".
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from opsbundle.mrkdwn import (
    MAX_CONTEXT_TEXT,
    MAX_HEADER,
    MAX_SECTION_TEXT,
    clip,
    escape,
    fit_lines,
)
from report_fn.aggregate import Breakdown, Comparison, LeadReport, Totals
from report_fn.thresholds import HOLDS, Flag

MAX_BLOCKS = 50
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
METADATA_EVENT_TYPE = "opsbundle_lead_report"
BAR_WIDTH = 24

DIMENSION_TITLES = {
    "source": ("By source", "sources"),
    "campaign": ("By campaign", "campaigns"),
    "case_type": ("By case type", "case types"),
    "state": ("By state", "states"),
}
SKIP_REASONS = {
    "not_an_object": "not a record",
    "missing_id": "no id",
    "duplicate_id": "repeated id",
    "missing_created_time": "no created time",
    "bad_created_time": "unreadable created time",
}


@dataclass(frozen=True)
class Framing:
    """What the reports file adds around the numbers."""

    title: str | None = None  # the report's own title; else "Lead report[: name]"
    flags: tuple[Flag, ...] = ()  # every threshold's check, held or not
    limited_to: str = ""  # the filters, described
    ping: bool = True  # False (report test): mentions are shown, nobody is notified
    test: bool = False

    @property
    def raised(self) -> list[Flag]:
        return [flag for flag in self.flags if flag.check.state == HOLDS]


def mention(value: str, *, ping: bool = True) -> str:
    """Slack's mention syntax for here, channel or a user group ID (checked by the file's
    schema), or the same as plain text when nobody should be notified."""
    if not ping:
        return f"@{value}" if value in ("here", "channel") else f"@usergroup:{value}"
    return f"<!{value}>" if value in ("here", "channel") else f"<!subteam^{value}>"


@dataclass(frozen=True)
class SlackMessage:
    text: str  # the notification / fallback text
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any]


def delta(current: float, previous: float | None, *, unit: str = "", pct: bool = True) -> str:
    """ "▲ 12 (+9%)", "▼ 3 (−2%)", "= same"; empty when there is nothing to compare with."""
    if previous is None:
        return ""
    change = round(current - previous, 1)
    amount = f"{abs(change):g}{unit}"
    if change == 0:
        return "= same"
    arrow, sign = ("▲", "+") if change > 0 else ("▼", "−")
    if not pct:
        return f"{arrow} {amount}"
    if previous == 0:
        return f"{arrow} {amount} (new)"
    return f"{arrow} {amount} ({sign}{abs(change) / previous * 100:.0f}%)"


def report_name(report: LeadReport, framing: Framing | None = None) -> str:
    if framing and framing.title:
        name = framing.title
    else:
        name = "Lead report" if report.name == "leads" else f"Lead report: {report.name}"
    return f"TEST · {name}" if framing and framing.test else name


def title(report: LeadReport, framing: Framing | None = None) -> str:
    local = report.window.local_end
    return f"{report_name(report, framing)} · {local:%a %-d %b} · {local:%H:%M %Z}"


def slack_message(report: LeadReport, framing: Framing | None = None) -> SlackMessage:
    framing = framing or Framing()
    header = clip(title(report, framing), MAX_HEADER)
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=header))]
    if framing.raised:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_flags_text(framing))))
    if not report.data_quality.complete:
        notes = " ".join(escape(note) for note in report.data_quality.notes)
        warning = f":warning: *Partial data.* {notes}"
        blocks.append(SectionBlock(text=MarkdownTextObject(text=clip(warning, MAX_SECTION_TEXT))))
    blocks.append(SectionBlock(fields=[MarkdownTextObject(text=f) for f in _total_fields(report)]))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_window_context(report))]))
    if framing.limited_to or len(framing.raised) < len(framing.flags):
        context = clip(escape(_framing_line(framing)), MAX_CONTEXT_TEXT)
        blocks.append(ContextBlock(elements=[MarkdownTextObject(text=context)]))
    blocks.append(DividerBlock())
    for breakdown in report.breakdowns:
        if breakdown.rows:
            blocks.append(SectionBlock(text=MarkdownTextObject(text=_breakdown_text(breakdown))))
    if report.totals.leads:
        blocks.append(SectionBlock(text=MarkdownTextObject(text=_hours_text(report))))
    blocks.append(ContextBlock(elements=[MarkdownTextObject(text=_quality_text(report))]))
    if len(blocks) > MAX_BLOCKS:  # cannot happen with today's layout; keep the promise anyway
        blocks = [*blocks[: MAX_BLOCKS - 1], blocks[-1]]
    text = escape(summary_line(report, framing))
    if framing.raised:
        text = f"{_mentions(framing)}{text}"
    return SlackMessage(
        text=text,
        blocks=[block.to_dict() for block in blocks],  # to_dict() validates Slack's limits
        metadata={
            "event_type": METADATA_EVENT_TYPE,
            "event_payload": {
                "report": report.name,
                "slot": report.scheduled_time.isoformat().replace("+00:00", "Z"),
            },
        },
    )


def summary_line(report: LeadReport, framing: Framing | None = None) -> str:
    totals = report.totals
    yesterday = _previous(report, "yesterday")
    versus = delta(totals.leads, yesterday.leads if yesterday else None)
    local = report.window.local_end
    raised = framing.raised if framing else []
    flagged = "⚠ " + "; ".join(flag.threshold.headline for flag in raised) + " · " if raised else ""
    name = report_name(report, framing)
    line = f"{flagged}{name} {local:%H:%M %Z}: {totals.leads} new leads"
    if versus:
        line += f" ({versus} vs yesterday)"
    line += f", {totals.get('signed')} signed"
    if not report.data_quality.complete:
        line += " (partial data)"
    return line


def text_report(report: LeadReport, framing: Framing | None = None) -> str:
    """A readable terminal preview: the same content as the Slack message."""
    framing = framing or Framing()
    heading = title(report, framing)
    out = [heading, "=" * len(heading)]
    for flag in framing.raised:
        who = (
            f" ({', '.join('@' + m for m in _mention_values(framing))})"
            if flag is (framing.raised[0]) and _mention_values(framing)
            else ""
        )
        out.append(f"FLAG: {flag.threshold.headline}: {flag.check.detail}{who}")
    if not report.data_quality.complete:
        out.append("PARTIAL DATA: " + " ".join(report.data_quality.notes))
    out.append(window_line(report))
    if framing.limited_to or len(framing.raised) < len(framing.flags):
        out.append(_framing_line(framing))
    out.append("")
    for name, current, prev_y, prev_w in total_rows(report):
        shown = f"{current:g}%" if name == "Conversion" else f"{current:g}"
        line = f"  {name:<12}{shown:>8}"
        for label, prev in (("vs yesterday", prev_y), ("vs last week", prev_w)):
            change = total_delta(name, current, prev)
            if change:
                line += f"   {change} {label}"
        out.append(line)
    for breakdown in report.breakdowns:
        if not breakdown.rows:
            continue
        heading, plural = DIMENSION_TITLES[breakdown.dimension]
        out += ["", f"{heading} ({breakdown.distinct} {plural})"]
        for row in breakdown.rows:
            label = f"{row.name} ({row.members} more)" if row.folded else row.name
            out.append(f"  {label[:44]:<45}{row.leads:>6}   {row.signed} signed")
    if report.totals.leads:
        out += ["", "Leads per hour"]
        peak = max(hour.leads for hour in report.per_hour) or 1
        for hour in report.per_hour:
            bar = "█" * round(hour.leads / peak * BAR_WIDTH)
            out.append(f"  {hour.label:<10}{bar:<{BAR_WIDTH}} {hour.leads}")
    out += ["", quality_line(report)]
    return "\n".join(out) + "\n"


def leads_csv(report: LeadReport) -> bytes:
    """The window's leads as CSV; cells that spreadsheets would run as formulas are quoted."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["id", "created", "source", "campaign", "case_type", "state", "status"])
    zone = report.window.timezone
    for lead in sorted(report.leads, key=lambda lead: lead.created):
        writer.writerow(
            [
                _cell(lead.id),
                lead.created.astimezone(zone).isoformat(timespec="seconds"),
                _cell(lead.source),
                _cell(lead.campaign),
                _cell(lead.case_type),
                _cell(lead.state),
                lead.status,
            ]
        )
    return buffer.getvalue().encode("utf-8")


def _mention_values(framing: Framing) -> list[str]:
    return list(dict.fromkeys(f.threshold.mention for f in framing.raised if f.threshold.mention))


def _mentions(framing: Framing) -> str:
    values = _mention_values(framing)
    return "".join(mention(value, ping=framing.ping) + " " for value in values)


def _flags_text(framing: Framing) -> str:
    """The raised flags, first thing in the message, with the mentions the file asks for."""
    lines = [
        f":rotating_light: *{escape(flag.threshold.headline)}*: {escape(flag.check.detail)}"
        for flag in framing.raised
    ]
    return fit_lines(_mentions(framing).strip() or lines.pop(0), lines, MAX_SECTION_TEXT)


def _framing_line(framing: Framing) -> str:
    parts = [f"Only {framing.limited_to}"] if framing.limited_to else []
    for flag in framing.flags:
        if flag.check.state != HOLDS:
            state = (
                flag.check.detail
                if not flag.check.applies
                else ("clear" if flag.check.state == "clear" else f"unknown: {flag.check.detail}")
            )
            parts.append(f"{flag.threshold.condition.text}: {state}")
    return " · ".join(parts)


def _cell(value: str) -> str:
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _previous(report: LeadReport, label: str) -> Totals | None:
    comparison = report.comparison(label)
    return comparison.totals if comparison else None


def total_rows(report: LeadReport) -> list[tuple[str, float, float | None, float | None]]:
    y, w = _previous(report, "yesterday"), _previous(report, "last_week")
    rows: list[tuple[str, float, float | None, float | None]] = [
        ("New leads", report.totals.leads, y.leads if y else None, w.leads if w else None)
    ]
    for status in ("contacted", "qualified", "signed", "rejected"):
        rows.append(
            (
                status.capitalize(),
                report.totals.get(status),
                y.get(status) if y else None,
                w.get(status) if w else None,
            )
        )
    conversion = report.totals.conversion_pct
    if conversion is not None:
        rows.append(
            (
                "Conversion",
                conversion,
                y.conversion_pct if y else None,
                w.conversion_pct if w else None,
            )
        )
    return rows


def total_delta(name: str, current: float, previous: float | None) -> str:
    if name == "Conversion":
        return delta(current, previous, unit=" pts", pct=False)
    return delta(current, previous)


def _total_fields(report: LeadReport) -> list[str]:
    weekday = report.comparison("last_week")
    last_label = f"last {weekday.window.local_end:%a}" if weekday else "last week"
    fields = []
    for name, current, prev_y, prev_w in total_rows(report):
        shown = f"{current:g}%" if name == "Conversion" else f"{current:g}"
        lines = [f"*{name}*", shown]
        for label, prev in (("yesterday", prev_y), (last_label, prev_w)):
            change = total_delta(name, current, prev)
            if change:
                lines.append(f"{change} vs {label}")
        fields.append(clip("\n".join(lines), MAX_FIELD_TEXT))
    return fields[:MAX_FIELDS]


def window_line(report: LeadReport) -> str:
    w = report.window
    parts = [f"Window {w.local_start:%a %-d %b %H:%M}–{w.local_end:%H:%M %Z}"]
    for comparison in report.comparisons:
        parts.append(_comparison_phrase(comparison))
    return " · ".join(parts)


def _comparison_phrase(comparison: Comparison) -> str:
    label = "yesterday" if comparison.label == "yesterday" else "last week"
    window = comparison.window
    when = f"{label} ({window.local_start:%a %-d %b} to {window.local_end:%H:%M})"
    if comparison.origin == "archive":
        return f"vs {when}, from the archive"
    if comparison.origin == "unavailable":
        return f"no comparison with {label}: {comparison.note or 'not available'}"
    return f"vs {when}"


def _window_context(report: LeadReport) -> str:
    return clip(escape(window_line(report)), MAX_CONTEXT_TEXT)


def _breakdown_text(breakdown: Breakdown) -> str:
    heading, plural = DIMENSION_TITLES[breakdown.dimension]
    head = f"*{heading}* ({breakdown.distinct} {plural})"
    lines = []
    for row in breakdown.rows:
        name = f"_{row.name} ({row.members})_" if row.folded else escape(row.name)
        signed = f" · {row.signed} signed" if row.signed else ""
        lines.append(f"• {name}: *{row.leads}*{signed}")
    return fit_lines(head, lines, MAX_SECTION_TEXT)


def _hours_text(report: LeadReport) -> str:
    peak = max(hour.leads for hour in report.per_hour) or 1
    lines = [
        f"{hour.label:<9} {'▇' * round(hour.leads / peak * BAR_WIDTH):<{BAR_WIDTH}} {hour.leads}"
        for hour in report.per_hour
    ]
    return clip("*Leads per hour*\n```" + "\n".join(lines) + "```", MAX_SECTION_TEXT)


def quality_line(report: LeadReport) -> str:
    quality = report.data_quality
    if quality.rows_skipped:
        reasons = ", ".join(
            f"{count} {SKIP_REASONS.get(reason, reason)}"
            for reason, count in sorted(quality.skipped_by_reason.items(), key=_most_first)
        )
        text = f"{quality.rows_skipped} of {quality.rows_read} rows skipped: {reasons}."
    else:
        text = f"All {quality.rows_read} rows read."
    unmapped = sum(quality.unmapped_statuses.values())
    if unmapped:
        values = ", ".join(f"{v!s} ({n})" for v, n in sorted(quality.unmapped_statuses.items())[:5])
        leads = "lead" if unmapped == 1 else "leads"
        text += f" {unmapped} {leads} with an unmapped status counted as other: {values}."
    return text


def _quality_text(report: LeadReport) -> str:
    icon = ":warning:" if report.data_quality.rows_skipped else ":white_check_mark:"
    return clip(f"{icon} {escape(quality_line(report))}", MAX_CONTEXT_TEXT)


def _most_first(item: tuple[str, int]) -> tuple[int, str]:
    return -item[1], item[0]
