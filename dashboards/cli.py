"""`opsbundle dashboards build|upload|check`: write the dashboards and rules, put them in
Grafana, or check that every panel has data on a live Prometheus.

grafanalib is imported when a command runs, not when the `opsbundle` parser is built, so
the other parts' commands don't pay for it.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from opsbundle import settings
from opsbundle.cli import EXIT_FAILED, EXIT_OK
from opsbundle.exceptions import ConfigError
from opsbundle.output import add_format, emit
from opsbundle.progress import Progress
from opsbundle.settings import Env

_DURATION = re.compile(r"^(\d+)([smhd])$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "dashboards",
        help="Grafana dashboards and Prometheus rules",
        examples=[
            "opsbundle dashboards build",
            "opsbundle dashboards check --prometheus http://127.0.0.1:9090",
        ],
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    build_cmd = actions.add_parser(
        "build",
        help="write the dashboards' JSON and the alert rules",
        description="Write one JSON file per dashboard and the alert rules into a folder.",
        examples=[
            "opsbundle dashboards build",
            "opsbundle dashboards build --out /tmp/dashboards "
            "--runbook-base-url https://github.com/acme/opsbundle/blob/main/README.md",
        ],
    )
    build_cmd.add_argument("--out", type=Path, help="output folder (default dashboards/generated)")
    build_cmd.add_argument(
        "--runbook-base-url",
        help="make runbook links absolute: an https:// URL (DASHBOARDS_RUNBOOK_BASE_URL)",
    )
    add_format(build_cmd)
    build_cmd.set_defaults(handler=build_command)
    up = actions.add_parser(
        "upload",
        help="upload the dashboards to Grafana (overwriting, with a version message)",
        description="Build every dashboard and save it in Grafana through its HTTP API.",
        examples=[
            "opsbundle dashboards upload --grafana-url https://grafana.example.com "
            "--token-secret-arn arn:aws:secretsmanager:us-east-1:123456789012:secret:grafana",
        ],
    )
    up.add_argument("--grafana-url", help="Grafana base URL (GRAFANA_URL)")
    up.add_argument("--folder", help="folder title, created if missing (GRAFANA_FOLDER)")
    up.add_argument(
        "--token-secret-arn",
        help="Secrets Manager secret with the token (GRAFANA_TOKEN_SECRET_ARN)",
    )
    up.add_argument(
        "--message",
        default="opsbundle dashboards upload",
        help="the version message Grafana keeps in the dashboard's history",
    )
    add_format(up)
    up.set_defaults(handler=upload_command)
    check = actions.add_parser(
        "check",
        help="list the panels that would show No data on a Prometheus, and why",
        description="Run every dashboard's variable and panel queries against a live "
        "Prometheus, as Grafana would with every variable on All, and list the panels that "
        "would show No data with the reason. Exit 0: every panel has data; 1: some do not.",
        examples=[
            "opsbundle dashboards check --prometheus http://127.0.0.1:9090",
            "opsbundle dashboards check --dashboard opsbundle-rds --range 6h",
        ],
    )
    check.add_argument(
        "--prometheus",
        help="Prometheus base URL, the one Grafana's data source uses (PROMETHEUS_URL)",
    )
    check.add_argument(
        "--dashboard",
        action="append",
        metavar="UID",
        help="check only this dashboard (repeat for several; default: all)",
    )
    check.add_argument("--range", default="1h", help="time range the panels show (default 1h)")
    check.add_argument(
        "--scrape-interval",
        default="15s",
        help="the data source's scrape interval, for $__rate_interval (default 15s)",
    )
    add_format(check)
    check.set_defaults(handler=check_command)


def build_command(args: argparse.Namespace) -> int:
    from dashboards import build  # noqa: PLC0415 - lazy: see the module docstring

    setting = (
        "--runbook-base-url" if args.runbook_base_url else settings.DASHBOARDS_RUNBOOK_BASE_URL
    )
    base = Env().string(settings.DASHBOARDS_RUNBOOK_BASE_URL, args.runbook_base_url)
    if base and not _is_web_url(base):
        raise ConfigError(
            setting,
            f"{base!r} is not a URL: e.g. https://github.com/<org>/"
            "<repo>/blob/main/README.md (the runbooks are its headings)",
        )
    try:
        written = build.write_all(args.out, runbook_base_url=base)
    except OSError as error:
        where = error.filename or args.out
        raise ConfigError("--out", f"cannot write {where}: {error.strerror}") from None
    if args.format == "json":
        emit([str(path) for path in written], "json")
    else:
        for path in written:
            print(path)
    return EXIT_OK


def _is_web_url(value: str) -> bool:
    """An http(s) URL that can go into a link as it is: a host, and no space or control
    character anywhere (Prometheus and Alertmanager would write it out broken)."""
    if any(c.isspace() or not c.isprintable() for c in value):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("https", "http") and bool(parts.hostname)


def upload_command(args: argparse.Namespace) -> int:
    from dashboards import build, upload  # noqa: PLC0415 - lazy: see the module docstring

    env = Env()
    url = upload.grafana_url(args.grafana_url, env)
    token = upload.grafana_token(explicit_secret=args.token_secret_arn, env=env)
    uploader = upload.DashboardUploader(url=url, token=token)
    folder = uploader.folder_uid(env.string(settings.GRAFANA_FOLDER, args.folder))
    uploaded = []
    for board in build.build_all().values():
        done = uploader.upload(board, folder_uid=folder, message=args.message)
        uploaded.append(asdict(done))
        if args.format == "text":
            print(f"{done.title}: version {done.version}, {done.url}")
    if args.format == "json":
        emit(uploaded, "json")
    return EXIT_OK


def check_command(args: argparse.Namespace) -> int:
    from dashboards import build, check  # noqa: PLC0415 - lazy: see the module docstring

    url = args.prometheus or Env().string(settings.PROMETHEUS_URL)
    if not url:
        raise ConfigError("--prometheus", f"is not set (or set {settings.PROMETHEUS_URL})")
    span = _seconds("--range", args.range)
    scrape_interval = _seconds("--scrape-interval", args.scrape_interval)
    boards = list(build.build_all().values())
    if args.dashboard:
        known = {str(b["uid"]) for b in boards}
        if unknown := [uid for uid in args.dashboard if uid not in known]:
            raise ConfigError(
                "--dashboard", f"no dashboard {unknown[0]!r}; one of {', '.join(sorted(known))}"
            )
        boards = [b for b in boards if b["uid"] in args.dashboard]
    client = check.PrometheusClient(url)
    version = client.version()
    now = time.time()
    window = check.Window(start=now - span, end=now, scrape_interval=scrape_interval)
    results = []
    with Progress.for_stream(sys.stderr).bar("dashboards checked", total=len(boards)) as bar:
        for board in boards:
            results.append(check.check_board(client, board, window))
            bar.update()
    empty = sum(1 for r in results for p in r.problems if not p.item.startswith("$"))
    panels = sum(r.panels for r in results)
    if args.format == "json":
        emit(
            {
                "prometheus": version,
                "range": args.range,
                "panels": panels,
                "no_data": empty,
                "dashboards": [asdict(r) for r in results],
            },
            "json",
        )
        return EXIT_FAILED if empty else EXIT_OK
    for line in check.report_lines(results):
        print(line)
    if empty:
        print(f"{empty} of {panels} panels would show No data (Prometheus {version}, {args.range})")
        return EXIT_FAILED
    print(
        f"every panel has data: {panels} panels, {len(results)} dashboards "
        f"(Prometheus {version}, {args.range})"
    )
    return EXIT_OK


def _seconds(flag: str, value: str) -> int:
    match = _DURATION.match(value.strip())
    if match is None or int(match.group(1)) == 0:
        raise ConfigError(flag, f"expected a duration like 30s, 15m, 1h or 2d, got {value!r}")
    return int(match.group(1)) * _SECONDS[match.group(2)]
