"""`opsbundle dashboards check`: run every dashboard's variable and panel queries against a live
Prometheus the way Grafana would with every variable on "All", and name each panel that would
show "No data", with why:

- a metric the query reads is absent (the exporter is not scraped, or not exporting it);
- a filter matches none of the metric's series, and which values there are instead;
- the query needs a label no series has, e.g. `dimension_FunctionName` where YACE runs with
  `-labels-snake-case` (`dimension_function_name`);
- a variable has no values, so every panel using it is empty;
- every series is there, but the expression (a join, a division) keeps none of them.

A panel with a "no value" text (Grafana shows it instead of "No data", e.g. 0 failures) is not
a problem. The checks are queries only: nothing is written to Prometheus.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from dashboards.exceptions import QueryError
from dashboards.promql import Matcher, Selector, selectors
from opsbundle.exceptions import ConfigError, OpsbundleError
from opsbundle.urls import require_https, shown

FLAG = "--prometheus"
DEFAULT_TIMEOUT_SECONDS = 30.0
POINTS_PER_PANEL = 250  # about the width of a panel in pixels, as Grafana asks for

# Where a metric comes from, for the "absent" reason.
SOURCES = {
    "aws_": "YACE: is its namespace's job, this metric and this statistic in its config "
    "(the yace.yml of docs/dashboards.md)?",
    "node_": "node_exporter: is it scraped?",
    "container_": "the kubelet's cAdvisor (/metrics/cadvisor): is it scraped?",
    "kube_": "kube-state-metrics: is it scraped?",
    "opsbundle_": "no Lambda has pushed it: PUSHGATEWAY_URL on the functions, and the "
    "Pushgateway scraped with honor_labels: true",
}


class PrometheusClient:
    """Prometheus' HTTP API (`/api/v1/...`), read-only. A URL that is not a reachable
    Prometheus is a ConfigError naming the `--prometheus` flag."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
        session: requests.Session | None = None,
    ) -> None:
        if not re.match(r"^https?://[^/\s]+", url):
            raise ConfigError(FLAG, f"expected an http(s) URL, got {shown(url)!r}")
        if urlsplit(url).password is not None:  # credentials go only where nobody reads them
            require_https(url, setting=FLAG)
        self.url = url.rstrip("/")
        self.shown = shown(self.url)  # in messages: the URL without its user:password
        self.timeout = timeout
        self.session = session or requests.Session()

    def version(self) -> str:
        """Prometheus' version; checks the URL is a Prometheus at all."""
        try:
            answer = self.session.get(f"{self.url}/api/v1/status/buildinfo", timeout=self.timeout)
        except requests.RequestException as error:
            raise ConfigError(
                FLAG, f"could not reach Prometheus at {self.shown}: {error}"
            ) from None
        if answer.status_code in (401, 403):
            raise ConfigError(
                FLAG,
                f"Prometheus at {self.shown} refused the request (HTTP {answer.status_code}); "
                "put the credentials in the URL (https://user:password@host/)",
            )
        try:
            body = answer.json()
            return str(body["data"]["version"])
        except (ValueError, KeyError, TypeError):
            raise ConfigError(
                FLAG,
                f"no Prometheus API at {self.shown} (GET /api/v1/status/buildinfo answered "
                f"HTTP {answer.status_code}); give the URL Grafana's data source uses",
            ) from None

    def api(self, path: str, **params: Any) -> Any:
        """One API call; a query Prometheus refuses is a QueryError (its panel's problem)."""
        try:
            answer = self.session.get(
                f"{self.url}/api/v1/{path}", params=params, timeout=self.timeout
            )
            body = answer.json()
        except requests.RequestException as error:
            raise OpsbundleError(f"Prometheus at {self.shown} stopped answering: {error}") from None
        except ValueError:
            raise OpsbundleError(
                f"Prometheus at {self.shown} answered /api/v1/{path} with HTTP "
                f"{answer.status_code} and no JSON"
            ) from None
        if body.get("status") != "success":
            raise QueryError(str(body.get("error", f"HTTP {answer.status_code}")))
        return body["data"]

    def has_data(self, expr: str, *, start: float, end: float, step: float) -> bool:
        result = self.api("query_range", query=expr, start=start, end=end, step=step)["result"]
        return any(
            value not in ("NaN", "+Inf", "-Inf")
            for series in result
            for _, value in series["values"]
        )

    def series_in(self, selector: str, *, start: float, end: float) -> int:
        """How many series match `selector` at any time in [start, end]."""
        query = f"count(last_over_time({selector}[{max(1, int(end - start))}s]))"
        result = self.api("query", query=query, time=end)["result"]
        return int(float(result[0]["value"][1])) if result else 0

    def label_names(self, selector: str, *, start: float, end: float) -> list[str]:
        return sorted(self.api("labels", **{"match[]": selector}, start=start, end=end))

    def label_values(self, label: str, selector: str, *, start: float, end: float) -> list[str]:
        values = self.api(f"label/{label}/values", **{"match[]": selector}, start=start, end=end)
        return sorted(values)


