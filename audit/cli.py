"""`opsbundle audit`: the account against the security baseline, now; `--fix` for the safe part.

Exit status: 0 no findings, 1 findings (or the audit could not run), 2 bad usage or
configuration, with one line naming the setting. It only reads, unless --fix is given and
the plan is accepted.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import boto3
from botocore.exceptions import ProfileNotFound

from audit import fix, render
from audit.collect import Clients, Collector
from audit.config import Baseline
from audit.findings import AuditResult
from audit.run import Audit, audit_account
from opsbundle import aws
from opsbundle import settings as names
from opsbundle.exceptions import ConfigError
from opsbundle.progress import Progress

EXIT_CLEAN, EXIT_FINDINGS = 0, 1
FORMATS = ("text", "json", "slack")
STACK = "audit"  # the audit's entry in cloudformation/params/<env>.json
# Parameters of cloudformation/audit.yaml → the variables the function gets (and --env reads).
PARAMETER_SETTINGS = {
    "AuditContactDomains": names.AUDIT_CONTACT_DOMAINS,
    "AuditOperationsContact": names.AUDIT_OPERATIONS_CONTACT,
    "AuditBillingContact": names.AUDIT_BILLING_CONTACT,
    "AuditSecurityContact": names.AUDIT_SECURITY_CONTACT,
    "MonitorsStackName": names.AUDIT_MONITORS_STACK,
    "AuditMonitors": names.AUDIT_MONITORS,
}


def register(commands: Any) -> None:
    parser = commands.add_parser(
        "audit",
        help="check the account against the security baseline (root, passwords, contacts, "
        "CloudTrail, IAM users and policies, the bundle's alarms)",
        description="Check the AWS account against the security baseline and print each "
        "finding with what is wrong, why it matters and the exact fix. Read-only unless "
        "--fix. Exit 0: no findings; 1: findings; 2: bad usage or configuration.",
        examples=[
            "opsbundle audit",
            "opsbundle audit --env prod --format json",
            "opsbundle audit --env prod --fix     # shows the plan and asks first",
        ],
    )
    parser.add_argument(
        "--env",
        metavar="ENV",
        help="read the baseline (contacts, domains, monitors stack) from the audit entry of "
        "cloudformation/params/ENV.json",
    )
    parser.add_argument(
        "--params-dir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where ENV.json is (default cloudformation/params)",
    )
    parser.add_argument(
        "--format",
        choices=FORMATS,
        default="text",
        help="text (default), json, or slack (a chat.postMessage payload)",
    )
    parser.add_argument(
        "--fix",
        action="store_true",
        help="set the password policy and the declared alternate contacts, "
        "after showing the plan and asking",
    )
    parser.add_argument("--yes", action="store_true", help="with --fix: apply without asking")
    parser.add_argument("--region", help="region of the trail and alarms (default AWS_REGION)")
    parser.set_defaults(handler=audit_command)


def audit_command(
    args: argparse.Namespace,
    *,
    stdin: TextIO | None = None,
    out: TextIO | None = None,
    clients: Clients | None = None,
    collector_factory: Callable[[Clients], Collector] = lambda c: Collector(clients=c),
) -> int:
    stdin, out = stdin or sys.stdin, out or sys.stdout
    if args.yes and not args.fix:
        raise ConfigError("--yes", "only means something with --fix")
    if args.fix and not args.yes and not stdin.isatty():
        raise ConfigError(
            "--yes",
            "stdin is not a terminal, so nobody can answer the prompt: "
            "pass --yes to apply the fixes without asking",
        )
    if args.region:
        aws.known_region(args.region, setting="--region")
    explicit, source = _from_params_file(args.env, args.params_dir)
    baseline = Baseline.load(explicit=explicit, source=source)
    if clients is None:
        try:
            clients = Clients.create(
                session=boto3.Session(region_name=args.region), region=args.region
            )
        except ProfileNotFound as error:
            raise ConfigError(
                "AWS_PROFILE", f"{error}; check with aws configure list-profiles"
            ) from None
    collector = collector_factory(clients)
    # About 2 s on a first run while AWS makes the credential report: a status line on a
    # terminal, nothing in a pipe.
    with Progress.for_stream(sys.stderr).status("reading the account"):
        audit = audit_account(collector, baseline)
    if not args.fix:
        out.write(_render(audit.result, args.format))
        return EXIT_CLEAN if audit.result.clean else EXIT_FINDINGS
    return _fix(audit, baseline, args, stdin=stdin, out=out, clients=clients, collector=collector)


def _render(result: AuditResult, form: str) -> str:
    if form == "json":
        return render.json_text(result)
    if form == "slack":
        return json.dumps(render.slack_payload(result), indent=2, ensure_ascii=False) + "\n"
    return render.text(result)


def _fix(
    audit: Audit,
    baseline: Baseline,
    args: argparse.Namespace,
    *,
    stdin: TextIO,
    out: TextIO,
    clients: Clients,
    collector: Collector,
) -> int:
    notes = out if args.format == "text" else sys.stderr  # keep JSON output parseable
    result = audit.result
    notes.write(render.text(result))
    changes = fix.plan(result.findings, audit.snapshot, baseline)
    rest = fix.left_to_people(result.findings, changes)
    if not changes:
        print(
            "\n--fix: none of these can be set from code; the fix of each says what to run.",
            file=notes,
        )
        if args.format != "text":
            out.write(_render(result, args.format))
        return EXIT_CLEAN if result.clean else EXIT_FINDINGS
    print(
        f"\n--fix would make {len(changes)} change{'s' * (len(changes) != 1)} to account "
        f"{result.account}:",
        file=notes,
    )
    for number, change in enumerate(changes, start=1):
        first, *more = change.describe()
        print(f"  {number}. {first}", file=notes)
        for line in more:
            print(f"    {line}", file=notes)
    if rest:
        print(
            f"Not changed by --fix ({len(rest)}): "
            + ", ".join(f"{f.check} · {f.resource}" for f in rest)
            + "; run the fix shown for each.",
            file=notes,
        )
    if not args.yes:
        print(f"Apply these {len(changes)} changes? [y/N] ", end="", file=notes, flush=True)
        answer = stdin.readline()
        if answer.strip().lower() not in ("y", "yes"):
            print("Nothing changed.", file=notes)
            return EXIT_FINDINGS
    fix.apply(changes, iam=clients.iam, account=clients.account)
    print(
        f"Applied {len(changes)} change{'s' * (len(changes) != 1)}. Auditing again:\n", file=notes
    )
    after = audit_account(collector, baseline).result
    out.write(_render(after, args.format))
    return EXIT_CLEAN if after.clean else EXIT_FINDINGS


def _from_params_file(env: str | None, params_dir: Path | None) -> tuple[dict[str, str], str]:
    """The audit stack's parameters of ENV.json as the variables they become."""
    if env is None:
        return {}, ""
    # Deploy tooling, left out of the Lambda zips (which ship this module): only for --env.
    from opsbundle.deployment import packaging  # noqa: PLC0415
    from opsbundle.deployment.stacks import PARAMS_DIR, load_plan  # noqa: PLC0415

    directory = params_dir or PARAMS_DIR
    try:  # checks the file, and that no value of the audit entry is a placeholder
        plan = load_plan(env, params_dir=directory, lambdas=packaging.LAMBDAS, only=[STACK])
    except ConfigError as error:
        if error.setting != "--only":
            raise
        raise ConfigError(
            "--env", f"{env}.json has no {STACK!r} stack; add one (see docs/audit.md)"
        ) from None
    spec = plan.all_stacks[STACK]
    source = f"{plan.source} stacks.{STACK}.parameters"
    values: dict[str, str] = {}
    for parameter, setting in PARAMETER_SETTINGS.items():
        value = _resolve(spec.parameters.get(parameter, ""), plan.environment, plan.stack_prefix)
        if "${" in value or "REPLACE_ME" in value:
            raise ConfigError(f"{source}.{parameter}", f"{value!r} must be filled in for --env")
        values[setting] = value
    return values, source


def _resolve(value: str, environment: str, prefix: str) -> str:
    return value.replace("${prefix}", prefix).replace("${env}", environment)
