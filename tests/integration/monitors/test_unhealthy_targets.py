"""The unhealthy-target inspector on moto (ELBv2, Classic ELB, EC2, Auto Scaling, CloudWatch,
SNS) and the Slack emulator.

moto reports only healthy, unused (stopped or not registered) and draining targets; for the
documented unhealthy reason codes (Target.ResponseCodeMismatch, Target.Timeout...) the
DescribeTargetHealth answer comes from a botocore Stubber, while every other call is moto's.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from monitors.config import MonitorSettings
from monitors.unhealthy_targets.alarm_event import parse_alarm_events
from monitors.unhealthy_targets.handler import handler
from monitors.unhealthy_targets.inspector import TargetInspector
from monitors.unhealthy_targets.monitor import build_monitor
from monitors.unhealthy_targets.reasons import REASONS
from opsbundle.cli import main
from opsbundle.metrics import RunMetrics
from tests.emulators.slack import SlackEmulator
from tests.integration.conftest import Aws
from tests.integration.monitors.conftest import REGION, Inbox
from tests.unit.monitors.fixture_files import load


@dataclass
class Web:
    tg_arn: str
    tg_dimension: str
    lb_dimension: str
    asg_instances: list[str]
    legacy: str  # a standalone instance, stopped


def build_web(*, stop_legacy: bool = True) -> Web:
    ec2 = boto3.client("ec2", region_name=REGION)
    elbv2 = boto3.client("elbv2", region_name=REGION)
    autoscaling = boto3.client("autoscaling", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.0.{i}.0/24", AvailabilityZone=f"{REGION}{az}")[
            "Subnet"
        ]["SubnetId"]
        for i, az in enumerate("ab")
    ]
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    template = ec2.create_launch_template(
        LaunchTemplateName="web", LaunchTemplateData={"ImageId": ami, "InstanceType": "t3.small"}
    )["LaunchTemplate"]["LaunchTemplateId"]
    autoscaling.create_auto_scaling_group(
        AutoScalingGroupName="web-asg",
        LaunchTemplate={"LaunchTemplateId": template},
        MinSize=2,
        MaxSize=2,
        DesiredCapacity=2,
        VPCZoneIdentifier=",".join(subnets),
        Tags=[{"Key": "Name", "Value": "web-asg-node", "PropagateAtLaunch": True}],
    )
    asg_instances = sorted(
        i["InstanceId"]
        for i in autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=["web-asg"])[
            "AutoScalingGroups"
        ][0]["Instances"]
    )
    legacy = ec2.run_instances(
        ImageId=ami,
        MinCount=1,
        MaxCount=1,
        SubnetId=subnets[0],
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web-legacy"}]}
        ],
    )["Instances"][0]["InstanceId"]
    lb = elbv2.create_load_balancer(Name="web-prod-alb", Subnets=subnets)["LoadBalancers"][0]
    group = elbv2.create_target_group(
        Name="web-prod",
        Protocol="HTTP",
        Port=80,
        VpcId=vpc,
        HealthCheckProtocol="HTTP",
        HealthCheckPath="/health",
        HealthCheckIntervalSeconds=15,
        HealthCheckTimeoutSeconds=5,
        HealthyThresholdCount=3,
        UnhealthyThresholdCount=2,
        Matcher={"HttpCode": "200-299"},
    )["TargetGroups"][0]
    elbv2.create_listener(
        LoadBalancerArn=lb["LoadBalancerArn"],
        Protocol="HTTP",
        Port=80,
        DefaultActions=[{"Type": "forward", "TargetGroupArn": group["TargetGroupArn"]}],
    )
    elbv2.register_targets(
        TargetGroupArn=group["TargetGroupArn"],
        Targets=[{"Id": i, "Port": 80} for i in [*asg_instances, legacy]],
    )
    if stop_legacy:
        ec2.stop_instances(InstanceIds=[legacy])
    tg_dimension = group["TargetGroupArn"].split(":", 5)[5]
    lb_dimension = lb["LoadBalancerArn"].split(":loadbalancer/", 1)[1]
    cloudwatch = boto3.client("cloudwatch", region_name=REGION)
    now = datetime.now(UTC)
    cloudwatch.put_metric_data(
        Namespace="AWS/ApplicationELB",
        MetricData=[
            {
                "MetricName": "UnHealthyHostCount",
                "Timestamp": now - timedelta(minutes=m),
                "Value": float(v),
                "Unit": "Count",
                "Dimensions": [
                    {"Name": "TargetGroup", "Value": tg_dimension},
                    {"Name": "LoadBalancer", "Value": lb_dimension},
                ],
            }
            for m, v in ((3, 0), (2, 1), (1, 1))
        ],
    )
    return Web(group["TargetGroupArn"], tg_dimension, lb_dimension, asg_instances, legacy)


def alarm_event(web: Web, fixture: str = "alarm_sns_alb.json") -> dict[str, Any]:
    """The SNS fixture, its dimensions pointing at the moto target group."""
    event = load(fixture)
    message = json.loads(event["Records"][0]["Sns"]["Message"])
    message["Trigger"]["Dimensions"] = [
        {"value": web.tg_dimension, "name": "TargetGroup"},
        {"value": web.lb_dimension, "name": "LoadBalancer"},
    ]
    event["Records"][0]["Sns"]["Message"] = json.dumps(message)
    return event


def emails(inbox: Inbox) -> list[tuple[str, str]]:
    return [(m.get("Subject", ""), m["Message"]) for m in inbox.messages()]


def test_alarm_email_and_slack_name_the_stopped_target_with_context(
    aws: Aws, slack: SlackEmulator, monitors_env: dict[str, str], ops_inbox: Inbox
) -> None:
    web = build_web()
    result = handler(alarm_event(web), None)
    assert result["outcomes"][0]["action"] == "inspected"
    assert result["outcomes"][0]["not_healthy"] == 1
    ((subject, body),) = emails(ops_inbox)
    assert subject == "ALARM: 1 of 3 targets not healthy in target group web-prod (us-east-1)"
    assert f"- {web.legacy}:80 (web-legacy) [us-east-1a, stopped]" in body
    assert "unused - Target.InvalidState (1 target)" in body
    assert REASONS["Target.InvalidState"].check in body
    assert "Health check: HTTP port traffic-port path /health, matcher 200-299, every 15 s" in body
    assert "UnHealthyHostCount (Maximum per minute), last datapoints (UTC):" in body
    assert "app/web-prod-alb/" in body
    (posted,) = slack.messages("ops-alerts")
    assert "1 of 3 targets not healthy" in posted["text"]
    assert web.legacy in json.dumps(posted["blocks"])


class HealthFrom:
    """moto's ELBv2 client, except DescribeTargetHealth, answered by a stubbed client."""

    def __init__(self, moto_client: Any, stubbed: Any) -> None:
        self._moto, self._stubbed = moto_client, stubbed

    def describe_target_health(self, **kwargs: Any) -> Any:
        return self._stubbed.describe_target_health(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._moto, name)


