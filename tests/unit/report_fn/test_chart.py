"""The chart: three windows on one local clock axis, true on 23- and 25-hour days, as a PNG."""

from __future__ import annotations

import io
from datetime import datetime
from zoneinfo import ZoneInfo

from PIL import Image

from opsbundle.metrics import RunMetrics
from report_fn.aggregate import LeadReport
from report_fn.builder import ReportBuilder
from report_fn.chart import chart_data, render_png
from report_fn.crm.mapping import FieldMapping
from report_fn.crm.sample import SampleConnector

NY = ZoneInfo("America/New_York")


def sample_report(at: datetime) -> LeadReport:
    builder = ReportBuilder(
        name="leads",
        timezone=NY,
        connector=SampleConnector(timezone=NY),
        mapping=FieldMapping.for_crm("export"),
        metrics=RunMetrics(service="t"),
        archive=None,
    )
    return builder.build(at)


def test_an_ordinary_afternoon() -> None:
    report = sample_report(datetime(2026, 11, 26, 14, 0, tzinfo=NY))
    data = chart_data(report)
    assert data.hours == tuple(f"{h:02d}" for h in range(14))
    today, yesterday, last_week = data.series
    assert today.label == f"Today {report.totals.leads}"
    assert sum(v or 0 for v in today.values) == report.totals.leads
    assert yesterday.label.startswith("Yesterday ") and last_week.label.startswith("Last Thu ")
    assert None not in yesterday.values and None not in last_week.values
    assert data.note == ""


def test_a_23_hour_day_leaves_the_missing_hour_empty() -> None:
    report = sample_report(datetime(2026, 3, 8, 21, 0, tzinfo=NY))  # clocks forward at 02:00
    data = chart_data(report)
    assert len(report.per_hour) == 20  # 00:00 to 21:00 local is 20 real hours
    assert data.hours == tuple(f"{h:02d}" for h in range(21))  # 02 is on the axis: yesterday had it
    today, yesterday, _ = data.series
    assert today.values[2] is None and yesterday.values[2] is not None
    assert "23-hour day" in data.note


def test_a_25_hour_day_shows_the_repeated_hour_twice() -> None:
    report = sample_report(datetime(2026, 11, 1, 21, 0, tzinfo=NY))  # clocks back at 02:00
    data = chart_data(report)
    assert len(report.per_hour) == 22
    assert data.hours[:4] == ("00", "01 EDT", "01 EST", "02")
    today, yesterday, _ = data.series
    assert today.values[2] is not None and yesterday.values[2] is None
    assert data.note == ("Clocks went back today (a 25-hour day): 01 is shown twice, EDT then EST")


def test_a_comparison_without_hours_is_left_out() -> None:
    report = sample_report(datetime(2026, 11, 26, 14, 0, tzinfo=NY))
    object.__setattr__(report.comparisons[1], "per_hour", None)  # from the archive
    assert [s.label.split()[0] for s in chart_data(report).series] == ["Today", "Yesterday"]


def test_the_png_is_a_phone_sized_image() -> None:
    png = render_png(chart_data(sample_report(datetime(2026, 11, 26, 8, 0, tzinfo=NY))))
    image = Image.open(io.BytesIO(png))
    assert image.format == "PNG" and image.size == (1000, 600)
    assert len(png) < 200_000
