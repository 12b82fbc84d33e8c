"""Estimate the monthly AWS bill of one environment, with the free tier counted.

The way the case study priced its function: duration × memory × runs a month, in GB-seconds,
less Lambda's free 400,000 GB-seconds. PRICES are the public on-demand list prices for
us-east-1 (N. Virginia) as read on PRICES_READ; they change, and other regions differ, so
check them on the AWS pricing pages (or the AWS Pricing Calculator) before you rely on a
figure. Taxes, support plans, data transfer out of AWS and Savings Plans are not counted.
"""

from __future__ import annotations

import argparse
import math
from dataclasses import asdict, dataclass
from typing import Any

from opsbundle.exceptions import ConfigError
from opsbundle.output import add_format

PRICES_READ = "2025-06 (us-east-1 list prices; check before use)"
HOURS_PER_MONTH = 730

# price (USD), unit: where it comes from (aws.amazon.com/<service>/pricing/)
PRICES: dict[str, float] = {
    "lambda_arm_gb_second": 0.0000133334,  # Lambda, Arm, first 6 billion GB-s
    "lambda_request": 0.20 / 1_000_000,  # Lambda, per request
    "logs_ingest_gb": 0.50,  # CloudWatch Logs, Standard class, per GB ingested
    "logs_store_gb_month": 0.03,  # CloudWatch Logs, archive storage per GB-month
    "alarm_month": 0.10,  # CloudWatch, standard-resolution metric alarm per month
    "kms_key_month": 1.00,  # KMS, customer-managed key per month
    "kms_request": 0.03 / 10_000,  # KMS, symmetric requests
    "secret_month": 0.40,  # Secrets Manager, per secret per month
    "ebs_gp3_gb_month": 0.122,  # OpenSearch Service, gp3 storage per GB-month
    "codepipeline_v2_action_minute": 0.002,  # CodePipeline V2, per action execution minute
    "codebuild_general1_medium_minute": 0.01,  # CodeBuild, Linux general1.medium per build minute
}
OPENSEARCH_HOURLY: dict[str, float] = {
    "t3.small.search": 0.036,
    "t3.medium.search": 0.073,
    "m6g.large.search": 0.128,
    "r6g.large.search": 0.167,
    "m7g.large.search": 0.136,
}
# Monthly free tiers. "always": every account, every month; "12 months": new accounts only.
FREE = {
    "lambda_gb_seconds": 400_000,  # always
    "lambda_requests": 1_000_000,  # always
    "logs_gb": 5,  # always: ingestion, storage and Insights together
    "alarms": 10,  # always
    "kms_requests": 20_000,  # always
    "codepipeline_action_minutes": 100,  # always (V2)
    "opensearch_t3_small_hours": 750,  # 12 months, t2.micro or t3.small.search
    "opensearch_ebs_gb": 10,  # 12 months
}


@dataclass(frozen=True)
class Inputs:
    runs: int = 90  # report runs a month (3 a day)
    duration_ms: float = 20_000  # measured duration of one report run
    memory_mb: int = 512
    log_gb: float = 5.0  # GB of logs shipped a month
    log_retention_months: float = 3.0  # CloudWatch Logs retention (ReportLogRetentionDays 90)
    shipper_mb_per_second: float = 2.0  # log shipper throughput (an assumption: measure it)
    shipper_memory_mb: int = 256
    alarms: int = 20
    secrets: int = 3  # report: Slack and CRM; monitors: Slack
    opensearch_instance: str = "t3.small.search"
    opensearch_nodes: int = 1
    opensearch_storage_gb: float = 10.0
    pipeline_runs: int = 20  # pipeline executions a month
    build_minutes: float = 8.0  # per execution
    new_account: bool = False  # count the 12-month free tiers

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Inputs:
        inputs = cls(**{name: getattr(args, name) for name in cls.__dataclass_fields__})
        inputs.check()
        return inputs

    def check(self) -> None:
        for name in (
            "runs",
            "duration_ms",
            "memory_mb",
            "log_gb",
            "alarms",
            "secrets",
            "opensearch_nodes",
            "opensearch_storage_gb",
            "pipeline_runs",
            "build_minutes",
            "log_retention_months",
        ):
            if getattr(self, name) < 0:
                raise ConfigError(f"--{name.replace('_', '-')}", "must not be negative")
        if not 128 <= self.memory_mb <= 10_240 or not 128 <= self.shipper_memory_mb <= 10_240:
            raise ConfigError("--memory-mb", "Lambda memory is between 128 and 10240 MB")
        if self.shipper_mb_per_second <= 0:
            raise ConfigError("--shipper-mb-per-second", "must be more than 0")
        if self.opensearch_instance not in OPENSEARCH_HOURLY and self.opensearch_nodes:
            raise ConfigError(
                "--opensearch-instance",
                f"no price for {self.opensearch_instance!r}; known: {', '.join(OPENSEARCH_HOURLY)}",
            )


