"""Two hours of synthetic series, in the names and labels the real exporters emit, written as
OpenMetrics for `promtool tsdb create-blocks-from openmetrics`.

Why a backfill: the panels read history (`rate()` over `$__rate_interval`, `changes()` over
`$__range`, the report's runs every half hour) that a scrape started by the test would take
hours to build. The Pushgateway path, which is scraped live, is proven by the end-to-end test.

Label shapes come from the exporters: YACE (`aws_<namespace>_<metric>_<stat>` gauges with
`dimension_<Name>`, `region`, `account_id`, `name` = ARN), node_exporter, the kubelet's
cAdvisor, kube-state-metrics v2, and opsbundle/pushgateway.py for the bundle's own series.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from opsbundle.pushgateway import LAST_RUN, count_metric, duration_metric, last_seen_metric

STEP_SECONDS = 15
HISTORY_SECONDS = 2 * 3600
ACCOUNT = "123456789012"

Labels = Mapping[str, str]
Value = Callable[[float], float | None]  # seconds into the history → value, None = no sample


@dataclass
class Family:
    kind: str  # gauge or counter
    series: list[tuple[dict[str, str], Value]] = field(default_factory=list)


class Synthetic:
    def __init__(self, end: float) -> None:
        self.end = math.floor(end / STEP_SECONDS) * STEP_SECONDS
        self.start = self.end - HISTORY_SECONDS
        self.families: dict[str, Family] = defaultdict(lambda: Family("gauge"))

    def gauge(self, name: str, labels: Labels, value: Value) -> None:
        self.families[name].series.append((dict(labels), value))

    def counter(self, name: str, labels: Labels, per_second: float) -> None:
        assert name.endswith("_total"), name
        family = self.families[name]
        family.kind = "counter"
        family.series.append((dict(labels), lambda t: round(per_second * t, 3)))

    def openmetrics(self) -> Iterator[str]:
        for name in sorted(self.families):
            family = self.families[name]
            base = name.removesuffix("_total") if family.kind == "counter" else name
            yield f"# TYPE {base} {family.kind}\n"
            for labels, value in family.series:
                rendered = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if v)
                selector = f"{name}{{{rendered}}}" if rendered else name
                t = self.start
                while t <= self.end:
                    v = value(t - self.start)
                    if v is not None:
                        yield f"{selector} {v} {t}\n"
                    t += STEP_SECONDS
        yield "# EOF\n"

    def write(self, path: Path) -> Path:
        with path.open("w") as out:
            out.writelines(self.openmetrics())
        return path


def wave(base: float, amplitude: float, period: float = 1800) -> Value:
    return lambda t: round(base + amplitude * math.sin(2 * math.pi * t / period), 4)


def const(value: float) -> Value:
    return lambda t: value


def build(end: float) -> Synthetic:
    s = Synthetic(end)
    _lambda(s)
    _load_balancers(s)
    _rds(s)
    _ecs(s)
    _node(s)
    _kubernetes(s)
    _opsbundle(s)
    return s


def _aws(region: str, resource: str, **dimensions: str) -> dict[str, str]:
    return {
        "account_id": ACCOUNT,
        "region": region,
        "name": resource,
        **{f"dimension_{k}": v for k, v in dimensions.items()},
    }


def _lambda(s: Synthetic) -> None:
    functions = [
        ("us-east-1", "orders-api", 600),
        ("us-east-1", "billing", 120),
        ("eu-west-1", "leads-report", 3),
    ]
    for region, fn, calls in functions:
        labels = _aws(region, f"arn:aws:lambda:{region}:{ACCOUNT}:function:{fn}", FunctionName=fn)
        s.gauge("aws_lambda_invocations_sum", labels, wave(calls, calls / 4))
        s.gauge("aws_lambda_errors_sum", labels, wave(calls / 50, calls / 100))
        s.gauge("aws_lambda_throttles_sum", labels, const(2 if fn == "orders-api" else 0))
        s.gauge("aws_lambda_duration_average", labels, wave(180, 40))
        s.gauge("aws_lambda_duration_maximum", labels, wave(900, 200))
        s.gauge("aws_lambda_duration_p99", labels, wave(700, 150))
        s.gauge("aws_lambda_concurrent_executions_maximum", labels, wave(calls / 60, 2))


def _load_balancers(s: Synthetic) -> None:
    balancers = [
        (
            "us-east-1",
            "app/shop/50dc6c495c0c9188",
            30000,
            [
                ("targetgroup/api/73e2d6bc24d8a067", 3, 1),
                ("targetgroup/web/943f017f100becff", 2, 0),
            ],
        ),
        (
            "eu-west-1",
            "app/leads/8f2c1b0a9d7e6c5b",
            2000,
            [("targetgroup/leads/1a2b3c4d5e6f7a8b", 2, 0)],
        ),
    ]
    for region, lb, requests, groups in balancers:
        arn = f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:loadbalancer/{lb}"
        lb_level = _aws(region, arn, LoadBalancer=lb)
        s.gauge("aws_applicationelb_request_count_sum", lb_level, wave(requests, requests / 6))
        s.gauge("aws_applicationelb_httpcode_elb_4_xx_count_sum", lb_level, wave(40, 10))
        s.gauge("aws_applicationelb_httpcode_elb_5_xx_count_sum", lb_level, wave(3, 2))
        s.gauge("aws_applicationelb_httpcode_target_4_xx_count_sum", lb_level, wave(300, 50))
        s.gauge("aws_applicationelb_httpcode_target_5_xx_count_sum", lb_level, wave(30, 10))
        for tg, healthy, unhealthy in groups:
            tg_arn = f"arn:aws:elasticloadbalancing:{region}:{ACCOUNT}:{tg}"
            labels = _aws(region, tg_arn, LoadBalancer=lb, TargetGroup=tg)
            s.gauge("aws_applicationelb_healthy_host_count_minimum", labels, const(healthy))
            s.gauge("aws_applicationelb_un_healthy_host_count_maximum", labels, const(unhealthy))
            s.gauge("aws_applicationelb_target_response_time_average", labels, wave(0.12, 0.03))
            s.gauge("aws_applicationelb_target_response_time_p99", labels, wave(0.8, 0.2))


def _rds(s: Synthetic) -> None:
    for region, db, lag in [
        ("us-east-1", "orders-db", None),
        ("us-east-1", "orders-db-replica", 2.0),
        ("eu-west-1", "leads-db", None),
    ]:
        labels = _aws(region, f"arn:aws:rds:{region}:{ACCOUNT}:db:{db}", DBInstanceIdentifier=db)
        s.gauge("aws_rds_cpuutilization_average", labels, wave(35, 10))
        s.gauge("aws_rds_database_connections_average", labels, wave(40, 5))
        s.gauge("aws_rds_free_storage_space_average", labels, wave(60 * 1024**3, 1024**3))
        s.gauge("aws_rds_freeable_memory_average", labels, wave(2 * 1024**3, 256 * 1024**2))
        s.gauge("aws_rds_read_latency_average", labels, wave(0.002, 0.0005))
        s.gauge("aws_rds_write_latency_average", labels, wave(0.004, 0.001))
        s.gauge("aws_rds_read_iops_average", labels, wave(250, 50))
        s.gauge("aws_rds_write_iops_average", labels, wave(120, 30))
        if lag is not None:
            s.gauge("aws_rds_replica_lag_average", labels, wave(lag, 1))


def _ecs(s: Synthetic) -> None:
    for region, cluster, service, desired in [
        ("us-east-1", "prod", "checkout", 4),
        ("us-east-1", "prod", "worker", 2),
        ("eu-west-1", "leads", "intake", 1),
    ]:
        arn = f"arn:aws:ecs:{region}:{ACCOUNT}:service/{cluster}/{service}"
        labels = _aws(region, arn, ClusterName=cluster, ServiceName=service)
        s.gauge("aws_ecs_cpuutilization_average", labels, wave(45, 15))
        s.gauge("aws_ecs_memory_utilization_average", labels, wave(60, 5))
        s.gauge(
            "aws_ecs_containerinsights_running_task_count_average",
            labels,
            const(desired - 1 if service == "worker" else desired),
        )
        s.gauge("aws_ecs_containerinsights_desired_task_count_average", labels, const(desired))


def _node(s: Synthetic) -> None:
    for job, host in [
        ("node", "10.0.1.10:9100"),
        ("node", "10.0.2.11:9100"),
        ("bastion", "10.0.0.5:9100"),
    ]:
        base = {"job": job, "instance": host}
        s.gauge("up", base, const(1))
        s.gauge(
            "node_uname_info",
            {
                **base,
                "sysname": "Linux",
                "release": "6.1.0-28-cloud-arm64",
                "machine": "aarch64",
                "nodename": f"ip-{host}",
            },
            const(1),
        )
        for cpu in ("0", "1"):
            for mode, share in [("idle", 0.6), ("user", 0.25), ("system", 0.1), ("iowait", 0.05)]:
                s.counter("node_cpu_seconds_total", {**base, "cpu": cpu, "mode": mode}, share)
        s.gauge("node_memory_MemTotal_bytes", base, const(8 * 1024**3))
        s.gauge("node_memory_MemAvailable_bytes", base, wave(3 * 1024**3, 512 * 1024**2))
        for device, fstype, mount, size in [
            ("/dev/nvme0n1p1", "ext4", "/", 50 * 1024**3),
            ("tmpfs", "tmpfs", "/run", 1024**3),
        ]:
            fs = {**base, "device": device, "fstype": fstype, "mountpoint": mount}
            s.gauge("node_filesystem_size_bytes", fs, const(size))
            s.gauge("node_filesystem_avail_bytes", fs, wave(size * 0.4, size * 0.05))
        disk = {**base, "device": "nvme0n1"}
        s.counter("node_disk_io_time_seconds_total", disk, 0.2)
        s.counter("node_disk_read_bytes_total", disk, 2e6)
        s.counter("node_disk_written_bytes_total", disk, 5e6)
        for device in ("ens5", "lo"):
            nic = {**base, "device": device}
            s.counter("node_network_receive_bytes_total", nic, 1.5e6)
            s.counter("node_network_transmit_bytes_total", nic, 0.8e6)
            s.counter("node_network_receive_errs_total", nic, 0.001)
            s.counter("node_network_transmit_errs_total", nic, 0.0)
        for name, load in [("node_load1", 1.1), ("node_load5", 0.9), ("node_load15", 0.7)]:
            s.gauge(name, base, wave(load, 0.3))


def _kubernetes(s: Synthetic) -> None:
    kubelet = {"job": "kubelet", "metrics_path": "/metrics/cadvisor", "instance": "10.0.3.21:10250"}
    ksm = {"job": "kube-state-metrics", "instance": "10.0.3.40:8080"}
    pods = [
        ("shop", "cart-7d9f8b6c5-x2x9k", "cart", "cart"),
        ("shop", "cart-7d9f8b6c5-q8w4r", "cart", "cart"),
        ("ops", "grafana-5f6d7c8b9-k7l2m", "grafana", "grafana"),
    ]
    for namespace, pod, container, _deployment in pods:
        c = {"namespace": namespace, "pod": pod, "container": container}
        s.counter(
            "container_cpu_usage_seconds_total",
            {**kubelet, **c, "image": f"example/{container}:1"},
            0.3,
        )
        s.gauge("container_memory_working_set_bytes", {**kubelet, **c}, wave(300e6, 30e6))
        s.gauge(
            "container_memory_working_set_bytes",
            {**kubelet, **c, "container": ""},
            wave(310e6, 30e6),
        )  # the pod-level cgroup, which the panels must not count twice
        s.counter("container_cpu_cfs_periods_total", {**kubelet, **c}, 10)
        s.counter("container_cpu_cfs_throttled_periods_total", {**kubelet, **c}, 1.5)
        s.gauge(
            "kube_pod_info",
            {
                **ksm,
                "namespace": namespace,
                "pod": pod,
                "node": "ip-10-0-3-21",
                "created_by_kind": "ReplicaSet",
            },
            const(1),
        )
        s.gauge(
            "kube_pod_container_resource_limits",
            {**ksm, **c, "resource": "memory", "unit": "byte", "node": "ip-10-0-3-21"},
            const(512e6),
        )
        s.counter(
            "kube_pod_container_status_restarts_total",
            {**ksm, **c},
            1 / 1800 if container == "cart" else 0,
        )
    for namespace, deployment, spec, available in [
        ("shop", "cart", 3, 2),
        ("ops", "grafana", 1, 1),
    ]:
        d = {**ksm, "namespace": namespace, "deployment": deployment}
        s.gauge("kube_deployment_spec_replicas", d, const(spec))
        s.gauge("kube_deployment_status_replicas_available", d, const(available))


def _runs(every: float, offset: float) -> Callable[[float], int | None]:
    """The index of the newest run at time t (runs at offset, offset+every ...), None before."""
    return lambda t: None if t < offset else int((t - offset) // every)


def _opsbundle(s: Synthetic) -> None:
    """What opsbundle/pushgateway.py leaves in the Pushgateway, as Prometheus scrapes it."""
    # report_fn: a run every 20 minutes; in the last hour one failed, one posted, one found
    # its slot already posted.
    outcomes = [
        "ReportFailed",
        "ReportPosted",
        "ReportPosted",
        "ReportFailed",
        "ReportPosted",
        "ReportDuplicate",
    ]
    report_runs = _runs(1200, 300)
    report = {"job": "report_fn"}

    def run_time(i: int) -> float:
        return s.start + 300 + i * 1200

    def outcome_of(t: float) -> str | None:
        i = report_runs(t)
        return None if i is None else outcomes[i % len(outcomes)]

    def when(fn: Callable[[int], float | None]) -> Value:
        return lambda t: None if report_runs(t) is None else fn(report_runs(t))

    s.gauge(LAST_RUN, report, when(run_time))
    for name in ("ReportPosted", "ReportFailed", "ReportDuplicate"):
        s.gauge(
            count_metric(name), report, lambda t, name=name: 1 if outcome_of(t) == name else None
        )
        s.gauge(
            last_seen_metric(name),
            {**report, "scope": "last_seen"},
            lambda t, name=name: _last(report_runs(t), outcomes, name, run_time),
        )
    s.gauge(
        count_metric("LeadsCounted"),
        report,
        when(lambda i: None if outcomes[i % 6] == "ReportFailed" else 40 + 7 * i),
    )
    s.gauge(
        last_seen_metric("LeadsCounted"),
        {**report, "scope": "last_seen"},
        when(run_time),
    )
    for timer, seconds in [("CrmFetch", 1.8), ("Aggregate", 0.02), ("SlackPost", 0.4)]:
        s.gauge(duration_metric(timer), report, when(lambda i, sec=seconds: sec + 0.1 * (i % 3)))

    # log_shipper: an invocation every minute; every 7th dead-letters a few events.
    shipper = {"job": "log_shipper"}
    shipper_runs = _runs(60, 0)

    def shipper_value(fn: Callable[[int], float | None]) -> Value:
        return lambda t: fn(shipper_runs(t))

    s.gauge(LAST_RUN, shipper, shipper_value(lambda i: s.start + 60 * i))
    s.gauge(count_metric("EventsIn"), shipper, shipper_value(lambda i: 500 + i % 50))
    s.gauge(
        count_metric("EventsIndexed"),
        shipper,
        shipper_value(lambda i: 500 + i % 50 - (3 if i % 7 == 0 else 0)),
    )
    s.gauge(
        count_metric("EventsDeadLettered"),
        shipper,
        shipper_value(lambda i: 3 if i % 7 == 0 else None),
    )
    s.gauge(
        last_seen_metric("EventsDeadLettered"),
        {**shipper, "scope": "last_seen"},
        shipper_value(lambda i: s.start + 60 * (i - i % 7)),
    )
    s.gauge(count_metric("IngestLagSeconds"), shipper, shipper_value(lambda i: 4 + i % 9))
    s.gauge(duration_metric("BulkLatency"), shipper, shipper_value(lambda i: 0.2 + 0.01 * (i % 10)))
    s.gauge(count_metric("BulkRequests"), shipper, shipper_value(lambda i: 1 + i % 3))
    s.gauge(duration_metric("Ship"), shipper, shipper_value(lambda i: 0.3 + 0.01 * (i % 10)))

    # monitors: each runs every 5 minutes; every other run sends an alert (the target monitor
    # alternates alarm and resolved), every 5th fails.
    for offset, (job, counts) in enumerate(
        [
            ("unhealthy_targets", ("TargetAlarmsInspected", "TargetAlarmsResolved")),
            ("root_login", ("RootActivityReported",)),
            ("pipeline_failure", ("PipelineFailuresReported",)),
        ]
    ):
        _monitor(s, job, counts, offset=60 + 20 * offset)


def _monitor(s: Synthetic, job: str, counts: tuple[str, ...], *, offset: float) -> None:
    runs = _runs(300, offset)
    labels, seen = {"job": job}, {"job": job, "scope": "last_seen"}

    def value(fn: Callable[[int], float | None]) -> Value:
        return lambda t: None if runs(t) is None else fn(runs(t))

    def at(i: int) -> float:
        return s.start + offset + 300 * i

    s.gauge(LAST_RUN, labels, value(at))
    for phase, count in enumerate(counts):  # the first on even runs, the second on odd ones
        s.gauge(count_metric(count), labels, value(lambda i, p=phase: 1 if i % 2 == p else None))
        s.gauge(
            last_seen_metric(count),
            seen,
            value(lambda i, p=phase: at(i - (i - p) % 2) if i >= p else None),
        )
    s.gauge(count_metric("MonitorFailed"), labels, value(lambda i: 1 if i % 5 == 4 else None))
    s.gauge(
        last_seen_metric("MonitorFailed"),
        seen,
        value(lambda i: at(i - (i + 1) % 5) if i >= 4 else None),
    )


def _last(
    newest: int | None, outcomes: list[str], name: str, run_time: Callable[[int], float]
) -> float | None:
    """When `name` last happened among runs 0..newest (the last_seen group's value)."""
    if newest is None:
        return None
    for i in range(newest, -1, -1):
        if outcomes[i % len(outcomes)] == name:
            return run_time(i)
    return None
