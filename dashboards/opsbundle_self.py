"""opsbundle itself: did the report go out, is the log shipper keeping up, what did monitors send.

Source: the bundle's own Lambdas pushing to a Pushgateway (`PUSHGATEWAY_URL`, see
`opsbundle/pushgateway.py`), scraped by Prometheus with `honor_labels: true` so `job` is the
Lambda's service name. Every value is a gauge of the *last run*; counting runs uses
`changes()` on the run and last-seen timestamps. Every panel is per deployed function (the
pushed `function` label, AWS_LAMBDA_FUNCTION_NAME): dev and prod of one part push under the
same `job`, and one's good runs must never hide the other's failures.

The metric names follow from the names each part counts with `RunMetrics`:
- report_fn: ReportPosted, ReportQuiet, ReportFailed, ReportDuplicate, LeadsCounted; timers
  CrmFetch, Aggregate, SlackPost;
- log_shipper: EventsIn, EventsIndexed, EventsDeadLettered, BulkRequests; timers Ship,
  BulkLatency; and IngestLagSeconds (the age of the newest event shipped, counted once per
  run);
- monitors: TargetAlarmsInspected and TargetAlarmsResolved (unhealthy_targets),
  RootActivityReported (root_login),
  PipelineFailuresReported (pipeline_failure), MonitorFailed.
"""

from __future__ import annotations

from typing import Any

from dashboards.conventions import (
    ORANGE,
    RED,
    YELLOW,
    Query,
    Row,
    Variable,
    dashboard,
    stat,
    threshold_steps,
    timeseries,
)

UID = "opsbundle-self"
# Every deployed function apart: dev and prod of one part push under one job and differ by
# `function` (AWS_LAMBDA_FUNCTION_NAME, which carries the stack prefix, e.g.
# opsbundle-prod-report-report). "All" is `.*`, so a push made outside Lambda (no function
# label) shows too.
FN = 'function=~"$function"'
REPORT = f'job="report_fn", {FN}'
SHIPPER = f'job="log_shipper", {FN}'
JOBS = f'job=~"$job", {FN}'
JOBS_OF_MONITOR = f'job=~"$monitor", {FN}'
MONITOR_JOBS = "unhealthy_targets|root_login|pipeline_failure"
BY = "function"
PER_RUN = "job, function"
LEGEND = "{{function}}"

LAST_RUN = "opsbundle_last_run_timestamp_seconds"
BULK_LATENCY = f"opsbundle_bulk_latency_duration_seconds{{{SHIPPER}}}"
POSTED_AT = f"opsbundle_report_posted_last_timestamp_seconds{{{REPORT}}}"
# A good run posted, or finished its slot quietly (a report that posts only when flagged).
# `or` matches label sets without the metric's name: each side gets a label of its own, or
# a function's quiet time would be dropped wherever it has a post time.
GOOD_AT = (
    f'label_replace({POSTED_AT}, "outcome", "posted", "", "") or label_replace('
    f'opsbundle_report_quiet_last_timestamp_seconds{{{REPORT}}}, "outcome", "quiet", "", "")'
)
FAILED_AT = f"opsbundle_report_failed_last_timestamp_seconds{{{REPORT}}}"
DEAD_LETTERED_AT = f"opsbundle_events_dead_lettered_last_timestamp_seconds{{{SHIPPER}}}"
HOURS = 3600

# What each monitor counts when it sends an alert: (job, metric stem, legend).
ALERTS = [
    ("unhealthy_targets", "opsbundle_target_alarms_inspected", "unhealthy targets"),
    ("unhealthy_targets", "opsbundle_target_alarms_resolved", "targets healthy again"),
    ("root_login", "opsbundle_root_activity_reported", "root login"),
    ("pipeline_failure", "opsbundle_pipeline_failures_reported", "pipeline failures"),
]

LAST_GOOD_STEPS = threshold_steps((8 * HOURS, ORANGE), (12 * HOURS, RED))
LAG_STEPS = threshold_steps((60, YELLOW), (300, RED))

