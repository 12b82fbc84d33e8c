"""Where each log group's events go, and which of them go at all: pure, from settings.

LOG_SHIPPER_ROUTES is a JSON list of routes; the first whose `log_group` glob matches wins:
    [{"log_group": "/aws/lambda/billing-*", "index": "billing-{yyyy.MM}", "redact": true,
      "include": ["ERROR", "WARN"], "exclude": ["healthcheck"]}]
Every key but `log_group` is optional and falls back to the defaults (LOG_SHIPPER_INDEX,
LOG_SHIPPER_REDACT, no filters). `include`/`exclude` are regular expressions searched in
the message: an event is shipped when it matches an include (if any) and no exclude.
A log file from S3 is routed by its `s3://bucket/key` (`"log_group": "s3://my-alb-logs/*"`),
and `format` names its format where the key layout does not tell it (formats/detect.py).
`multiline` ({"start": "<regular expression>", "max_lines": 500, "max_bytes": 262144}) merges
the lines a container runtime split, in order, within a payload: see multiline.py.

Index patterns take {log_group}, {account}, {yyyy}, {MM}, {dd}, {yyyy.MM}, {yyyy.MM.dd}:
dates of the *event's* own time, so a retried or replayed event always lands in the same
index (and its id stays unique). {log_group} is the name lower-cased, anything but letters,
digits, . _ - made "-", and a digest of the exact name after it, so `/aws/lambda/Orders` and
`/aws/lambda/orders` never share an index; a name that would pass 255 bytes is cut in the
log group part, never in the date. `retention_days` (default LOG_SHIPPER_RETENTION_DAYS) is
kept per index pattern: see layout.py.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from log_shipper.formats.detect import FORMATS as FILE_FORMATS
from log_shipper.layout import Family, day_number, render_dates
from log_shipper.multiline import Multiline
from log_shipper.multiline import parse as parse_multiline
from opsbundle import settings as names
from opsbundle.exceptions import ConfigError

# Every log group in one index per day: shards follow days and volume, not log groups.
DEFAULT_INDEX = "opsbundle-logs-default-{yyyy.MM.dd}"
# The default before that (one index per log group per day): maintain ages it out or folds it in.
LEGACY_INDEX = "logs-{log_group}-{yyyy.MM.dd}"
DEFAULT_RETENTION_DAYS = 30
MAX_RETENTION_DAYS = 36_500
_PLACEHOLDERS = {"log_group", "account", "yyyy", "MM", "dd", "yyyy.MM", "yyyy.MM.dd"}
_UNSAFE = re.compile(r'[\\/*?"<>| ,#:]+')
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
MAX_INDEX_BYTES = 255


@dataclass(frozen=True)
class Route:
    index: str = DEFAULT_INDEX
    redact: bool = False
    include: tuple[re.Pattern[str], ...] = ()
    exclude: tuple[re.Pattern[str], ...] = ()
    retention_days: int | None = DEFAULT_RETENTION_DAYS  # None: kept for ever
    format: str | None = None  # an S3 log file's format, where its key does not tell it
    multiline: Multiline | None = None  # merge split lines (multiline.py); None: never

    @property
    def family(self) -> Family:
        return Family(self.index, self.retention_days)

    def wants(self, message: str) -> bool:
        if self.include and not any(p.search(message) for p in self.include):
            return False
        return not any(p.search(message) for p in self.exclude)

    @property
    def filters(self) -> bool:
        return bool(self.include or self.exclude)


@dataclass(frozen=True)
class Router:
    default: Route = field(default_factory=Route)
    routes: tuple[tuple[str, Route], ...] = ()

    def route(self, log_group: str) -> Route:
        for pattern, route in self.routes:
            if fnmatch.fnmatchcase(log_group, pattern):
                return route
        return self.default

    def families(self) -> list[Family]:
        """Every index pattern the routes send to, the default's first, each once."""
        found: dict[str, Family] = {}
        for route in (self.default, *(r for _, r in self.routes)):
            found.setdefault(route.index, route.family)
        return list(found.values())

    @classmethod
    def load(
        cls,
        *,
        default_index: str = DEFAULT_INDEX,
        routes: str | None = None,
        redact: bool = False,
        retention_days: int | None = DEFAULT_RETENTION_DAYS,
    ) -> Router:
        check_pattern(default_index, names.LOG_SHIPPER_INDEX)
        default = Route(index=default_index, redact=redact, retention_days=retention_days)
        if not routes:
            return cls(default=default)
        try:
            items = json.loads(routes)
        except json.JSONDecodeError as error:
            raise ConfigError(
                names.LOG_SHIPPER_ROUTES, f"is not valid JSON ({error.msg})"
            ) from None
        if not isinstance(items, list):
            raise ConfigError(names.LOG_SHIPPER_ROUTES, "must be a JSON list of routes")
        router = cls(
            default=default, routes=tuple(_route(i, n, default) for n, i in enumerate(items))
        )
        router.check_families()
        return router

    def check_families(self) -> None:
        """One retention per index pattern, and no two patterns whose indices one template
        would take for the other's (each family has a template of its own)."""
        seen: dict[str, tuple[str, Route]] = {}
        for where, route in self._named_routes():
            first = seen.setdefault(route.index, (where, route))
            if first[1].retention_days != route.retention_days:
                raise ConfigError(
                    where,
                    f"keeps {route.index!r} {_days(route.retention_days)} but {first[0]} keeps "
                    f"it {_days(first[1].retention_days)}: one index pattern, one retention",
                )
        today = datetime.now(UTC).date()
        families = [(where, route.family) for where, route in seen.values()]
        for n, (where, family) in enumerate(families):
            for other_where, other in families[:n]:
                if family.overlaps(other, today):
                    raise ConfigError(
                        where,
                        f"index pattern {family.pattern!r} overlaps {other.pattern!r} "
                        f"({other_where}): an index of one would also match "
                        f"{other.wildcard!r} or {family.wildcard!r}; give it a prefix of its "
                        f"own, e.g. 'opsbundle-logs-<name>-{{yyyy.MM.dd}}'",
                    )

    def _named_routes(self) -> list[tuple[str, Route]]:
        return [(names.LOG_SHIPPER_INDEX, self.default)] + [
            (f"{names.LOG_SHIPPER_ROUTES}[{n}]", route) for n, (_, route) in enumerate(self.routes)
        ]


