"""`opsbundle report run`: build the report now or for a given slot; preview or post it."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from typing import Any

from opsbundle.cli import EXIT_OK
from opsbundle.exceptions import ConfigError
from opsbundle.metrics import RunMetrics
from report_fn import render
from report_fn.assemble import build_job
from report_fn.config import CRM_KINDS, ReportSettings

FORMATS = ("text", "blocks", "json")


def register(commands: Any) -> None:
    report = commands.add_parser("report", help="the lead report")
    actions = report.add_subparsers(dest="action", required=True, metavar="ACTION")
    run = actions.add_parser(
        "run",
        help="build the lead report and post it to Slack (or preview it with --dry-run)",
        description="Build the lead report for a slot and post it once, or preview it.",
    )
    run.add_argument("--source", choices=CRM_KINDS, help="where leads come from (CRM_KIND)")
    run.add_argument("--dry-run", action="store_true", help="print the report; post nothing")
    run.add_argument("--format", choices=FORMATS, default="text", help="output (default text)")
    run.add_argument("--at", help="the slot's scheduled time, ISO 8601 (default: now)")
    run.add_argument("--timezone", help="IANA time zone (REPORT_TIMEZONE)")
    run.add_argument("--top", type=int, help="rows per breakdown (REPORT_TOP_N)")
    run.set_defaults(handler=run_command)


def run_command(args: argparse.Namespace) -> int:
    at = _parse_at(args.at)
    settings = ReportSettings.load(
        crm_kind=args.source, timezone=args.timezone, top_n=args.top, dry_run=args.dry_run
    )
    metrics = RunMetrics(service="report_fn")
    job = build_job(settings, metrics=metrics, dry_run=args.dry_run)
    outcome = job.run(at, dry_run=args.dry_run)
    report = outcome.report
    if args.format == "json":
        payload = report.to_json() if report else {}
        if not args.dry_run:
            payload = {"outcome": outcome.to_json(), "report": payload or None}
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    elif args.format == "blocks":
        message = render.slack_message(report) if report else None
        print(json.dumps({"text": message.text, "blocks": message.blocks} if message else {},
                         indent=2, ensure_ascii=False))  # fmt: skip
    else:
        if report:
            sys.stdout.write(render.text_report(report))
        if not args.dry_run:
            print(f"\n{outcome.status}: channel {outcome.channel}, ts {outcome.ts}")
    return EXIT_OK


def _parse_at(value: str | None) -> datetime:
    if value is None:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ConfigError("--at", f"{value!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise ConfigError("--at", f"{value!r} needs a zone, e.g. 2026-11-26T14:00:00-05:00")
    return moment
