"""`opsbundle deploy` and `opsbundle cost`: the deployment commands.

AWS access comes from the usual chain (a role, AWS_PROFILE, SSO); AWS_REGION (or --region)
picks the region and AWS_ENDPOINT_URL a local endpoint. Never static keys in files.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TextIO

import boto3
from botocore.exceptions import BotoCoreError, ClientError, ProfileNotFound

from opsbundle.aws import RETRIES
from opsbundle.deployment import cost, packaging
from opsbundle.deployment.changesets import Stacks
from opsbundle.deployment.deploy import Artifacts, Deployer, DeployOutcome, Target, default_bucket
from opsbundle.deployment.stacks import ENVIRONMENTS, PARAMS_DIR, load_plan
from opsbundle.exceptions import ConfigError
from opsbundle.failures import aws_problem
from opsbundle.progress import Progress
from opsbundle.settings import Env

EXIT_OK = 0
DEFAULT_DIST = packaging.PROJECT_ROOT / "dist"


def register(commands: Any) -> None:
    deploy = commands.add_parser(
        "deploy",
        help="deploy every stack of an environment through CloudFormation change sets",
        description="Create a change set per stack in dependency order, show it, ask, execute.",
        examples=[
            "opsbundle deploy --env dev --dry-run        # show every change set, change nothing",
            "opsbundle deploy --env dev --build          # package, then deploy, asking per stack",
            "opsbundle deploy --env prod --only report --yes",
        ],
    )
    deploy.add_argument(
        "--env", required=True, metavar="ENV", help=f"one of {', '.join(ENVIRONMENTS)}"
    )
    deploy.add_argument("--yes", action="store_true", help="execute without asking")
    deploy.add_argument(
        "--dry-run", action="store_true", help="print the change sets; execute nothing"
    )
    deploy.add_argument(
        "--only", action="append", metavar="STACK", help="deploy only this stack (repeatable)"
    )
    deploy.add_argument("--region", help="AWS region (default AWS_REGION, then the profile's)")
    deploy.add_argument(
        "--build", action="store_true", help="run the packaging build first (make package)"
    )
    deploy.add_argument(
        "--params-dir",
        type=Path,
        default=PARAMS_DIR,
        metavar="DIR",
        help="where <env>.json is; templates are in its parent (default cloudformation/params)",
    )
    deploy.add_argument(
        "--dist", type=Path, default=DEFAULT_DIST, help="where the zips are (default dist/)"
    )
    deploy.add_argument(
        "--pipeline-config",
        type=Path,
        metavar="DIR",
        help="write CodePipeline template configuration files to DIR instead of deploying",
    )
    deploy.set_defaults(handler=deploy_command)

    estimate = commands.add_parser(
        "cost",
        help="estimate the monthly AWS bill (free tier counted)",
        description=cost.__doc__.splitlines()[0] if cost.__doc__ else None,
        examples=[
            "opsbundle cost",
            "opsbundle cost --log-gb 40 --opensearch-nodes 2 --format json",
        ],
    )
    cost.add_arguments(estimate)
    estimate.set_defaults(handler=cost_command)


def deploy_command(
    args: argparse.Namespace,
    *,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    session_factory: Callable[..., Any] = boto3.Session,
    environ: Mapping[str, str] | None = None,
) -> int:
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    plan = load_plan(
        args.env, params_dir=args.params_dir, lambdas=packaging.LAMBDAS, only=args.only or ()
    )
    executing = not args.dry_run and args.pipeline_config is None
    if executing and not args.yes and not stdin.isatty():
        raise ConfigError(
            "--yes",
            "stdin is not a terminal, so nobody can answer the prompt: "
            "pass --yes to execute without asking, or --dry-run to look",
        )
    if args.build and plan.packages():
        packaging.build(plan.packages(), args.dist)
    env = Env(environ)
    try:
        session = session_factory(region_name=args.region or env.string("AWS_REGION"))
        target, clients = _connect(session, plan.artifact_bucket)
    except ProfileNotFound as error:
        raise ConfigError(
            "AWS_PROFILE", f"{error}; check the name with aws configure list-profiles"
        ) from None
    print(
        f"deploying {args.env} to account {target.account} in {target.region} "
        f"({', '.join(s.stack_name for s in plan.stacks)})",
        file=out,
    )
    deployer = Deployer(
        plan,
        target,
        stacks=Stacks(clients["cloudformation"]),
        artifacts=Artifacts(
            clients["s3"],
            target.artifact_bucket,
            target.region,
            owner=target.account,
            environment=plan.environment,
        ),
        dist=args.dist,
        out=out,
        confirm=_always if args.yes else _prompt(stdin, out),
        progress=getattr(args, "progress", None) or Progress.off(),
    )
    try:
        if args.pipeline_config is not None:
            for path in deployer.template_configurations(args.pipeline_config):
                print(f"wrote {path}", file=out)
            return EXIT_OK
        outcome = deployer.run(dry_run=args.dry_run or False)
    except (BotoCoreError, ClientError) as error:
        raise aws_problem(error) from None
    _summary(outcome, out, dry_run=args.dry_run)
    return EXIT_OK


def _connect(session: Any, bucket: str | None) -> tuple[Target, dict[str, Any]]:
    region = session.region_name
    if not region:
        raise ConfigError(
            "AWS_REGION", "no AWS region: set AWS_REGION, pass --region or use a profile with one"
        )
    try:
        sts = session.client("sts", config=RETRIES)
        account = str(sts.get_caller_identity()["Account"])
        clients = {name: session.client(name, config=RETRIES) for name in ("cloudformation", "s3")}
    except (BotoCoreError, ClientError) as error:
        raise aws_problem(error) from None
    return Target(
        account=account, region=region, artifact_bucket=bucket or default_bucket(account, region)
    ), clients


def _always(question: str) -> bool:
    return True


def _prompt(stdin: TextIO, out: TextIO) -> Callable[[str], bool]:
    def confirm(question: str) -> bool:
        print(question, end="", file=out, flush=True)
        answer = stdin.readline()
        if not answer:
            print("", file=out)
        return answer.strip().lower() in ("y", "yes")

    return confirm


def _summary(outcome: DeployOutcome, out: TextIO, *, dry_run: bool) -> None:
    if dry_run:
        changed = ", ".join(outcome.reviewed) or "nothing"
        print(
            f"dry run: nothing executed; would change: {changed}; "
            f"unchanged: {', '.join(outcome.unchanged) or 'none'}",
            file=out,
        )
        return
    print(
        f"deployed: {', '.join(outcome.deployed) or 'none'}; "
        f"unchanged: {', '.join(outcome.unchanged) or 'none'}",
        file=out,
    )
    for stack, outputs in outcome.outputs.items():
        for key, value in sorted(outputs.items()):
            print(f"  {stack}.{key} = {value}", file=out)


def cost_command(args: argparse.Namespace, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    estimate = cost.estimate(cost.Inputs.from_args(args))
    if args.format == "json":
        print(json.dumps(estimate.to_json(), indent=2), file=out)
    else:
        out.write(cost.render(estimate))
    return EXIT_OK
