"""Where each log group's events go, and which of them go at all: pure, from settings.

LOG_SHIPPER_ROUTES is a JSON list of routes; the first whose `log_group` glob matches wins:
    [{"log_group": "/aws/lambda/billing-*", "index": "billing-{yyyy.MM}", "redact": true,
      "include": ["ERROR", "WARN"], "exclude": ["healthcheck"]}]
Every key but `log_group` is optional and falls back to the defaults (LOG_SHIPPER_INDEX,
LOG_SHIPPER_REDACT, no filters). `include`/`exclude` are regular expressions searched in
the message: an event is shipped when it matches an include (if any) and no exclude.

Index patterns take {log_group} (lower-cased, anything but letters, digits, . _ - made "-"),
{account}, {yyyy}, {MM}, {dd}, {yyyy.MM}, {yyyy.MM.dd}: dates of the *event's* own time,
so a retried or replayed event always lands in the same index (and its id stays unique).
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opsbundle import settings as names
from opsbundle.exceptions import ConfigError

DEFAULT_INDEX = "logs-{log_group}-{yyyy.MM.dd}"
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

    @classmethod
    def load(
        cls, *, default_index: str = DEFAULT_INDEX, routes: str | None = None, redact: bool = False
    ) -> Router:
        check_pattern(default_index, names.LOG_SHIPPER_INDEX)
        default = Route(index=default_index, redact=redact)
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
        return cls(
            default=default, routes=tuple(_route(i, n, default) for n, i in enumerate(items))
        )


def _route(item: Any, position: int, default: Route) -> tuple[str, Route]:
    where = f"{names.LOG_SHIPPER_ROUTES}[{position}]"
    if not isinstance(item, dict) or not isinstance(item.get("log_group"), str):
        raise ConfigError(where, 'must be an object with a "log_group" glob')
    unknown = set(item) - {"log_group", "index", "redact", "include", "exclude"}
    if unknown:
        raise ConfigError(where, f"unknown keys {sorted(unknown)}")
    index = item.get("index", default.index)
    if not isinstance(index, str):
        raise ConfigError(where, '"index" must be a string')
    check_pattern(index, where)
    redact = item.get("redact", default.redact)
    if not isinstance(redact, bool):
        raise ConfigError(where, '"redact" must be true or false')
    return item["log_group"], Route(
        index=index,
        redact=redact,
        include=_patterns(item.get("include", []), f"{where}.include"),
        exclude=_patterns(item.get("exclude", []), f"{where}.exclude"),
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


def log_group_slug(log_group: str) -> str:
    slug = _NOT_SLUG.sub("-", log_group.lower()).strip("-._+")
    return slug or "unnamed"


class IndexNamer:
    """Index names for one log group, cached per day (the hot path calls it per event)."""

    def __init__(self, pattern: str, *, log_group: str, account: str) -> None:
        self._pattern = pattern
        account = log_group_slug(account)  # 12 digits from CloudWatch; a slug if not
        self._fixed = pattern.replace("{log_group}", log_group_slug(log_group))
        self._fixed = self._fixed.replace("{account}", account)
        self._dated = any(p in pattern for p in ("{yyyy", "{MM}", "{dd}"))
        self._cache: dict[int, str] = {}

    def name(self, timestamp_ms: int) -> str:
        if not self._dated:
            return self._fixed
        day = timestamp_ms // 86_400_000
        cached = self._cache.get(day)
        if cached is None:
            moment = datetime.fromtimestamp(day * 86_400, UTC)
            cached = (
                self._fixed.replace("{yyyy.MM.dd}", f"{moment:%Y.%m.%d}")
                .replace("{yyyy.MM}", f"{moment:%Y.%m}")
                .replace("{yyyy}", f"{moment:%Y}")
                .replace("{MM}", f"{moment:%m}")
                .replace("{dd}", f"{moment:%d}")
            )
            cached = cached.encode("utf-8")[:MAX_INDEX_BYTES].decode("utf-8", "ignore")
            self._cache[day] = cached
        return cached