def test_mixed_states_name_each_unhealthy_target_its_reason_and_hint(
    aws: Aws, slack: SlackEmulator, monitors_env: dict[str, str], ops_inbox: Inbox
) -> None:
    web = build_web(stop_legacy=False)
    first, second = web.asg_instances
    stubbed = boto3.client("elbv2", region_name=REGION)
    answer = {
        "TargetHealthDescriptions": [
            {
                "Target": {"Id": first, "Port": 80},
                "HealthCheckPort": "80",
                "TargetHealth": {
                    "State": "unhealthy",
                    "Reason": "Target.ResponseCodeMismatch",
                    "Description": "Health checks failed with these codes: [502]",
                },
            },
            {
                "Target": {"Id": second, "Port": 80},
                "HealthCheckPort": "80",
                "TargetHealth": {
                    "State": "unhealthy",
                    "Reason": "Target.Timeout",
                    "Description": "Request timed out",
                },
            },
            {
                "Target": {"Id": web.legacy, "Port": 80},
                "HealthCheckPort": "80",
                "TargetHealth": {"State": "healthy"},
            },
        ]
    }
    with Stubber(stubbed) as stub:
        stub.add_response(
            "describe_target_health", answer, {"TargetGroupArn": web.tg_arn, "Include": ["All"]}
        )
        inspector = TargetInspector(
            region=REGION,
            elbv2_client=HealthFrom(boto3.client("elbv2", region_name=REGION), stubbed),
        )
        monitor = build_monitor(MonitorSettings.load(), metrics=RunMetrics(service="test"))
        monitor.inspector_for = lambda region, partition: inspector
        (alarm,) = parse_alarm_events(alarm_event(web))
        outcome = monitor.handle(alarm)
    assert outcome.not_healthy == 2
    ((subject, body),) = emails(ops_inbox)
    assert subject.startswith("ALARM: 2 of 3 targets not healthy")
    for instance, code, said in (
        (first, "Target.ResponseCodeMismatch", "[502]"),
        (second, "Target.Timeout", "Request timed out"),
    ):
        group = body[body.index(f"unhealthy - {code}") :].split("\n\n")[0]
        assert REASONS[code].meaning in group
        assert REASONS[code].check in group
        assert f"- {instance}:80 (web-asg-node) [us-east-1" in group
        assert "ASG web-asg [InService]" in group
        assert said in group
    assert web.legacy not in body.split("Links:")[0]


