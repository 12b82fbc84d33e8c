"""`opsbundle report`: run a report now or for a slot, try one in a test channel, check the
reports file.

    report run [--report NAME] ...   build and post once (or preview with --dry-run)
    report test NAME [--dry-run]     post to the test channel (or print), nothing recorded
    report validate [FILE]           check the reports file: exit 0, or 2 with one line
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from opsbundle import settings as names
from opsbundle.cli import EXIT_OK
from opsbundle.exceptions import ConfigError
from opsbundle.metrics import RunMetrics
from opsbundle.output import add_format, emit
from opsbundle.progress import Progress
from opsbundle.secrets import Secrets
from opsbundle.settings import Env
from report_fn import chart, render, reports_file
from report_fn.assemble import build_job, build_preview, build_test, slack_client
from report_fn.config import CRM_KINDS, ReportSettings, reports_path, settings_for
from report_fn.crm.base import Fetched, OnPage
from report_fn.mail import email_message
from report_fn.outcome import ReportOutcome

FORMATS = ("text", "blocks", "json", "email")
DEFAULT_FILE = "reports.yml"


def register(commands: Any) -> None:
    report = commands.add_parser(
        "report",
        help="the lead reports",
        examples=["opsbundle report run --source sample --dry-run", "opsbundle report validate"],
    )
    actions = report.add_subparsers(dest="action", required=True, metavar="ACTION")
    run = actions.add_parser(
        "run",
        help="build a report and post it to Slack once (or preview it with --dry-run)",
        description="Build a report for a slot and post it once, or preview it.",
        examples=[
            "opsbundle report run --source sample --dry-run     # the built-in sample data",
            "opsbundle report run --source csv --dry-run --format json  # reads CRM_EXPORT_URL",
            "opsbundle report run --report weekly --at 2026-11-26T14:00:00-05:00",
        ],
    )
    run.add_argument("--report", metavar="NAME", help="a report of the reports file")
    _common(run)
    run.add_argument("--source", choices=CRM_KINDS, help="where leads come from (CRM_KIND)")
    run.add_argument("--dry-run", action="store_true", help="print the report; post nothing")
    run.add_argument("--timezone", help="IANA time zone (REPORT_TIMEZONE)")
    run.add_argument("--top", type=int, help="rows per breakdown (REPORT_TOP_N)")
    run.set_defaults(handler=run_command)

    test = actions.add_parser(
        "test",
        help="post one report of the reports file to a test channel (or print it)",
        description="Build the named report and post it to a test channel: no slot is "
        "claimed, nothing is archived or e-mailed, and mentions notify nobody.",
        examples=[
            "opsbundle report test daily --dry-run",
            "opsbundle report test daily --channel C0123456789",
        ],
    )
    test.add_argument("name", metavar="NAME", help="the report's name in the reports file")
    _common(test)
    test.add_argument(
        "--channel",
        help="the test channel (default: REPORT_TEST_CHANNEL, then the file's test_channel)",
    )
    test.add_argument("--dry-run", action="store_true", help="print the report; post nothing")
    test.set_defaults(handler=test_command)

    validate = actions.add_parser(
        "validate",
        help="check the reports file against its schema",
        description="Check a reports file: exit 0 when it is valid, 2 with one line naming "
        "the report and the field when it is not.",
        examples=[
            "opsbundle report validate reports.yml",
            "opsbundle report validate --format json",
        ],
    )
    validate.add_argument(
        "file",
        nargs="?",
        type=Path,
        help=f"the file (default: REPORTS_FILE, then ./{DEFAULT_FILE})",
    )
    add_format(validate)
    validate.set_defaults(handler=validate_command)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--file", type=Path, help="the reports file (default: REPORTS_FILE)")
    add_format(
        parser, FORMATS, what="text (default), blocks (the Slack payload), email (HTML) or json"
    )
    parser.add_argument("--at", help="the slot's scheduled time, ISO 8601 (default: now)")
    parser.add_argument(
        "--chart",
        type=Path,
        metavar="PNG",
        help="also write the chart of leads per hour to this file",
    )


def run_command(args: argparse.Namespace) -> int:
    at = _parse_at(args.at)
    settings = settings_for(
        args.report,
        path=args.file,
        crm_kind=args.source,
        timezone=args.timezone,
        top_n=args.top,
        dry_run=args.dry_run,
    )
    metrics = RunMetrics(service="report_fn")
    with _fetching(args.progress, settings.crm_kind) as on_page:
        if args.dry_run:
            outcome = build_preview(settings, metrics=metrics, on_page=on_page).preview(at)
        else:
            outcome = build_job(settings, metrics=metrics, on_page=on_page).run(at)
    _print(outcome, args, posted=not args.dry_run)
    if not args.dry_run and args.format == "text":
        print(f"\n{outcome.status}: channel {outcome.channel}, ts {outcome.ts}")
    return EXIT_OK


def test_command(args: argparse.Namespace) -> int:
    at = _parse_at(args.at)
    settings = settings_for(args.name, path=args.file, dry_run=True)
    channel = args.channel or settings.test_channel
    if not args.dry_run and not channel:
        raise ConfigError(
            "--channel",
            f"no test channel: pass --channel, set {names.REPORT_TEST_CHANNEL} "
            "or test_channel in the reports file",
        )
    metrics = RunMetrics(service="report_fn")
    with _fetching(args.progress, settings.crm_kind) as on_page:
        if args.dry_run:
            builder = build_preview(settings, metrics=metrics, on_page=on_page)
            outcome = builder.preview(at, test=True)
        else:
            assert channel  # checked above
            slack = slack_client(settings, secrets=Secrets())
            test = build_test(settings, metrics=metrics, slack=slack, on_page=on_page)
            outcome = test.run(at, channel=channel)
    _print(outcome, args, posted=False)
    if not args.dry_run:
        print(f"\nposted a test of {settings.name} to {channel}: ts {outcome.ts}")
    _say_if_quiet(settings, outcome)
    return EXIT_OK


def validate_command(args: argparse.Namespace) -> int:
    path = args.file or reports_path(Env())
    if path is None:
        if not Path(DEFAULT_FILE).is_file():
            raise ConfigError(
                names.REPORTS_FILE,
                f"is not set and there is no ./{DEFAULT_FILE}; "
                "name the file: opsbundle report validate FILE",
            )
        path = Path(DEFAULT_FILE)
    loaded = reports_file.load(path)
    count = len(loaded.reports)
    if args.format == "json":
        emit({"file": str(path), "valid": True, "reports": list(loaded.reports)}, "json")
        return EXIT_OK
    print(f"{path}: {count} report{'s' * (count != 1)}, valid")
    for name, spec in loaded.reports.items():
        details = [
            spec.schedule.describe(),
            spec.timezone or f"${names.REPORT_TIMEZONE}",
            "→ " + (", ".join(spec.channels) if spec.channels else f"${names.SLACK_CHANNEL}"),
        ]
        if spec.thresholds:
            count = len(spec.thresholds)
            only = ", posts only when one holds" if spec.post_when_flagged else ""
            details.append(f"{count} threshold{'s' * (count > 1)}{only}")
        if spec.chart:
            details.append("chart")
        if spec.email:
            details.append(f"e-mail to {len(spec.email.to)}")
        print(f"  {name}: " + "; ".join(details))
    return EXIT_OK


def _print(outcome: ReportOutcome, args: argparse.Namespace, *, posted: bool) -> None:
    report = outcome.report
    framing = outcome.framing
    if args.chart is not None and report is not None:
        try:
            args.chart.write_bytes(chart.render_png(chart.chart_data(report)))
        except OSError as error:
            raise ConfigError("--chart", f"cannot write {args.chart}: {error.strerror}") from None
    if args.format == "json":
        payload = report.to_json() if report else {}
        if framing and framing.flags and report:  # only for reports with thresholds
            payload["flags"] = [_flag_json(flag) for flag in framing.flags]
        if posted:
            payload = {"outcome": outcome.to_json(), "report": payload or None}
        print(json.dumps(payload, indent=2, ensure_ascii=False))
    elif args.format == "blocks":
        message = render.slack_message(report, framing) if report else None
        print(
            json.dumps(
                {"text": message.text, "blocks": message.blocks} if message else {},
                indent=2,
                ensure_ascii=False,
            )
        )
    elif args.format == "email":
        if report:
            mail = email_message(report, framing)
            print(f"Subject: {mail.subject}\n\n{mail.html}")
    elif report:
        sys.stdout.write(render.text_report(report, framing))


@contextmanager
def _fetching(progress: Progress, crm: str) -> Iterator[OnPage]:
    """A bar of the leads a CRM has given so far (on a terminal), and the callback for it."""
    with progress.bar(f"{crm}: leads", unit="leads") as bar:

        def on_page(fetched: Fetched) -> None:
            bar.set(fetched.leads)
            bar.describe(f"{fetched.pages} pages, {fetched.windows} searches")

        yield on_page


def _flag_json(flag: Any) -> dict[str, Any]:
    return {
        "when": flag.threshold.condition.text,
        "say": flag.threshold.say,
        "state": flag.check.state,
        "detail": flag.check.detail,
    }


def _say_if_quiet(settings: ReportSettings, outcome: ReportOutcome) -> None:
    if settings.post_when_flagged and outcome.framing and not outcome.framing.raised:
        print(f"(no condition holds: on schedule, {settings.name} would have posted nothing)")


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