def _days(retention: int | None) -> str:
    return "for ever" if retention is None else f"{retention} days"


def _route(item: Any, position: int, default: Route) -> tuple[str, Route]:
    where = f"{names.LOG_SHIPPER_ROUTES}[{position}]"
    if not isinstance(item, dict) or not isinstance(item.get("log_group"), str):
        raise ConfigError(where, 'must be an object with a "log_group" glob')
    unknown = set(item) - {
        "log_group",
        "index",
        "redact",
        "include",
        "exclude",
        "retention_days",
        "format",
        "multiline",
    }
    if unknown:
        raise ConfigError(where, f"unknown keys {sorted(unknown)}")
    index = item.get("index", default.index)
    if not isinstance(index, str):
        raise ConfigError(where, '"index" must be a string')
    check_pattern(index, where)
    redact = item.get("redact", default.redact)
    if not isinstance(redact, bool):
        raise ConfigError(where, '"redact" must be true or false')
    retention = item.get("retention_days", default.retention_days)
    if retention is not None and (
        not isinstance(retention, int)
        or isinstance(retention, bool)
        or not 1 <= retention <= MAX_RETENTION_DAYS
    ):
        raise ConfigError(
            f"{where}.retention_days", f"must be a whole number of days (1-{MAX_RETENTION_DAYS})"
        )
    file_format = item.get("format")
    if file_format is not None and file_format not in FILE_FORMATS:
        raise ConfigError(f"{where}.format", f"must be one of {', '.join(FILE_FORMATS)}")
    return item["log_group"], Route(
        index=index,
        redact=redact,
        include=_patterns(item.get("include", []), f"{where}.include"),
        exclude=_patterns(item.get("exclude", []), f"{where}.exclude"),
        retention_days=retention,
        format=file_format,
        multiline=(
            parse_multiline(item["multiline"], f"{where}.multiline")
            if item.get("multiline") is not None
            else None
        ),
    )


