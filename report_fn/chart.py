"""Leads per hour today, against yesterday and last week, as a PNG a phone can read.

Two steps: `chart_data` (pure) lines the three windows up on the local clock, and
`render_png` draws it with Pillow (ImageDraw and Pillow's built-in scalable font; no numpy,
no matplotlib, so the Lambda zip stays small: see the figures in docs/report.md).

The x axis is the local hour of day. On the day clocks spring forward the missing hour is a
gap in today's bars (yesterday still has it); on the day they fall back the repeated hour
is shown twice ("01 EDT", then "01 EST"; the note under the legend names them, as the axis
labels only every few hours), so a 23-hour day and a 25-hour day both read true.
Today is bars; yesterday and last week are lines, told apart by colour and by shape (solid,
dashed), with their totals in the legend. The numbers stay in the message's text too, for
Slack search and screen readers; the chart is for the glance.
"""

from __future__ import annotations

import io
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, tzinfo
from typing import TYPE_CHECKING

from report_fn.aggregate import HourCount, LeadReport

if TYPE_CHECKING:
    from PIL import ImageDraw

WIDTH, HEIGHT = 1000, 600  # 5:3; at a phone's width the labels are still 11-12 points
SCALE = 2  # drawn at twice the size, then scaled down: smooth lines without antialiasing
WHITE, INK, GRID, MUTED = "#FFFFFF", "#1F1F1F", "#E3E3E3", "#5F5F5F"
# Okabe-Ito colours: told apart with every common kind of colour blindness.
TODAY, YESTERDAY, LAST_WEEK = "#0072B2", "#D55E00", "#5F5F5F"

HourKey = tuple[int, int]  # local hour, and 1 for the second of a repeated hour


@dataclass(frozen=True)
class Series:
    label: str  # "Today 187", "Yesterday 203"
    values: tuple[int | None, ...]  # one per axis position; None: the window had no such hour
    colour: str
    style: str  # bars, line, dashed


@dataclass(frozen=True)
class ChartData:
    title: str
    hours: tuple[str, ...]  # axis labels: "00" ... "13", or "01 EST" for a repeated hour
    series: tuple[Series, ...]
    note: str = ""  # the day clocks change: said under the legend

    @property
    def peak(self) -> int:
        return max((v for s in self.series for v in s.values if v is not None), default=0)


def chart_data(report: LeadReport) -> ChartData:
    """Today's hours and the comparisons' hours on one local clock axis."""
    zone = report.window.timezone
    windows: list[tuple[str, list[HourCount], str, str]] = [
        (f"Today {report.totals.leads}", report.per_hour, TODAY, "bars")
    ]
    for comparison, colour, style in (
        (report.comparison("yesterday"), YESTERDAY, "line"),
        (report.comparison("last_week"), LAST_WEEK, "dashed"),
    ):
        if comparison is None or comparison.per_hour is None or comparison.totals is None:
            continue
        name = (
            "Yesterday"
            if comparison.label == "yesterday"
            else (f"Last {comparison.window.local_end:%a}")
        )
        windows.append((f"{name} {comparison.totals.leads}", comparison.per_hour, colour, style))
    keyed = [{_key(h.start, zone): h.leads for h in hours} for _, hours, _, _ in windows]
    axis = sorted({key for counts in keyed for key in counts})
    zones = {_key(h.start, zone): h.start.astimezone(zone).tzname() for h in report.per_hour}
    repeated = {hour for hour, fold in axis if fold}
    labels = tuple(
        f"{hour:02d} {zones.get((hour, fold), '')}".strip() if hour in repeated else f"{hour:02d}"
        for hour, fold in axis
    )
    local = report.window.local_end
    return ChartData(
        title=f"Leads per hour · {local:%a %-d %b} to {local:%H:%M %Z}",
        note=_clock_change(report, [label for label in labels if " " in label]),
        hours=labels,
        series=tuple(
            Series(label, tuple(counts.get(key) for key in axis), colour, style)
            for (label, _, colour, style), counts in zip(windows, keyed, strict=True)
        ),
    )


def alt_text(data: ChartData) -> str:
    """The chart in words, for screen readers (Slack's alt text: at most 1,000 characters)."""
    today = data.series[0]
    hours = ", ".join(
        f"{label} {value}"
        for label, value in zip(data.hours, today.values, strict=True)
        if value is not None
    )
    others = "; ".join(series.label for series in data.series[1:])
    text = f"{data.title}. {today.label} by hour: {hours}." + (
        f" {others} in all." if others else ""
    )
    return text if len(text) <= 1000 else text[:999] + "…"


def _clock_change(report: LeadReport, repeated: Sequence[str] = ()) -> str:
    """What happened to the clock today, if anything: the axis has a gap or a repeat (the
    repeated hour's labels, `01 EDT` and `01 EST`, named)."""
    window = report.window
    midnight = window.local_start
    next_midnight = datetime.combine(
        midnight.date() + timedelta(days=1), time(0), tzinfo=window.timezone
    )
    length = (next_midnight.astimezone(UTC) - window.start).total_seconds() / 3600
    if length < 24:
        return f"Clocks went forward today: a {length:g}-hour day, so one hour has no bar"
    if length > 24:
        if len(repeated) == 2:  # "01 EDT", "01 EST": short enough to fit the chart's width
            (hour, first), (_, second) = (label.split(" ", 1) for label in repeated)
            return (
                f"Clocks went back today (a {length:g}-hour day): "
                f"{hour} is shown twice, {first} then {second}"
            )
        return f"Clocks went back today: a {length:g}-hour day, so one hour is shown twice"
    return ""


def _key(start: datetime, zone: tzinfo) -> HourKey:
    local = start.astimezone(zone)
    return local.hour, local.fold


