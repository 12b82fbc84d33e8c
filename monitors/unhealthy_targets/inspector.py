"""Inspects a target group (or Classic load balancer): which targets are not healthy, why,
and the context to act on it. AWS clients are handed in; the result is plain data.

Nothing here raises for AWS trouble: a target group that no longer exists, throttling that
outlasted the retries, or a denied call become `problems` on the inspection, so the alert
still goes out and says what could not be looked at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from monitors.unhealthy_targets.health_metric import CLASSIC_NAMESPACE, ELBV2_NAMESPACES
from monitors.unhealthy_targets.inspection import HealthCheck, Inspection, Target
from opsbundle import aws, console

NOT_FOUND = frozenset({"TargetGroupNotFound", "LoadBalancerNotFound", "AccessPointNotFound"})
EC2_BATCH = 200  # ids per describe_instances filter
ASG_BATCH = 50  # DescribeAutoScalingInstances accepts at most 50 ids
DATAPOINT_MINUTES = 30
# A target group's protocol → the kind of load balancer it belongs to (else application).
PROTOCOL_KINDS = {
    "TCP": "network",
    "UDP": "network",
    "TLS": "network",
    "TCP_UDP": "network",
    "GENEVE": "gateway",
}


class TargetInspector:
    """Looks at one target group or Classic load balancer in `region`. The console links are
    in `partition` (from the alarm's ARN), else in the region's."""

    def __init__(
        self,
        *,
        region: str,
        partition: str | None = None,
        elbv2_client: Any = None,
        elb_client: Any = None,
        ec2_client: Any = None,
        autoscaling_client: Any = None,
        cloudwatch_client: Any = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.region = region
        self.partition = partition or console.partition_of(region)
        self._clients = {
            "elbv2": elbv2_client,
            "elb": elb_client,
            "ec2": ec2_client,
            "autoscaling": autoscaling_client,
            "cloudwatch": cloudwatch_client,
        }
        self._clock = clock

    def _client(self, service: str) -> Any:
        if self._clients.get(service) is None:
            self._clients[service] = aws.client(service, region=self.region)
        return self._clients[service]

    # --- ELBv2 ---------------------------------------------------------------------------

    def inspect_target_group(
        self, arn: str, *, namespace: str | None = None, dimensions: dict[str, str] | None = None
    ) -> Inspection:
        inspection = Inspection(
            kind=ELBV2_NAMESPACES.get(namespace or "", "application"),
            region=self.region,
            name=_group_name(arn),
            target_group_arn=arn,
        )
        inspection.links["target group"] = console.target_group(self.region, arn, self.partition)
        group = self._describe_group(arn, inspection)
        if not inspection.found:
            return inspection
        if group is not None:
            _describe(inspection, group, guess_kind=namespace is None)
        try:
            described = self._client("elbv2").describe_target_health(
                TargetGroupArn=arn, Include=["All"]
            )
        except (ClientError, BotoCoreError) as error:
            return _lookup_failed(inspection, error, "DescribeTargetHealth", f"target group {arn}")
        target_type = str(group.get("TargetType") or "instance") if group else "instance"
        inspection.targets += [
            _target(item, target_type) for item in described.get("TargetHealthDescriptions", [])
        ]
        self._add_context(inspection)
        if dimensions and namespace:
            self._add_datapoints(inspection, namespace, dimensions)
        return inspection

    def _describe_group(self, arn: str, inspection: Inspection) -> dict[str, Any] | None:
        """The target group (DescribeTargetGroups), or None: gone (`found` is False) or not
        described (a problem says why)."""
        try:
            groups = self._client("elbv2").describe_target_groups(TargetGroupArns=[arn])
            return dict(groups["TargetGroups"][0])
        except ClientError as error:
            if aws.error_code(error) in (*NOT_FOUND, "ValidationError"):
                inspection.found = False
                inspection.problems.append(
                    f"target group {arn} no longer exists (or the ARN is malformed): delete or "
                    "update the alarm that watches it"
                )
                return None
            inspection.problems.append(aws.call_failed(error, "DescribeTargetGroups"))
        except BotoCoreError as error:
            inspection.problems.append(aws.call_failed(error, "DescribeTargetGroups"))
        return None

    # --- Classic -------------------------------------------------------------------------

    def inspect_classic(self, name: str, *, dimensions: dict[str, str] | None = None) -> Inspection:
        inspection = Inspection(kind="classic", region=self.region, name=name)
        inspection.links["load balancer"] = console.classic_load_balancer(
            self.region, name, self.partition
        )
        elb = self._client("elb")
        call = "DescribeLoadBalancers"  # the call a failure is named after
        try:
            described = elb.describe_load_balancers(LoadBalancerNames=[name])
            balancer = described["LoadBalancerDescriptions"][0]
            inspection.health_check = _classic_health_check(balancer.get("HealthCheck") or {})
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
                console.instance(self.region, target.id, self.partition),
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
                            if target is not None:
                                _add_instance(target, instance)
        except (BotoCoreError, ClientError) as error:
            inspection.problems.append(aws.call_failed(error, "DescribeInstances"))

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
            inspection.problems.append(aws.call_failed(error, "DescribeAutoScalingInstances"))

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
            inspection.problems.append(aws.call_failed(error, "DescribeNetworkInterfaces"))

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
            inspection.problems.append(aws.call_failed(error, "GetMetricStatistics"))
            return
        points = sorted((p["Timestamp"], float(p["Maximum"])) for p in got.get("Datapoints", []))
        inspection.datapoints = points[-10:]
        inspection.metric_label = f"{metric} (Maximum per minute)"


# --- reading AWS's answers (pure) --------------------------------------------------------


def _group_name(arn: str) -> str:
    """The name in arn:…:targetgroup/<name>/<id>, else the ARN itself."""
    parts = arn.split(":")
    return parts[5].split("/")[1] if len(parts) > 5 and parts[5].count("/") >= 1 else arn


def _describe(inspection: Inspection, group: dict[str, Any], *, guess_kind: bool) -> None:
    """What DescribeTargetGroups says: name, load balancers, health check and, when the alarm's
    namespace did not say, the kind of load balancer (from the protocol)."""
    inspection.name = group.get("TargetGroupName") or inspection.name
    inspection.load_balancers = [
        lb.split(":loadbalancer/", 1)[-1] for lb in group.get("LoadBalancerArns", [])
    ]
    if guess_kind:
        inspection.kind = PROTOCOL_KINDS.get(str(group.get("Protocol")), "application")
    inspection.health_check = _health_check(group)


def _target(item: dict[str, Any], target_type: str) -> Target:
    """One of DescribeTargetHealth's TargetHealthDescriptions."""
    target, health = item.get("Target", {}), item.get("TargetHealth", {})
    target_id = str(target.get("Id", "?"))
    kind = target_type
    if target_id.startswith("arn:") and ":function:" in target_id:
        kind = "lambda"
    return Target(
        id=target_id,
        state=str(health.get("State", "unknown")),
        reason=health.get("Reason"),
        description=health.get("Description"),
        port=target.get("Port"),
        kind=kind,
        az=target.get("AvailabilityZone"),
        name=target_id.rsplit(":", 1)[-1] if kind == "lambda" else None,
    )


def _add_instance(target: Target, instance: dict[str, Any]) -> None:
    """What DescribeInstances says about a target: Name tag, AZ, state, Auto Scaling group."""
    tags = {t["Key"]: t["Value"] for t in instance.get("Tags", [])}
    target.name = target.name or tags.get("Name")
    target.az = target.az or instance.get("Placement", {}).get("AvailabilityZone")
    target.instance_state = instance.get("State", {}).get("Name")
    target.asg = tags.get("aws:autoscaling:groupName")


def _lookup_failed(
    inspection: Inspection, error: ClientError | BotoCoreError, call: str, what: str
) -> Inspection:
    """A lookup that failed: a resource that is gone says so; anything else names the call."""
    if isinstance(error, ClientError) and aws.error_code(error) in NOT_FOUND:
        inspection.found = False
        inspection.problems.append(f"{what} no longer exists: delete or update the alarm")
    else:
        inspection.problems.append(aws.call_failed(error, call))
    return inspection


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


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


def _classic_health_check(check: dict[str, Any]) -> HealthCheck:
    """A Classic load balancer's HealthCheck: its Target reads like HTTP:80/health."""
    protocol, _, rest = str(check.get("Target", "")).partition(":")
    port, _, path = rest.partition("/")
    return HealthCheck(
        protocol=protocol or None,
        port=port or None,
        path=("/" + path) if path else None,
        matcher="200" if protocol.upper() in ("HTTP", "HTTPS") else None,
        interval=check.get("Interval"),
        timeout=check.get("Timeout"),
        healthy_threshold=check.get("HealthyThreshold"),
        unhealthy_threshold=check.get("UnhealthyThreshold"),
    )
