"""`opsbundle logs ...`: ship a saved event, replay dead letters, backfill history, attach
subscription filters, install the index template, import the Dashboards assets.

Exit status: 0 all delivered, 1 something was dead-lettered or failed, 2 bad usage/config.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import sys
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from log_shipper import doctor, ism, lifecycle, template
from log_shipper.assemble import DEFAULT_REGION, WarmClients, build_shipper
from log_shipper.client import build_client, reach
from log_shipper.config import ShipperSettings
from log_shipper.dead_letter import DeadLetters
from log_shipper.events import Invocation, LogBatch, LogEvent, Unit, decode_invocation, decode_unit
from log_shipper.exceptions import LogShipperError
from log_shipper.layout import utc_day
from log_shipper.s3_source import S3Outcome, S3Source, object_ref
from log_shipper.ship import ShipOutcome, Shipper, preview
from log_shipper.transform import Limits
from opsbundle import aws
from opsbundle.cli import EXIT_CONFIG, EXIT_FAILED, EXIT_OK
from opsbundle.exceptions import ConfigError
from opsbundle.metrics import RunMetrics
from opsbundle.output import add_format, emit
from opsbundle.progress import Progress
from opsbundle.urls import shown

SERVICE = "log_shipper"
ASSETS = Path(__file__).resolve().parent / "assets" / "dashboards.ndjson"
SUBSCRIPTION_FILTER_LIMIT = 2  # per log group (CloudWatch Logs quota)


def register(commands: Any) -> None:
    logs = commands.add_parser(
        "logs",
        help="the log shipper (CloudWatch Logs → OpenSearch)",
        examples=["opsbundle logs ship event.json --dry-run", "opsbundle logs doctor"],
    )
    actions = logs.add_subparsers(dest="action", required=True, metavar="ACTION")
    _delivery_commands(actions)
    _wiring_commands(actions)
    _store_commands(actions)


def _delivery_commands(actions: Any) -> None:
    ship = actions.add_parser(
        "ship",
        help="run the shipper on a saved Lambda event (JSON file)",
        description="Decode a saved CloudWatch Logs or Kinesis event as the Lambda would and "
        "ship it; --dry-run prints the _bulk lines instead, offline, with no settings needed.",
        examples=[
            "opsbundle logs ship event.json --dry-run         # the documents, as _bulk NDJSON",
            "opsbundle logs ship event.json --format json",
        ],
    )
    ship.add_argument("event", type=Path, help="a CloudWatch Logs or Kinesis event, as JSON")
    ship.add_argument(
        "--dry-run",
        action="store_true",
        help="print the _bulk request (NDJSON: an action and a document a line pair) on "
        "stdout and the counts on stderr; send nothing, write no dead letter",
    )
    add_format(ship)
    ship.set_defaults(handler=ship_command)

    replay = actions.add_parser(
        "replay",
        help="redrive dead letters from s3://bucket/prefix",
        examples=["opsbundle logs replay s3://my-dead-letters/log-shipper/dead-letters/"],
    )
    replay.add_argument("url", help="s3://bucket/prefix/ (default prefix LOG_SHIPPER_DLQ_PREFIX)")
    replay.add_argument(
        "--reroute",
        action="store_true",
        help="send each event where today's routes say, not to the index it was first sent "
        "to (an event that did reach that index after all is then indexed twice)",
    )
    add_format(replay)
    replay.set_defaults(handler=replay_command)

    backfill = actions.add_parser(
        "backfill",
        help="import a log group's history",
        examples=["opsbundle logs backfill /aws/lambda/orders --since 2d"],
    )
    backfill.add_argument("log_group")
    backfill.add_argument("--since", default="1d", help="how far back: 30m, 12h, 2d (default 1d)")
    backfill.add_argument("--filter-pattern", default="", help="CloudWatch Logs filter pattern")
    add_format(backfill)
    backfill.set_defaults(handler=backfill_command)


def _wiring_commands(actions: Any) -> None:
    subscribe = actions.add_parser(
        "subscribe",
        help="attach subscription filters to log groups",
        examples=[
            "opsbundle logs subscribe --prefix /aws/lambda/ --destination-arn "
            "arn:aws:lambda:us-east-1:123456789012:function:opsbundle-dev-log-shipper --dry-run",
        ],
    )
    subscribe.add_argument("--prefix", required=True, help="log group name prefix, /aws/lambda/")
    subscribe.add_argument(
        "--destination-arn", required=True, help="the shipper's Lambda or Kinesis ARN"
    )
    subscribe.add_argument("--role-arn", help="role CloudWatch Logs assumes (Kinesis destinations)")
    subscribe.add_argument("--filter-name", default="opsbundle-log-shipper")
    subscribe.add_argument("--filter-pattern", default="", help='"" sends every event')
    subscribe.add_argument("--exclude", action="append", default=[], help="log group glob to skip")
    subscribe.add_argument("--dry-run", action="store_true", help="say what would change")
    add_format(subscribe)
    subscribe.set_defaults(handler=subscribe_command)

    subscribe_s3 = actions.add_parser(
        "subscribe-s3",
        help="send a bucket's new log files to the shipper (S3 notifications to its queue)",
        examples=[
            "opsbundle logs subscribe-s3 --bucket my-alb-logs --queue-arn "
            "arn:aws:sqs:us-east-1:123456789012:opsbundle-dev-log-files --prefix AWSLogs/",
        ],
    )
    subscribe_s3.add_argument("--bucket", required=True, help="the bucket AWS writes logs to")
    subscribe_s3.add_argument(
        "--queue-arn", required=True, help="the log-shipper stack's LogShipperS3QueueArn"
    )
    subscribe_s3.add_argument("--prefix", default="", help="only keys under it, e.g. AWSLogs/")
    subscribe_s3.add_argument("--suffix", default="", help="only keys ending so, e.g. .gz")
    subscribe_s3.add_argument("--id", default="opsbundle-log-shipper", help="notification id")
    subscribe_s3.add_argument("--dry-run", action="store_true", help="say what would change")
    add_format(subscribe_s3)
    subscribe_s3.set_defaults(handler=subscribe_s3_command)


def _store_commands(actions: Any) -> None:
    maintain = actions.add_parser(
        "maintain",
        help="retention, ISM policies, replicas and shard sizes (what the hourly schedule runs)",
        examples=["opsbundle logs maintain --dry-run"],
    )
    maintain.add_argument("--dry-run", action="store_true", help="say what would change")
    add_format(maintain)
    maintain.set_defaults(handler=maintain_command)

    doctor_parser = actions.add_parser(
        "doctor",
        help="check the cluster as the shipper sees it, and say what to fix",
        examples=["opsbundle logs doctor", "opsbundle logs doctor --format json"],
    )
    add_format(doctor_parser)
    doctor_parser.set_defaults(handler=doctor_command)

    setup = actions.add_parser(
        "setup",
        help="install (or update) the index templates",
        examples=[
            "opsbundle logs setup",
            "opsbundle logs setup --print     # offline: the templates and ISM policies, as JSON",
        ],
    )
    setup.add_argument(
        "--print",
        action="store_true",
        help="print the templates and ISM policies as JSON; change nothing (no OpenSearch needed)",
    )
    add_format(setup)
    setup.set_defaults(handler=setup_command)

    dashboards = actions.add_parser(
        "dashboards-import",
        help="import the index pattern and saved searches/visualizations",
        examples=[
            "opsbundle logs dashboards-import --url https://search-logs.example.com/_dashboards"
        ],
    )
    dashboards.add_argument("--url", required=True, help="OpenSearch Dashboards base URL")
    dashboards.add_argument("--file", type=Path, default=ASSETS, help="NDJSON saved objects")
    add_format(dashboards)
    dashboards.set_defaults(handler=dashboards_command)


# --- ship ------------------------------------------------------------------------------------


def ship_command(args: argparse.Namespace) -> int:
    try:
        event = json.loads(args.event.read_bytes())
    except OSError as error:
        raise ConfigError(str(args.event), f"cannot read it ({error.strerror})") from None
    except ValueError as error:
        raise ConfigError(str(args.event), f"is not a JSON event ({error})") from None
    invocation = decode_invocation(event)
    if args.dry_run:
        return _preview(invocation)
    shipper = _shipper(args.progress)
    outcome = shipper.ship(invocation, request_id=f"cli-{args.event.stem}")
    emit({"source": invocation.source, **outcome.to_json()}, args.format)
    return _status(outcome)


def _preview(invocation: Invocation) -> int:
    """`ship --dry-run`: the `_bulk` body on stdout, the counts on stderr; offline."""
    settings = ShipperSettings.load(offline=True)
    region = settings.aws_region or settings.region or DEFAULT_REGION
    lines, outcome = preview(
        invocation,
        router=settings.router,
        region=region,
        ingested=datetime.now(UTC),
        limits=Limits(settings.max_fields, settings.max_depth),
    )
    sys.stdout.write("".join(lines))
    sys.stdout.flush()
    skipped = {
        "filtered": outcome.filtered,
        "expired": outcome.expired,
        "merged": outcome.merged,
        "malformed payloads": outcome.malformed,
        "control messages": outcome.control_messages,
    }
    counted = ", ".join(f"{n} {what}" for what, n in skipped.items() if n)
    counted = f"; {counted}" if counted else ""
    print(
        f"dry run ({invocation.source}): {len(lines)} document(s) from {outcome.events_in} "
        f"event(s){counted}; nothing sent",
        file=sys.stderr,
    )
    return EXIT_OK


# --- replay ----------------------------------------------------------------------------------


@dataclass
class ReplayTotals:
    objects_done: int = 0
    objects_kept: int = 0
    indexed: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    unreadable: int = 0  # event records a replay could not read; their objects are kept


def replay_prefix(
    shipper: Shipper,
    store: DeadLetters,
    prefix: str,
    *,
    progress: Progress | None = None,
    reroute: bool = False,
    files: S3Source | None = None,
) -> ReplayTotals:
    """Redrive every dead-letter object under `prefix`; delete each once it is all durable.

    Each event goes back to the index it was first sent to (with its _id: a request that
    timed out may have been indexed after all, and is then found there, a duplicate), unless
    `reroute`: then today's routes choose. An S3 log file that could not be read is read
    again through `files` (kept, when there is none)."""
    totals = ReplayTotals()
    keys = list(store.keys(prefix))  # listed first: new dead letters land under the prefix too
    with (progress or Progress.off()).bar("dead letters", total=len(keys), unit="objects") as bar:
        for key in keys:
            _replay_object(shipper, store, key, totals, reroute=reroute, files=files)
            bar.update()
    return totals


def _replay_object(
    shipper: Shipper,
    store: DeadLetters,
    key: str,
    totals: ReplayTotals,
    *,
    reroute: bool,
    files: S3Source | None,
) -> None:
    """One dead-letter object sent again; deleted when all of it is durable."""
    record = store.read(key)
    batches = record.batches()
    if reroute:
        batches = [replace(batch, index=None) for batch in batches]
    units = [Unit(None, batch=batch) for batch in batches]
    units += [decode_unit(p.get("data"), p.get("item_id")) for p in record.payloads()]
    name = key.rsplit("/", 1)[-1].removesuffix(".jsonl.gz")
    outcome = shipper.ship(Invocation("replay", units), request_id=f"replay-{name}")
    for found in record.objects():
        ref = object_ref(found)
        read = S3Outcome()
        if files is None or ref is None:
            outcome.not_durable.append(None)
        elif not files.ship_object(ref, request_id=f"replay-{name}", outcome=read):
            outcome.not_durable.append(ref.url)
        outcome.add(read.shipped)
    totals.indexed += outcome.indexed
    totals.duplicates += outcome.duplicates
    totals.dead_lettered += sum(outcome.dead_lettered.values())
    unreadable = record.unreadable()
    if unreadable:  # kept, never deleted: a person has to look at those records
        totals.unreadable += unreadable
        totals.objects_kept += 1
        return
    if outcome.not_durable:
        totals.objects_kept += 1
        return
    store.delete(key)
    totals.objects_done += 1


def replay_command(args: argparse.Namespace) -> int:
    bucket, prefix = _s3_url(args.url)
    settings = ShipperSettings.load(dlq_bucket=bucket)
    shipper = _shipper(args.progress, settings)
    store = DeadLetters(
        bucket=bucket, prefix=prefix or settings.dlq_prefix, kms_key_id=settings.dlq_kms_key_id
    )
    files = S3Source(
        shipper=shipper,
        s3=aws.client("s3"),
        sqs=None,
        dead_letters=shipper.dead_letters,
        router=settings.router,
    )
    totals = replay_prefix(
        shipper,
        store,
        prefix or settings.dlq_prefix,
        progress=args.progress,
        reroute=args.reroute,
        files=files,
    )
    emit(asdict(totals), args.format)
    return EXIT_FAILED if totals.dead_lettered or totals.objects_kept else EXIT_OK


def _s3_url(url: str) -> tuple[str, str]:
    match = re.fullmatch(r"s3://([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(.*))?", url)
    if not match:
        raise ConfigError("replay URL", f"expected s3://bucket/prefix, got {url!r}")
    return match.group(1), match.group(2) or ""


# --- backfill --------------------------------------------------------------------------------


def parse_since(text: str, now: datetime) -> datetime:
    match = re.fullmatch(r"(\d+)\s*([mhd])", text.strip())
    if not match:
        raise ConfigError(
            "--since", f"expected a number and m, h or d (30m, 12h, 2d), got {text!r}"
        )
    unit = {"m": "minutes", "h": "hours", "d": "days"}[match.group(2)]
    return now - timedelta(**{unit: int(match.group(1))})


def backfill_pages(
    logs: Any, log_group: str, *, start_ms: int, end_ms: int, owner: str, filter_pattern: str = ""
) -> Any:
    """One LogBatch per log stream per page of FilterLogEvents, in the order CloudWatch gives."""
    paginator = logs.get_paginator("filter_log_events")
    kwargs: dict[str, Any] = {"logGroupName": log_group, "startTime": start_ms, "endTime": end_ms}
    if filter_pattern:
        kwargs["filterPattern"] = filter_pattern
    for page in paginator.paginate(**kwargs):
        streams: dict[str, list[LogEvent]] = {}
        for item in page.get("events", []):
            streams.setdefault(item["logStreamName"], []).append(
                LogEvent(item["eventId"], int(item["timestamp"]), item["message"])
            )
        yield [
            LogBatch(
                owner=owner,
                log_group=log_group,
                log_stream=stream,
                events=events,
                subscription_filters=("backfill",),
            )
            for stream, events in streams.items()
        ]


def backfill_command(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    since = parse_since(args.since, now)
    shipper = _shipper(args.progress)
    owner = aws.client("sts").get_caller_identity()["Account"]
    logs = aws.client("logs")
    total = ShipOutcome()
    pages = backfill_pages(
        logs,
        args.log_group,
        start_ms=int(since.timestamp() * 1000),
        end_ms=int(now.timestamp() * 1000),
        owner=owner,
        filter_pattern=args.filter_pattern,
    )
    with args.progress.bar(args.log_group, unit="pages") as bar:
        for number, batches in enumerate(pages):
            units = [Unit(None, batch=batch) for batch in batches]
            outcome = shipper.ship(Invocation("backfill", units), request_id=f"backfill-{number}")
            total.add(outcome)
            bar.update()
            bar.describe(f"{total.events_in:,} events, {total.indexed:,} indexed")
    emit({"log_group": args.log_group, "since": since.isoformat(), **total.to_json()}, args.format)
    return _status(total)


# --- subscribe -------------------------------------------------------------------------------


def subscribe_groups(
    logs: Any,
    *,
    prefix: str,
    destination_arn: str,
    filter_name: str,
    filter_pattern: str = "",
    role_arn: str | None = None,
    exclude: list[str] | None = None,
    dry_run: bool = False,
) -> dict[str, list[str]]:
    """Attach the filter to each group under `prefix`; never to the shipper's own log group."""
    own = _own_log_group(destination_arn)
    result: dict[str, list[str]] = {"subscribed": [], "already": [], "at_limit": [], "excluded": []}
    for page in logs.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=prefix):
        for group in page.get("logGroups", []):
            name = group["logGroupName"]
            if name == own or any(fnmatch.fnmatchcase(name, g) for g in exclude or []):
                result["excluded"].append(name)
                continue
            filters = logs.describe_subscription_filters(logGroupName=name).get(
                "subscriptionFilters", []
            )
            if any(f.get("filterName") == filter_name for f in filters):
                result["already"].append(name)
                continue
            if len(filters) >= SUBSCRIPTION_FILTER_LIMIT:
                result["at_limit"].append(name)
                continue
            if not dry_run:
                kwargs: dict[str, Any] = {
                    "logGroupName": name,
                    "filterName": filter_name,
                    "filterPattern": filter_pattern,
                    "destinationArn": destination_arn,
                }
                if role_arn:
                    kwargs["roleArn"] = role_arn
                logs.put_subscription_filter(**kwargs)
            result["subscribed"].append(name)
    return result


