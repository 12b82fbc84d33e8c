"""What an inspection of a target group (or Classic load balancer) found: plain data.

The inspector fills it in; the renderer reads it. `problems` says what could not be looked at,
`found` whether the target group or load balancer still exists.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

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
