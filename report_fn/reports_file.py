"""The reports file: several reports as code, checked against a JSON Schema, then typed.

    version: 1
    test_channel: report-tests          # where `opsbundle report test NAME` posts
    defaults:                           # any report field; each report may override it
      timezone: America/New_York
      channels: [lead-reports]
    reports:
      leads:                            # the name: slot records, archive keys, the header
        times: ["08:00", "14:00", "21:00"]
        chart: true
      tx-mass-torts:
        filters: {state: TX, campaign: "Mass Torts*"}
        ...

Every error is one line naming the file, the report and the field, e.g.
`reports.yml: report 'tx-mass-torts', field 'top_n': 0 is less than the minimum of 1`.
What a report leaves out comes from `defaults`, then from the environment variables that
describe the one-report default (REPORT_TIMEZONE, CRM_KIND, SLACK_CHANNEL, ...).

YAML is read as YAML 1.2 would read it where 1.1 surprises: `14:00` stays the text "14:00"
(not the base-60 number 840), `on`/`no` stay words, and a key given twice is an error
rather than a silently dropped report.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, relevance

from opsbundle.exceptions import ConfigError
from report_fn.crm.mapping import CANONICAL_FIELDS
from report_fn.filters import FIELDS, LeadFilter
from report_fn.leads import DIMENSIONS, STATUSES
from report_fn.thresholds import MENTION, Condition, ConditionError, Threshold

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,39}$"
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"
CHANNEL_PATTERN = r"^#?[A-Za-z0-9._-]{1,80}$"
EMAIL_PATTERN = r"^[^@\s<>\"]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$"
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_SETS = {"daily": "*", "weekdays": "MON-FRI", "weekends": "SAT,SUN"}
CRM_KINDS = ("sample", "salesforce", "hubspot", "csv", "json")
MAX_BYTES = 1024 * 1024

_TEXT_OR_LIST = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
    ]
}
_REPORT: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": 80},
        "description": {"type": "string"},
        "timezone": {"type": "string", "minLength": 1},
        "times": {
            "type": "array",
            "items": {"type": "string", "pattern": TIME_PATTERN},
            "minItems": 1,
            "maxItems": 24,
            "uniqueItems": True,
        },
        "days": {
            "oneOf": [
                {"enum": list(DAY_SETS)},
                {
                    "type": "array",
                    "items": {"enum": list(DAYS)},
                    "minItems": 1,
                    "uniqueItems": True,
                },
            ]
        },
        "channels": {
            "type": "array",
            "items": {"type": "string", "pattern": CHANNEL_PATTERN},
            "minItems": 1,
            "maxItems": 10,
            "uniqueItems": True,
        },
        "top_n": {"type": "integer", "minimum": 1, "maximum": 100},
        "breakdowns": {
            "type": "array",
            "items": {"enum": list(DIMENSIONS)},
            "uniqueItems": True,
        },
        "filters": {
            "type": "object",
            "additionalProperties": False,
            "properties": {name: _TEXT_OR_LIST for name in FIELDS},
        },
        "crm": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "kind": {"enum": list(CRM_KINDS)},
                "object": {"type": "string", "minLength": 1},
                "base_url": {"type": "string", "pattern": r"^https://\S+$"},
                "export_url": {"type": "string", "minLength": 1},
                "field_map": {
                    "type": "object",
                    "propertyNames": {"enum": list(CANONICAL_FIELDS)},
                    "additionalProperties": {"type": "string", "minLength": 1},
                },
                "status_map": {
                    "type": "object",
                    "additionalProperties": {"enum": list(STATUSES)},
                },
            },
        },
        "attach_csv": {"type": "boolean"},
        "chart": {"type": "boolean"},
        "post": {"enum": ["always", "when_flagged"]},
        "mention": {"type": "string", "pattern": MENTION.pattern},
        "thresholds": {
            "type": "array",
            "maxItems": 20,
            "items": {
                "oneOf": [
                    {"type": "string", "minLength": 1},
                    {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["when"],
                        "properties": {
                            "when": {"type": "string", "minLength": 1},
                            "say": {"type": "string", "minLength": 1, "maxLength": 150},
                            "mention": {"type": "string", "pattern": MENTION.pattern},
                        },
                    },
                ]
            },
        },
        "email": {
            "type": "object",
            "additionalProperties": False,
            "required": ["to"],
            "properties": {
                "to": {
                    "type": "array",
                    "items": {"type": "string", "pattern": EMAIL_PATTERN},
                    "minItems": 1,
                    "maxItems": 50,
                    "uniqueItems": True,
                },
                "subject": {"type": "string", "minLength": 1, "maxLength": 150},
            },
        },
    },
}
SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "opsbundle reports file",
    "type": "object",
    "additionalProperties": False,
    "required": ["reports"],
    "properties": {
        "version": {"const": 1},
        "test_channel": {"type": "string", "pattern": CHANNEL_PATTERN},
        "defaults": _REPORT,
        "reports": {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 50,
            "propertyNames": {"pattern": NAME_PATTERN},
            "additionalProperties": _REPORT,
        },
    },
}


@dataclass(frozen=True)
class Schedule:
    """Local times of day (and days of the week) a report is due, in its time zone."""

    times: tuple[time, ...]
    days: str = "*"  # EventBridge's day-of-week field: "*", "MON-FRI", "MON,WED"

    def expressions(self) -> list[str]:
        """EventBridge Scheduler cron expressions, one per distinct minute past the hour."""
        by_minute: dict[int, list[int]] = {}
        for moment in sorted(self.times):
            by_minute.setdefault(moment.minute, []).append(moment.hour)
        day_of_month, day_of_week = ("*", "?") if self.days == "*" else ("?", self.days)
        return [
            f"cron({minute} {','.join(map(str, hours))} {day_of_month} * {day_of_week} *)"
            for minute, hours in sorted(by_minute.items())
        ]

    def describe(self) -> str:
        days = {"*": "", "MON-FRI": " on weekdays", "SAT,SUN": " at weekends"}.get(
            self.days, f" on {self.days.replace(',', ', ').title()}"
        )
        return ", ".join(f"{t:%H:%M}" for t in sorted(self.times)) + days


@dataclass(frozen=True)
class EmailSpec:
    to: tuple[str, ...]
    subject: str | None = None


@dataclass(frozen=True)
class ReportSpec:
    """One report as the file gives it; None means "not given here" (the environment's)."""

    name: str
    schedule: Schedule
    title: str | None = None
    timezone: str | None = None
    channels: tuple[str, ...] | None = None
    top_n: int | None = None
    breakdowns: tuple[str, ...] | None = None
    filters: LeadFilter = field(default_factory=LeadFilter)
    crm: Mapping[str, Any] = field(default_factory=dict)
    attach_csv: bool | None = None
    chart: bool | None = None
    post_when_flagged: bool = False
    thresholds: tuple[Threshold, ...] = ()
    email: EmailSpec | None = None


@dataclass(frozen=True)
class ReportsFile:
    path: Path
    reports: Mapping[str, ReportSpec]
    test_channel: str | None
    sha256: str  # of the file's bytes: the zip must carry the same file

    def get(self, name: str) -> ReportSpec:
        try:
            return self.reports[name]
        except KeyError:
            known = ", ".join(self.reports)
            raise ConfigError(str(self.path), f"has no report {name!r} (has: {known})") from None


def load(path: Path | str) -> ReportsFile:
    """The reports file at `path`, validated; raises ConfigError with one line."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(str(path), "does not exist (set REPORTS_FILE or pass --file)") from None
    except OSError as error:
        raise ConfigError(str(path), f"cannot be read ({error.strerror})") from None
    return parse(raw, path)


def parse(raw: bytes, path: Path) -> ReportsFile:
    if len(raw) > MAX_BYTES:
        raise ConfigError(str(path), f"is larger than {MAX_BYTES // 1024} KiB")
    data = _read_yaml(raw, path)
    if not isinstance(data, dict):
        raise ConfigError(str(path), "must be a mapping with a 'reports' key")
    errors = list(Draft202012Validator(SCHEMA).iter_errors(data))
    if errors:
        error = min(errors, key=relevance)
        while error.context and error.validator in ("oneOf", "anyOf"):  # the likeliest branch
            error = min(error.context, key=relevance)
        where, problem = _describe(error)
        raise ConfigError(f"{path}: {where}", problem)
    defaults = data.get("defaults") or {}
    reports = {
        name: _report(name, _merged(defaults, body), path) for name, body in data["reports"].items()
    }
    _check_schedule_ids(reports, path)
    return ReportsFile(
        path=path,
        reports=reports,
        test_channel=data.get("test_channel"),
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def schedule_ids(spec: ReportSpec) -> list[str]:
    """The stack's name for each of the report's schedules: letters and digits only, as
    CloudFormation's logical IDs are (`lead-report` -> LeadReport; LeadReport1, 2 for two)."""
    base = "".join(part.capitalize() for part in re.split(r"[-_]", spec.name))
    count = len(spec.schedule.expressions())
    return [base + (str(index) if count > 1 else "") for index in range(1, count + 1)]


def _check_schedule_ids(reports: Mapping[str, ReportSpec], path: Path) -> None:
    """Two reports whose schedules would share a name (`a-b` and `a_b`, or `x` with two
    schedules and `x1`) are refused here, not at deploy time."""
    owners: dict[str, str] = {}
    for spec in reports.values():
        for schedule_id in schedule_ids(spec):
            if schedule_id in owners:
                raise ConfigError(
                    f"{path}: report {spec.name!r}",
                    f"its schedule would be named {schedule_id}, as report "
                    f"{owners[schedule_id]!r}'s is: rename one of them",
                )
            owners[schedule_id] = spec.name


def _merged(defaults: Mapping[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """The report's fields over the defaults; `crm` merges key by key (kind from defaults,
    field_map from the report)."""
    merged = {**defaults, **body}
    if isinstance(defaults.get("crm"), dict) and isinstance(body.get("crm"), dict):
        merged["crm"] = {**defaults["crm"], **body["crm"]}
    return merged


def _report(name: str, body: Mapping[str, Any], path: Path) -> ReportSpec:
    def fail(field_name: str, problem: str) -> ConfigError:
        return ConfigError(f"{path}: report {name!r}, field {field_name!r}", problem)

    if "times" not in body:
        raise fail("times", 'is required (here or under defaults), e.g. ["08:00", "14:00"]')
    timezone = body.get("timezone")
    if timezone is not None:
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise fail(
                "timezone",
                f"unknown time zone {timezone!r}; use an IANA name such as America/New_York",
            ) from None
    default_mention = body.get("mention")
    thresholds = []
    for index, item in enumerate(body.get("thresholds", [])):
        entry = {"when": item} if isinstance(item, str) else item
        try:
            condition = Condition.parse(entry["when"])
        except ConditionError as error:
            where = f"thresholds[{index}]" + (".when" if isinstance(item, dict) else "")
            raise fail(where, str(error)) from None
        thresholds.append(
            Threshold(
                condition, say=entry.get("say"), mention=entry.get("mention", default_mention)
            )
        )
    post_when_flagged = body.get("post") == "when_flagged"
    if post_when_flagged and not thresholds:
        raise fail("post", "when_flagged needs thresholds: nothing could ever be posted")
    crm = dict(body.get("crm") or {})
    if crm.get("kind") in ("csv", "json") and not crm.get("export_url"):
        raise fail("crm.export_url", f"is required for a {crm['kind']} export")
    email = body.get("email")
    return ReportSpec(
        name=name,
        schedule=Schedule(
            times=tuple(time.fromisoformat(value) for value in body["times"]),
            days=_days(body.get("days", "daily")),
        ),
        title=body.get("title"),
        timezone=timezone,
        channels=tuple(body["channels"]) if "channels" in body else None,
        top_n=body.get("top_n"),
        breakdowns=tuple(body["breakdowns"]) if "breakdowns" in body else None,
        filters=LeadFilter.of(body.get("filters") or {}),
        crm=crm,
        attach_csv=body.get("attach_csv"),
        chart=body.get("chart"),
        post_when_flagged=post_when_flagged,
        thresholds=tuple(thresholds),
        email=EmailSpec(tuple(email["to"]), email.get("subject")) if email else None,
    )


def _days(value: str | Iterable[str]) -> str:
    if isinstance(value, str):
        return DAY_SETS[value]
    chosen = sorted(set(value), key=DAYS.index)
    return ",".join(day.upper() for day in chosen)


def _describe(error: ValidationError) -> tuple[str, str]:
    """("report 'x', field 'a.b[0]'", problem) for a schema error."""
    parts = list(error.absolute_path)
    problem = error.message
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        known = schema.get("properties", {})
        unknown = sorted(key for key in error.instance if key not in known)
        if unknown:
            parts.append(unknown[0])
            problem = f"unknown field; the fields are {', '.join(known)}"
    elif error.validator == "pattern" and error.validator_value == NAME_PATTERN:
        parts.append(str(error.instance))  # propertyNames: the name itself is wrong
        problem = "report names are lower case letters, digits, - and _ (at most 40)"
    elif error.validator == "pattern" and isinstance(error.instance, str):
        hint = _PATTERN_HINTS.get(str(error.validator_value), problem)
        problem = f"{error.instance!r} {hint}"
    if parts[:1] == ["reports"] and len(parts) > 1:
        where = f"report {parts[1]!r}"
        rest = parts[2:]
    elif parts[:1] == ["defaults"]:
        where, rest = "defaults", parts[1:]
    else:
        where, rest = "top level", parts
    if rest:
        where += f", field {_field(rest)!r}"
    return where, problem


def _field(parts: list[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


_PATTERN_HINTS = {
    TIME_PATTERN: 'is not a time of day as HH:MM (quote it: "08:00")',
    CHANNEL_PATTERN: "is not a channel name or ID",
    EMAIL_PATTERN: "is not an e-mail address",
    MENTION.pattern: "is not here, channel or a user group ID (S0123ABCD)",
    r"^https://\S+$": "must be an https:// URL",
}


# --- YAML ----------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """YAML 1.1 less its surprises: no base-60 numbers, no yes/no/on/off, no dates."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


_PLAIN_TAGS = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
               "tag:yaml.org,2002:timestamp"}  # fmt: skip  # names packed, not one a line
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag not in _PLAIN_TAGS]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int", re.compile(r"^[-+]?[0-9]+$"), list("-+0123456789")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+\.[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$"),
    list("-+.0123456789"),
)


def _read_yaml(raw: bytes, path: Path) -> Any:
    try:
        return yaml.load(raw.decode("utf-8"), Loader=_Loader)  # noqa: S506 - a SafeLoader
    except UnicodeDecodeError:
        raise ConfigError(str(path), "is not UTF-8 text") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or type(error).__name__
        raise ConfigError(str(path), f"is not valid YAML: {problem}{where}") from None
