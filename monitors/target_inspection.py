"""Inspects a target group (or Classic load balancer): which targets are not healthy, why,
and the context to act on it. AWS clients are handed in; the result is plain data.

Nothing here raises for AWS trouble: a target group that no longer exists, throttling that
outlasted the retries, or a denied call become `problems` on the inspection, so the alert
still goes out and says what could not be looked at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
)

from opsbundle import aws
from opsbundle.console import console_url, query_region

ELBV2_NAMESPACES = {
    "AWS/ApplicationELB": "application",
    "AWS/NetworkELB": "network",
    "AWS/GatewayELB": "gateway",
}
CLASSIC_NAMESPACE = "AWS/ELB"
HEALTH_METRICS = ("UnHealthyHostCount", "HealthyHostCount")
THROTTLED = frozenset(
    {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}
)
NOT_FOUND = frozenset({"TargetGroupNotFound", "LoadBalancerNotFound", "AccessPointNotFound"})
EC2_BATCH = 200  # ids per describe_instances filter
ASG_BATCH = 50  # DescribeAutoScalingInstances accepts at most 50 ids
DATAPOINT_MINUTES = 30
# Order of the groups in an alert: what is failing now before what is on its way.
SEVERITY = {
    "unhealthy": 0,
    "OutOfService": 0,
    "unhealthy.draining": 1,
    "unavailable": 2,
    "Unknown": 2,
    "unused": 3,
    "initial": 4,
    "draining": 5,
}


@dataclass(frozen=True)
class HealthCheck:
    protocol: str | None
    port: str | None
    path: str | None
    matcher: str | None
    interval: int | None
    timeout: int | None
    healthy_threshold: int | None
    unhealthy_threshold: int | None
    enabled: bool = True

    def describe(self) -> str:
        if not self.enabled:
            return "health checks are disabled"
        where = f"{self.protocol or '?'} port {self.port or 'traffic-port'}"
        if self.path:
            where += f" path {self.path}"
        parts = [where]
        if self.matcher:
            parts.append(f"matcher {self.matcher}")
        if self.interval:
            parts.append(f"every {self.interval} s")
        if self.timeout:
            parts.append(f"timeout {self.timeout} s")
        if self.healthy_threshold:
            parts.append(f"healthy after {self.healthy_threshold}")
        if self.unhealthy_threshold:
            parts.append(f"unhealthy after {self.unhealthy_threshold} failures")
        return ", ".join(parts)


@dataclass
class Target:
    id: str
    state: str  # ELBv2: healthy, unhealthy, unhealthy.draining, unused, draining, initial,
    # unavailable; Classic: InService, OutOfService, Unknown
    reason: str | None = None
    description: str | None = None
    port: int | None = None
    kind: str = "instance"  # instance, ip, lambda, alb
    az: str | None = None
    name: str | None = None  # EC2 Name tag, ENI description, function name
    instance_state: str | None = None
    asg: str | None = None
    lifecycle: str | None = None  # Auto Scaling lifecycle state

    @property
    def healthy(self) -> bool:
        return self.state in ("healthy", "InService")

    def label(self) -> str:
        text = self.id
        if self.port is not None and self.kind != "lambda":
            text += f":{self.port}"
        if self.name:
            text += f" ({self.name})"
        return text

    def context(self) -> str:
        parts = [p for p in (self.az, self.instance_state) if p]
        if self.asg:
            parts.append(f"ASG {self.asg}" + (f" [{self.lifecycle}]" if self.lifecycle else ""))
        return ", ".join(parts)


@dataclass
class Inspection:
    kind: str  # application, network, gateway, classic
    region: str
    name: str  # target group name, or the Classic load balancer's name
    target_group_arn: str | None = None
    load_balancers: list[str] = field(default_factory=list)
    health_check: HealthCheck | None = None
    targets: list[Target] = field(default_factory=list)
    datapoints: list[tuple[datetime, float]] = field(default_factory=list)
    metric_label: str = ""
    problems: list[str] = field(default_factory=list)
    links: dict[str, str] = field(default_factory=dict)
    found: bool = True  # False: the target group / load balancer no longer exists

    @property
    def classic(self) -> bool:
        return self.kind == "classic"

    @property
    def not_healthy(self) -> list[Target]:
        return [t for t in self.targets if not t.healthy]

    def groups(self) -> list[tuple[str, str | None, list[Target]]]:
        """Not-healthy targets grouped by (state, reason): the most serious state first, then
        the biggest group."""
        grouped: dict[tuple[str, str | None], list[Target]] = {}
        for target in self.not_healthy:
            grouped.setdefault((target.state, target.reason), []).append(target)
        ordered = sorted(
            grouped.items(),
            key=lambda kv: (SEVERITY.get(kv[0][0], 3), -len(kv[1]), kv[0][0], kv[0][1] or ""),
        )
        return [(state, reason, targets) for (state, reason), targets in ordered]

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "region": self.region,
            "name": self.name,
            "target_group_arn": self.target_group_arn,
            "found": self.found,
            "load_balancers": self.load_balancers,
            "health_check": self.health_check.__dict__ if self.health_check else None,
            "targets": [t.__dict__ for t in self.targets],
            "datapoints": [[at.isoformat(), value] for at, value in self.datapoints],
            "problems": self.problems,
            "links": self.links,
        }


def target_group_arn(*, partition: str, region: str, account: str, dimension: str) -> str:
    """The ARN from the alarm's TargetGroup dimension ("targetgroup/<name>/<id>")."""
    return f"arn:{partition}:elasticloadbalancing:{region}:{account}:{dimension}"


