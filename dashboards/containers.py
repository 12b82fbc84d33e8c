"""Containers: ECS services and tasks (CloudWatch via YACE) and EKS pods (cAdvisor and
kube-state-metrics): CPU, memory against limits, restarts, running vs desired.

ECS: `AWS/ECS` gives `aws_ecs_cpuutilization_average` and `aws_ecs_memory_utilization_average`
per `dimension_ClusterName`/`dimension_ServiceName` (percent of the service's reservation);
Container Insights (`ECS/ContainerInsights`) gives the running and desired task counts as
`aws_ecs_containerinsights_running_task_count_average` and `..._desired_task_count_average`.
EKS: the kubelet's cAdvisor (`container_cpu_usage_seconds_total`,
`container_memory_working_set_bytes`, `container_cpu_cfs_*`) and kube-state-metrics v2
(`kube_pod_container_resource_limits`, `kube_pod_container_status_restarts_total`,
`kube_deployment_spec_replicas`, `kube_deployment_status_replicas_available`).

Counted once: `AWS/ECS` also keeps per-cluster series (`dimension_ServiceName=""`), which the
service variable never offers; a service is its cluster and name (two clusters may each run
an `api`). cAdvisor reports a pod's cgroup (`container=""`), its sandbox (`container=""`, or
`"POD"` with dockershim) and the node's own cgroups (no `namespace`) next to the containers:
`CONTAINERS` keeps the containers only. Memory limits are per container, so the pressure
panels compare each container's working set with its own limit.
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

UID = "opsbundle-containers"
ECS = (
    'region=~"$region", dimension_ClusterName=~"$ecs_cluster", '
    'dimension_ServiceName=~"$ecs_service"'
)
ECS_BY = "account_id, region, dimension_ClusterName, dimension_ServiceName"
ECS_LEGEND = "{{dimension_ClusterName}}/{{dimension_ServiceName}}"
NS = 'namespace=~"$namespace"'
CONTAINERS = f'{NS}, container!="", container!="POD"'
CONTAINER = "namespace, pod, container"
POD = "namespace, pod"
DEPLOYMENT = "namespace, deployment"
RI = "[$__rate_interval]"

RUNNING = f"aws_ecs_containerinsights_running_task_count_average{{{ECS}}}"
DESIRED = f"aws_ecs_containerinsights_desired_task_count_average{{{ECS}}}"
MISSING_REPLICAS = (
    f"sum(kube_deployment_spec_replicas{{{NS}}}) - "
    f"sum(kube_deployment_status_replicas_available{{{NS}}})"
)
PERCENT_STEPS = threshold_steps((80, YELLOW), (90, RED))

VARIABLES = [
    Variable("region", "Region", "aws_ecs_cpuutilization_average", "region"),
    Variable("ecs_cluster", "ECS cluster", 'aws_ecs_cpuutilization_average{region=~"$region"}',
             "dimension_ClusterName"),
    Variable("ecs_service", "ECS service",
             'aws_ecs_cpuutilization_average{region=~"$region", '
             'dimension_ClusterName=~"$ecs_cluster"}', "dimension_ServiceName"),
    Variable("namespace", "EKS namespace", "kube_pod_info", "namespace"),
]  # fmt: skip  # laid out as a table


def build() -> dict[str, Any]:
    overview = [
        stat("ECS tasks running", "Running tasks of the selected ECS services.",
             [Query(f"sum({RUNNING})")], unit="short"),
        stat("ECS tasks missing", "Desired minus running tasks: above 0 a service cannot "
             "place or keep its tasks.", [Query(f"sum({DESIRED}) - sum({RUNNING})")],
             unit="short", thresholds=threshold_steps((1, RED))),
        stat("ECS CPU (worst)", "Busiest service's CPU as a share of its reservation.",
             [Query(f"max(aws_ecs_cpuutilization_average{{{ECS}}})")], unit="percent",
             decimals=1, thresholds=PERCENT_STEPS),
        stat("EKS replicas missing", "Desired minus available replicas, all deployments.",
             [Query(MISSING_REPLICAS)], unit="short", thresholds=threshold_steps((1, RED))),
        stat("EKS restarts", "Container restarts in the selected time range.",
             [Query(f"sum(increase(kube_pod_container_status_restarts_total{{{NS}}}"
                    "[$__range]))")], unit="short", decimals=0,
             thresholds=threshold_steps((1, YELLOW), (5, RED))),
        stat("EKS memory vs limit (worst)", "Container closest to its memory limit (OOM kill "
             "at 100%).", [Query(f"max({_memory_vs_limit()})")], unit="percentunit",
             decimals=1, thresholds=threshold_steps((0.8, YELLOW), (0.9, RED))),
    ]  # fmt: skip  # laid out as a table
    ecs = Row("ECS services", [
        timeseries("CPU", "CPU used as a share of each service's CPU reservation.",
                   [Query(f"max by ({ECS_BY}) (aws_ecs_cpuutilization_average{{{ECS}}})",
                          ECS_LEGEND)], unit="percent", minimum=0, thresholds=PERCENT_STEPS),
        timeseries("Memory", "Memory used as a share of each service's memory reservation.",
                   [Query(f"max by ({ECS_BY}) (aws_ecs_memory_utilization_average{{{ECS}}})",
                          ECS_LEGEND)], unit="percent", minimum=0, thresholds=PERCENT_STEPS),
        timeseries("Running vs desired tasks", "Container Insights task counts per service.", [
            Query(f"sum by ({ECS_BY}) ({RUNNING})", f"{ECS_LEGEND} running"),
            Query(f"sum by ({ECS_BY}) ({DESIRED})", f"{ECS_LEGEND} desired"),
        ], unit="short", minimum=0, line_style="stepAfter"),
    ], panel_width=8)  # fmt: skip  # panels as the row shows them
    eks = Row("EKS pods", [
        timeseries("CPU", "CPU cores used per pod (cAdvisor).",
                   [Query(f"sum by ({POD}) (rate(container_cpu_usage_seconds_total{{{CONTAINERS}}}"
                          f"{RI}))", "{{pod}}")], unit="short"),
        timeseries("CPU throttling", "Share of CFS periods in which the pod was throttled: "
                   "its CPU limit is too low for its load.",
                   [Query(f"sum by ({POD}) (rate(container_cpu_cfs_throttled_periods_total"
                          f"{{{CONTAINERS}}}{RI})) / sum by ({POD}) (rate("
                          f"container_cpu_cfs_periods_total{{{CONTAINERS}}}{RI}))", "{{pod}}")],
                   unit="percentunit", minimum=0, maximum=1,
                   thresholds=threshold_steps((0.25, YELLOW), (0.5, RED))),
        timeseries("Memory vs limit", "Working set ÷ memory limit per container (those with "
                   "a limit); the kernel kills the container at 100%.",
                   [Query(_memory_vs_limit(), "{{pod}}/{{container}}")],
                   unit="percentunit", minimum=0, thresholds=threshold_steps((0.8, YELLOW),
                                                                            (0.9, RED))),
        timeseries("Memory working set", "Memory the pod uses that cannot be reclaimed.",
                   [Query(f"sum by ({POD}) (container_memory_working_set_bytes{{{CONTAINERS}}})",
                          "{{pod}}")], unit="bytes"),
        timeseries("Restarts", "Container restarts per pod (crash loops, OOM kills).",
                   [Query(f"sum by ({POD}) (increase(kube_pod_container_status_restarts_total"
                          f"{{{NS}}}{RI}))", "{{pod}}")], unit="short", bars=True,
                   thresholds=threshold_steps((1, RED))),
        timeseries("Available vs desired replicas", "Per deployment (kube-state-metrics).", [
            Query(f"sum by ({DEPLOYMENT}) (kube_deployment_status_replicas_available{{{NS}}})",
                  "{{deployment}} available"),
            Query(f"sum by ({DEPLOYMENT}) (kube_deployment_spec_replicas{{{NS}}})",
                  "{{deployment}} desired"),
        ], unit="short", minimum=0, line_style="stepAfter"),
    ], panel_width=8)  # fmt: skip  # panels as the row shows them
    return dashboard(
        uid=UID,
        title="Containers",
        description="ECS services and tasks (CloudWatch via YACE) and EKS pods (cAdvisor, "
        "kube-state-metrics): CPU, memory against limits, restarts, running vs desired.",
        tags=["aws", "ecs", "eks", "kubernetes"],
        variables=VARIABLES,
        overview=overview,
        rows=[ecs, eks],
    )


def _memory_vs_limit() -> str:
    """Each container's working set (cAdvisor) ÷ its memory limit (kube-state-metrics)."""
    return (
        f"sum by ({CONTAINER}) (container_memory_working_set_bytes{{{CONTAINERS}}}) / "
        f"sum by ({CONTAINER}) (kube_pod_container_resource_limits{{{NS}, "
        'resource="memory"})'
    )