def _own_log_group(destination_arn: str) -> str | None:
    match = re.match(r"arn:aws[a-z-]*:lambda:[^:]+:\d{12}:function:([^:]+)", destination_arn)
    return f"/aws/lambda/{match.group(1)}" if match else None


_DESTINATION_ARN = re.compile(
    r"arn:aws[a-z-]*:(?:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9$_-]+)?"
    r"|kinesis:[a-z0-9-]+:\d{12}:stream/[A-Za-z0-9_.-]{1,128}"
    r"|firehose:[a-z0-9-]+:\d{12}:deliverystream/[A-Za-z0-9_.-]{1,64}"
    r"|logs:[a-z0-9-]+:\d{12}:destination:[^:]+)"
)
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")


def subscribe_command(args: argparse.Namespace) -> int:
    if not _DESTINATION_ARN.fullmatch(args.destination_arn):
        raise ConfigError(
            "--destination-arn",
            f"{args.destination_arn!r} is not a Lambda function or Kinesis stream ARN "
            "(the log-shipper stack's output, arn:aws:lambda:<region>:<account>:function:<name>)",
        )
    if args.role_arn and not _ROLE_ARN.fullmatch(args.role_arn):
        raise ConfigError("--role-arn", f"{args.role_arn!r} is not an IAM role ARN")
    if ":kinesis:" in args.destination_arn and not args.role_arn:
        raise ConfigError("--role-arn", "is needed for a Kinesis destination")
    result = subscribe_groups(
        aws.client("logs"),
        prefix=args.prefix,
        destination_arn=args.destination_arn,
        filter_name=args.filter_name,
        filter_pattern=args.filter_pattern,
        role_arn=args.role_arn,
        exclude=args.exclude,
        dry_run=args.dry_run,
    )
    emit(dict(result) | {"dry_run": args.dry_run}, args.format)
    return EXIT_OK


