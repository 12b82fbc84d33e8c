"""Every threshold form, each at its boundary: one below, on it, one above."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from report_fn.aggregate import Comparison, DataQuality, LeadReport, Totals, aggregate
from report_fn.leads import Lead
from report_fn.thresholds import CLEAR, HOLDS, UNKNOWN, Condition, ConditionError
from report_fn.window import report_windows

NY = ZoneInfo("America/New_York")
AT = datetime(2026, 11, 26, 19, 0, tzinfo=UTC)  # Thu 14:00 EST


def report(
    leads: int,
    *,
    signed: int = 0,
    yesterday: Totals | None = None,
    last_week: Totals | None = None,
    at: datetime = AT,
    sources: dict[str, int] | None = None,
) -> LeadReport:
    windows = report_windows(at, NY)
    rows: list[Lead] = []
    names = [name for name, n in (sources or {"TV": leads}).items() for _ in range(n)]
    for n in range(leads):
        rows.append(
            Lead(
                id=str(n),
                created=windows.today.start + timedelta(minutes=n % 600),
                source=names[n] if n < len(names) else "TV",
                campaign="C",
                case_type="MVA",
                state="TX",
                status="signed" if n < signed else "new",
            )
        )
    return aggregate(
        name="leads",
        scheduled_time=at,
        window=windows.today,
        leads=rows,
        comparisons=[
            Comparison(
                "yesterday", windows.yesterday, yesterday, "crm" if yesterday else "unavailable"
            ),
            Comparison(
                "last_week", windows.last_week, last_week, "crm" if last_week else "unavailable"
            ),
        ],
        quality=DataQuality(rows_read=leads, skipped_by_reason={}, unmapped_statuses={}),
    )


def state(text: str, data: LeadReport) -> str:
    return Condition.parse(text).check(data).state


@pytest.mark.parametrize(
    ("text", "leads", "expected"),
    [
        ("leads < 50", 49, HOLDS), ("leads < 50", 50, CLEAR), ("leads < 50", 51, CLEAR),
        ("leads <= 50", 50, HOLDS), ("leads <= 50", 51, CLEAR),
        ("leads > 50", 50, CLEAR), ("leads > 50", 51, HOLDS),
        ("leads >= 50", 49, CLEAR), ("leads >= 50", 50, HOLDS),
        ("leads == 0", 0, HOLDS), ("leads == 0", 1, CLEAR),
        ("leads != 0", 0, CLEAR), ("leads != 0", 1, HOLDS),
        ("leads ≤ 50", 50, HOLDS), ("leads ≥ 50", 49, CLEAR), ("leads ≠ 50", 50, CLEAR),
    ],
)  # fmt: skip  # one case a line
def test_a_total_against_a_number(text: str, leads: int, expected: str) -> None:
    assert state(text, report(leads)) == expected


@pytest.mark.parametrize(("signed", "expected"), [(0, HOLDS), (1, CLEAR)])
def test_a_status_total(signed: int, expected: str) -> None:
    assert state("signed == 0", report(10, signed=signed)) == expected


@pytest.mark.parametrize(
    ("text", "leads", "expected"),
    [
        # 0.6 times 100 is 60 exactly, no float rounding at the boundary
        ("leads < 0.6 × last_week", 59, HOLDS), ("leads < 0.6 × last_week", 60, CLEAR),
        ("leads <= 0.6 * last_week", 60, HOLDS), ("leads <= 0.6 x last_week", 61, CLEAR),
        ("leads > 1.2 × last_week", 120, CLEAR), ("leads > 1.2 × last_week", 121, HOLDS),
        ("leads < last_week", 99, HOLDS), ("leads < last_week", 100, CLEAR),
        ("leads >= 0.7 × yesterday", 55, CLEAR), ("leads >= 0.7 × yesterday", 56, HOLDS),
    ],
)  # fmt: skip  # one case a line
def test_a_total_against_a_share_of_a_comparison(text: str, leads: int, expected: str) -> None:
    data = report(leads, yesterday=Totals(80, {}), last_week=Totals(100, {}))
    assert state(text, data) == expected


@pytest.mark.parametrize(
    ("text", "leads", "expected"),
    [
        ("leads vs last_week <= -40%", 59, HOLDS), ("leads vs last_week <= -40%", 60, HOLDS),
        ("leads vs last_week <= -40%", 61, CLEAR),
        ("leads vs last_week < -40%", 60, CLEAR),
        ("leads vs yesterday >= 25%", 99, CLEAR), ("leads vs yesterday >= 25%", 100, HOLDS),
        ("leads vs yesterday < -20", 59, HOLDS), ("leads vs yesterday < -20", 60, CLEAR),
        ("leads vs yesterday >= 20", 99, CLEAR), ("leads vs yesterday >= 20", 100, HOLDS),
    ],
)  # fmt: skip  # one case a line
def test_a_change_against_a_comparison(text: str, leads: int, expected: str) -> None:
    data = report(leads, yesterday=Totals(80, {}), last_week=Totals(100, {}))
    assert state(text, data) == expected


@pytest.mark.parametrize(
    ("text", "tv", "expected"),
    [
        ("source[TV] < 10", 9, HOLDS), ("source[TV] < 10", 10, CLEAR),
        ("source[tv] >= 10", 10, HOLDS),  # row names match case-insensitively
        ("source[T*] >= 12", 10, CLEAR), ("source[T*] >= 12", 11, HOLDS),  # TV + TikTok
        ("source[Radio] == 0", 9, HOLDS),
    ],
)  # fmt: skip  # one case a line
def test_a_breakdown_row(text: str, tv: int, expected: str) -> None:
    data = report(tv + 1, sources={"TV": tv, "TikTok": 1})
    assert state(text, data) == expected


def test_a_row_counts_its_signed_leads() -> None:
    data = report(10, signed=3, sources={"TV": 10})
    assert state("source[TV].signed < 3", data) == CLEAR
    assert state("source[TV].signed <= 3", data) == HOLDS


@pytest.mark.parametrize(
    ("signed", "text", "expected"),
    [(1, "conversion_pct < 10", CLEAR), (0, "conversion_pct < 10", HOLDS),
     (1, "conversion_pct <= 10", HOLDS)],
)  # fmt: skip  # one case a line
def test_conversion_is_exact(signed: int, text: str, expected: str) -> None:
    assert state(text, report(10, signed=signed)) == expected


@pytest.mark.parametrize(
    ("local", "expected"),
    [("13:59", UNKNOWN), ("14:00", HOLDS), ("21:00", HOLDS)],
)
def test_after_applies_from_that_local_time_on(local: str, expected: str) -> None:
    hours, minutes = map(int, local.split(":"))
    at = datetime(2026, 11, 26, hours, minutes, tzinfo=NY).astimezone(UTC)
    check = Condition.parse("signed == 0 after 14:00").check(report(5, at=at))
    assert check.state == expected
    assert check.applies is (expected != UNKNOWN)


@pytest.mark.parametrize(("local", "expected"), [("09:59", HOLDS), ("10:00", UNKNOWN)])
def test_before_applies_until_that_local_time(local: str, expected: str) -> None:
    hours, minutes = map(int, local.split(":"))
    at = datetime(2026, 11, 26, hours, minutes, tzinfo=NY).astimezone(UTC)
    assert state("leads < 100 before 10:00", report(5, at=at)) == expected


def test_unknowns_never_hold() -> None:
    no_comparisons = report(10)
    assert state("leads < 0.6 × last_week", no_comparisons) == UNKNOWN
    assert state("leads vs yesterday <= -40%", no_comparisons) == UNKNOWN
    assert state("conversion_pct < 5", report(0)) == UNKNOWN
    from_zero = report(10, yesterday=Totals(0, {}))
    check = Condition.parse("leads vs yesterday >= 50%").check(from_zero)
    assert check.state == UNKNOWN and "was 0" in check.detail
    assert state("leads vs yesterday >= 5", from_zero) == HOLDS  # an absolute change is known


def test_the_detail_shows_the_numbers() -> None:
    data = report(55, last_week=Totals(100, {}))
    check = Condition.parse("leads < 0.6 × last_week").check(data)
    assert check.detail == "leads 55 < 0.6 × last week (100 → 60)"
    check = Condition.parse("leads vs last_week <= -40%").check(data)
    assert check.detail == "leads change vs last week -45% (55 vs 100 last week)"


def test_parsed_form() -> None:
    condition = Condition.parse("  campaign[Mass Torts*].signed   >= 2  after 9:30 ")
    assert condition.metric == "campaign" and condition.row == "Mass Torts*"
    assert condition.measure == "signed" and condition.op == ">="
    assert condition.number == Fraction(2) and str(condition.after) == "09:30:00"
    assert Condition.parse("leads < 0.6 × last_week").factor == Fraction(3, 5)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("lead < 5", "unknown total 'lead'"),
        ("source < 5", "a breakdown row is written source[name]"),
        ("leads 5", "expected <, <=, >, >=, == or !="),
        ("leads < lots", "unknown window 'lots'"),
        ("leads < 40%", "a per cent compares a change"),
        ("leads vs today < 5", "unknown window 'today'"),
        ("leads vs yesterday < last_week", "compare a change with a number"),
        ("source[TV] < 0.5 × yesterday", "hold totals only"),
        ("state[] < 1", "name the row"),
        ("state[TX].rejected < 1", "a row has .leads or .signed"),
        ("leads.signed < 1", "only follows a breakdown row"),
        ("signed == 0 after 25:00", "is not a time of day"),
        ("signed == 0 after 2pm", "write the time as HH:MM"),
        ("signed == 0 after 10:00 after 11:00", "after is given twice"),
        ("leads < 0.6 × ", "the value must be"),
    ],
)
def test_bad_conditions_say_what_to_write(text: str, message: str) -> None:
    with pytest.raises(ConditionError, match=message.replace("(", r"\(").replace("[", r"\[")):
        Condition.parse(text)
