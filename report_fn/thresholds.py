"""Conditions a report raises a flag on, read from one line of text (pure).

    <metric> <op> <value> [after HH:MM] [before HH:MM]

    metric  a total: leads, new, contacted, qualified, signed, rejected, other, conversion_pct
            or a breakdown row: source[Google Ads], campaign[Mass Torts*] (a pattern sums the
            rows it matches), with .leads (the default) or .signed after it
            either followed by "vs yesterday" / "vs last_week": the change against that window
    op      <  <=  >  >=  ==  !=  (≤ ≥ ≠ too)
    value   a number; with "vs", a number ending in % compares the change in per cent;
            "0.6 × last_week" (or *, x) compares with that share of the same total then;
            "last_week" alone means 1 ×
    after   the condition is only checked in slots at or after that local time; before: only
            in slots before it

Examples: `leads < 0.6 × last_week`, `signed == 0 after 14:00`, `leads vs yesterday <= -40%`,
`state[TX] < 10`, `conversion_pct < 5 after 12:00`.

Arithmetic is exact (fractions), so `leads < 0.6 × last_week` with 100 last week holds at 59
and not at 60. A value that cannot be known (no comparison numbers, a change in per cent
from zero, conversion with no leads) leaves the condition "unknown", never "holds".
"""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from datetime import time
from fractions import Fraction

from report_fn.aggregate import LeadReport, Totals
from report_fn.leads import DIMENSIONS, OTHER_STATUS, STATUSES

TOTALS = ("leads", *STATUSES, OTHER_STATUS, "conversion_pct")
COMPARISONS = ("yesterday", "last_week")
MEASURES = ("leads", "signed")
OPERATORS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "==", "!=": "!=",
             "≤": "<=", "≥": ">=", "≠": "!="}  # fmt: skip  # names packed, not one a line
HOLDS, CLEAR, UNKNOWN = "holds", "clear", "unknown"
COMPARISON_WORDS = {"yesterday": "yesterday", "last_week": "last week"}

_SUBJECT = re.compile(
    r"(?P<metric>[a-z_]+)(?:\[(?P<row>[^\]]*)\])?(?:\.(?P<measure>[a-z_]+))?"
    r"(?:\s+vs\s+(?P<versus>[a-z_]+))?"
)
_OPERATOR = re.compile(r"\s*(<=|>=|==|!=|≤|≥|≠|<|>)\s*")
_GUARD = re.compile(r"\s+(after|before)\s+(\d{1,2}):(\d{2})\s*$")
_NUMBER = r"[-+]?\d+(?:\.\d+)?"
_VALUE = re.compile(
    rf"^(?:(?P<number>{_NUMBER})(?P<percent>%)?"
    rf"|(?:(?P<factor>{_NUMBER})\s*[×x*]\s*)?(?P<against>[a-z_]+))$"
)


class ConditionError(ValueError):
    """A condition that does not parse; the message says what to write instead."""