# --- subscribe-s3 ----------------------------------------------------------------------------

CREATED = "s3:ObjectCreated:*"
_QUEUE_ARN = re.compile(r"arn:aws[a-z-]*:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}")


def subscribe_bucket(
    s3: Any,
    *,
    bucket: str,
    queue_arn: str,
    prefix: str = "",
    suffix: str = "",
    config_id: str = "opsbundle-log-shipper",
    dry_run: bool = False,
) -> dict[str, Any]:
    """Add (or update) the bucket notification that sends new objects to the shipper's
    queue, keeping every other notification of the bucket. S3 allows one destination per
    event type and overlapping key filter: such an overlap is refused here, named."""
    held = s3.get_bucket_notification_configuration(Bucket=bucket)
    held.pop("ResponseMetadata", None)
    rules = [{"Name": n, "Value": v} for n, v in (("prefix", prefix), ("suffix", suffix)) if v]
    ours: dict[str, Any] = {"Id": config_id, "QueueArn": queue_arn, "Events": [CREATED]}
    if rules:
        ours["Filter"] = {"Key": {"FilterRules": rules}}
    queues = held.get("QueueConfigurations", [])
    mine = next((q for q in queues if q.get("Id") == config_id), None)
    if mine is not None and _same(mine, ours):
        return {"bucket": bucket, "status": "already", "dry_run": dry_run}
    for kind in ("QueueConfigurations", "TopicConfigurations", "LambdaFunctionConfigurations"):
        for other in held.get(kind, []):
            if other.get("Id") != config_id and _overlaps(other, prefix, suffix):
                destination = (
                    other.get("QueueArn") or other.get("TopicArn") or other.get("LambdaFunctionArn")
                )
                raise ConfigError(
                    "--prefix",
                    f"s3://{bucket} already sends new objects under {_filter_text(other)} to "
                    f"{destination} ({other.get('Id')}); S3 allows one destination per event "
                    "and key filter: narrow --prefix/--suffix, or turn on the bucket's "
                    "EventBridge notifications and route them to the queue with a rule",
                )
    config = {**held, "QueueConfigurations": [q for q in queues if q.get("Id") != config_id]}
    config["QueueConfigurations"].append(ours)
    if not dry_run:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    status = "updated" if mine is not None else "subscribed"
    return {"bucket": bucket, "status": status, "queue": queue_arn, "dry_run": dry_run}


