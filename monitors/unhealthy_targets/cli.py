"""`opsbundle targets inspect TARGET_GROUP_ARN`: the unhealthy-target inspection, now."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import boto3

from monitors.config import MonitorSettings
from monitors.unhealthy_targets import render
from monitors.unhealthy_targets.inspector import TargetInspector
from opsbundle.cli import EXIT_FAILED, EXIT_OK
from opsbundle.exceptions import ConfigError

FORMATS = ("text", "json")


def register(commands: Any) -> None:
    targets = commands.add_parser("targets", help="load balancer targets")
    actions = targets.add_subparsers(dest="action", required=True, metavar="ACTION")
    inspect = actions.add_parser(
        "inspect",
        help="which targets of a target group are not healthy, why, and what to check",
        description="Inspect a target group (or, with --classic, a Classic load balancer) "
        "the way the unhealthy-target alarm does, and print the report.",
    )
    inspect.add_argument(
        "target",
        metavar="TARGET_GROUP_ARN",
        help="target group ARN, or a Classic load balancer name with --classic",
    )
    inspect.add_argument("--classic", action="store_true", help="TARGET is a Classic ELB name")
    inspect.add_argument("--region", help="region for --classic (default: the AWS config's)")
    inspect.add_argument("--format", choices=FORMATS, default="text", help="output (default text)")
    inspect.set_defaults(handler=inspect_command)


def inspect_command(args: argparse.Namespace) -> int:
    settings = MonitorSettings.load()
    if args.classic:
        region = args.region or _default_region()
        inspection = TargetInspector(region=region).inspect_classic(args.target)
    else:
        parts = args.target.split(":")
        if (
            len(parts) != 6
            or parts[2] != "elasticloadbalancing"
            or ":targetgroup/" not in (args.target)
        ):
            raise ConfigError(
                "TARGET_GROUP_ARN",
                f"{args.target!r} is not a target group ARN "
                "(arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>)",
            )
        inspector = TargetInspector(region=parts[3], partition=parts[1])
        inspection = inspector.inspect_target_group(args.target)
    if args.format == "json":
        print(json.dumps(inspection.to_json(), indent=2, default=str))
    else:
        sys.stdout.write(
            render.email_body(inspection, None, max_listed=settings.targets_max_listed)
        )
    if not inspection.found or (inspection.problems and not inspection.targets):
        return EXIT_FAILED
    return EXIT_OK


def _default_region() -> str:
    region = boto3.Session().region_name
    if not region:
        raise ConfigError("--region", "no region given and none in the AWS configuration")
    return str(region)