@dataclass(frozen=True)
class Line:
    item: str
    usage: str
    cost: float  # USD a month, after the free tier


@dataclass(frozen=True)
class Estimate:
    lines: tuple[Line, ...]
    notes: tuple[str, ...]

    @property
    def total(self) -> float:
        return sum(line.cost for line in self.lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": [asdict(line) | {"cost": cents(line.cost)} for line in self.lines],
            "total_usd": cents(self.total),
            "prices_read": PRICES_READ,
            "region": "us-east-1",
            "notes": list(self.notes),
        }


def cents(usd: float) -> float:
    """Money as it is billed, to the cent (0.44999999999999996 is 0.45)."""
    return round(usd, 2)


def estimate(inputs: Inputs) -> Estimate:
    """The monthly cost, line by line. Pure: prices and free tiers are module constants."""
    report_gbs = inputs.runs * inputs.duration_ms / 1000 * inputs.memory_mb / 1024
    shipper_seconds = inputs.log_gb * 1024 / inputs.shipper_mb_per_second
    shipper_gbs = shipper_seconds * inputs.shipper_memory_mb / 1024
    shipper_requests = math.ceil(inputs.log_gb * 1024 * 4)  # ~256 KB per subscription batch
    gb_seconds = report_gbs + shipper_gbs
    requests = inputs.runs + shipper_requests
    billable_gbs = max(0.0, gb_seconds - FREE["lambda_gb_seconds"])
    billable_requests = max(0, requests - FREE["lambda_requests"])
    lambda_cost = (
        billable_gbs * PRICES["lambda_arm_gb_second"] + billable_requests * PRICES["lambda_request"]
    )
    stored_gb = inputs.log_gb * inputs.log_retention_months
    logs_cost = (
        max(0.0, inputs.log_gb - FREE["logs_gb"]) * PRICES["logs_ingest_gb"]
        + stored_gb * PRICES["logs_store_gb_month"]
    )
    alarms_cost = max(0, inputs.alarms - FREE["alarms"]) * PRICES["alarm_month"]

    lines = [
        Line("Lambda (report + log shipper, arm64)",
             f"{gb_seconds:,.0f} GB-s ({report_gbs:,.0f} report: {inputs.runs} runs × "
             f"{inputs.duration_ms / 1000:g} s × {inputs.memory_mb} MB), {requests:,} requests; "
             f"free: {FREE['lambda_gb_seconds']:,} GB-s, {FREE['lambda_requests']:,} requests",
             lambda_cost),
        Line("CloudWatch Logs",
             f"{inputs.log_gb:g} GB ingested (5 GB free), ~{stored_gb:g} GB stored "
             "(uncompressed: an upper bound)", logs_cost),
        Line("CloudWatch alarms", f"{inputs.alarms} alarms (10 free)", alarms_cost),
        Line("KMS key", "1 customer-managed key; requests within the 20,000 free",
             PRICES["kms_key_month"]),
        Line("Secrets Manager", f"{inputs.secrets} secrets",
             inputs.secrets * PRICES["secret_month"]),
        _opensearch(inputs),
        _pipeline(inputs),
        Line("Everything else",
             "SNS, SQS, DynamoDB, S3, Scheduler, EventBridge, CloudTrail (first trail), "
             "Chatbot: within free tiers or cents at this volume", 0.0),
    ]  # fmt: skip  # laid out as a table
    notes = (
        f"Prices: {PRICES_READ}. Check them on aws.amazon.com/pricing before relying on them.",
        f"Log shipper compute assumes {inputs.shipper_mb_per_second:g} MB/s at "
        f"{inputs.shipper_memory_mb} MB; measure it and pass --shipper-mb-per-second.",
        "A second or third CloudTrail trail in the same account is billed "
        "($2.00 per 100,000 management events); deploy trail.yaml once per account.",
        "12-month free tiers counted: " + ("yes (--new-account)" if inputs.new_account else "no"),
    )
    return Estimate(lines=tuple(lines), notes=notes)