def _same(held: dict[str, Any], ours: dict[str, Any]) -> bool:
    rules = (held.get("Filter") or {}).get("Key", {}).get("FilterRules", [])
    normal = sorted((r["Name"].lower(), r["Value"]) for r in rules)
    wanted = sorted(
        (r["Name"].lower(), r["Value"])
        for r in ours.get("Filter", {}).get("Key", {}).get("FilterRules", [])
    )
    return (
        held.get("QueueArn") == ours["QueueArn"]
        and sorted(held.get("Events", [])) == ours["Events"]
        and normal == wanted
    )


def _overlaps(other: dict[str, Any], prefix: str, suffix: str) -> bool:
    if not any(e.startswith("s3:ObjectCreated") for e in other.get("Events", [])):
        return False
    rules = {
        r["Name"].lower(): r["Value"]
        for r in (other.get("Filter") or {}).get("Key", {}).get("FilterRules", [])
    }
    theirs_prefix, theirs_suffix = rules.get("prefix", ""), rules.get("suffix", "")
    prefixes = prefix.startswith(theirs_prefix) or theirs_prefix.startswith(prefix)
    suffixes = suffix.endswith(theirs_suffix) or theirs_suffix.endswith(suffix)
    return prefixes and suffixes


def _filter_text(config: dict[str, Any]) -> str:
    rules = (config.get("Filter") or {}).get("Key", {}).get("FilterRules", [])
    return " and ".join(f"{r['Name'].lower()} {r['Value']!r}" for r in rules) or "any key"