def test_a_deleted_target_group_gives_a_clear_email_not_a_stack_trace(
    aws: Aws, slack: SlackEmulator, monitors_env: dict[str, str], ops_inbox: Inbox
) -> None:
    web = build_web()
    elbv2 = boto3.client("elbv2", region_name=REGION)
    listener = elbv2.describe_listeners(
        LoadBalancerArn=elbv2.describe_load_balancers()["LoadBalancers"][0]["LoadBalancerArn"]
    )["Listeners"][0]["ListenerArn"]
    elbv2.delete_listener(ListenerArn=listener)
    elbv2.delete_target_group(TargetGroupArn=web.tg_arn)
    handler(alarm_event(web), None)
    ((subject, body),) = emails(ops_inbox)
    assert subject == "ALARM: target group web-prod no longer exists (us-east-1)"
    assert "no longer exists (or the ARN is malformed): delete or update the alarm" in body
    assert "Traceback" not in body


def test_throttling_that_outlasts_the_retries_is_reported_in_the_alert(
    aws: Aws, slack: SlackEmulator, monitors_env: dict[str, str], ops_inbox: Inbox
) -> None:
    web = build_web()
    stubbed = boto3.client("elbv2", region_name=REGION)
    with Stubber(stubbed) as stub:
        stub.add_client_error("describe_target_groups", "Throttling", "Rate exceeded", 400)
        stub.add_client_error("describe_target_health", "Throttling", "Rate exceeded", 400)
        inspection = TargetInspector(region=REGION, elbv2_client=stubbed).inspect_target_group(
            web.tg_arn
        )
    assert inspection.found
    throttled = "was throttled by AWS even after retries (Throttling); try again later"
    assert inspection.problems == [
        f"DescribeTargetGroups {throttled}",
        f"DescribeTargetHealth {throttled}",
    ]


@pytest.mark.parametrize(
    ("failing", "call"),
    [("describe_load_balancers", "DescribeLoadBalancers"),
     ("describe_instance_health", "DescribeInstanceHealth")],
)  # fmt: skip  # one case a line
def test_a_denied_classic_lookup_names_the_call_that_was_denied(
    aws: Aws, failing: str, call: str
) -> None:
    stubbed = boto3.client("elb", region_name=REGION)
    with Stubber(stubbed) as stub:
        if failing == "describe_instance_health":
            stub.add_response(
                "describe_load_balancers",
                {
                    "LoadBalancerDescriptions": [
                        {
                            "LoadBalancerName": "legacy-web",
                            "HealthCheck": {
                                "Target": "HTTP:80/health",
                                "Interval": 30,
                                "Timeout": 5,
                                "UnhealthyThreshold": 2,
                                "HealthyThreshold": 10,
                            },
                        }
                    ]
                },
            )
        stub.add_client_error(failing, "AccessDenied", "not allowed", 403)
        inspection = TargetInspector(region=REGION, elb_client=stubbed).inspect_classic(
            "legacy-web"
        )
    assert inspection.problems == [
        f"{call} was denied (AccessDenied): the role lacks this permission"
    ]


