"""`logs maintain`: keep the log store in shape with core APIs, on any cluster.

For each index family (routing.Router.families), hourly from the scheduled Lambda or by hand:
1. the template is in place and wins (template.install: a clash is reported, not fixed);
2. where the cluster has ISM, the family's delete policy is in place and attached (ism.py);
3. retention: whole indices whose every event is older than the retention are deleted, by
   the date in their name (never documents one by one, never a name we can't read);
4. replicas follow the layout on existing indices too (a single node goes green);
5. shards follow volume: the template's shard count is set so that the largest recent day
   fits in primaries of about LOG_SHIPPER_SHARD_SIZE_GB (the next day's index takes it);
6. the layout used before per-day families (one index per log group per day) is aged out by
   the default retention, so an upgraded install needs nothing by hand.
`dry_run` reports the same plan and changes nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from opensearchpy.exceptions import NotFoundError

from log_shipper import cluster, ism, template
from log_shipper.config import ShipperSettings
from log_shipper.layout import Family
from log_shipper.routing import LEGACY_INDEX

GB = 1024**3
MAX_SHARDS = 64
GROWTH = 1.25  # room for the next day to be a quarter busier than the busiest recent one
RECENT_PERIODS = 3
URL_BUDGET = 3000  # characters of index names in one DELETE (URLs stay far below 4 KB)


@dataclass
class FamilyReport:
    pattern: str
    template: str
    retention_days: int | None
    indices: int = 0
    shards: int = 0  # primaries and replicas, open indices
    clash: str | None = None
    deleted: list[str] = field(default_factory=list)
    replicas_set: list[str] = field(default_factory=list)
    shards_per_index: tuple[int, int] | None = None  # (before, after) when changed
    ism_policy: str | None = None  # the policy id, where ISM runs


@dataclass
class MaintainReport:
    dry_run: bool
    families: list[FamilyReport] = field(default_factory=list)
    legacy_deleted: list[str] = field(default_factory=list)
    legacy_indices: int = 0
    warnings: list[str] = field(default_factory=list)

    @property
    def deleted(self) -> int:
        return sum(len(f.deleted) for f in self.families) + len(self.legacy_deleted)

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "families": [vars(f) for f in self.families],
            "legacy_indices": self.legacy_indices,
            "legacy_deleted": self.legacy_deleted,
            "deleted": self.deleted,
            "warnings": self.warnings,
        }


def maintain(
    client: Any, settings: ShipperSettings, *, today: date, dry_run: bool = False
) -> MaintainReport:
    state = cluster.read_state(client)
    run = _Run(client, settings, state, today, dry_run, settings.ism and ism.has_ism(state.plugins))
    report = MaintainReport(dry_run=dry_run)
    families = settings.router.families()
    for family in families:
        report.families.append(
            run.family(family, template.template_name(settings.layout, family, families[0]))
        )
    names = legacy_indices(client, families)
    legacy = legacy_family(families[0])
    report.legacy_indices = len(names)
    report.legacy_deleted = [n for n in names if legacy.expired(n, today)]
    if report.legacy_deleted and not dry_run:
        delete(client, report.legacy_deleted)
    return report


@dataclass(frozen=True)
class _Run:
    client: Any
    settings: ShipperSettings
    state: cluster.ClusterState
    today: date
    dry_run: bool
    use_ism: bool

    def family(self, family: Family, name: str) -> FamilyReport:
        client, settings, dry_run = self.client, self.settings, self.dry_run
        found = FamilyReport(family.pattern, name, family.retention_days)
        listed = cluster.indices(client, [family.wildcard], data_streams=settings.data_stream)
        listing = [i for i in listed if family.matches(i.name)]
        clash = None
        if not dry_run:
            clash = found.clash = template.install(client, name, family, settings.layout).clash
            if self.use_ism and family.ism_min_index_age:
                found.ism_policy = ism.install(client, family, name).policy_id
        found.deleted = [i.name for i in listing if family.expired(i.name, self.today)]
        if found.deleted and not dry_run:
            delete(client, found.deleted, data_streams=settings.data_stream)
        kept = [i for i in listing if i.name not in set(found.deleted)]
        replicas = _replicas(settings, self.state)
        found.replicas_set = [i.name for i in kept if i.replicas != replicas]
        if found.replicas_set and not dry_run:
            client.indices.put_settings(
                index=",".join(found.replicas_set),
                body={"index": template.replica_settings(settings.replicas)},
            )
        found.indices = len(kept)
        found.shards = sum(i.primaries * (1 + i.replicas) for i in kept if i.status != "close")
        wanted = shards_for(family, kept, self.today, settings.shard_size_gb * GB)
        current = template.shards_of(template.get(client, name) or {})
        if wanted is not None and current is not None and wanted != current:
            found.shards_per_index = (current, wanted)
            if not dry_run and not clash:
                template.install(client, name, family, settings.layout, shards=wanted)
        return found


def shards_for(
    family: Family, indices: list[cluster.IndexInfo], today: date, target_bytes: int
) -> int | None:
    """Primaries for the family's next index: its busiest recent full period, grown by a
    quarter, in shards of the target size. None when no full period is there to go by."""
    if family.granularity is None:
        return None
    done: dict[date, int] = {}  # period end → its largest index
    for index in indices:
        period = family.period(index.name)
        if period and period[1] <= today:
            done[period[1]] = max(done.get(period[1], 0), index.primary_bytes)
    recent = [done[end] for end in sorted(done)[-RECENT_PERIODS:]]
    if not recent:
        return None
    return max(1, min(MAX_SHARDS, math.ceil(max(recent) * GROWTH / target_bytes)))


def _replicas(settings: ShipperSettings, state: cluster.ClusterState) -> int:
    if settings.replicas == "auto":
        return min(1, state.data_nodes - 1)
    return int(settings.replicas)


def delete(client: Any, names: list[str], *, data_streams: bool = False) -> None:
    """Delete whole indices (or data streams) by name, a URL's worth at a time."""
    for chunk in _chunks(names):
        try:
            if data_streams:
                client.indices.delete_data_stream(name=",".join(chunk))
            else:
                client.indices.delete(index=",".join(chunk), expand_wildcards="none")
        except NotFoundError:  # gone already (ISM, another run): what we wanted
            for name in chunk:
                try:
                    client.indices.delete(index=name, expand_wildcards="none")
                except NotFoundError:
                    continue