@dataclass(frozen=True)
class Condition:
    text: str
    metric: str  # a total, or a dimension when `row` is set
    op: str
    row: str | None = None  # a breakdown row's name or pattern
    measure: str = "leads"  # of a row: leads or signed
    versus: str | None = None  # compare the change against this window
    number: Fraction | None = None
    percent: bool = False
    factor: Fraction = Fraction(1)
    against: str | None = None  # compare with factor times this window's same total
    after: time | None = None
    before: time | None = None

    @classmethod
    def parse(cls, text: str) -> Condition:
        source = " ".join(str(text).split())
        if not source:
            raise ConditionError("is empty; write e.g. 'leads < 0.6 × last_week'")
        body, after, before = _guards(source)
        subject = _SUBJECT.match(body)
        if subject is None:
            raise ConditionError(f"{source!r}: start with a total such as leads or signed")
        operator = _OPERATOR.match(body, subject.end())
        if operator is None:
            found = body[subject.end() :].strip() or "nothing"
            raise ConditionError(
                f"{source!r}: expected <, <=, >, >=, == or != after "
                f"{subject.group(0)!r}, found {found!r}"
            )
        value = _VALUE.match(body[operator.end() :].strip())
        if value is None:
            raise ConditionError(f"{source!r}: the value must be a number, 40%, or 0.6 × last_week")
        metric, row, measure, versus = subject.group("metric", "row", "measure", "versus")
        condition = cls(
            text=source,
            metric=metric,
            op=OPERATORS[operator.group(1)],
            row=row.strip() if row is not None else None,
            measure=measure or "leads",
            versus=versus,
            number=Fraction(value.group("number")) if value.group("number") else None,
            percent=bool(value.group("percent")),
            factor=Fraction(value.group("factor")) if value.group("factor") else Fraction(1),
            against=value.group("against"),
            after=after,
            before=before,
        )
        condition._check(source)
        return condition

    def _check(self, source: str) -> None:
        if self.row is None:
            self._check_total(source)
        else:
            self._check_row(source)
        for word in (self.versus, self.against):
            if word is not None and word not in COMPARISONS:
                raise ConditionError(
                    f"{source!r}: unknown window {word!r}; use yesterday or last_week"
                )
        if self.versus and self.against:
            raise ConditionError(
                f"{source!r}: compare a change with a number, "
                f"e.g. '{self.metric} vs {self.versus} <= -40%'"
            )
        if self.percent and not self.versus:
            raise ConditionError(
                f"{source!r}: a per cent compares a change: '{self.metric} vs last_week <= -40%'"
            )
        if self.factor < 0:
            raise ConditionError(f"{source!r}: the share of {self.against} must not be negative")

    def _check_total(self, source: str) -> None:
        if self.metric not in TOTALS:
            hint = f" (a breakdown row is written {self.metric}[name])" * (
                self.metric in DIMENSIONS
            )
            raise ConditionError(
                f"{source!r}: unknown total {self.metric!r}{hint}; use one of {', '.join(TOTALS)}"
            )
        if self.measure != "leads":
            raise ConditionError(f"{source!r}: .{self.measure} only follows a breakdown row")

    def _check_row(self, source: str) -> None:
        if self.metric not in DIMENSIONS:
            raise ConditionError(
                f"{source!r}: {self.metric!r} has no rows; use one of {', '.join(DIMENSIONS)}"
            )
        if not self.row:
            raise ConditionError(f"{source!r}: name the row inside the brackets")
        if self.measure not in MEASURES:
            raise ConditionError(f"{source!r}: a row has .leads or .signed, not .{self.measure}")
        if self.versus or self.against:
            raise ConditionError(
                f"{source!r}: yesterday and last_week hold totals only, "
                "so a breakdown row compares with a number"
            )

    # -- evaluation ----------------------------------------------------------------------

    def check(self, report: LeadReport) -> Check:
        """Whether the condition holds for the report's slot."""
        outside = self._outside(report.window.local_end.time().replace(tzinfo=None))
        if outside:
            return Check(self, UNKNOWN, outside, applies=False)
        current = self._current(report)
        if current is None:
            return Check(self, UNKNOWN, f"{self._label()}: no value (no leads)")
        window = self.versus or self.against
        if window is None:
            assert self.number is not None
            detail = f"{self._label()} {_show(current)} {self.op} {_show(self.number)}"
            return self._result(current, self.number, detail)
        previous = _total(_totals(report, window), self.metric)
        if previous is None:
            words = COMPARISON_WORDS[window]
            return Check(self, UNKNOWN, f"{self._label()}: no numbers for {words}")
        if self.versus is not None:
            return self._change(current, previous)
        limit = self.factor * previous
        share = f"{_show(self.factor)} × " if self.factor != 1 else ""
        scaled = f" → {_show(limit, 1)}" if share else ""
        detail = (
            f"{self._label()} {_show(current)} {self.op} {share}"
            f"{COMPARISON_WORDS[window]} ({_show(previous)}{scaled})"
        )
        return self._result(current, limit, detail)

    def _outside(self, local: time) -> str | None:
        """Why a time guard keeps this slot out, if one does."""
        if self.after is not None and local < self.after:
            return f"checked from {self.after:%H:%M}"
        if self.before is not None and local >= self.before:
            return f"checked before {self.before:%H:%M}"
        return None

    def _change(self, current: Fraction, previous: Fraction) -> Check:
        assert self.versus is not None and self.number is not None
        words = COMPARISON_WORDS[self.versus]
        numbers = f"({_show(current)} vs {_show(previous)} {words})"
        if not self.percent:
            change = current - previous
            shown = f"{_show(change)} {numbers}"
        elif previous == 0:
            return Check(self, UNKNOWN, f"{self._label()}: {words} was 0, no per cent change")
        else:
            change = (current - previous) / previous * 100
            shown = f"{_show(change, 1)}% {numbers}"
        return self._result(change, self.number, f"{self._label()} change vs {words} {shown}")

    def _result(self, value: Fraction, limit: Fraction, detail: str) -> Check:
        return Check(self, HOLDS if _compare(value, self.op, limit) else CLEAR, detail)

    def _current(self, report: LeadReport) -> Fraction | None:
        if self.row is None:
            return _total(report.totals, self.metric)
        pattern = self.row.casefold()
        count = 0
        for lead in report.leads:
            value = getattr(lead, self.metric).casefold()
            if fnmatch.fnmatchcase(value, pattern) and (
                self.measure == "leads" or lead.status == "signed"
            ):
                count += 1
        return Fraction(count)

    def _label(self) -> str:
        if self.row is None:
            return "conversion %" if self.metric == "conversion_pct" else self.metric
        measure = "" if self.measure == "leads" else f" {self.measure}"
        return f"{self.metric.replace('_', ' ')} {self.row}{measure}"


