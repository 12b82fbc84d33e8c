"""What each load balancer health reason code means and what to check (pure data).

ELBv2 codes and meanings: Elastic Load Balancing API reference, `TargetHealth` (Reason) and
"Target health status" in the Application/Network/Gateway Load Balancer guides. Classic ELB:
`InstanceState` in the Classic Load Balancer API reference (ReasonCode ELB | Instance | N/A).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reason:
    meaning: str
    check: str


REASONS: dict[str, Reason] = {
    "Elb.RegistrationInProgress": Reason(
        "the target is being registered with the load balancer",
        "wait a minute; if it stays here, check the target group's registration in the console",
    ),
    "Elb.InitialHealthChecking": Reason(
        "the load balancer is still sending the minimum number of health checks",
        "wait for HealthyThresholdCount × interval; if the target then fails, read its reason",
    ),
    "Target.ResponseCodeMismatch": Reason(
        "the app answered the health check with an HTTP code outside the matcher",
        "curl the health check path on the target port from inside the VPC; compare the code "
        "with the matcher (a redirect 301/302 or an auth 401/403 is the usual culprit)",
    ),
    "Target.Timeout": Reason(
        "the health check request timed out",
        "is the app listening on the health check port? does the target's security group allow "
        "the load balancer's security group (or VPC CIDR) on that port? is the app overloaded "
        "(CPU, thread pool) or the path slow?",
    ),
    "Target.FailedHealthChecks": Reason(
        "the connection failed or the answer was malformed",
        "is the process running and listening on the port? check the app logs, the security "
        "group and the NACLs; for TLS checks, the certificate and protocol on the target",
    ),
    "Elb.InternalError": Reason(
        "the health checks failed because of an internal load balancer error",
        "usually transient; if it persists, check the AWS Health Dashboard and open a support case",
    ),
    "Target.NotRegistered": Reason(
        "the target is not registered with the target group",
        "register it, or check the Auto Scaling group / ECS service that should register it",
    ),
    "Target.NotInUse": Reason(
        "the target group is not used by any load balancer, or the target's Availability Zone "
        "is not enabled for the load balancer",
        "attach the target group to a listener rule, or enable the target's AZ on the load "
        "balancer",
    ),
    "Target.DeregistrationInProgress": Reason(
        "the target is being deregistered (draining connections)",
        "expected during deploys and scale-in; if unexpected, see who deregistered it in "
        "CloudTrail (DeregisterTargets) or the Auto Scaling activity history",
    ),
    "Target.InvalidState": Reason(
        "the target is stopped or terminated",
        "start the instance, or deregister it; check the Auto Scaling activity history",
    ),
    "Target.IpUnusable": Reason(
        "the target's IP address is reserved for use by a load balancer",
        "register a different IP address",
    ),
    "Target.HealthCheckDisabled": Reason(
        "health checks are disabled for the target group",
        "enable health checks, or ignore this if it is intended",
    ),
}

UNKNOWN = Reason(
    "a reason code this monitor does not know yet",
    "read the description, and the ELB documentation for the code",
)

CLASSIC_REASONS: dict[str, Reason] = {
    "Instance": Reason(
        "the instance failed the load balancer's health check",
        "check the app on the health check target (protocol:port/path), the instance's security "
        "group and the app logs",
    ),
    "ELB": Reason(
        "the load balancer is the cause (e.g. the instance is still registering or its AZ is "
        "not enabled)",
        "check the load balancer's Availability Zones and the registration",
    ),
}


def explain(code: str | None, *, classic: bool = False) -> Reason:
    if not code:
        return UNKNOWN
    table = CLASSIC_REASONS if classic else REASONS
    return table.get(code, UNKNOWN)