def subscribe_s3_command(args: argparse.Namespace) -> int:
    if not _QUEUE_ARN.fullmatch(args.queue_arn):
        raise ConfigError("--queue-arn", f"expected an SQS queue ARN, got {args.queue_arn!r}")
    emit(
        subscribe_bucket(
            aws.client("s3"),
            bucket=args.bucket,
            queue_arn=args.queue_arn,
            prefix=args.prefix,
            suffix=args.suffix,
            config_id=args.id,
            dry_run=args.dry_run,
        ),
        args.format,
    )
    return EXIT_OK


# --- maintain and doctor --------------------------------------------------------------------


def maintain_command(args: argparse.Namespace) -> int:
    settings = ShipperSettings.load(require_dlq=False)
    report = lifecycle.maintain(
        _client(settings, args.progress),
        settings,
        today=utc_day(datetime.now(UTC)),
        dry_run=args.dry_run,
    )
    emit(report.to_json(), args.format)
    clashes = [f for f in report.families if f.clash]
    for family in clashes:
        print(f"opsbundle: template clash: {family.clash}", file=sys.stderr)
    return EXIT_FAILED if clashes else EXIT_OK


DOCTOR_MARKS = {doctor.OK: "ok  ", doctor.WARN: "warn", doctor.FAIL: "FAIL"}