def _opensearch(inputs: Inputs) -> Line:
    if not inputs.opensearch_nodes:
        return Line("OpenSearch Service", "no domain", 0.0)
    hourly = OPENSEARCH_HOURLY[inputs.opensearch_instance]
    hours = HOURS_PER_MONTH * inputs.opensearch_nodes
    storage = inputs.opensearch_storage_gb * inputs.opensearch_nodes
    free_hours = free_gb = 0.0
    if inputs.new_account:
        free_gb = FREE["opensearch_ebs_gb"]
        if inputs.opensearch_instance == "t3.small.search":
            free_hours = FREE["opensearch_t3_small_hours"]
    cost = (
        max(0.0, hours - free_hours) * hourly
        + max(0.0, storage - free_gb) * PRICES["ebs_gp3_gb_month"]
    )
    return Line(
        "OpenSearch Service",
        f"{inputs.opensearch_nodes} × {inputs.opensearch_instance} ({hours:g} h at ${hourly}/h), "
        f"{storage:g} GB gp3",
        cost,
    )


def _pipeline(inputs: Inputs) -> Line:
    # Build minutes count twice: CodeBuild bills them and the V2 pipeline bills the action time.
    minutes = inputs.pipeline_runs * inputs.build_minutes
    action_minutes = minutes * 1.5  # build plus the CloudFormation and approval actions' own time
    cost = (
        minutes * PRICES["codebuild_general1_medium_minute"]
        + max(0.0, action_minutes - FREE["codepipeline_action_minutes"])
        * PRICES["codepipeline_v2_action_minute"]
    )
    return Line(
        "CodePipeline V2 + CodeBuild",
        f"{inputs.pipeline_runs} runs × {inputs.build_minutes:g} build min "
        "(100 action minutes free)",
        cost,
    )


def render(result: Estimate) -> str:
    width = max(len(line.item) for line in result.lines)
    rows = [f"{line.item:<{width}}  ${line.cost:>8.2f}  {line.usage}" for line in result.lines]
    rows.append(f"{'total a month, one environment':<{width}}  ${result.total:>8.2f}")
    rows += [f"note: {note}" for note in result.notes]
    return "\n".join(rows) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = Inputs()
    add = parser.add_argument
    add("--runs", type=int, default=d.runs, help=f"report runs a month (default {d.runs})")
    add("--duration-ms", type=float, default=d.duration_ms, help="measured duration of one run")
    add("--memory-mb", type=int, default=d.memory_mb, help=f"report memory (default {d.memory_mb})")
    add("--log-gb", type=float, default=d.log_gb, help="GB of logs shipped a month")
    add("--log-retention-months", type=float, default=d.log_retention_months)
    add(
        "--shipper-mb-per-second",
        type=float,
        default=d.shipper_mb_per_second,
        help="log shipper throughput (measure it)",
    )
    add("--shipper-memory-mb", type=int, default=d.shipper_memory_mb)
    add("--alarms", type=int, default=d.alarms, help="CloudWatch alarms")
    add("--secrets", type=int, default=d.secrets, help="Secrets Manager secrets")
    add(
        "--opensearch-instance",
        default=d.opensearch_instance,
        help=f"instance type ({', '.join(OPENSEARCH_HOURLY)})",
    )
    add("--opensearch-nodes", type=int, default=d.opensearch_nodes, help="0 = no domain")
    add("--opensearch-storage-gb", type=float, default=d.opensearch_storage_gb, help="per node")
    add("--pipeline-runs", type=int, default=d.pipeline_runs, help="pipeline executions a month")
    add("--build-minutes", type=float, default=d.build_minutes, help="per pipeline execution")
    add("--new-account", action="store_true", help="count the 12-month free tiers too")
    add_format(parser)
