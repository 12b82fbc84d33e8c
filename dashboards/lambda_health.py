"""Lambda health: invocations, errors, error and success rate, throttles, duration, concurrency.

Source: CloudWatch `AWS/Lambda` through YACE (yet-another-cloudwatch-exporter), which names
series `aws_lambda_<metric>_<statistic>` with the dimension as `dimension_FunctionName` and
the scrape context as `region` and `account_id`. YACE exports each statistic of the newest
CloudWatch period as a gauge, so the values are plotted as they are (a Sum is "per period"),
never inside rate().

Counted once: CloudWatch keeps a function's totals under `{FunctionName}` and again, in part
or in whole, under `{FunctionName, Resource}` (the function, an alias or a version) and
`{FunctionName, Resource, ExecutedVersion}`; YACE exports every combination it lists, and the
account-wide totals (no dimension) as `name="global"`. Every query keeps the function level
only (`FUNCTION_LEVEL`), whatever the YACE job's `dimensionNameRequirements`.
"""

from __future__ import annotations

from typing import Any

from dashboards.conventions import (
    ORANGE,
    RED,
    YELLOW,
    Query,
    Row,
    Variable,
    dashboard,
    stat,
    threshold_steps,
    timeseries,
)

UID = "opsbundle-lambda-health"
# The function's own series: not an alias, version or the {FunctionName, Resource} copy.
FUNCTION_LEVEL = 'dimension_Resource="", dimension_ExecutedVersion=""'
SEL = f'region=~"$region", dimension_FunctionName=~"$function", {FUNCTION_LEVEL}'
NAME = "dimension_FunctionName"
BY = f"account_id, region, {NAME}"  # a function is its name in one account and region
LEGEND = "{{dimension_FunctionName}}"

INVOCATIONS = f"aws_lambda_invocations_sum{{{SEL}}}"
ERRORS = f"aws_lambda_errors_sum{{{SEL}}}"
THROTTLES = f"aws_lambda_throttles_sum{{{SEL}}}"

ERROR_RATE_STEPS = threshold_steps((1, YELLOW), (5, RED))
SUCCESS_RATE_STEPS = threshold_steps((95, ORANGE), (99, "green"), base=RED)

VARIABLES = [
    Variable("region", "Region", "aws_lambda_invocations_sum", "region"),
    Variable("function", "Function", 'aws_lambda_invocations_sum{region=~"$region"}', NAME),
]


def _error_rate(by: str = "") -> str:
    """Errors ÷ invocations, per `by` (or of all selected functions)."""
    group = f" by ({by})" if by else ""
    return f"100 * sum{group} ({ERRORS}) / clamp_min(sum{group} ({INVOCATIONS}), 1)"


def build() -> dict[str, Any]:
    per_period = " per CloudWatch period (the YACE job's `period`, 60 s or 300 s)."
    overview = [
        stat("Invocations", "Invocations of the selected functions" + per_period,
             [Query(f"sum({INVOCATIONS})")], unit="short"),
        stat("Error rate", "Errors ÷ invocations of the selected functions, newest period.",
             [Query(_error_rate())], unit="percent", decimals=2, thresholds=ERROR_RATE_STEPS),
        stat("Success rate", "Invocations that did not end in an error, newest period.",
             [Query(f"100 - {_error_rate()}")], unit="percent", decimals=2,
             thresholds=SUCCESS_RATE_STEPS),
        stat("Throttles", "Throttled invocations" + per_period, [Query(f"sum({THROTTLES})")],
             unit="short", thresholds=threshold_steps((1, RED))),
        stat("Duration p99 (worst)", "The slowest function's 99th percentile duration.",
             [Query(f"max(aws_lambda_duration_p99{{{SEL}}})")], unit="ms"),
        stat("Concurrency (peak)", "Highest concurrent executions of any selected function.",
             [Query(f"max(aws_lambda_concurrent_executions_maximum{{{SEL}}})")], unit="short"),
    ]  # fmt: skip  # laid out as a table
    traffic = Row("Traffic and errors", [
        timeseries("Invocations", "Invocations per function" + per_period,
                   [Query(f"sum by ({BY}) ({INVOCATIONS})", LEGEND)], unit="short"),
        timeseries("Errors", "Invocations that ended in a function error" + per_period,
                   [Query(f"sum by ({BY}) ({ERRORS})", LEGEND)], unit="short"),
        timeseries("Error rate", "Errors ÷ invocations per function; above 5% pages "
                   "(alert LambdaErrorRateHigh).", [Query(_error_rate(BY), LEGEND)],
                   unit="percent", minimum=0, thresholds=ERROR_RATE_STEPS),
        timeseries("Success rate", "100% minus the error rate, per function.",
                   [Query(f"100 - {_error_rate(BY)}", LEGEND)], unit="percent", maximum=100,
                   thresholds=SUCCESS_RATE_STEPS),
    ])  # fmt: skip  # panels as the row shows them
    capacity = Row("Duration and capacity", [
        timeseries("Duration", "Average, maximum and p99 duration per function.", [
            Query(f"max by ({BY}) (aws_lambda_duration_average{{{SEL}}})", f"{LEGEND} avg"),
            Query(f"max by ({BY}) (aws_lambda_duration_maximum{{{SEL}}})", f"{LEGEND} max"),
            Query(f"max by ({BY}) (aws_lambda_duration_p99{{{SEL}}})", f"{LEGEND} p99"),
        ], unit="ms"),
        timeseries("Throttles", "Invocations refused for lack of concurrency" + per_period
                   + " Any throttle is lost or retried work (alert LambdaThrottled).",
                   [Query(f"sum by ({BY}) ({THROTTLES})", LEGEND)], unit="short", bars=True,
                   thresholds=threshold_steps((1, RED))),
        timeseries("Concurrent executions", "Peak concurrent executions per function; the "
                   "account limit is 1,000 per region unless raised.",
                   [Query(f"max by ({BY}) (aws_lambda_concurrent_executions_maximum{{{SEL}}})",
                          LEGEND)], unit="short"),
    ], panel_width=8)  # fmt: skip  # panels as the row shows them
    return dashboard(
        uid=UID,
        title="Lambda health",
        description="AWS Lambda functions from CloudWatch via YACE: traffic, errors, "
        "duration and concurrency per function.",
        tags=["aws", "lambda"],
        variables=VARIABLES,
        overview=overview,
        rows=[traffic, capacity],
    )