def doctor_command(args: argparse.Namespace) -> int:
    settings = ShipperSettings.load(require_dlq=False)
    findings = doctor.diagnose(build_client(settings), settings, today=utc_day(datetime.now(UTC)))
    if args.format == "json":
        emit([f.to_json() for f in findings], "json")
    else:
        for finding in findings:
            print(f"{DOCTOR_MARKS[finding.level]}  {finding.check:<9} {finding.message}")
            if finding.fix and finding.level != doctor.OK:
                print(f"{'':15}fix: {finding.fix}")
    return doctor.exit_status(findings)


# --- setup and dashboards --------------------------------------------------------------------


def setup_command(args: argparse.Namespace) -> int:
    settings = ShipperSettings.load(require_dlq=False, offline=args.print)
    families = settings.router.families()
    if args.print:
        templates = {
            template.template_name(settings.layout, f, families[0]): template.template_body(
                f, settings.layout
            )
            for f in families
        }
        policies = {
            template.template_name(settings.layout, f, families[0]): ism.policy_body(f)
            for f in families
            if f.ism_min_index_age
        }
        emit({"index_templates": templates, "ism_policies": policies}, "json")
        return EXIT_OK
    client = _client(settings, args.progress)
    checks = WarmClients(opensearch_client=client).ensure_templates(client, settings, force=True)
    emit(
        [
            {
                "template": c.name,
                "index_patterns": [c.family.wildcard],
                "put": c.put,
                "clash": c.clash,
            }
            for c in checks
        ],
        args.format,
    )
    return EXIT_FAILED if any(c.clash for c in checks) else EXIT_OK


