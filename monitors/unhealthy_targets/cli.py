"""`opsbundle targets inspect TARGET_GROUP_ARN`: the unhealthy-target inspection, now."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from functools import partial
from typing import Any

from monitors.config import MonitorSettings
from monitors.exceptions import MonitorError
from monitors.unhealthy_targets import render
from monitors.unhealthy_targets.inspection import Inspection
from monitors.unhealthy_targets.inspector import TargetInspector
from opsbundle import aws
from opsbundle.cli import EXIT_FAILED, EXIT_OK
from opsbundle.exceptions import ConfigError
from opsbundle.output import add_format
from opsbundle.progress import Progress


def register(commands: Any) -> None:
    targets = commands.add_parser(
        "targets",
        help="load balancer targets",
        examples=[
            "opsbundle targets inspect arn:aws:elasticloadbalancing:us-east-1:"
            "123456789012:targetgroup/web/0123456789abcdef"
        ],
    )
    actions = targets.add_subparsers(dest="action", required=True, metavar="ACTION")
    inspect = actions.add_parser(
        "inspect",
        help="which targets of a target group are not healthy, why, and what to check",
        description="Inspect a target group (or, with --classic, a Classic load balancer) "
        "the way the unhealthy-target alarm does, and print the report. Exit 0: inspected; "
        "1: nothing could be inspected (gone, denied, unreachable); 2: bad usage.",
        examples=[
            "opsbundle targets inspect arn:aws:elasticloadbalancing:us-east-1:123456789012:"
            "targetgroup/web/0123456789abcdef",
            "opsbundle targets inspect my-classic-elb --classic --region eu-west-1 --format json",
        ],
    )
    inspect.add_argument(
        "target",
        metavar="TARGET_GROUP_ARN",
        help="target group ARN, or a Classic load balancer name with --classic",
    )
    inspect.add_argument("--classic", action="store_true", help="TARGET is a Classic ELB name")
    inspect.add_argument("--region", help="region for --classic (default: AWS_REGION)")
    add_format(inspect)
    inspect.set_defaults(handler=inspect_command)


def inspect_command(args: argparse.Namespace) -> int:
    settings = MonitorSettings.load()
    inspect: Callable[[], Inspection]
    if args.classic:
        inspector = TargetInspector(region=aws.resolved_region(args.region))
        inspect = partial(inspector.inspect_classic, args.target)
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
        region = aws.known_region(parts[3], setting="TARGET_GROUP_ARN")
        inspector = TargetInspector(region=region, partition=parts[1])
        inspect = partial(inspector.inspect_target_group, args.target)
    with Progress.for_stream(sys.stderr).status(f"inspecting {args.target}"):
        inspection = inspect()
    unreached = inspection.found and inspection.problems and not inspection.targets
    if args.format == "json":
        print(json.dumps(inspection.to_json(), indent=2, default=str))
    elif unreached:  # "0 of 0 targets" would hide that nothing was looked at
        raise MonitorError(f"could not inspect {args.target}: {'; '.join(inspection.problems)}")
    else:
        sys.stdout.write(
            render.email_body(inspection, None, max_listed=settings.targets_max_listed)
        )
    if not inspection.found or (inspection.problems and not inspection.targets):
        return EXIT_FAILED
    return EXIT_OK
