"""`opsbundle dashboards build|upload`: write the dashboards and rules, or put them in Grafana.

grafanalib is imported when a command runs, not when the `opsbundle` parser is built, so
the other parts' commands don't pay for it.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from opsbundle import settings
from opsbundle.cli import EXIT_OK
from opsbundle.settings import Env


def register(commands: Any) -> None:
    parser = commands.add_parser("dashboards", help="Grafana dashboards and Prometheus rules")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    build_cmd = actions.add_parser(
        "build",
        help="write the dashboards' JSON and the alert rules",
        description="Write one JSON file per dashboard and the alert rules into a folder.",
    )
    build_cmd.add_argument("--out", type=Path, help="output folder (default dashboards/generated)")
    build_cmd.add_argument(
        "--runbook-base-url", help="make runbook links absolute (DASHBOARDS_RUNBOOK_BASE_URL)"
    )
    build_cmd.set_defaults(handler=build_command)
    up = actions.add_parser(
        "upload",
        help="upload the dashboards to Grafana (overwriting, with a version message)",
        description="Build every dashboard and save it in Grafana through its HTTP API.",
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
    up.set_defaults(handler=upload_command)


def build_command(args: argparse.Namespace) -> int:
    from dashboards import build  # noqa: PLC0415 - lazy: see the module docstring

    base = Env().string(settings.DASHBOARDS_RUNBOOK_BASE_URL, args.runbook_base_url)
    for path in build.write_all(args.out, runbook_base_url=base):
        print(path)
    return EXIT_OK


def upload_command(args: argparse.Namespace) -> int:
    from dashboards import build, upload  # noqa: PLC0415 - lazy: see the module docstring

    env = Env()
    url = upload.grafana_url(args.grafana_url, env)
    token = upload.grafana_token(explicit_secret=args.token_secret_arn, env=env)
    uploader = upload.DashboardUploader(url=url, token=token)
    folder = uploader.folder_uid(env.string(settings.GRAFANA_FOLDER, args.folder))
    for board in build.build_all().values():
        done = uploader.upload(board, folder_uid=folder, message=args.message)
        print(f"{done.title}: version {done.version}, {done.url}")
    return EXIT_OK
