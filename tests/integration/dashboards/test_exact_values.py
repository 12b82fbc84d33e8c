"""A panel's number is the resources' number, each resource counted once.

Each expected value comes from the recorded scrapes themselves, read the way CloudWatch (or
the kubelet, or kube-state-metrics) means them: a Lambda function's invocations are its
`{FunctionName}` series, a load balancer's requests its `{LoadBalancer}` one, a pod's CPU its
containers'. The recordings also hold everything the exporters add around those (YACE's
`{FunctionName, Resource}` copies, aliases, per-AZ series, `name="global"` totals; cAdvisor's
pod and sandbox cgroups), so a query that counts any of them twice gets a different number.
The panels run on the real Prometheus, with every variable on "All", at the end of the
recorded history (node_exporter: now, against this machine).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from typing import Any

import pytest

from dashboards.build import build_all
from tests.integration.dashboards import synthetic
from tests.integration.dashboards.conftest import LoadedPrometheus
from tests.integration.dashboards.recorded import CADVISOR, KUBE_STATE_METRICS, YACE, Series
from tests.integration.dashboards.stack import resolve_variables

BOARDS = build_all()
GIB = 1024**3


def panel(
    loaded: LoadedPrometheus,
    board: str,
    title: str,
    ref: str = "A",
    *,
    kind: str = "stat",
    nth: int = 0,
    at: float | None = None,
) -> dict[tuple[tuple[str, str], ...], float]:
    """The panel's query with every variable on All, evaluated at one instant: labels → value.
    `nth` picks among panels of the same title and type (ECS and EKS both have a "CPU")."""
    dashboard = BOARDS[board]
    found = [p for p in dashboard["panels"] if p.get("title") == title and p["type"] == kind][nth]
    (target,) = [t for t in found["targets"] if t["refId"] == ref]
    variables = resolve_variables(loaded, dashboard, first_only=False)
    _, end, _ = loaded.window(dashboard["uid"])
    query = variables.expand(target["expr"])
    result = loaded.prometheus.api("query", query=query, time=at or end)["result"]
    return {tuple(sorted(r["metric"].items())): float(r["value"][1]) for r in result}


def single(values: dict[Any, float]) -> float:
    assert len(values) == 1, values
    return next(iter(values.values()))


def by(values: dict[tuple[tuple[str, str], ...], float], *labels: str) -> dict[str, float]:
    """Values keyed by the given labels' values, joined with '/'."""
    return {"/".join(dict(k).get(label, "") for label in labels): v for k, v in values.items()}


def dimensions(series: Series) -> frozenset[str]:
    """The CloudWatch dimensions a YACE series was read with (its non-empty dimension_*)."""
    return frozenset(
        k.removeprefix("dimension_")
        for k, v in series.labels
        if k.startswith("dimension_") and v != ""
    )


def at_level(name: str, *dims: str) -> list[Series]:
    """The YACE series of `name` that CloudWatch keeps under exactly these dimensions."""
    return [s for s in YACE.find(name) if dimensions(s) == frozenset(dims)]


def total(series: Iterable[Series]) -> float:
    return sum(s.newest for s in series)


