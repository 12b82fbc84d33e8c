"""The report stack with one schedule per report of the reports file (deploy tooling only).

`cloudformation/report.yaml` as committed schedules the one report the environment describes
(`ReportSchedule`, from `ReportScheduleExpression`). When the project has a reports file
(`reports.yml` at its root), `opsbundle deploy` deploys the template rendered from it instead:

- `ReportSchedule` becomes one `AWS::Scheduler::Schedule` per report (`ReportSchedule<Name>`,
  named after the report in the stack's schedule group), or one per minute past the hour when
  a report's times differ in their minutes; each keeps the committed schedule's target, role,
  retry policy, dead-letter queue, key and state, takes the report's times, days and time
  zone (the stack's `ReportTimezone` when the report names none), and adds
  `"report": "<name>"` to the input, which is how the function knows which report is due;
- the function's `REPORTS_FILE` becomes `reports.yml`, the copy `make package` puts in the
  zip next to the code (the deploy checks that the zip carries this very file);
- `ReportScheduleExpression`, which no schedule reads any more, is left out, and the
  `ReportScheduleArn` output names the first report's schedule.

A file that fails validation stops `opsbundle deploy` before any AWS call, with the same one
line as `opsbundle report validate`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from opsbundle.exceptions import ConfigError
from report_fn import reports_file

TEMPLATE_NAME = "report.yaml"
REPORTS_FILE = "reports.yml"  # at the project root; shipped at the root of report_fn.zip
SCHEDULE = "ReportSchedule"
EXPRESSION_PARAMETER = "ReportScheduleExpression"


def renders(template: Path) -> bool:
    """Whether `opsbundle deploy` renders this template from the reports file."""
    return template.name == TEMPLATE_NAME


def render(template: dict[str, Any], reports: reports_file.ReportsFile) -> dict[str, Any]:
    """The report template with the reports file's schedules (see the module docstring)."""
    rendered = copy.deepcopy(template)
    resources = rendered["Resources"]
    base = resources.pop(SCHEDULE)
    first: str | None = None
    for logical_id, name, spec, expression in _schedules(reports):
        schedule = copy.deepcopy(base)
        properties = schedule["Properties"]
        properties["Name"] = name
        properties["Description"] = f"opsbundle report {spec.name}: {spec.schedule.describe()}"
        properties["ScheduleExpression"] = expression
        properties["ScheduleExpressionTimezone"] = spec.timezone or {"Ref": "ReportTimezone"}
        target = properties["Target"]
        target["Input"] = json.dumps({"report": spec.name, **json.loads(target["Input"])})
        resources[logical_id] = schedule
        first = first or logical_id
    function = resources["ReportFunction"]["Properties"]
    function["Environment"]["Variables"]["REPORTS_FILE"] = REPORTS_FILE
    rendered.get("Parameters", {}).pop(EXPRESSION_PARAMETER, None)
    for group in (
        rendered.get("Metadata", {})
        .get("AWS::CloudFormation::Interface", {})
        .get("ParameterGroups", [])
    ):
        group["Parameters"] = [p for p in group["Parameters"] if p != EXPRESSION_PARAMETER]
    outputs = rendered.get("Outputs", {})
    if "ReportScheduleArn" in outputs and first:
        outputs["ReportScheduleArn"]["Value"] = {"Fn::GetAtt": [first, "Arn"]}
        outputs["ReportScheduleArn"]["Description"] = (
            "The first report's schedule; every report's is in the group <stack>-report."
        )
    return rendered


def _schedules(
    reports: reports_file.ReportsFile,
) -> list[tuple[str, str, reports_file.ReportSpec, str]]:
    """(logical ID, schedule name, report, expression) for every schedule to create."""
    found: list[tuple[str, str, reports_file.ReportSpec, str]] = []
    for spec in reports.reports.values():  # loading the file refused names that would clash
        expressions = spec.schedule.expressions()
        ids = reports_file.schedule_ids(spec)
        for index, (schedule_id, expression) in enumerate(zip(ids, expressions, strict=True), 1):
            name = spec.name + (f"-{index}" if len(expressions) > 1 else "")
            found.append((SCHEDULE + schedule_id, name, spec, expression))
    return found


def parameters(given: dict[str, str]) -> dict[str, str]:
    """The stack's parameters for the rendered template: without the schedule expression."""
    return {key: value for key, value in given.items() if key != EXPRESSION_PARAMETER}


def main(argv: list[str] | None = None) -> int:
    """`python -m opsbundle.deployment.report_stack REPORTS_FILE OUT_DIR`: write
    OUT_DIR/report.json, the report template rendered from the file, so `make lint` runs
    cfn-lint and checkov on what a deploy with that file would send."""
    import sys  # noqa: PLC0415 - only the command line needs it

    from opsbundle.deployment.stacks import TEMPLATES_DIR, load_template  # noqa: PLC0415 - no cycle

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2:
        print(
            "usage: python -m opsbundle.deployment.report_stack REPORTS_FILE OUT_DIR",
            file=sys.stderr,
        )
        return 2
    try:
        rendered = render(load_template(TEMPLATES_DIR / TEMPLATE_NAME), reports_file.load(args[0]))
    except ConfigError as error:
        print(f"opsbundle: configuration error: {error}", file=sys.stderr)
        return 2
    out = Path(args[1])
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(rendered, indent=1) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