@dataclass(frozen=True)
class Check:
    condition: Condition
    state: str  # holds, clear, unknown
    detail: str  # what was compared, with the numbers
    applies: bool = True  # False: a time guard keeps the condition out of this slot

    @property
    def holds(self) -> bool:
        return self.state == HOLDS


def _guards(source: str) -> tuple[str, time | None, time | None]:
    after = before = None
    body = source
    while match := _GUARD.search(body):
        word, hours, minutes = match.group(1), int(match.group(2)), int(match.group(3))
        if hours > 23 or minutes > 59:
            raise ConditionError(f"{source!r}: {hours}:{minutes:02d} is not a time of day")
        moment = time(hours, minutes)
        if (after if word == "after" else before) is not None:
            raise ConditionError(f"{source!r}: {word} is given twice")
        if word == "after":
            after = moment
        else:
            before = moment
        body = body[: match.start()]
    if " after " in f" {body} " or " before " in f" {body} ":
        raise ConditionError(f"{source!r}: write the time as HH:MM, e.g. 'after 14:00'")
    return body, after, before


def _totals(report: LeadReport, label: str) -> Totals | None:
    comparison = report.comparison(label)
    return comparison.totals if comparison else None


def _total(totals: Totals | None, metric: str) -> Fraction | None:
    if totals is None:
        return None
    if metric == "leads":
        return Fraction(totals.leads)
    if metric == "conversion_pct":
        if not totals.leads:
            return None
        return Fraction(100 * totals.get("signed"), totals.leads)
    return Fraction(totals.get(metric))


def _compare(left: Fraction, op: str, right: Fraction) -> bool:
    return {
        "<": left < right,
        "<=": left <= right,
        ">": left > right,
        ">=": left >= right,
        "==": left == right,
        "!=": left != right,
    }[op]


def _show(value: Fraction, places: int = 2) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return f"{float(value):.{places}f}".rstrip("0").rstrip(".")


MENTION = re.compile(r"^(here|channel|S[A-Z0-9]{6,20})$")


@dataclass(frozen=True)
class Threshold:
    """A condition from the reports file, what to say when it holds and whom to mention."""

    condition: Condition
    say: str | None = None
    mention: str | None = None  # "here", "channel" or a user group ID (S0123ABCD)

    @property
    def headline(self) -> str:
        return self.say or self.condition.text


@dataclass(frozen=True)
class Flag:
    threshold: Threshold
    check: Check


def evaluate(report: LeadReport, thresholds: tuple[Threshold, ...]) -> list[Flag]:
    """Every threshold's check, in the file's order (held, clear and unknown alike)."""
    return [Flag(threshold, threshold.condition.check(report)) for threshold in thresholds]
