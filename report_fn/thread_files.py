"""The chart and the CSV, uploaded into the thread of each message a run posted.

A file that cannot be drawn or uploaded is counted and becomes a problem of the run's
outcome (the run then fails as incomplete); the message is never posted again for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from opsbundle.exceptions import SlackError
from opsbundle.metrics import RunMetrics
from opsbundle.slack import PostedMessage, SlackClient
from report_fn import chart, render
from report_fn.aggregate import LeadReport


@dataclass(frozen=True, kw_only=True)
class ThreadFiles:
    slack: SlackClient
    metrics: RunMetrics
    chart: bool  # the chart of leads per hour, as a PNG
    attach_csv: bool  # the window's leads, as a CSV

    def attach(self, report: LeadReport, posted: list[PostedMessage], problems: list[str]) -> None:
        """The files into the thread of each of `posted`; what failed is added to `problems`."""
        if not posted:
            return
        local = report.window.local_end
        stamp = f"{report.name}-{local:%Y-%m-%d-%H%M}"
        files: list[tuple[str, bytes, str, str | None]] = []
        if self.chart:
            try:
                with self.metrics.timer("ChartRender"):
                    data = chart.chart_data(report)
                    png = chart.render_png(data)
                files.append((f"{stamp}-per-hour.png", png, data.title, chart.alt_text(data)))
            except (ImportError, OSError, ValueError) as error:  # Pillow missing or failing
                self.metrics.count("ChartFailed")
                problems.append(f"the chart could not be drawn ({error})")
        if self.attach_csv:
            title = f"Leads {local:%a %-d %b} to {local:%H:%M %Z}"
            files.append((f"{stamp}.csv", render.leads_csv(report), title, None))
        for message in posted:
            for filename, content, title, alt_text in files:
                try:
                    self.slack.upload_file(
                        channel=message.channel,
                        filename=filename,
                        content=content,
                        title=title,
                        thread_ts=message.ts,
                        alt_text=alt_text,
                    )
                except SlackError as error:
                    what = "chart" if filename.endswith(".png") else "CSV"
                    failed = "ChartUploadFailed" if what == "chart" else "CsvUploadFailed"
                    self.metrics.count(failed)
                    problems.append(f"the {what} was not attached ({error})")
