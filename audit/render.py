"""The audit as people read it (pure): a terminal table, JSON, and Slack digests.

Every value read from the account (user, trail, policy and contact names) reaches Slack only
through `escape`, so a name can never become a mention or a link.
"""

from __future__ import annotations

import json
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from audit.findings import CHECKS, HIGH, AuditResult, Finding
from opsbundle.mrkdwn import clip, code, context, escape, header, section
from opsbundle.notify import Alert

WIDTH = 100
MAX_LISTED = 40  # findings shown one by one in a Slack message (50 blocks at most)
METADATA_EVENT_TYPE = "opsbundle_audit"


# --- terminal -----------------------------------------------------------------------------


def _counts(findings: Sequence[Finding]) -> str:
    high = sum(f.severity == HIGH for f in findings)
    parts = [f"{high} high", f"{len(findings) - high} medium"]
    unverified = sum(f.unverified for f in findings)
    if unverified:
        parts.append(f"{unverified} not verified")
    return ", ".join(parts)


def text(result: AuditResult) -> str:
    when = result.taken_at.strftime("%Y-%m-%d %H:%M UTC")
    title = f"Account baseline audit of {result.account} ({result.region}), {when}"
    if result.clean:
        return f"{title}: no findings, the account meets the baseline.\n"
    findings = result.findings
    lines = [
        f"{title}: {len(findings)} finding{'s' * (len(findings) != 1)} ({_counts(findings)})",
        "",
    ]
    check_width = max(len("check"), *(len(f.check) for f in findings))
    number_width = len(str(len(findings)))
    lines.append(f"{'#':>{number_width}}  {'severity':<11}  {'check':<{check_width}}  resource")
    for number, finding in enumerate(findings, start=1):
        severity = "not checked" if finding.unverified else finding.severity
        room = WIDTH - number_width - check_width - 17
        lines.append(
            f"{number:>{number_width}}  {severity:<11}  {finding.check:<{check_width}}  "
            f"{clip(finding.resource, room)}"
        )
    for number, finding in enumerate(findings, start=1):
        lines += [
            "",
            f"{number}. {finding.check} · {finding.resource} ({finding.severity}"
            f"{', not verified' if finding.unverified else ''})",
        ]
        for label, body in (("What", finding.what), ("Why", finding.why), ("Fix", finding.fix)):
            lines += textwrap.wrap(
                body,
                WIDTH,
                initial_indent=f"   {label + ':':<6}",
                subsequent_indent=" " * 9,
                break_long_words=False,
                break_on_hyphens=False,
            )
    return "\n".join(lines) + "\n"


def json_text(result: AuditResult) -> str:
    return json.dumps(result.to_json(), indent=2) + "\n"


# --- Slack --------------------------------------------------------------------------------


def _finding_section(finding: Finding) -> dict[str, object]:
    icon = ":red_circle:" if finding.severity == HIGH else ":large_orange_circle:"
    if finding.unverified:
        icon = ":grey_question:"
    body = (
        f"{icon} *{escape(finding.check)}* · {escape(finding.resource)}\n{escape(finding.what)}\n"
        f"_Why:_ {escape(finding.why)}\n_Fix:_ {escape(finding.fix)}"
    )
    return section(body)


def _listed(findings: Sequence[Finding], limit: int = MAX_LISTED) -> list[dict[str, object]]:
    blocks = [_finding_section(f) for f in findings[:limit]]
    if len(findings) > limit:
        blocks.append(
            section(
                f"…and {len(findings) - limit} more: run {code('opsbundle audit')} for them all."
            )
        )
    return blocks


def slack_payload(result: AuditResult) -> dict[str, Any]:
    """The whole audit as a chat.postMessage payload (`opsbundle audit --format slack`)."""
    account = escape(result.account)
    if result.clean:
        summary = f"Account {result.account} meets the baseline: no findings."
        return {"text": summary, "blocks": [section(f":white_check_mark: {escape(summary)}")]}
    summary = f"Account baseline: {len(result.findings)} findings in {result.account}"
    return {
        "text": summary,
        "blocks": [
            header(summary),
            context(
                f"{escape(_counts(result.findings))} · account {account}, "
                f"{result.taken_at:%Y-%m-%d %H:%M} UTC"
            ),
            *_listed(result.findings),
        ],
    }


# --- what changed since the last run (the weekly audit) -----------------------------------


@dataclass(frozen=True)
class Resolved:
    """A finding of an earlier run that is gone now (as the state kept it)."""

    check: str
    resource: str

    @property
    def title(self) -> str:
        check = CHECKS.get(self.check)
        return check.title if check else self.check


@dataclass(frozen=True)
class Changes:
    new: tuple[Finding, ...]
    resolved: tuple[Resolved, ...]
    still_open: int  # findings open now, new ones included

    @property
    def any(self) -> bool:
        return bool(self.new or self.resolved)


def _changes_summary(changes: Changes, account: str) -> str:
    parts = []
    if changes.new:
        parts.append(f"{len(changes.new)} new finding{'s' * (len(changes.new) != 1)}")
    if changes.resolved:
        parts.append(f"{len(changes.resolved)} resolved")
    return f"Account baseline: {', '.join(parts)} in {account}"


def change_alert(changes: Changes, result: AuditResult) -> Alert:
    """The weekly message: only what is new and what was resolved, for Slack and e-mail."""
    summary = _changes_summary(changes, result.account)
    open_line = (
        f"{changes.still_open} finding{'s' * (changes.still_open != 1)} open in all; "
        "`opsbundle audit` lists them."
    )
    blocks: list[dict[str, object]] = [header(summary)]
    if changes.new:
        blocks.append(section(f"*New ({len(changes.new)})*"))
        blocks += _listed(changes.new, MAX_LISTED - 5)
    if changes.resolved:
        shown = changes.resolved[:60]
        lines = [
            f":white_check_mark: {escape(r.check)} · {escape(r.resource)}: {escape(r.title)}"
            for r in shown
        ]
        if len(changes.resolved) > len(shown):
            lines.append(f"…and {len(changes.resolved) - len(shown)} more")
        blocks.append(section(f"*Resolved ({len(changes.resolved)})*\n" + "\n".join(lines)))
    blocks.append(context(escape(open_line).replace("`opsbundle audit`", code("opsbundle audit"))))
    mail = [summary + f" ({result.taken_at:%Y-%m-%d %H:%M} UTC)", ""]
    if changes.new:
        mail.append(f"New ({len(changes.new)}):")
        for finding in changes.new:
            mail += ["", f"* {finding.check} · {finding.resource} ({finding.severity})"]
            for label, body in (("What", finding.what), ("Why", finding.why), ("Fix", finding.fix)):
                mail += textwrap.wrap(
                    body,
                    78,
                    initial_indent=f"  {label}: ",
                    subsequent_indent="    ",
                    break_long_words=False,
                )
        mail.append("")
    if changes.resolved:
        mail.append(f"Resolved ({len(changes.resolved)}):")
        mail += [f"* {r.check} · {r.resource}: {r.title}" for r in changes.resolved]
        mail.append("")
    mail.append(open_line)
    return Alert(
        subject=summary,
        sns_message="\n".join(mail) + "\n",
        slack_text=escape(summary),
        blocks=blocks,
        metadata={
            "event_type": METADATA_EVENT_TYPE,
            "event_payload": {
                "account": result.account,
                "new": len(changes.new),
                "resolved": len(changes.resolved),
            },
        },
    )