def render_png(data: ChartData) -> bytes:
    """The chart as PNG bytes."""
    from PIL import Image, ImageDraw  # noqa: PLC0415 - only a run that draws a chart pays

    image = Image.new("RGB", (WIDTH * SCALE, HEIGHT * SCALE), WHITE)
    _Canvas(ImageDraw.Draw(image), data).draw()
    small = image.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, format="PNG", optimize=True)
    return out.getvalue()


class _Canvas:
    """Lays the chart out; sizes are written at 1x and multiplied by SCALE."""

    def __init__(self, draw: ImageDraw.ImageDraw, data: ChartData) -> None:
        from PIL import ImageFont  # noqa: PLC0415

        self.d = draw
        self.data = data
        self.title_font = ImageFont.load_default(size=40 * SCALE)
        self.font = ImageFont.load_default(size=32 * SCALE)
        self.small = ImageFont.load_default(size=26 * SCALE)
        self.left, self.right = 84 * SCALE, (WIDTH - 24) * SCALE
        self.top = (196 if data.note else 164) * SCALE
        self.bottom = (HEIGHT - 64) * SCALE
        step = _nice_step(data.peak)
        self.step = step
        self.ceiling = max(step, step * math.ceil(data.peak / step))
        self.slot = (self.right - self.left) / max(1, len(data.hours))

    def draw(self) -> None:
        self.d.text((24 * SCALE, 20 * SCALE), self.data.title, fill=INK, font=self.title_font)
        self._legend()
        if self.data.note:
            self.d.text((24 * SCALE, 140 * SCALE), self.data.note, fill=MUTED, font=self.small)
        self._grid()
        for series in self.data.series:
            if series.style == "bars":
                self._bars(series)
        for series in self.data.series:
            if series.style != "bars":
                self._line(series)
        self._hours()

    def _x(self, index: int) -> float:
        return self.left + self.slot * (index + 0.5)

    def _y(self, value: float) -> float:
        return self.bottom - (self.bottom - self.top) * value / self.ceiling

    def _legend(self) -> None:
        x, y = 24 * SCALE, 88 * SCALE
        for series in self.data.series:
            swatch = 34 * SCALE
            middle = y + 17 * SCALE
            if series.style == "bars":
                self.d.rectangle((x, y + 4 * SCALE, x + swatch, y + 30 * SCALE), fill=series.colour)
            else:
                self._segment((x, middle), (x + swatch, middle), series)
            x += swatch + 12 * SCALE
            self.d.text((x, y), series.label, fill=INK, font=self.font)
            x += int(self.d.textlength(series.label, font=self.font)) + 36 * SCALE

    def _grid(self) -> None:
        for value in range(0, self.ceiling + 1, self.step):
            y = self._y(value)
            colour = MUTED if value == 0 else GRID
            self.d.line((self.left, y, self.right, y), fill=colour, width=2 * SCALE)
            text = str(value)
            width = self.d.textlength(text, font=self.font)
            self.d.text(
                (self.left - 14 * SCALE - width, y - 17 * SCALE), text, fill=MUTED, font=self.font
            )

    def _hours(self) -> None:
        every = _tick_every(len(self.data.hours))
        for index, label in enumerate(self.data.hours):
            # By the clock, not by position: 00, 03, 06 even when an hour is missing or twice.
            if every > 1 and (int(label[:2]) % every or " " in label):
                continue
            width = self.d.textlength(label, font=self.font)
            x = min(max(self._x(index) - width / 2, self.left - 20 * SCALE), self.right - width)
            self.d.text((x, self.bottom + 14 * SCALE), label, fill=MUTED, font=self.font)

    def _bars(self, series: Series) -> None:
        half = self.slot * 0.34
        for index, value in _points(series.values):
            if value:
                x = self._x(index)
                self.d.rectangle(
                    (x - half, self._y(value), x + half, self.bottom), fill=series.colour
                )

    def _line(self, series: Series) -> None:
        points = [(self._x(i), self._y(v)) for i, v in _points(series.values)]
        for start, end in itertools.pairwise(points):
            self._segment(start, end, series)
        radius = 7 * SCALE
        for x, y in points:
            box = (x - radius, y - radius, x + radius, y + radius)
            if series.style == "dashed":
                self.d.ellipse(box, fill=WHITE, outline=series.colour, width=3 * SCALE)
            else:
                self.d.ellipse(box, fill=series.colour)

    def _segment(
        self, start: tuple[float, float], end: tuple[float, float], series: Series
    ) -> None:
        width = 5 * SCALE
        if series.style != "dashed":
            self.d.line((start, end), fill=series.colour, width=width)
            return
        length = math.dist(start, end)
        dash, gap = 16 * SCALE, 10 * SCALE
        position = 0.0
        while position < length:
            until = min(position + dash, length)
            a, b = position / length, until / length
            self.d.line(
                (
                    (start[0] + (end[0] - start[0]) * a, start[1] + (end[1] - start[1]) * a),
                    (start[0] + (end[0] - start[0]) * b, start[1] + (end[1] - start[1]) * b),
                ),
                fill=series.colour,
                width=width,
            )
            position = until + gap


def _nice_step(peak: int, ticks: int = 4) -> int:
    """A step of 1, 2 or 5 × 10^n that puts at most `ticks` lines above zero."""
    if peak <= ticks:
        return 1
    raw = peak / ticks
    magnitude = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return int(factor * magnitude)
    return int(10 * magnitude)


def _tick_every(count: int) -> int:
    """Label every hour when few, else every 2nd or 3rd, so labels never touch on a phone."""
    return 1 if count <= 12 else 2 if count <= 18 else 3


def _points(values: Sequence[int | None]) -> list[tuple[int, int]]:
    return [(index, value) for index, value in enumerate(values) if value is not None]
