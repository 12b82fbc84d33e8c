"""The report as a short HTML e-mail through SES v2, for people who are not on Slack.

`email_message` is pure: the flags, the totals against yesterday and last week, and each
breakdown's top rows, in HTML with inline styles (what mail clients keep) and as plain text.
Everything from the CRM or the reports file goes through `html.escape`. `Mailer` sends it
with SES v2 SendEmail from a verified identity (REPORT_EMAIL_FROM); its logs count the
recipients and never name them.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from opsbundle import aws
from opsbundle import settings as names
from opsbundle.exceptions import ConfigError
from opsbundle.log import get_logger
from report_fn import render
from report_fn.aggregate import LeadReport
from report_fn.exceptions import ReportError

MAX_RECIPIENTS = 50  # SES: at most 50 addresses in one message
# fmt: skip below: names packed, not one a line
SETUP_ERRORS = frozenset(
    {
        "MailFromDomainNotVerifiedException",
        "NotFoundException",
        "AccessDeniedException",
        "AccountSuspendedException",
    }
)


@dataclass(frozen=True)
class EmailMessage:
    subject: str
    html: str
    text: str


def email_message(
    report: LeadReport, framing: render.Framing | None = None, *, subject: str | None = None
) -> EmailMessage:
    framing = framing or render.Framing()
    local = report.window.local_end
    name = render.report_name(report, framing)
    flagged = "⚠ " if framing.raised else ""
    default = f"{name} · {local:%a %-d %b %H:%M %Z}: {report.totals.leads} leads"
    heading = render.title(report, framing)
    parts = [
        '<div style="font-family:Arial,Helvetica,sans-serif;font-size:15px;color:#1f1f1f;'
        'max-width:640px">',
        f'<h2 style="font-size:20px;margin:0 0 12px">{_e(heading)}</h2>',
    ]
    for flag in framing.raised:
        parts.append(
            '<p style="background:#fdecea;border-left:4px solid #d55e00;padding:8px 12px;'
            f'margin:0 0 8px"><strong>{_e(flag.threshold.headline)}</strong><br>'
            f"{_e(flag.check.detail)}</p>"
        )
    if not report.data_quality.complete:
        notes = " ".join(report.data_quality.notes)
        parts.append(f'<p style="color:#b00020"><strong>Partial data.</strong> {_e(notes)}</p>')
    parts.append(_totals_table(report))
    parts.append(f'<p style="color:#5f5f5f;font-size:13px">{_e(render.window_line(report))}</p>')
    if framing.limited_to:
        parts.append(f'<p style="color:#5f5f5f;font-size:13px">Only {_e(framing.limited_to)}</p>')
    for breakdown in report.breakdowns:
        rows = [(row.name, row.leads, row.signed) for row in breakdown.rows]
        if rows:
            parts.append(_breakdown_table(breakdown.dimension, breakdown.distinct, rows))
    parts.append(
        f'<p style="color:#5f5f5f;font-size:13px">{_e(render.quality_line(report))} '
        "The chart and the full report are in Slack.</p></div>"
    )
    return EmailMessage(
        subject=(flagged + (subject or default))[:200],
        html="\n".join(parts),
        text=render.text_report(report, framing),
    )


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def _totals_table(report: LeadReport) -> str:
    cell = 'style="padding:4px 12px 4px 0;text-align:{}"'
    rows = [
        f"<tr><th {cell.format('left')}></th><th {cell.format('right')}>Today</th>"
        f"<th {cell.format('left')}>vs yesterday</th><th {cell.format('left')}>vs last week</th>"
        "</tr>"
    ]
    for name, current, prev_y, prev_w in render.total_rows(report):
        shown = f"{current:g}%" if name == "Conversion" else f"{current:g}"
        changes = [render.total_delta(name, current, prev) or "–" for prev in (prev_y, prev_w)]
        rows.append(
            f"<tr><td {cell.format('left')}>{_e(name)}</td>"
            f"<td {cell.format('right')}><strong>{_e(shown)}</strong></td>"
            + "".join(f"<td {cell.format('left')}>{_e(change)}</td>" for change in changes)
            + "</tr>"
        )
    return '<table style="border-collapse:collapse;margin:0 0 8px">' + "".join(rows) + "</table>"


def _breakdown_table(dimension: str, distinct: int, rows: Sequence[tuple[str, int, int]]) -> str:
    heading, plural = render.DIMENSION_TITLES[dimension]
    cells = "".join(
        f'<tr><td style="padding:2px 12px 2px 0">{_e(name)}</td>'
        f'<td style="padding:2px 12px 2px 0;text-align:right">{leads}</td>'
        f'<td style="padding:2px 0;color:#5f5f5f">{signed} signed</td></tr>'
        for name, leads, signed in rows
    )
    return (
        f'<h3 style="font-size:16px;margin:16px 0 4px">{_e(heading)} ({distinct} {_e(plural)})</h3>'
        f'<table style="border-collapse:collapse">{cells}</table>'
    )


class Mailer:
    """Sends a report e-mail with SES v2 from one verified identity."""

    def __init__(self, *, sender: str, sesv2_client: Any = None) -> None:
        self._sender = sender
        self._client = sesv2_client or aws.client("sesv2")

    def send(self, *, to: Sequence[str], message: EmailMessage) -> str:
        """The SES message ID. Raises ConfigError for a setup problem, ReportError otherwise."""
        recipients = list(dict.fromkeys(to))[:MAX_RECIPIENTS]
        try:
            response = self._client.send_email(
                FromEmailAddress=self._sender,
                Destination={"ToAddresses": recipients},
                Content={
                    "Simple": {
                        "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                        "Body": {
                            "Html": {"Data": message.html, "Charset": "UTF-8"},
                            "Text": {"Data": message.text, "Charset": "UTF-8"},
                        },
                    }
                },
            )
        except ClientError as error:
            code = aws.error_code(error, "unknown error")
            text = aws.error_message(error)
            if code in SETUP_ERRORS or (code == "MessageRejected" and "not verified" in text):
                raise ConfigError(
                    names.REPORT_EMAIL_FROM,
                    f"SES refused to send from {self._sender} ({code}: {text}); verify the "
                    "identity in SES (and, in the sandbox, the recipients)",
                ) from None
            raise ReportError(f"SES SendEmail failed: {code}: {text}") from None
        except BotoCoreError as error:
            problem = aws.setup_problem(error)
            if problem:
                raise problem from None
            raise ReportError(f"SES SendEmail failed: {error}") from None
        get_logger().info("report e-mailed", extra={"recipients": len(recipients)})
        return str(response.get("MessageId", ""))