def console_links(region: str, partition: str = "aws") -> Callable[[str], str]:
    return lambda fragment: console_url(region, fragment, partition)


def alarm_link(region: str, name: str, partition: str = "aws") -> str:
    url = console_links(region, partition)
    return url(
        f"cloudwatch/home?region={query_region(region)}#alarmsV2:alarm/{quote(name, safe='')}"
    )


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code") or "")


def _lookup_failed(
    inspection: Inspection, error: ClientError | BotoCoreError, call: str, what: str
) -> Inspection:
    """A lookup that failed: a resource that is gone says so; anything else names the call."""
    if isinstance(error, ClientError) and _code(error) in NOT_FOUND:
        inspection.found = False
        inspection.problems.append(f"{what} no longer exists: delete or update the alarm")
    else:
        inspection.problems.append(_why(error, call))
    return inspection


def _why(error: BotoCoreError | ClientError, call: str) -> str:
    """What went wrong, for the alert. Missing credentials or region are settings: raised."""
    problem = aws.setup_problem(error)
    if problem:
        raise problem
    if isinstance(error, ClientError):
        code = _code(error)
        if code in THROTTLED:
            return f"{call} was throttled by AWS even after retries ({code}); try again later"
        if code in ("AccessDenied", "AccessDeniedException", "UnauthorizedOperation"):
            return f"{call} was denied ({code}): the role lacks this permission"
        return f"{call} failed: {code or error}"
    if isinstance(error, EndpointConnectionError | ConnectTimeoutError):
        return f"could not reach {error.kwargs.get('endpoint_url')} ({call})"
    return f"{call} failed: {error}"


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


