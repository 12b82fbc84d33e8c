"""RDS: CPU, connections, free storage, freeable memory, read/write latency, IOPS, replica lag.

Source: CloudWatch `AWS/RDS` through YACE: `aws_rds_<metric>_<statistic>` with
`dimension_DBInstanceIdentifier`. Latencies are in seconds and storage and memory in bytes,
as CloudWatch reports them.

Counted once: `AWS/RDS` also keeps metrics per Aurora cluster (`{DBClusterIdentifier}`, with
`Role`), per engine (`{EngineName}`), per instance class (`{DatabaseClass}`) and for the whole
account; YACE exports the last three as `name="global"`. They all have an empty
`dimension_DBInstanceIdentifier`, which the DB instance variable never offers and
`INSTANCE_LEVEL` excludes, so no panel adds them to the instances' totals.
"""

from __future__ import annotations

from typing import Any

from dashboards.conventions import (
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

UID = "opsbundle-rds"
INSTANCE_LEVEL = 'dimension_DBInstanceIdentifier!=""'
SEL = f'region=~"$region", dimension_DBInstanceIdentifier=~"$db", {INSTANCE_LEVEL}'
NAME = "dimension_DBInstanceIdentifier"
BY = f"account_id, region, {NAME}"  # an instance is its identifier in one account and region
LEGEND = "{{dimension_DBInstanceIdentifier}}"
GIB = 1024**3

CPU_STEPS = threshold_steps((80, YELLOW), (90, RED))
STORAGE_STEPS = threshold_steps((5 * GIB, YELLOW), (20 * GIB, "green"), base=RED)
LATENCY_STEPS = threshold_steps((0.02, YELLOW), (0.1, RED))
LAG_STEPS = threshold_steps((30, YELLOW), (300, RED))

VARIABLES = [
    Variable("region", "Region", "aws_rds_cpuutilization_average", "region"),
    Variable("db", "DB instance", 'aws_rds_cpuutilization_average{region=~"$region"}', NAME),
]


def _per_db(metric: str, how: str = "max") -> str:
    return f"{how} by ({BY}) ({metric}{{{SEL}}})"


def build() -> dict[str, Any]:
    overview = [
        stat("CPU (worst)", "Busiest instance's average CPU utilisation.",
             [Query(f"max(aws_rds_cpuutilization_average{{{SEL}}})")], unit="percent",
             decimals=1, thresholds=CPU_STEPS),
        stat("Connections", "Open database connections, all selected instances.",
             [Query(f"sum(aws_rds_database_connections_average{{{SEL}}})")], unit="short"),
        stat("Free storage (least)", "The instance closest to full; alert RdsStorageLow fires "
             "under 5 GiB.", [Query(f"min(aws_rds_free_storage_space_average{{{SEL}}})")],
             unit="bytes", thresholds=STORAGE_STEPS),
        stat("Freeable memory (least)", "The instance with the least freeable memory.",
             [Query(f"min(aws_rds_freeable_memory_average{{{SEL}}})")], unit="bytes"),
        stat("Read latency (worst)", "Slowest instance's average time per read I/O.",
             [Query(f"max(aws_rds_read_latency_average{{{SEL}}})")], unit="s", decimals=4,
             thresholds=LATENCY_STEPS),
        stat("Replica lag (worst)", "How far the most lagging read replica is behind.",
             [Query(f"max(aws_rds_replica_lag_average{{{SEL}}})")], unit="s",
             thresholds=LAG_STEPS),
    ]  # fmt: skip  # laid out as a table
    load = Row("Load", [
        timeseries("CPU utilisation", "Average CPU per instance.",
                   [Query(_per_db("aws_rds_cpuutilization_average"), LEGEND)], unit="percent",
                   minimum=0, maximum=100, thresholds=CPU_STEPS),
        timeseries("Connections", "Open connections per instance; each class has a "
                   "max_connections limit set by its memory.",
                   [Query(_per_db("aws_rds_database_connections_average"), LEGEND)],
                   unit="short"),
        timeseries("IOPS", "Read and write I/O operations per second, per instance.", [
            Query(_per_db("aws_rds_read_iops_average"), f"{LEGEND} read"),
            Query(_per_db("aws_rds_write_iops_average"), f"{LEGEND} write"),
        ], unit="iops"),
        timeseries("Read and write latency", "Average time per I/O operation, per instance.", [
            Query(_per_db("aws_rds_read_latency_average"), f"{LEGEND} read"),
            Query(_per_db("aws_rds_write_latency_average"), f"{LEGEND} write"),
        ], unit="s", thresholds=LATENCY_STEPS),
    ])  # fmt: skip  # panels as the row shows them
    capacity = Row("Capacity and replication", [
        timeseries("Free storage", "Free storage space per instance; RdsStorageFillingUp "
                   "fires when the trend reaches zero within 4 hours.",
                   [Query(_per_db("aws_rds_free_storage_space_average", "min"), LEGEND)],
                   unit="bytes", minimum=0, thresholds=STORAGE_STEPS),
        timeseries("Freeable memory", "Free RAM per instance; a falling line means the "
                   "buffer cache is squeezed and reads go to disk.",
                   [Query(_per_db("aws_rds_freeable_memory_average", "min"), LEGEND)],
                   unit="bytes", minimum=0),
        timeseries("Replica lag", "Seconds each read replica is behind its source.",
                   [Query(_per_db("aws_rds_replica_lag_average"), LEGEND)], unit="s",
                   minimum=0, thresholds=LAG_STEPS),
    ], panel_width=8)  # fmt: skip  # panels as the row shows them
    return dashboard(
        uid=UID,
        title="RDS",
        description="RDS instances from CloudWatch via YACE: load, latency, storage, "
        "memory and replication.",
        tags=["aws", "rds"],
        variables=VARIABLES,
        overview=overview,
        rows=[load, capacity],
    )