@dataclass(frozen=True)
class Problem:
    """A panel (or `$variable`) that would show "No data", and why."""

    item: str
    reasons: tuple[str, ...]


@dataclass
class BoardCheck:
    uid: str
    title: str
    panels: int = 0
    problems: list[Problem] = field(default_factory=list)


@dataclass(frozen=True)
class Window:
    start: float
    end: float
    scrape_interval: float

    @property
    def step(self) -> float:
        return max(self.scrape_interval, (self.end - self.start) / POINTS_PER_PANEL)

    @property
    def rate_interval(self) -> str:
        """Grafana's $__rate_interval: four scrape intervals at least."""
        return f"{int(max(4 * self.scrape_interval, self.step + self.scrape_interval))}s"


def check_board(client: PrometheusClient, board: Mapping[str, Any], window: Window) -> BoardCheck:
    result = BoardCheck(uid=str(board["uid"]), title=str(board["title"]))
    values, empty_variables = _resolve_variables(client, board, window, result)
    for panel in board.get("panels", []):
        if panel.get("type") == "row":
            continue
        result.panels += 1
        if panel.get("fieldConfig", {}).get("defaults", {}).get("noValue") is not None:
            continue  # Grafana shows its "no value" text, not "No data"
        exprs = [str(target["expr"]) for target in panel.get("targets", [])]
        # A variable without values selects nothing Grafana can show (at best the panel adds
        # up series the variable should have told apart).
        used = [name for name in empty_variables if any(_uses(e, name) for e in exprs)]
        reasons = [f"the variable ${name} has no values" for name in used[:1]]
        if not reasons:
            reasons = _panel_reasons(client, [_expand(e, values, window) for e in exprs], window)
        if reasons:
            result.problems.append(Problem(str(panel["title"]), tuple(dict.fromkeys(reasons))))
    return result


def _panel_reasons(client: PrometheusClient, exprs: Sequence[str], window: Window) -> list[str]:
    """Nothing when any query of the panel has data; else why each has none."""
    refused: dict[str, str] = {}
    for expr in exprs:
        try:
            if client.has_data(expr, start=window.start, end=window.end, step=window.step):
                return []
        except QueryError as error:
            refused[expr] = f"Prometheus refused the query ({error}): {expr}"
    reasons: list[str] = []
    for expr in exprs:
        reasons += [refused[expr]] if expr in refused else diagnose(client, expr, window)
    return reasons


def diagnose(client: PrometheusClient, expr: str, window: Window) -> list[str]:
    """Why `expr` returns nothing: the first thing missing, selector by selector."""
    reasons: list[str] = []
    for selector in selectors(expr):
        reasons += _selector_reasons(client, selector, window)
    return reasons or [
        "every series the query reads is there, but the expression keeps none of them "
        "(the two sides of a join or division share no label values)"
    ]


def _selector_reasons(client: PrometheusClient, selector: Selector, window: Window) -> list[str]:
    span = {"start": window.start, "end": window.end}
    metric = selector.metric
    if not client.series_in(metric, **span):
        source = next((why for prefix, why in SOURCES.items() if metric.startswith(prefix)), "")
        return [f"{metric} is absent" + (f" ({source})" if source else "")]
    if client.series_in(str(selector), **span):
        return []
    labels = client.label_names(metric, **span)
    reasons = [
        _matcher_reason(client, selector, matcher, labels, window)
        for matcher in selector.matchers
        if not client.series_in(selector.with_only(matcher), **span)
    ]
    return reasons or [f"each filter of {selector} matches some series, but none matches them all"]


