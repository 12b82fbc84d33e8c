"""The series selectors of a PromQL expression, so `dashboards check` can ask Prometheus about
each one on its own: `rate(node_cpu_seconds_total{mode="idle"}[5m])` → the metric
`node_cpu_seconds_total` with the matcher `mode="idle"`.

A small lexer, not a parser: it skips strings, range and subquery brackets, function calls,
and the label lists of `by`/`without`/`on`/`ignoring`/`group_left`/`group_right`; what is left
that names a metric (an identifier with or without `{...}`) is a selector. That is enough for
the dashboards' own queries; anything it cannot read it leaves out rather than guesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKENS = re.compile(
    r"""
    (?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
  | (?P<bracket>\[[^\]]*\])
  | (?P<duration>\d+(?:ms|[smhdwy])(?:\d+(?:ms|[smhdwy]))*(?![A-Za-z0-9_:]))
  | (?P<number>\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<brace>\{)
  | (?P<paren>\()
  | (?P<other>.)
    """,
    re.X | re.S,
)
_MATCHER = re.compile(r'\s*([A-Za-z_][A-Za-z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:\\.|[^"\\])*")\s*,?')
_GROUPING = {"by", "without", "on", "ignoring", "group_left", "group_right"}
_AGGREGATIONS = {
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values",
    "bottomk", "topk", "quantile", "limitk", "limit_ratio",
}  # fmt: skip  # names packed, not one a line
_KEYWORDS = (
    _GROUPING | _AGGREGATIONS | {"and", "or", "unless", "bool", "offset", "atan2", "inf", "nan"}
)


@dataclass(frozen=True)
class Matcher:
    label: str
    op: str  # =, !=, =~ or !~
    value: str  # as written, quotes included

    def __str__(self) -> str:
        return f"{self.label}{self.op}{self.value}"

    @property
    def needs_the_label(self) -> bool:
        """True when only series that have the label (non-empty) can match."""
        empty = self.value in ('""', "''")
        if self.op == "=":
            return not empty
        if self.op == "!=":
            return empty
        if self.op == "=~":
            return re.fullmatch(_unquote(self.value), "") is None
        return re.fullmatch(_unquote(self.value), "") is not None  # !~ that refuses ""


@dataclass(frozen=True)
class Selector:
    metric: str
    matchers: tuple[Matcher, ...] = ()

    def __str__(self) -> str:
        inner = ", ".join(str(m) for m in self.matchers)
        return f"{self.metric}{{{inner}}}" if inner else self.metric

    def with_only(self, *matchers: Matcher) -> str:
        return str(Selector(self.metric, matchers))


def selectors(expr: str) -> list[Selector]:
    """Every series selector in `expr`, in order, each once."""
    found: list[Selector] = []
    tokens = [(m.lastgroup, m.group(), m.end()) for m in _TOKENS.finditer(expr)]
    i = 0
    while i < len(tokens):
        kind, text, _ = tokens[i]
        after = _next_significant(tokens, i + 1)
        opens = after is not None and tokens[after][0] == "paren"
        if kind == "ident" and text in _GROUPING and after is not None and opens:
            i = _skip_parens(tokens, after)
            continue
        if kind == "ident" and text not in _KEYWORDS:
            if opens:
                i += 1  # a function call
                continue
            matchers: tuple[Matcher, ...] = ()
            if after is not None and tokens[after][0] == "brace":
                body_end = expr.index("}", tokens[after][2])
                matchers = _matchers(expr[tokens[after][2] : body_end])
                while i < len(tokens) and tokens[i][2] <= body_end:
                    i += 1
            else:
                i += 1
            selector = Selector(text, matchers)
            if selector not in found:
                found.append(selector)
            continue
        i += 1
    return found


def _matchers(body: str) -> tuple[Matcher, ...]:
    out, position = [], 0
    while position < len(body.strip()):
        match = _MATCHER.match(body, position)
        if match is None:
            break
        out.append(Matcher(match.group(1), match.group(2), match.group(3)))
        position = match.end()
    return tuple(out)


def _next_significant(tokens: list[tuple[str | None, str, int]], i: int) -> int | None:
    while i < len(tokens) and tokens[i][0] == "other" and tokens[i][1].isspace():
        i += 1
    return i if i < len(tokens) else None


def _skip_parens(tokens: list[tuple[str | None, str, int]], i: int) -> int:
    depth = 0
    while i < len(tokens):
        if tokens[i][0] == "paren":
            depth += 1
        elif tokens[i][1] == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return i


def _unquote(value: str) -> str:
    body = value[1:-1]
    return re.sub(r"\\(.)", r"\1", body)
