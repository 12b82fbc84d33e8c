"""A CloudWatch alarm state change, read from any of the three shapes it arrives in (pure).

1. SNS: `Records[].Sns.Message` holds the alarm JSON (`AlarmName`, `NewStateValue`,
   `Trigger.Dimensions` as lower-case `name`/`value` pairs, `Region` as a long name such as
   "US East (N. Virginia)", so the region comes from `AlarmArn`). Metric-math alarms carry
   `Trigger.Metrics[].MetricStat.Metric` instead.
2. The alarm's own Lambda action: `{"source": "aws.cloudwatch", "alarmArn", "accountId",
   "region", "alarmData": {"alarmName", "state", "previousState", "configuration":
   {"metrics": [{"metricStat": {"metric": {"namespace", "name", "dimensions": {...}}}}]}}}`.
3. EventBridge "CloudWatch Alarm State Change": the same `alarmName`/`state`/
   `configuration` under `detail`, with `region`, `account` and `resources[0]` (the ARN).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from monitors.exceptions import EventError

ALARM_STATES = ("OK", "ALARM", "INSUFFICIENT_DATA")


@dataclass(frozen=True)
class Metric:
    namespace: str
    name: str
    dimensions: dict[str, str]
    stat: str | None = None
    period: int | None = None


@dataclass(frozen=True)
class AlarmChange:
    name: str
    arn: str
    region: str
    account: str
    state: str
    previous_state: str | None
    reason: str
    time: str
    metrics: tuple[Metric, ...] = field(default_factory=tuple)
    description: str = ""
    shape: str = ""  # sns, alarm-action, eventbridge

    @property
    def partition(self) -> str:
        parts = self.arn.split(":")
        return parts[1] if len(parts) > 1 and parts[1] else "aws"

    def metric(self, namespaces: tuple[str, ...], names: tuple[str, ...]) -> Metric | None:
        """The first metric of the alarm in one of `namespaces` named one of `names`."""
        for metric in self.metrics:
            if metric.namespace in namespaces and metric.name in names:
                return metric
        return None


def parse_alarm_events(event: Any) -> list[AlarmChange]:
    """Every alarm change in an invocation event (SNS may batch records). Raises EventError."""
    if not isinstance(event, Mapping):
        raise EventError("the event is not a JSON object")
    if "Records" in event:
        records = event["Records"]
        if not isinstance(records, list) or not records:
            raise EventError('"Records" is not a non-empty list (expected an SNS event)')
        return [_from_sns_record(record, index) for index, record in enumerate(records)]
    if "alarmData" in event:
        return [_from_alarm_action(event)]
    if event.get("detail-type") == "CloudWatch Alarm State Change":
        return [_from_eventbridge(event)]
    keys = ", ".join(sorted(str(k) for k in event)[:8]) or "none"
    raise EventError(
        "not a CloudWatch alarm event: expected SNS Records, an alarm action (alarmData) or "
        f'EventBridge "CloudWatch Alarm State Change"; the event has keys: {keys}'
    )


# --- SNS ---------------------------------------------------------------------------------


def _from_sns_record(record: Any, index: int) -> AlarmChange:
    where = f"Records[{index}]"
    sns = _mapping(record, "Sns", where)
    text = sns.get("Message")
    if not isinstance(text, str):
        raise EventError(f"{where}.Sns.Message is missing or not a string")
    try:
        message = json.loads(text)
    except json.JSONDecodeError:
        raise EventError(
            f"{where}.Sns.Message is not JSON: is the topic receiving something other than "
            "CloudWatch alarm notifications?"
        ) from None
    if not isinstance(message, Mapping):
        raise EventError(f"{where}.Sns.Message is not a JSON object")
    where = f"{where}.Sns.Message"
    arn = _string(message, "AlarmArn", where)
    trigger = message.get("Trigger")
    trigger = trigger if isinstance(trigger, Mapping) else {}
    metrics: list[Metric] = []
    if trigger.get("MetricName"):
        metrics.append(
            Metric(
                namespace=str(trigger.get("Namespace") or ""),
                name=str(trigger["MetricName"]),
                dimensions=_pairs(trigger.get("Dimensions"), f"{where}.Trigger.Dimensions"),
                stat=_opt_str(trigger.get("Statistic") or trigger.get("ExtendedStatistic")),
                period=_opt_int(trigger.get("Period")),
            )
        )
    for i, query in enumerate(trigger.get("Metrics") or []):
        stat = query.get("MetricStat") if isinstance(query, Mapping) else None
        if isinstance(stat, Mapping) and isinstance(stat.get("Metric"), Mapping):
            metric = stat["Metric"]
            metrics.append(
                Metric(
                    namespace=str(metric.get("Namespace") or ""),
                    name=str(metric.get("MetricName") or ""),
                    dimensions=_pairs(
                        metric.get("Dimensions"), f"{where}.Trigger.Metrics[{i}].Dimensions"
                    ),
                    stat=_opt_str(stat.get("Stat")),
                    period=_opt_int(stat.get("Period")),
                )
            )
    return AlarmChange(
        name=_string(message, "AlarmName", where),
        arn=arn,
        region=_arn_region(arn, f"{where}.AlarmArn"),
        account=str(message.get("AWSAccountId") or _arn_account(arn)),
        state=_state(message.get("NewStateValue"), f"{where}.NewStateValue"),
        previous_state=_opt_str(message.get("OldStateValue")),
        reason=str(message.get("NewStateReason") or ""),
        time=str(message.get("StateChangeTime") or ""),
        metrics=tuple(metrics),
        description=str(message.get("AlarmDescription") or ""),
        shape="sns",
    )


# --- alarm action and EventBridge share the "configuration" shape ------------------------------


def _from_alarm_action(event: Mapping[str, Any]) -> AlarmChange:
    data = _mapping(event, "alarmData", "event")
    arn = _string(event, "alarmArn", "event")
    return _from_alarm_data(
        data,
        "alarmData",
        arn=arn,
        region=str(event.get("region") or _arn_region(arn, "alarmArn")),
        account=str(event.get("accountId") or _arn_account(arn)),
        time=str(event.get("time") or ""),
        shape="alarm-action",
    )


def _from_eventbridge(event: Mapping[str, Any]) -> AlarmChange:
    detail = _mapping(event, "detail", "event")
    resources = event.get("resources")
    arn = resources[0] if isinstance(resources, list) and resources else None
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        raise EventError("resources[0] (the alarm ARN) is missing from the EventBridge event")
    return _from_alarm_data(
        detail,
        "detail",
        arn=arn,
        region=str(event.get("region") or _arn_region(arn, "resources[0]")),
        account=str(event.get("account") or _arn_account(arn)),
        time=str(event.get("time") or ""),
        shape="eventbridge",
    )


def _from_alarm_data(
    data: Mapping[str, Any],
    where: str,
    *,
    arn: str,
    region: str,
    account: str,
    time: str,
    shape: str,
) -> AlarmChange:
    state = _mapping(data, "state", where)
    previous = data.get("previousState")
    configuration = data.get("configuration")
    configuration = configuration if isinstance(configuration, Mapping) else {}
    metrics: list[Metric] = []
    for i, query in enumerate(configuration.get("metrics") or []):
        stat = query.get("metricStat") if isinstance(query, Mapping) else None
        if not isinstance(stat, Mapping) or not isinstance(stat.get("metric"), Mapping):
            continue  # an expression, not a metric
        metric = stat["metric"]
        dimensions = metric.get("dimensions") or {}
        if not isinstance(dimensions, Mapping):
            raise EventError(f"{where}.configuration.metrics[{i}]...dimensions is not an object")
        metrics.append(
            Metric(
                namespace=str(metric.get("namespace") or ""),
                name=str(metric.get("name") or ""),
                dimensions={str(k): str(v) for k, v in dimensions.items()},
                stat=_opt_str(stat.get("stat")),
                period=_opt_int(stat.get("period")),
            )
        )
    return AlarmChange(
        name=_string(data, "alarmName", where),
        arn=arn,
        region=region,
        account=account,
        state=_state(state.get("value"), f"{where}.state.value"),
        previous_state=_opt_str(previous.get("value")) if isinstance(previous, Mapping) else None,
        reason=str(state.get("reason") or ""),
        time=str(state.get("timestamp") or time),
        metrics=tuple(metrics),
        description=str(configuration.get("description") or ""),
        shape=shape,
    )


# --- small readers -------------------------------------------------------------------------


def _mapping(parent: Any, key: str, where: str) -> Mapping[str, Any]:
    value = parent.get(key) if isinstance(parent, Mapping) else None
    if not isinstance(value, Mapping):
        raise EventError(f"{where}.{key} is missing or not an object")
    return value


def _string(parent: Mapping[str, Any], key: str, where: str) -> str:
    value = parent.get(key)
    if not isinstance(value, str) or not value:
        raise EventError(f"{where}.{key} is missing or empty")
    return value


def _state(value: Any, where: str) -> str:
    if value not in ALARM_STATES:
        raise EventError(f"{where} is {value!r}; expected one of {', '.join(ALARM_STATES)}")
    return str(value)


def _pairs(value: Any, where: str) -> dict[str, str]:
    """SNS dimensions: [{"name": ..., "value": ...}] (lower case; accept Name/Value too)."""
    if value in (None, ""):
        return {}
    if not isinstance(value, list):
        raise EventError(f"{where} is not a list")
    pairs: dict[str, str] = {}
    for item in value:
        if not isinstance(item, Mapping):
            raise EventError(f"{where} holds a non-object")
        name = item.get("name", item.get("Name"))
        if not isinstance(name, str):
            raise EventError(f"{where} holds a dimension without a name")
        pairs[name] = str(item.get("value", item.get("Value", "")))
    return pairs


def _arn_region(arn: str, where: str) -> str:
    parts = arn.split(":")
    if len(parts) < 6 or parts[0] != "arn" or not parts[3]:
        raise EventError(f"{where} {arn!r} is not an alarm ARN with a region")
    return parts[3]


def _arn_account(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def _opt_str(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _opt_int(value: Any) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None
