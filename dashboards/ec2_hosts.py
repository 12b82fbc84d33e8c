"""EC2 hosts by the USE method (utilisation, saturation, errors): CPU, memory, disk, network, load.

Source: node_exporter on each host, scraped by Prometheus (`job` and `instance` are the
scrape's labels). Counters (`*_total`) are read with rate() over `$__rate_interval`.
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

UID = "opsbundle-ec2-hosts"
SEL = 'job=~"$job", instance=~"$instance"'
FS = f'{SEL}, fstype!~"tmpfs|overlay|squashfs|ramfs|nsfs"'
NIC = f'{SEL}, device!~"lo|veth.*|docker.*|br-.*"'
RI = "[$__rate_interval]"

IDLE = f'rate(node_cpu_seconds_total{{{SEL}, mode="idle"}}{RI})'
CPUS = f"count by (instance) ({IDLE})"
BUSY = f"100 * (1 - avg by (instance) ({IDLE}))"
MEMORY_USED = (
    f"100 * (1 - node_memory_MemAvailable_bytes{{{SEL}}} / node_memory_MemTotal_bytes{{{SEL}}})"
)
DISK_USED = f"100 * (1 - node_filesystem_avail_bytes{{{FS}}} / node_filesystem_size_bytes{{{FS}}})"

PERCENT_STEPS = threshold_steps((80, YELLOW), (90, RED))
LOAD_STEPS = threshold_steps((1, ORANGE), (2, RED))

VARIABLES = [
    Variable("job", "Job", "node_uname_info", "job"),
    Variable("instance", "Instance", 'node_uname_info{job=~"$job"}', "instance"),
]


def build() -> dict[str, Any]:
    overview = [
        stat("Hosts up", "Selected node_exporter targets Prometheus scraped successfully.",
             [Query(f"sum(up{{{SEL}}})")], unit="short"),
        stat("CPU busy (worst)", "Busiest host: share of CPU time not idle.",
             [Query(f"max({BUSY})")], unit="percent", decimals=1, thresholds=PERCENT_STEPS),
        stat("Memory used (worst)", "Host with the least available memory (MemAvailable).",
             [Query(f"max({MEMORY_USED})")], unit="percent", decimals=1,
             thresholds=PERCENT_STEPS),
        stat("Fullest disk", "Most used filesystem of the selected hosts (no tmpfs/overlay).",
             [Query(f"max({DISK_USED})")], unit="percent", decimals=1, thresholds=PERCENT_STEPS),
        stat("Load per CPU (worst)", "5-minute load average ÷ CPUs: above 1 work is queuing.",
             [Query(f"max(node_load5{{{SEL}}} / on (instance) {CPUS})")], unit="short",
             decimals=2, thresholds=LOAD_STEPS),
        stat("Network errors", "Receive and transmit errors per second, all hosts.",
             [Query(f"sum(rate(node_network_receive_errs_total{{{NIC}}}{RI})) + "
                    f"sum(rate(node_network_transmit_errs_total{{{NIC}}}{RI}))")],
             unit="pps", thresholds=threshold_steps((0.01, RED))),
    ]  # fmt: skip  # laid out as a table
    cpu = Row("CPU and load", [
        timeseries("CPU busy", "Utilisation: share of CPU time not idle, per host.",
                   [Query(BUSY, "{{instance}}")], unit="percent", minimum=0, maximum=100,
                   thresholds=PERCENT_STEPS),
        timeseries("CPU by mode", "Where CPU time goes (user, system, iowait, steal ...), "
                   "in cores, all selected hosts.",
                   [Query(f'sum by (mode) (rate(node_cpu_seconds_total{{{SEL}, mode!="idle"}}'
                          f"{RI}))", "{{mode}}")], unit="short", stacked=True),
        timeseries("Load per CPU", "Saturation: 1, 5 and 15-minute load ÷ CPUs, per host.", [
            Query(f"node_load1{{{SEL}}} / on (instance) {CPUS}", "{{instance}} 1m"),
            Query(f"node_load5{{{SEL}}} / on (instance) {CPUS}", "{{instance}} 5m"),
            Query(f"node_load15{{{SEL}}} / on (instance) {CPUS}", "{{instance}} 15m"),
        ], unit="short", thresholds=LOAD_STEPS),
        timeseries("Memory used", "Utilisation: 1 − MemAvailable ÷ MemTotal, per host.",
                   [Query(MEMORY_USED, "{{instance}}")], unit="percent", minimum=0, maximum=100,
                   thresholds=PERCENT_STEPS),
    ])  # fmt: skip  # panels as the row shows them
    disk = Row("Disk", [
        timeseries("Filesystem used", "Space used per mount point.",
                   [Query(DISK_USED, "{{instance}} {{mountpoint}}")], unit="percent",
                   minimum=0, maximum=100, thresholds=PERCENT_STEPS),
        timeseries("Disk busy", "Saturation: share of time each device had I/O in flight.",
                   [Query(f"rate(node_disk_io_time_seconds_total{{{SEL}}}{RI})",
                          "{{instance}} {{device}}")], unit="percentunit", minimum=0, maximum=1),
        timeseries("Disk throughput", "Bytes read and written per second, per host.", [
            Query(f"sum by (instance) (rate(node_disk_read_bytes_total{{{SEL}}}{RI}))",
                  "{{instance}} read"),
            Query(f"sum by (instance) (rate(node_disk_written_bytes_total{{{SEL}}}{RI}))",
                  "{{instance}} write"),
        ], unit="Bps"),
    ], panel_width=8)  # fmt: skip  # panels as the row shows them
    network = Row("Network", [
        timeseries("Network traffic", "Bytes received and sent per second (physical NICs).", [
            Query(f"sum by (instance) (rate(node_network_receive_bytes_total{{{NIC}}}{RI}))",
                  "{{instance}} in"),
            Query(f"sum by (instance) (rate(node_network_transmit_bytes_total{{{NIC}}}{RI}))",
                  "{{instance}} out"),
        ], unit="Bps"),
        timeseries("Network errors", "Errors: packets received or sent with errors, per second.",
                   [Query(f"sum by (instance) (rate(node_network_receive_errs_total{{{NIC}}}{RI})"
                          f" + rate(node_network_transmit_errs_total{{{NIC}}}{RI}))",
                          "{{instance}}")], unit="pps", thresholds=threshold_steps((0.01, RED))),
    ])  # fmt: skip  # panels as the row shows them
    return dashboard(
        uid=UID,
        title="EC2 hosts",
        description="EC2 instances from node_exporter, by the USE method: utilisation, "
        "saturation and errors of CPU, memory, disk and network.",
        tags=["aws", "ec2", "node-exporter"],
        variables=VARIABLES,
        overview=overview,
        rows=[cpu, disk, network],
    )
