"""Load balancers and targets: requests, 4xx/5xx from the targets and the ELB itself, target
response time, healthy vs unhealthy hosts per target group.

Source: CloudWatch `AWS/ApplicationELB` through YACE: `aws_applicationelb_<metric>_<statistic>`
with `dimension_LoadBalancer` and, for target-group metrics, `dimension_TargetGroup`.

Counted once: CloudWatch keeps each count per load balancer, again per Availability Zone
(`{LoadBalancer, AvailabilityZone}`), per target group and per target group and zone. YACE
exports every combination and gives every series of a metric the same labels, empty where a
series has no such dimension. So a load balancer's own total is the series with
`dimension_TargetGroup=""` *and* `dimension_AvailabilityZone=""` (`LB_LEVEL`), a target
group's the one with `dimension_AvailabilityZone=""` (`TG_LEVEL`); summing without them counts
the per-zone copies too (about twice the requests, twice the hosts).
"""

from __future__ import annotations

from typing import Any

from dashboards.conventions import (
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

UID = "opsbundle-load-balancers"
LB_LEVEL = 'dimension_TargetGroup="", dimension_AvailabilityZone=""'
TG_LEVEL = 'dimension_AvailabilityZone=""'
LB_SEL = f'region=~"$region", dimension_LoadBalancer=~"$load_balancer", {LB_LEVEL}'
TG_SEL = (
    'region=~"$region", dimension_LoadBalancer=~"$load_balancer", '
    f'dimension_TargetGroup=~"$target_group", {TG_LEVEL}'
)
LB = "account_id, region, dimension_LoadBalancer"
TG = "account_id, region, dimension_LoadBalancer, dimension_TargetGroup"

REQUESTS = f"aws_applicationelb_request_count_sum{{{LB_SEL}}}"
ELB_4XX = f"aws_applicationelb_httpcode_elb_4_xx_count_sum{{{LB_SEL}}}"
ELB_5XX = f"aws_applicationelb_httpcode_elb_5_xx_count_sum{{{LB_SEL}}}"
TARGET_4XX = f"aws_applicationelb_httpcode_target_4_xx_count_sum{{{LB_SEL}}}"
TARGET_5XX = f"aws_applicationelb_httpcode_target_5_xx_count_sum{{{LB_SEL}}}"
HEALTHY = f"aws_applicationelb_healthy_host_count_minimum{{{TG_SEL}}}"
UNHEALTHY = f"aws_applicationelb_un_healthy_host_count_maximum{{{TG_SEL}}}"
RESPONSE_AVG = f"aws_applicationelb_target_response_time_average{{{TG_SEL}}}"
RESPONSE_P99 = f"aws_applicationelb_target_response_time_p99{{{TG_SEL}}}"

RESPONSE_STEPS = threshold_steps((0.5, YELLOW), (1, RED))

VARIABLES = [
    Variable("region", "Region", "aws_applicationelb_request_count_sum", "region"),
    Variable("load_balancer", "Load balancer",
             'aws_applicationelb_request_count_sum{region=~"$region"}', "dimension_LoadBalancer"),
    Variable("target_group", "Target group",
             'aws_applicationelb_healthy_host_count_minimum{region=~"$region", '
             'dimension_LoadBalancer=~"$load_balancer"}', "dimension_TargetGroup"),
]  # fmt: skip  # laid out as a table


def build() -> dict[str, Any]:
    per_period = " per CloudWatch period."
    overview = [
        stat("Requests", "Requests to the selected load balancers" + per_period,
             [Query(f"sum({REQUESTS})")], unit="short"),
        stat("Target 5xx", "5xx answers from the targets" + per_period,
             [Query(f"sum({TARGET_5XX})")], unit="short", thresholds=threshold_steps((1, RED))),
        stat("ELB 5xx", "5xx answers the load balancer made itself (no healthy target, "
             "timeouts)" + per_period, [Query(f"sum({ELB_5XX})")], unit="short",
             thresholds=threshold_steps((1, RED))),
        stat("Response time (worst)", "Slowest target group's average target response time.",
             [Query(f"max({RESPONSE_AVG})")], unit="s", decimals=3, thresholds=RESPONSE_STEPS),
        stat("Healthy hosts", "Healthy targets, lowest count in the period, all target groups.",
             [Query(f"sum({HEALTHY})")], unit="short",
             thresholds=threshold_steps((1, "green"), base=RED)),
        stat("Unhealthy hosts", "Unhealthy targets, highest count in the period; the "
             "unhealthy-target monitor posts the reason to Slack.", [Query(f"sum({UNHEALTHY})")],
             unit="short", thresholds=threshold_steps((1, RED))),
    ]  # fmt: skip  # laid out as a table
    traffic = Row("Requests and errors", [
        timeseries("Requests", "Requests per load balancer" + per_period,
                   [Query(f"sum by ({LB}) ({REQUESTS})", "{{dimension_LoadBalancer}}")],
                   unit="short"),
        timeseries("HTTP errors", "4xx and 5xx per load balancer" + per_period + " ELB codes "
                   "come from the load balancer itself, target codes from your application.", [
                       Query(f"sum by ({LB}) ({ELB_4XX})", "{{dimension_LoadBalancer}} ELB 4xx"),
                       Query(f"sum by ({LB}) ({ELB_5XX})", "{{dimension_LoadBalancer}} ELB 5xx"),
                       Query(f"sum by ({LB}) ({TARGET_4XX})",
                             "{{dimension_LoadBalancer}} target 4xx"),
                       Query(f"sum by ({LB}) ({TARGET_5XX})",
                             "{{dimension_LoadBalancer}} target 5xx"),
                   ], unit="short"),
        timeseries("Target 5xx ratio", "Target 5xx ÷ requests per load balancer.",
                   [Query(f"100 * sum by ({LB}) ({TARGET_5XX}) / "
                          f"clamp_min(sum by ({LB}) ({REQUESTS}), 1)",
                          "{{dimension_LoadBalancer}}")],
                   unit="percent", minimum=0, thresholds=threshold_steps((1, YELLOW), (5, RED))),
        timeseries("Target response time", "Average and p99 time from the load balancer "
                   "sending the request to the target's first response byte, per target group.", [
                       Query(f"max by ({TG}) ({RESPONSE_AVG})", "{{dimension_TargetGroup}} avg"),
                       Query(f"max by ({TG}) ({RESPONSE_P99})", "{{dimension_TargetGroup}} p99"),
                   ], unit="s", thresholds=RESPONSE_STEPS),
    ])  # fmt: skip  # panels as the row shows them
    health = Row("Target health", [
        timeseries("Healthy vs unhealthy hosts", "Per target group: healthy (minimum in the "
                   "period) and unhealthy (maximum); alert TargetsUnhealthy fires on any "
                   "unhealthy host for 5 minutes.", [
                       Query(f"sum by ({TG}) ({HEALTHY})", "{{dimension_TargetGroup}} healthy"),
                       Query(f"sum by ({TG}) ({UNHEALTHY})",
                             "{{dimension_TargetGroup}} unhealthy"),
                   ], unit="short", minimum=0, line_style="stepAfter"),
    ], panel_width=24)  # fmt: skip  # panels as the row shows them
    return dashboard(
        uid=UID,
        title="Load balancers and targets",
        description="Application Load Balancers from CloudWatch via YACE: traffic, errors, "
        "response time and target health.",
        tags=["aws", "elb"],
        variables=VARIABLES,
        overview=overview,
        rows=[traffic, health],
    )