def _chunks(names: list[str]) -> list[list[str]]:
    chunks: list[list[str]] = [[]]
    size = 0
    for name in names:
        if chunks[-1] and size + len(name) + 1 > URL_BUDGET:
            chunks.append([])
            size = 0
        chunks[-1].append(name)
        size += len(name) + 1
    return [c for c in chunks if c]


def legacy_family(default: Family) -> Family:
    """The layout before per-day families, aged out by the default's retention."""
    return Family(LEGACY_INDEX, default.retention_days)


def legacy_indices(client: Any, families: list[Family]) -> list[str]:
    """Indices in the old per-log-group layout that carry our mappings (an index of another
    tool named logs-x-2026.01.01 is left alone), unless a current family makes them."""
    legacy = legacy_family(families[0])
    if any(f.pattern == legacy.pattern for f in families):
        return []  # still the configured layout: its family keeps it
    try:
        answer = client.indices.get_field_mapping(
            index=legacy.wildcard, fields="aws.cloudwatch.event_id", expand_wildcards="open,closed"
        )
    except NotFoundError:
        return []
    return sorted(
        name
        for name, body in (answer or {}).items()
        if legacy.matches(name)
        and (body.get("mappings") or {}).get("aws.cloudwatch.event_id")
        and not any(f.matches(name) for f in families)
    )