def _patterns(values: Any, where: str) -> tuple[re.Pattern[str], ...]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ConfigError(where, "must be a list of regular expressions")
    try:
        return tuple(re.compile(v) for v in values)
    except re.error as error:
        raise ConfigError(where, f"bad regular expression: {error}") from None


def check_pattern(pattern: str, setting: str) -> None:
    unknown = set(_PLACEHOLDER.findall(pattern)) - _PLACEHOLDERS
    if unknown:
        raise ConfigError(setting, f"unknown placeholders {sorted(unknown)} in {pattern!r}")
    bare = render_dates(
        pattern.replace("{log_group}", "").replace("{account}", ""), date(2000, 1, 1)
    )
    if len(bare.encode()) > MAX_INDEX_BYTES - 2 * SLUG_MIN_BYTES:
        raise ConfigError(setting, f"{pattern!r} leaves no room for names under 255 bytes")
    sample = IndexNamer(pattern, log_group="/aws/lambda/x", account="123456789012")
    name = sample.name(0)
    if (
        name != name.lower()
        or name.startswith(("-", "_", "+", "."))
        or _UNSAFE.search(name)
        or not (name.isascii() and name.isprintable())
    ):
        raise ConfigError(setting, f"{pattern!r} does not give a valid index name ({name!r})")


# What a slug keeps: CloudWatch's own log group characters are letters, digits and . - _ / #;
# anything else (in a crafted event) becomes "-" too, so a name never needs escaping.
_NOT_SLUG = re.compile(r"[^a-z0-9._-]+")
SLUG_MIN_BYTES = 12  # the digest and a few characters of the name


def name_slug(text: str) -> str:
    """`text` lower-cased, anything but letters, digits, . _ - made "-" (not unique)."""
    slug = _NOT_SLUG.sub("-", text.lower()).strip("-._+")
    return slug or "unnamed"


def log_group_slug(log_group: str, max_bytes: int = MAX_INDEX_BYTES) -> str:
    """The log group in an index name: readable, and unique, by the digest of its exact name
    (lower-casing and "/" → "-" would otherwise give two log groups one index)."""
    raw = log_group.encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(raw, digest_size=4).hexdigest()
    return f"{name_slug(log_group)[: max(1, max_bytes - 9)].rstrip('-._')}-{digest}"


class IndexNamer:
    """Index names for one log group, cached per day (the hot path calls it per event)."""

    def __init__(self, pattern: str, *, log_group: str, account: str) -> None:
        self._pattern = pattern
        fixed = pattern.replace("{account}", name_slug(account))  # 12 digits from CloudWatch
        if "{log_group}" in fixed:
            # The dates always render to the same length: what is left is the log group's.
            room = MAX_INDEX_BYTES - len(
                render_dates(fixed.replace("{log_group}", ""), date(2000, 1, 1)).encode()
            )
            room //= fixed.count("{log_group}")
            fixed = fixed.replace("{log_group}", log_group_slug(log_group, room))
        self._fixed = fixed
        self._dated = any(p in pattern for p in ("{yyyy", "{MM}", "{dd}"))
        self._cache: dict[int, str] = {}

    def name(self, timestamp_ms: int) -> str:
        if not self._dated:
            return self._fixed
        day = timestamp_ms // 86_400_000
        cached = self._cache.get(day)
        if cached is None:
            moment = datetime.fromtimestamp(day * 86_400, UTC)
            cached = render_dates(self._fixed, moment.date())
            self._cache[day] = cached
        return cached


def first_kept_day(route: Route, today: date) -> int | None:
    """The first day (days since the epoch) whose events the route still keeps; None: all."""
    cutoff = route.family.cutoff(today)
    return None if cutoff is None else day_number(cutoff)