VARIABLES = [
    Variable("job", "Part", LAST_RUN, "job"),
    Variable("function", "Function", f'{LAST_RUN}{{job=~"$job"}}', "function", all_value=".*"),
    # The monitors' row picks its own: a monitor is a part, and narrowing it by a function of
    # another part would leave nothing to pick.
    Variable("monitor", "Monitor", f'{LAST_RUN}{{job=~"{MONITOR_JOBS}"}}', "job"),
]


def _per_function(how: str, selector: str) -> str:
    return f"{how} by ({BY}) ({selector})"


def build() -> dict[str, Any]:
    overview = [
        stat("Since the last good report", "Time since each report_fn function last posted a "
             "report or finished a slot quietly (a report that posts only when flagged); alert "
             "OpsbundleReportMissing fires after 8 hours when a run since then failed.",
             [Query(f"time() - {_per_function('max', GOOD_AT)}", LEGEND)],
             unit="s", thresholds=LAST_GOOD_STEPS),
        stat("Report runs", "report_fn invocations in the selected range, per function.",
             [Query(_per_function("sum", f"changes({LAST_RUN}{{{REPORT}}}[$__range])"),
                    LEGEND)], unit="short", decimals=0),
        stat("Reports posted", "Runs that posted a report in the selected range.",
             [Query(_per_function("sum", f"changes({POSTED_AT}[$__range])"), LEGEND)],
             unit="short", decimals=0),
        stat("Report failures", "Runs that failed (CRM or Slack down, bad settings) in the "
             "selected range.", [Query(_per_function("sum", f"changes({FAILED_AT}[$__range])"),
                                       LEGEND)], unit="short",
             decimals=0, no_value="0", thresholds=threshold_steps((1, RED))),
        stat("Leads counted", "Leads in the newest report run's window.",
             [Query(_per_function("max", f"opsbundle_leads_counted{{{REPORT}}}"), LEGEND)],
             unit="short", decimals=0),
        stat("Dead-lettering invocations", "Log shipper invocations in the selected range "
             "that wrote events to the dead-letter bucket.",
             [Query(_per_function("sum", f"changes({DEAD_LETTERED_AT}[$__range])"), LEGEND)],
             unit="short", decimals=0, no_value="0", thresholds=threshold_steps((1, RED))),
    ]  # fmt: skip  # laid out as a table
    report = Row("Lead report", [
        timeseries("Outcome of the last run", "1 when the newest run posted, failed, found "
                   "its slot already posted or stayed quiet (nothing flagged); each step is a "
                   "new run.", [
                       Query(_per_function("max", f"opsbundle_report_posted{{{REPORT}}}"),
                             f"{LEGEND} posted"),
                       Query(_per_function("max", f"opsbundle_report_failed{{{REPORT}}}"),
                             f"{LEGEND} failed"),
                       Query(_per_function("max", f"opsbundle_report_duplicate{{{REPORT}}}"),
                             f"{LEGEND} duplicate"),
                       Query(_per_function("max", f"opsbundle_report_quiet{{{REPORT}}}"),
                             f"{LEGEND} quiet"),
                   ], unit="short", minimum=0, line_style="stepAfter"),
        timeseries("Leads counted", "Leads in each report's window, as of its run.",
                   [Query(_per_function("max", f"opsbundle_leads_counted{{{REPORT}}}"), LEGEND)],
                   unit="short", minimum=0, line_style="stepAfter"),
        timeseries("Report step durations", "Time the last run spent fetching from the CRM, "
                   "aggregating and posting to Slack.", [
                       Query(_per_function("max", f"opsbundle_{step}_duration_seconds{{{REPORT}}}"),
                             f"{LEGEND} {legend}")
                       for step, legend in [("crm_fetch", "CRM fetch"), ("aggregate", "aggregate"),
                                            ("slack_post", "Slack post")]
                   ], unit="s", line_style="stepAfter"),
    ], panel_width=8)  # fmt: skip  # panels as the row shows them
    shipper = Row("Log shipper", [
        timeseries("Events per invocation", "Log events the newest invocation received, "
                   "indexed and dead-lettered (the newest invocation only: exact totals are "
                   "in CloudWatch EMF).", [
                       Query(_per_function("sum", f"opsbundle_events_in{{{SHIPPER}}}"),
                             f"{LEGEND} received"),
                       Query(_per_function("sum", f"opsbundle_events_indexed{{{SHIPPER}}}"),
                             f"{LEGEND} indexed"),
                       Query(_per_function("sum", f"opsbundle_events_dead_lettered{{{SHIPPER}}}"),
                             f"{LEGEND} dead-lettered"),
                   ], unit="short", minimum=0),
        timeseries("Lag", "Age of the newest log event the newest invocation shipped: above "
                   "a few minutes the shipper is falling behind.",
                   [Query(_per_function("max", f"opsbundle_ingest_lag_seconds{{{SHIPPER}}}"),
                          LEGEND)], unit="s", minimum=0, thresholds=LAG_STEPS),
        timeseries("Bulk latency", "Time the newest invocation spent in OpenSearch _bulk "
                   "requests (all of them, and the mean per request), and shipping in all.", [
                       Query(_per_function("max", BULK_LATENCY), f"{LEGEND} _bulk"),
                       Query(f"{_per_function('max', BULK_LATENCY)} / "
                             f"{_per_function('max', f'opsbundle_bulk_requests{{{SHIPPER}}}')}",
                             f"{LEGEND} _bulk, mean"),
                       Query(_per_function("max", f"opsbundle_ship_duration_seconds{{{SHIPPER}}}"),
                             f"{LEGEND} ship"),
                   ], unit="s", minimum=0),
    ], panel_width=8)  # fmt: skip  # panels as the row shows them
    functions = Row("Monitors and all functions", [
        timeseries("Alerts sent", "Alerts the newest run of each monitor sent (Slack, SNS).",
                   [Query(_per_function("max", f'{metric}{{job="{job}", {JOBS_OF_MONITOR}}}'),
                          f"{LEGEND} {legend}") for job, metric, legend in ALERTS],
                   unit="short", minimum=0, line_style="stepAfter"),
        timeseries("Runs that sent alerts", "Monitor runs that sent at least one alert, per "
                   "interval.",
                   [Query(_per_function("sum", f'changes({metric}_last_timestamp_seconds{{job='
                                        f'"{job}", {JOBS_OF_MONITOR}}}[$__rate_interval])'),
                          f"{LEGEND} {legend}") for job, metric, legend in ALERTS],
                   unit="short", bars=True),
        timeseries("Monitor failures", "Monitor runs that failed (the alert may not have "
                   "gone out), per interval.",
                   [Query(f"sum by ({PER_RUN}) (changes("
                          "opsbundle_monitor_failed_last_timestamp_seconds"
                          f"{{{JOBS_OF_MONITOR}}}[$__rate_interval]))", "{{job}} {{function}}")],
                   unit="short", bars=True, thresholds=threshold_steps((1, RED))),
        timeseries("Since each function last ran", "A function whose line keeps climbing "
                   "past its schedule has stopped running (or stopped pushing).",
                   [Query(f"time() - max by ({PER_RUN}) ({LAST_RUN}{{{JOBS}}})",
                          "{{job}} {{function}}")], unit="s", minimum=0),
    ], panel_width=12)  # fmt: skip  # panels as the row shows them
    return dashboard(
        uid=UID,
        title="opsbundle",
        description="The bundle's own Lambdas from the Pushgateway: lead report runs, "
        "log shipper throughput and lag, monitors' alerts.",
        tags=["self"],
        variables=VARIABLES,
        overview=overview,
        rows=[report, shipper, functions],
        time_from="now-24h",
    )