class TargetInspector:
    """Looks at one target group or Classic load balancer in `region`."""

    def __init__(
        self,
        *,
        region: str,
        partition: str = "aws",
        elbv2_client: Any = None,
        elb_client: Any = None,
        ec2_client: Any = None,
        autoscaling_client: Any = None,
        cloudwatch_client: Any = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.region = region
        self.partition = partition
        self._clients = {
            "elbv2": elbv2_client,
            "elb": elb_client,
            "ec2": ec2_client,
            "autoscaling": autoscaling_client,
            "cloudwatch": cloudwatch_client,
        }
        self._clock = clock
        self._url = console_links(region, partition)

    def _client(self, service: str) -> Any:
        if self._clients.get(service) is None:
            self._clients[service] = aws.client(service, region=self.region)
        return self._clients[service]

    # --- ELBv2 ---------------------------------------------------------------------------

    def inspect_target_group(
        self, arn: str, *, namespace: str | None = None, dimensions: dict[str, str] | None = None
    ) -> Inspection:
        parts = arn.split(":")
        name = parts[5].split("/")[1] if len(parts) > 5 and parts[5].count("/") >= 1 else arn
        inspection = Inspection(
            kind=ELBV2_NAMESPACES.get(namespace or "", "application"),
            region=self.region,
            name=name,
            target_group_arn=arn,
        )
        inspection.links["target group"] = self._url(
            f"ec2/home?region={query_region(self.region)}#TargetGroup:targetGroupArn={arn}"
        )
        elbv2 = self._client("elbv2")
        try:
            group = elbv2.describe_target_groups(TargetGroupArns=[arn])["TargetGroups"][0]
        except ClientError as error:
            if _code(error) in NOT_FOUND or _code(error) == "ValidationError":
                inspection.found = False
                inspection.problems.append(
                    f"target group {arn} no longer exists (or the ARN is malformed): delete or "
                    "update the alarm that watches it"
                )
                return inspection
            inspection.problems.append(_why(error, "DescribeTargetGroups"))
            group = None
        except BotoCoreError as error:
            inspection.problems.append(_why(error, "DescribeTargetGroups"))
            group = None
        if group is not None:
            inspection.name = group.get("TargetGroupName") or name
            inspection.load_balancers = [
                lb.split(":loadbalancer/", 1)[-1] for lb in group.get("LoadBalancerArns", [])
            ]
            if namespace is None:
                inspection.kind = {
                    "TCP": "network",
                    "UDP": "network",
                    "TLS": "network",
                    "TCP_UDP": "network",
                    "GENEVE": "gateway",
                }.get(str(group.get("Protocol")), "application")
            inspection.health_check = _health_check(group)
        try:
            described = elbv2.describe_target_health(TargetGroupArn=arn, Include=["All"])
        except (ClientError, BotoCoreError) as error:
            return _lookup_failed(inspection, error, "DescribeTargetHealth", f"target group {arn}")
        target_type = str(group.get("TargetType") or "instance") if group else "instance"
        for item in described.get("TargetHealthDescriptions", []):
            target, health = item.get("Target", {}), item.get("TargetHealth", {})
            target_id = str(target.get("Id", "?"))
            kind = target_type
            if target_id.startswith("arn:") and ":function:" in target_id:
                kind = "lambda"
            inspection.targets.append(
                Target(
                    id=target_id,
                    state=str(health.get("State", "unknown")),
                    reason=health.get("Reason"),
                    description=health.get("Description"),
                    port=target.get("Port"),
                    kind=kind,
                    az=target.get("AvailabilityZone"),
                    name=target_id.rsplit(":", 1)[-1] if kind == "lambda" else None,
                )
            )
        self._add_context(inspection)
        if dimensions and namespace:
            self._add_datapoints(inspection, namespace, dimensions)
        return inspection

    # --- Classic -------------------------------------------------------------------------

    def inspect_classic(self, name: str, *, dimensions: dict[str, str] | None = None) -> Inspection:
        inspection = Inspection(kind="classic", region=self.region, name=name)
        inspection.links["load balancer"] = self._url(
            f"ec2/home?region={query_region(self.region)}"
            f"#LoadBalancers:search={quote(name, safe='')}"
        )
        elb = self._client("elb")
        call = "DescribeLoadBalancers"  # the call a failure is named after
        try:
            described = elb.describe_load_balancers(LoadBalancerNames=[name])
            balancer = described["LoadBalancerDescriptions"][0]
            check = balancer.get("HealthCheck") or {}
            target = str(check.get("Target", ""))  # e.g. HTTP:80/health
            protocol, _, rest = target.partition(":")
            port, _, path = rest.partition("/")
            inspection.health_check = HealthCheck(
                protocol=protocol or None,
                port=port or None,
                path=("/" + path) if path else None,
                matcher="200" if protocol.upper() in ("HTTP", "HTTPS") else None,
                interval=check.get("Interval"),
                timeout=check.get("Timeout"),
                healthy_threshold=check.get("HealthyThreshold"),
                unhealthy_threshold=check.get("UnhealthyThreshold"),
            )
            call = "DescribeInstanceHealth"
            health = elb.describe_instance_health(LoadBalancerName=name)
        except (ClientError, BotoCoreError) as error:
            return _lookup_failed(inspection, error, call, f"Classic load balancer {name}")
        for state in health.get("InstanceStates", []):
            reason = state.get("ReasonCode")
            inspection.targets.append(
                Target(
                    id=str(state.get("InstanceId", "?")),
                    state=str(state.get("State", "Unknown")),
                    reason=reason if reason not in (None, "N/A") else None,
                    description=state.get("Description"),
                )
            )
        self._add_context(inspection)
        if dimensions:
            self._add_datapoints(inspection, CLASSIC_NAMESPACE, dimensions)
        return inspection

    # --- context -------------------------------------------------------------------------

    def _add_context(self, inspection: Inspection) -> None:
        """EC2 name, AZ, state and Auto Scaling group of the not-healthy targets."""
        targets = inspection.not_healthy
        instances = {t.id: t for t in targets if t.kind == "instance" and t.id.startswith("i-")}
        ips = {t.id: t for t in targets if t.kind == "ip"}
        for target in instances.values():
            inspection.links.setdefault(
                f"instance {target.id}",
                self._url(
                    f"ec2/home?region={query_region(self.region)}#InstanceDetails:instanceId={target.id}"
                ),
            )
        if instances:
            self._instances(instances, inspection)
            self._auto_scaling(instances, inspection)
        if ips:
            self._network_interfaces(ips, inspection)

    def _instances(self, targets: dict[str, Target], inspection: Inspection) -> None:
        ec2 = self._client("ec2")
        try:
            for batch in _chunks(sorted(targets), EC2_BATCH):
                pages = ec2.get_paginator("describe_instances").paginate(
                    Filters=[{"Name": "instance-id", "Values": batch}]
                )
                for page in pages:
                    for reservation in page.get("Reservations", []):
                        for instance in reservation.get("Instances", []):
                            target = targets.get(instance.get("InstanceId", ""))
                            if target is None:
                                continue
                            tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
                            target.name = target.name or tags.get("Name")
                            target.az = target.az or instance.get("Placement", {}).get(
                                "AvailabilityZone"
                            )
                            target.instance_state = instance.get("State", {}).get("Name")
                            target.asg = tags.get("aws:autoscaling:groupName")
        except (BotoCoreError, ClientError) as error:
            inspection.problems.append(_why(error, "DescribeInstances"))

    def _auto_scaling(self, targets: dict[str, Target], inspection: Inspection) -> None:
        autoscaling = self._client("autoscaling")
        try:
            for batch in _chunks(sorted(targets), ASG_BATCH):
                found = autoscaling.describe_auto_scaling_instances(InstanceIds=batch)
                for item in found.get("AutoScalingInstances", []):
                    target = targets.get(item.get("InstanceId", ""))
                    if target is not None:
                        target.asg = item.get("AutoScalingGroupName") or target.asg
                        target.lifecycle = item.get("LifecycleState")
        except (BotoCoreError, ClientError) as error:
            inspection.problems.append(_why(error, "DescribeAutoScalingInstances"))

    def _network_interfaces(self, targets: dict[str, Target], inspection: Inspection) -> None:
        ec2 = self._client("ec2")
        try:
            for batch in _chunks(sorted(targets), EC2_BATCH):
                found = ec2.describe_network_interfaces(
                    Filters=[{"Name": "addresses.private-ip-address", "Values": batch}]
                )
                for eni in found.get("NetworkInterfaces", []):
                    target = targets.get(eni.get("PrivateIpAddress", ""))
                    if target is not None:
                        target.name = eni.get("Description") or eni.get("InterfaceType")
                        target.az = target.az or eni.get("AvailabilityZone")
                        target.instance_state = eni.get("Status")
        except (BotoCoreError, ClientError) as error:
            inspection.problems.append(_why(error, "DescribeNetworkInterfaces"))

    def _add_datapoints(
        self, inspection: Inspection, namespace: str, dimensions: dict[str, str]
    ) -> None:
        now = self._clock()
        metric = "UnHealthyHostCount"
        try:
            got = self._client("cloudwatch").get_metric_statistics(
                Namespace=namespace,
                MetricName=metric,
                Dimensions=[{"Name": k, "Value": v} for k, v in sorted(dimensions.items())],
                StartTime=now - timedelta(minutes=DATAPOINT_MINUTES),
                EndTime=now,
                Period=60,
                Statistics=["Maximum"],
            )
        except (BotoCoreError, ClientError) as error:
            inspection.problems.append(_why(error, "GetMetricStatistics"))
            return
        points = sorted((p["Timestamp"], float(p["Maximum"])) for p in got.get("Datapoints", []))
        inspection.datapoints = points[-10:]
        inspection.metric_label = f"{metric} (Maximum per minute)"


def _health_check(group: dict[str, Any]) -> HealthCheck:
    matcher = group.get("Matcher") or {}
    code = matcher.get("HttpCode") or matcher.get("GrpcCode")
    return HealthCheck(
        protocol=group.get("HealthCheckProtocol"),
        port=group.get("HealthCheckPort"),
        path=group.get("HealthCheckPath"),
        matcher=str(code) if code else None,
        interval=group.get("HealthCheckIntervalSeconds"),
        timeout=group.get("HealthCheckTimeoutSeconds"),
        healthy_threshold=group.get("HealthyThresholdCount"),
        unhealthy_threshold=group.get("UnhealthyThresholdCount"),
        enabled=bool(group.get("HealthCheckEnabled", True)),
    )