def per(series: Iterable[Series], label: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for s in series:
        key = s.label_map[label]
        out[key] = out.get(key, 0.0) + s.newest
    return out


# -- AWS through YACE ----------------------------------------------------------------------


def test_lambda_panels_count_each_function_once(loaded_prometheus: LoadedPrometheus) -> None:
    invocations = at_level("aws_lambda_invocations_sum", "FunctionName")
    errors = at_level("aws_lambda_errors_sum", "FunctionName")
    # the trap is there: every series of the family together is several times the truth
    assert total(YACE.find("aws_lambda_invocations_sum")) > 2 * total(invocations)

    assert single(panel(loaded_prometheus, "lambda_health", "Invocations")) == total(invocations)
    assert by(
        panel(loaded_prometheus, "lambda_health", "Invocations", kind="timeseries"),
        "dimension_FunctionName",
    ) == per(invocations, "dimension_FunctionName")
    assert single(panel(loaded_prometheus, "lambda_health", "Error rate")) == pytest.approx(
        100 * total(errors) / total(invocations)
    )
    assert single(panel(loaded_prometheus, "lambda_health", "Throttles")) == total(
        at_level("aws_lambda_throttles_sum", "FunctionName")
    )
    assert single(panel(loaded_prometheus, "lambda_health", "Concurrency (peak)")) == max(
        s.newest for s in at_level("aws_lambda_concurrent_executions_maximum", "FunctionName")
    )


def test_load_balancer_panels_count_each_balancer_and_target_group_once(
    loaded_prometheus: LoadedPrometheus,
) -> None:
    requests = at_level("aws_applicationelb_request_count_sum", "LoadBalancer")
    healthy = at_level(
        "aws_applicationelb_healthy_host_count_minimum", "LoadBalancer", "TargetGroup"
    )
    unhealthy = at_level(
        "aws_applicationelb_un_healthy_host_count_maximum", "LoadBalancer", "TargetGroup"
    )
    with_zones = [
        s
        for s in YACE.find("aws_applicationelb_request_count_sum")
        if dimensions(s) <= {"LoadBalancer", "AvailabilityZone"}
    ]
    assert total(with_zones) == 2 * total(requests)  # what dimension_TargetGroup="" alone adds up

    assert single(panel(loaded_prometheus, "load_balancers", "Requests")) == total(requests)
    assert by(
        panel(loaded_prometheus, "load_balancers", "Requests", kind="timeseries"),
        "dimension_LoadBalancer",
    ) == per(requests, "dimension_LoadBalancer")
    assert single(panel(loaded_prometheus, "load_balancers", "Target 5xx")) == total(
        at_level("aws_applicationelb_httpcode_target_5_xx_count_sum", "LoadBalancer")
    )
    assert single(panel(loaded_prometheus, "load_balancers", "Healthy hosts")) == total(healthy)
    assert single(panel(loaded_prometheus, "load_balancers", "Unhealthy hosts")) == total(unhealthy)
    assert by(
        panel(
            loaded_prometheus,
            "load_balancers",
            "Healthy vs unhealthy hosts",
            "A",
            kind="timeseries",
        ),
        "dimension_TargetGroup",
    ) == per(healthy, "dimension_TargetGroup")


def test_rds_panels_read_db_instances_only(loaded_prometheus: LoadedPrometheus) -> None:
    def instances(name: str) -> list[Series]:
        return at_level(name, "DBInstanceIdentifier")

    assert single(panel(loaded_prometheus, "rds", "Connections")) == total(
        instances("aws_rds_database_connections_average")
    )
    assert single(panel(loaded_prometheus, "rds", "CPU (worst)")) == max(
        s.newest for s in instances("aws_rds_cpuutilization_average")
    )
    assert single(panel(loaded_prometheus, "rds", "Free storage (least)")) == min(
        s.newest for s in instances("aws_rds_free_storage_space_average")
    )
    assert single(panel(loaded_prometheus, "rds", "Replica lag (worst)")) == max(
        s.newest for s in instances("aws_rds_replica_lag_average")
    )
    assert set(
        by(
            panel(loaded_prometheus, "rds", "Connections", kind="timeseries"),
            "dimension_DBInstanceIdentifier",
        )
    ) == {
        s.label_map["dimension_DBInstanceIdentifier"]
        for s in instances("aws_rds_database_connections_average")
    }


def test_ecs_panels_count_each_service_once(loaded_prometheus: LoadedPrometheus) -> None:
    running = at_level(
        "aws_ecs_containerinsights_running_task_count_average", "ClusterName", "ServiceName"
    )
    desired = at_level(
        "aws_ecs_containerinsights_desired_task_count_average", "ClusterName", "ServiceName"
    )
    assert single(panel(loaded_prometheus, "containers", "ECS tasks running")) == total(running)
    assert single(panel(loaded_prometheus, "containers", "ECS tasks missing")) == total(
        desired
    ) - total(running)
    assert single(panel(loaded_prometheus, "containers", "ECS CPU (worst)")) == max(
        s.newest for s in at_level("aws_ecs_cpuutilization_average", "ClusterName", "ServiceName")
    )


# -- EKS: the kubelet's cAdvisor and kube-state-metrics ------------------------------------


def containers(name: str) -> list[Series]:
    """cAdvisor's container series: not the pod cgroup, the sandbox or the node's own."""
    return [
        s
        for s in CADVISOR.find(name)
        if s.label_map["container"] not in ("", "POD") and s.label_map["namespace"]
    ]


def test_eks_panels_count_each_container_once(loaded_prometheus: LoadedPrometheus) -> None:
    cpu: dict[str, float] = {}
    for s in containers("container_cpu_usage_seconds_total"):
        key = f"{s.label_map['namespace']}/{s.label_map['pod']}"
        cpu[key] = cpu.get(key, 0.0) + CADVISOR.per_second(s)
    got = by(
        panel(loaded_prometheus, "containers", "CPU", kind="timeseries", nth=1), "namespace", "pod"
    )
    assert got == pytest.approx(cpu)

    working_set: dict[str, float] = {}
    for s in containers("container_memory_working_set_bytes"):
        key = f"{s.label_map['namespace']}/{s.label_map['pod']}"
        working_set[key] = working_set.get(key, 0.0) + s.newest
    got = by(
        panel(loaded_prometheus, "containers", "Memory working set", kind="timeseries"),
        "namespace",
        "pod",
    )
    assert got == working_set

    limits = {
        (s.label_map["namespace"], s.label_map["pod"], s.label_map["container"]): s.newest
        for s in KUBE_STATE_METRICS.find("kube_pod_container_resource_limits", resource="memory")
    }
    pressure = [
        s.newest / limits[key]
        for s in containers("container_memory_working_set_bytes")
        if (key := (s.label_map["namespace"], s.label_map["pod"], s.label_map["container"]))
        in limits
    ]
    assert single(
        panel(loaded_prometheus, "containers", "EKS memory vs limit (worst)")
    ) == pytest.approx(max(pressure))

    spec = total(KUBE_STATE_METRICS.find("kube_deployment_spec_replicas"))
    available = total(KUBE_STATE_METRICS.find("kube_deployment_status_replicas_available"))
    assert single(panel(loaded_prometheus, "containers", "EKS replicas missing")) == (
        spec - available
    )
    restarts = total(KUBE_STATE_METRICS.find("kube_pod_container_status_restarts_total"))
    assert single(panel(loaded_prometheus, "containers", "EKS restarts")) == pytest.approx(
        restarts, abs=1
    )  # increase() extrapolates to the edges of the range


# -- EC2 hosts: the real node_exporter on this machine ---------------------------------------


def test_ec2_panels_describe_this_machine(loaded_prometheus: LoadedPrometheus) -> None:
    now = time.time()
    assert single(panel(loaded_prometheus, "ec2_hosts", "Hosts up", at=now)) == len(
        loaded_prometheus.node_targets
    )
    used = by(
        panel(loaded_prometheus, "ec2_hosts", "Filesystem used", kind="timeseries", at=now),
        "instance",
        "mountpoint",
    )
    disk = os.statvfs("/")
    expected = 100 * (1 - disk.f_bavail / disk.f_blocks)
    for target in loaded_prometheus.node_targets.values():
        if f"{target}//" in used:  # "/" is a filesystem node_exporter reports here
            assert used[f"{target}//"] == pytest.approx(expected, abs=0.5)
    with open("/proc/meminfo") as meminfo:
        fields = {line.split(":")[0]: int(line.split()[1]) for line in meminfo}
    memory = by(
        panel(loaded_prometheus, "ec2_hosts", "Memory used", kind="timeseries", at=now),
        "instance",
    )
    assert set(memory) == set(loaded_prometheus.node_targets.values())
    for value in memory.values():
        assert value == pytest.approx(
            100 * (1 - fields["MemAvailable"] / fields["MemTotal"]), abs=5
        )


# -- opsbundle's own metrics: per deployed function ----------------------------------------


def test_opsbundle_panels_keep_each_function_apart(loaded_prometheus: LoadedPrometheus) -> None:
    end = loaded_prometheus.end
    window = [
        (function, synthetic.report_runs(function, end - synthetic.HISTORY_SECONDS, end))
        for function in (synthetic.REPORT_PROD, synthetic.REPORT_DEV)
    ]

    def in_last_hour(outcome: str | None) -> dict[str, float]:
        counted = {
            function: float(
                sum(1 for t, o in runs if end - 3600 < t <= end and outcome in (None, o))
            )
            for function, runs in window
        }
        return {f: n for f, n in counted.items() if n}

    def show(title: str) -> dict[str, float]:
        return by(panel(loaded_prometheus, "opsbundle_self", title), "function")

    assert show("Report runs") == in_last_hour(None)
    assert show("Reports posted") == in_last_hour("ReportPosted")
    assert show("Report failures") == in_last_hour("ReportFailed")
    last_good = {
        function: end - max(t for t, o in runs if o in ("ReportPosted", "ReportQuiet"))
        for function, runs in window
    }
    assert show("Since the last good report") == pytest.approx(last_good, abs=1)