def test_ok_after_alarm_sends_a_short_resolved_message(
    aws: Aws, slack: SlackEmulator, monitors_env: dict[str, str], ops_inbox: Inbox
) -> None:
    result = handler(load("alarm_sns_ok.json"), None)
    assert result["outcomes"][0]["action"] == "resolved"
    ((subject, body),) = emails(ops_inbox)
    assert subject == "OK: web-prod-unhealthy-hosts resolved (us-east-1)"
    assert "targetgroup/web-prod/6d0ecf831eec9f09 is healthy again." in body
    (posted,) = slack.messages("ops-alerts")
    assert posted["text"].startswith(":white_check_mark: *Resolved:*")


def test_eventbridge_and_alarm_action_shapes_reach_the_same_inspection(
    aws: Aws, slack: SlackEmulator, monitors_env: dict[str, str], ops_inbox: Inbox
) -> None:
    web = build_web()
    bridge = load("alarm_eventbridge_alb.json")
    metric = bridge["detail"]["configuration"]["metrics"][0]["metricStat"]["metric"]
    metric["dimensions"] = {"TargetGroup": web.tg_dimension, "LoadBalancer": web.lb_dimension}
    action = copy.deepcopy(load("alarm_action_nlb.json"))
    action["alarmArn"] = action["alarmArn"].replace("eu-west-1", REGION)
    action["region"] = REGION
    action["alarmData"]["configuration"]["metrics"][0]["metricStat"]["metric"] = {
        "namespace": "AWS/ApplicationELB",
        "name": "UnHealthyHostCount",
        "dimensions": {"TargetGroup": web.tg_dimension, "LoadBalancer": web.lb_dimension},
    }
    handler(bridge, None)
    handler(action, None)
    subjects = [subject for subject, _ in emails(ops_inbox)]
    assert (
        subjects == ["ALARM: 1 of 3 targets not healthy in target group web-prod (us-east-1)"] * 2
    )


def test_classic_load_balancer(
    aws: Aws, slack: SlackEmulator, monitors_env: dict[str, str], ops_inbox: Inbox
) -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    elb = boto3.client("elb", region_name=REGION)
    ami = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instances = [
        i["InstanceId"] for i in ec2.run_instances(ImageId=ami, MinCount=2, MaxCount=2)["Instances"]
    ]
    elb.create_load_balancer(
        LoadBalancerName="legacy-web",
        AvailabilityZones=[f"{REGION}a"],
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 8080}],
    )
    elb.configure_health_check(
        LoadBalancerName="legacy-web",
        HealthCheck={
            "Target": "HTTP:8080/ping",
            "Interval": 30,
            "Timeout": 5,
            "UnhealthyThreshold": 2,
            "HealthyThreshold": 10,
        },
    )
    elb.register_instances_with_load_balancer(
        LoadBalancerName="legacy-web", Instances=[{"InstanceId": i} for i in instances]
    )
    ec2.stop_instances(InstanceIds=[instances[1]])
    handler(load("alarm_sns_classic.json"), None)
    ((subject, body),) = emails(ops_inbox)
    assert subject == (
        "ALARM: 1 of 2 targets not healthy in Classic load balancer legacy-web (us-east-1)"
    )
    assert f"- {instances[1]} [us-east-1a, stopped]" in body
    assert "Health check: HTTP port 8080 path /ping, matcher 200, every 30 s" in body


def test_cli_inspects_from_a_terminal(
    aws: Aws, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    web = build_web()
    assert main(["targets", "inspect", web.tg_arn]) == 0
    out = capsys.readouterr().out
    assert "1 of 3 targets are not healthy." in out
    assert f"{web.legacy}:80 (web-legacy)" in out
    assert main(["targets", "inspect", web.tg_arn, "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [t["state"] for t in report["targets"]].count("unused") == 1
    missing = web.tg_arn.rsplit("/", 1)[0] + "/0000000000000000"
    assert main(["targets", "inspect", missing]) == 1
    assert "no longer exists" in capsys.readouterr().out
    assert main(["targets", "inspect", "web-prod"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("opsbundle: configuration error: TARGET_GROUP_ARN: 'web-prod' is not")