def _matcher_reason(
    client: PrometheusClient,
    selector: Selector,
    matcher: Matcher,
    labels: Sequence[str],
    window: Window,
) -> str:
    metric = selector.metric
    if matcher.label not in labels and matcher.needs_the_label:
        return _missing_label(metric, matcher.label, labels)
    values = client.label_values(matcher.label, metric, start=window.start, end=window.end)
    seen = f"{matcher.label} is {_few(values)}" if values else f"none has {matcher.label}"
    return f"{matcher} matches no {metric} series ({seen})"


def _missing_label(metric: str, label: str, labels: Sequence[str]) -> str:
    alike = [name for name in labels if _squash(name) == _squash(label)]
    if alike:
        return (
            f"no {metric} series has the label {label}, but they have {alike[0]}: the "
            "exporter names labels differently (YACE's -labels-snake-case is not supported)"
        )
    return f"no {metric} series has the label {label} (its labels: {_few(labels)})"


def _resolve_variables(
    client: PrometheusClient, board: Mapping[str, Any], window: Window, result: BoardCheck
) -> tuple[dict[str, str], list[str]]:
    """Each query variable in order, chained as Grafana chains them, on "All"."""
    values: dict[str, str] = {}
    empty: list[str] = []
    for variable in board.get("templating", {}).get("list", []):
        match = re.fullmatch(
            r"\s*label_values\((?P<selector>.*),\s*(?P<label>\w+)\)\s*", str(variable.get("query"))
        )
        if variable.get("type") != "query" or match is None:
            continue
        name, label = str(variable["name"]), match.group("label")
        selector = _expand(match.group("selector"), values, window)
        found = client.label_values(label, selector, start=window.start, end=window.end)
        if found:
            all_value = variable.get("allValue")
            values[name] = str(all_value) if all_value else _alternation(found)
            continue
        values[name] = ""
        reasons = ["no values"]
        if parents := [e for e in empty if _uses(match.group("selector"), e)]:
            reasons = [f"the variable ${parents[0]} has no values"]
        elif parsed := selectors(selector):
            span = {"start": window.start, "end": window.end}
            reasons = _selector_reasons(client, parsed[0], window) or [
                _missing_label(
                    parsed[0].metric, label, client.label_names(parsed[0].metric, **span)
                )
            ]
        empty.append(name)
        result.problems.append(Problem(f"${name} ({variable.get('label', name)})", tuple(reasons)))
    return values, empty


def _uses(text: str, variable: str) -> bool:
    return re.search(rf"\$\{{?{variable}\b", text) is not None


def _alternation(values: Sequence[str]) -> str:
    """A multi-value selection as Grafana sends it: regex-escaped, in a PromQL string."""
    escaped = [re.escape(v).replace("\\", "\\\\") for v in values]
    return escaped[0] if len(escaped) == 1 else "(" + "|".join(escaped) + ")"


def _expand(text: str, values: Mapping[str, str], window: Window) -> str:
    macros = {
        "__rate_interval": window.rate_interval,
        "__interval": f"{int(window.step)}s",
        "__range": f"{int(window.end - window.start)}s",
    }

    def replace(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return macros.get(name, values.get(name, match.group(0)))

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", replace, text)


def _squash(label: str) -> str:
    return label.replace("_", "").lower()


def _few(values: Iterable[str], limit: int = 5) -> str:
    listed = list(values)
    shown = ", ".join(listed[:limit])
    return shown + (f" … ({len(listed)} in all)" if len(listed) > limit else "")


def report_lines(results: Sequence[BoardCheck]) -> list[str]:
    """What the command prints: one line per dashboard, then its empty variables and panels,
    panels with the same reasons together."""
    lines: list[str] = []
    for board in results:
        variables = [p for p in board.problems if p.item.startswith("$")]
        panels = [p for p in board.problems if not p.item.startswith("$")]
        with_data = board.panels - len(panels)
        lines.append(f"{board.title} ({board.uid}): {with_data} of {board.panels} panels have data")
        for problem in variables:
            lines.append(f"  variable {problem.item} has no values:")
            lines += [f"    - {reason}" for reason in problem.reasons]
        grouped: dict[tuple[str, ...], list[str]] = {}
        for problem in panels:
            grouped.setdefault(problem.reasons, []).append(problem.item)
        for reasons, titles in grouped.items():
            lines.append(f"  No data: {', '.join(titles)}")
            lines += [f"    - {reason}" for reason in reasons]
    return lines