def dashboards_command(args: argparse.Namespace) -> int:
    try:
        content = args.file.read_bytes()
    except OSError as error:
        raise ConfigError("--file", str(error)) from None
    url = args.url.rstrip("/") + "/api/saved_objects/_import?overwrite=true"
    try:
        answer = requests.post(
            url,
            headers={"osd-xsrf": "true"},
            timeout=60,
            files={"file": (args.file.name, content, "application/ndjson")},
        )
    except requests.RequestException as error:
        raise LogShipperError(
            f"could not reach OpenSearch Dashboards at {args.url}: {error}"
        ) from None
    if answer.status_code != 200 or not answer.json().get("success"):
        raise LogShipperError(
            f"Dashboards refused the import: HTTP {answer.status_code} {answer.text[:300]}"
        )
    emit({"imported": answer.json().get("successCount")}, args.format)
    return EXIT_OK


# --- helpers ---------------------------------------------------------------------------------


def _client(settings: ShipperSettings, progress: Progress) -> Any:
    """The OpenSearch client, once something answers at OPENSEARCH_URL (exit 2 if nothing
    does), with each wait shown on a terminal."""
    client = build_client(settings)
    where = shown(settings.opensearch_url)
    with progress.status(f"OpenSearch at {where}") as bar:

        def trying(attempt: int, attempts: int, why: str) -> None:
            if why:
                progress.note(
                    f"OpenSearch at {where}: {why}; attempt {attempt} of {attempts} "
                    f"(gives up after {attempts})"
                )
            bar.describe(
                f"attempt {attempt} of {attempts}, waiting up to "
                f"{settings.timeout_seconds} s for an answer"
            )

        reach(client, settings, on_attempt=trying)
    return client


def _shipper(progress: Progress, settings: ShipperSettings | None = None) -> Shipper:
    settings = settings or ShipperSettings.load()
    return build_shipper(
        settings,
        metrics=RunMetrics(service=SERVICE),
        warm=WarmClients(opensearch_client=_client(settings, progress)),
        sender_options={"on_retry": lambda retry: progress.note(retry.describe())},
    )


def _status(outcome: ShipOutcome) -> int:
    if outcome.not_durable:
        print("opsbundle: failed: some events could not be made durable", file=sys.stderr)
        return EXIT_FAILED
    if outcome.dead_lettered:
        print(
            f"opsbundle: dead-lettered: {dict(outcome.dead_lettered)} (see dead_letter_keys)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    return EXIT_OK


__all__ = ["EXIT_CONFIG", "register", "replay_prefix"]
