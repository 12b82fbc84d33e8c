"""The unhealthy-target alert as an email (plain text) and a Slack message (pure)."""

from __future__ import annotations

from typing import Any

from monitors.unhealthy_targets.alarm_event import AlarmChange
from monitors.unhealthy_targets.inspection import Inspection, Target
from monitors.unhealthy_targets.reasons import explain
from opsbundle import console
from opsbundle.mrkdwn import clip, code, context, escape, fit_lines, header, link, section
from opsbundle.notify import Alert

MAX_BLOCKS = 50
METADATA_EVENT_TYPE = "opsbundle_unhealthy_targets"


def _where(inspection: Inspection) -> str:
    if inspection.classic:
        return f"Classic load balancer {inspection.name}"
    return f"target group {inspection.name}"


def subject(inspection: Inspection, alarm: AlarmChange | None) -> str:
    region = inspection.region
    if not inspection.found:
        return f"ALARM: {_where(inspection)} no longer exists ({region})"
    bad, total = len(inspection.not_healthy), len(inspection.targets)
    prefix = "ALARM: " if alarm else ""
    if not inspection.targets and inspection.problems:
        return f"{prefix}{_where(inspection)}: could not inspect targets ({region})"
    return f"{prefix}{bad} of {total} targets not healthy in {_where(inspection)} ({region})"


def _target_line(target: Target) -> str:
    line = f"- {target.label()}"
    extra = target.context()
    if extra:
        line += f" [{extra}]"
    if target.description:
        line += f": {target.description}"
    return line


def email_body(inspection: Inspection, alarm: AlarmChange | None, *, max_listed: int) -> str:
    lines: list[str] = []
    if alarm:
        lines += [
            f"{alarm.state}: {alarm.name} (region {alarm.region}, account {alarm.account})",
            alarm.reason,
            f"Changed at {alarm.time}",
            "",
        ]
    load_balancers = ", ".join(inspection.load_balancers)
    lines.append(
        f"{_where(inspection).capitalize()} ({inspection.kind} load balancer"
        + (f" {load_balancers})" if load_balancers else ")")
    )
    if not inspection.found:
        lines += ["", *inspection.problems, ""]
        lines += _links_text(inspection, alarm)
        return "\n".join(lines) + "\n"
    bad = inspection.not_healthy
    lines.append(f"{len(bad)} of {len(inspection.targets)} targets are not healthy.")
    listed = 0
    for state, reason, targets in inspection.groups():
        meaning = explain(reason, classic=inspection.classic)
        count = f"{len(targets)} target" + ("s" if len(targets) != 1 else "")
        lines += ["", f"{state} - {reason or 'no reason code'} ({count})"]
        lines.append(f"  What it means: {meaning.meaning}")
        lines.append(f"  What to check: {meaning.check}")
        shown = targets[: max(0, max_listed - listed)]
        lines += ["  " + _target_line(target) for target in shown]
        listed += len(shown)
        if len(shown) < len(targets):
            lines.append(f"  ...and {len(targets) - len(shown)} more in this group")
    if listed < len(bad):
        lines += [
            "",
            f"{len(bad) - listed} targets not listed (limit {max_listed}): see the "
            "target group in the console or run the command below.",
        ]
    if inspection.health_check:
        lines += ["", f"Health check: {inspection.health_check.describe()}"]
    if inspection.datapoints:
        points = ", ".join(f"{at:%H:%M} {value:g}" for at, value in inspection.datapoints)
        lines += ["", f"{inspection.metric_label}, last datapoints (UTC): {points}"]
    if inspection.problems:
        lines += ["", "Could not look at everything:", *(f"- {p}" for p in inspection.problems)]
    lines += ["", *_links_text(inspection, alarm)]
    if inspection.target_group_arn:
        lines += ["", f"Re-run: opsbundle targets inspect {inspection.target_group_arn}"]
    return "\n".join(lines) + "\n"


def _links_text(inspection: Inspection, alarm: AlarmChange | None) -> list[str]:
    links = _links(inspection, alarm)
    return ["Links:", *(f"  {name}: {url}" for name, url in links.items())]


def _links(inspection: Inspection, alarm: AlarmChange | None) -> dict[str, str]:
    links: dict[str, str] = {}
    if alarm:
        links["alarm"] = console.alarm(alarm.region, alarm.name, alarm.partition)
    for name, url in inspection.links.items():
        if not name.startswith("instance ") or len(links) < 12:
            links[name] = url
    return links


def slack_blocks(
    inspection: Inspection, alarm: AlarmChange | None, *, max_listed: int
) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [header(":rotating_light: " + subject(inspection, alarm))]
    if alarm and alarm.reason:
        blocks.append(context(escape(f"{alarm.name}: {alarm.reason}")))
    if not inspection.found:
        blocks.append(section(escape(" ".join(inspection.problems))))
    groups = inspection.groups()
    listed = 0
    for index, (state, reason, targets) in enumerate(groups):
        if len(blocks) >= MAX_BLOCKS - 4:
            blocks.append(section(f"…and {len(groups) - index} more groups"))
            break
        meaning = explain(reason, classic=inspection.classic)
        head = (
            f"*{escape(state)}* · {code(reason or 'no reason code')} · {len(targets)}\n"
            f"{escape(meaning.meaning)}.\n_Check:_ {escape(meaning.check)}"
        )
        rows: list[str] = []
        for target in targets:
            if listed >= max_listed:
                rows.append(f"…and {len(targets) - len(rows)} more")
                break
            rows.append("• " + escape(_target_line(target)[2:]))
            listed += 1
        blocks.append(section(fit_lines(head, rows)))
    details = []
    if inspection.health_check:
        details.append("Health check: " + escape(inspection.health_check.describe()))
    if inspection.datapoints:
        details.append(
            escape(inspection.metric_label)
            + ": "
            + ", ".join(f"{at:%H:%M} {value:g}" for at, value in inspection.datapoints)
        )
    if inspection.problems and inspection.found:
        details.append(":warning: " + escape("; ".join(inspection.problems)))
    if details:
        blocks.append(context("\n".join(details)))
    links = " · ".join(link(url, name) for name, url in list(_links(inspection, alarm).items())[:6])
    if links:
        blocks.append(context(links))
    return blocks


def alarm_alert(inspection: Inspection, alarm: AlarmChange | None, *, max_listed: int) -> Alert:
    title = subject(inspection, alarm)
    return Alert(
        subject=title,
        sns_message=email_body(inspection, alarm, max_listed=max_listed),
        slack_text=escape(title),
        blocks=slack_blocks(inspection, alarm, max_listed=max_listed),
        metadata={
            "event_type": METADATA_EVENT_TYPE,
            "event_payload": {"alarm": alarm.name if alarm else "", "target": inspection.name},
        },
    )


def resolved_alert(alarm: AlarmChange, what: str) -> Alert:
    title = f"OK: {alarm.name} resolved ({alarm.region})"
    url = console.alarm(alarm.region, alarm.name, alarm.partition)
    body = f"{title}\n{what} is healthy again.\n{alarm.reason}\nChanged at {alarm.time}\n\n{url}\n"
    return Alert(
        subject=title,
        sns_message=body,
        slack_text=clip(
            f":white_check_mark: *Resolved:* {escape(alarm.name)}: {escape(what)} is healthy "
            f"again ({escape(alarm.region)}). {link(url, 'alarm')}",
            3000,
        ),
    )
