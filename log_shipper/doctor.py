"""`logs doctor`: the cluster checked as the shipper sees it, with what to fix.

Each check gives a Finding: ok, warn (worth a look) or fail (it will break: events will be
dead-lettered or refused). Reads only; the figures come from cluster.py.

- reach: the URL answers, and the auth in the settings is accepted;
- health: green, or why not (a replica a single node can never hold);
- template: each family's template is there, current, and is the one new indices get;
- shards: open shards against cluster.max_shards_per_node × data nodes, now and projected
  for the configured routes (retention × shards per index × copies × log groups when the
  pattern has one index per log group);
- disk: each node against the flood-stage and high watermarks, and read-only blocks;
- heap: JVM heap in use (Amazon OpenSearch Service blocks writes at 92% memory pressure);
- retention: nothing older than the retention is left (maintain runs), ISM where there is ISM;
- legacy: indices of the old per-log-group layout, and when they go.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from opensearchpy.exceptions import ConnectionError as TransportConnectionError
from opensearchpy.exceptions import TransportError

from log_shipper import cluster, ism, lifecycle, template
from log_shipper.config import ShipperSettings
from log_shipper.layout import Family

OK, WARN, FAIL = "ok", "warn", "fail"
SHARDS_WARN = 0.8
HEAP_WARN, HEAP_FAIL = 80, 92
LOG_GROUPS_IF_UNKNOWN = 100


@dataclass(frozen=True)
class Finding:
    level: str
    check: str
    message: str
    fix: str = ""

    def to_json(self) -> dict[str, str]:
        return {"level": self.level, "check": self.check, "message": self.message, "fix": self.fix}


def diagnose(client: Any, settings: ShipperSettings, *, today: date) -> list[Finding]:
    try:
        state = cluster.read_state(client)
    except TransportError as error:
        return [_unreachable(settings, error)]
    found = [
        Finding(OK, "reach", f"{state.distribution} {state.version} at {settings.opensearch_url}")
    ]
    found.append(_health(state, settings))
    families = settings.router.families()
    seen = _Seen(
        client=client,
        settings=settings,
        state=state,
        families=families,
        listings={
            f.pattern: [
                i
                for i in cluster.indices(client, [f.wildcard], data_streams=settings.data_stream)
                if f.matches(i.name)
            ]
            for f in families
        },
        today=today,
    )
    for family in families:
        found.append(_template(client, settings, family, families[0]))
    found.extend(_shards(seen))
    found.extend(_disk(client, state, families))
    found.append(_heap(state))
    found.extend(_retention(seen, family) for family in families)
    found.extend(_legacy(client, families, today))
    return found


@dataclass(frozen=True)
class _Seen:
    """What the checks read, once."""

    client: Any
    settings: ShipperSettings
    state: cluster.ClusterState
    families: list[Family]
    listings: dict[str, list[cluster.IndexInfo]]
    today: date


def exit_status(findings: list[Finding]) -> int:
    return 1 if any(f.level == FAIL for f in findings) else 0


def _unreachable(settings: ShipperSettings, error: TransportError) -> Finding:
    status = error.status_code
    if status in (401, 403):
        return Finding(
            FAIL,
            "reach",
            f"{settings.opensearch_url} refused OPENSEARCH_AUTH={settings.auth} "
            f"(HTTP {status}: {str(error.info)[:200]})",
            "check the credentials (OPENSEARCH_SECRET_ARN) or the role's access: the domain's "
            "access policy, fine-grained access control's role mapping, or Serverless' data "
            "access policy",
        )
    what = "could not connect" if isinstance(error, TransportConnectionError) else f"HTTP {status}"
    return Finding(
        FAIL,
        "reach",
        f"OPENSEARCH_URL={settings.opensearch_url}: {what} ({str(error.error)[:200]})",
        "check the URL, and that this machine (or the Lambda's VPC and security group) can "
        "reach it",
    )


def _health(state: cluster.ClusterState, settings: ShipperSettings) -> Finding:
    if state.status == "green":
        return Finding(OK, "health", f"green, {state.data_nodes} data node(s)")
    if state.status == "yellow":
        why = f"{state.unassigned_shards} replica shard(s) unassigned"
        if state.data_nodes == 1:
            return Finding(
                WARN,
                "health",
                f"yellow: {why}; one data node can never hold a replica",
                "LOG_SHIPPER_REPLICAS=auto (the default) and `opsbundle logs maintain` sets "
                "0 replicas on our indices; other indices: set index.number_of_replicas to 0",
            )
        return Finding(WARN, "health", f"yellow: {why}", "see GET _cluster/allocation/explain")
    return Finding(
        FAIL,
        "health",
        f"{state.status or 'unknown'}: {state.unassigned_shards} shard(s) unassigned, some "
        "primaries among them: writes to those indices fail",
        "GET _cluster/allocation/explain says why; on Amazon OpenSearch Service see the "
        "domain's ClusterStatus.red troubleshooting",
    )


def _template(client: Any, settings: ShipperSettings, family: Family, default: Family) -> Finding:
    name = template.template_name(settings.layout, family, default)
    held = template.get(client, name)
    if held is None:
        return Finding(
            FAIL,
            "template",
            f"{name} is missing: new {family.wildcard} indices would get dynamic mappings",
            "opsbundle logs setup (or the shipper's next cold start) installs it",
        )
    clash = template.winner(client, name, family)
    if clash:
        return Finding(FAIL, "template", clash, "see the template_clash troubleshooting row")
    wanted = template.template_body(family, settings.layout)["_meta"]["digest"]
    if held.get("_meta", {}).get("digest") != wanted:
        return Finding(
            WARN,
            "template",
            f"{name} differs from this version's (an older shipper, or other settings)",
            "opsbundle logs setup updates it; indices made from tomorrow on take it",
        )
    return Finding(OK, "template", f"{name} applies to new {family.wildcard} indices")


def projected_shards(family: Family, shards_per_index: int, copies: int, log_groups: int) -> int:
    """Shards the family holds once retention is steady: kept periods (plus the next one,
    which events from a clock ahead can open), each index's primaries and replicas."""
    if family.granularity is None:
        periods = 1
    else:
        days = family.retention_days if family.retention_days is not None else 3650
        span = {"day": 1, "month": 30, "year": 365}[family.granularity]
        periods = math.ceil(days / span) + 2
    return periods * shards_per_index * copies * (log_groups if family.per_log_group else 1)


def _shards(seen: _Seen) -> list[Finding]:
    client, settings, state = seen.client, seen.settings, seen.state
    families, listings = seen.families, seen.listings
    limit, open_now = state.shard_limit, state.open_shards
    ours_now = sum(i.primaries * (1 + i.replicas) for listed in listings.values() for i in listed)
    copies = 1 + (
        min(1, state.data_nodes - 1) if settings.replicas == "auto" else int(settings.replicas)
    )
    projected, parts = 0, []
    for family in families:
        name = template.template_name(settings.layout, family, families[0])
        per_index = template.shards_of(template.get(client, name) or {}) or 1
        groups = _log_groups(listings[family.pattern]) if family.per_log_group else 1
        count = projected_shards(family, per_index, copies, groups)
        projected += count
        parts.append(
            f"{family.wildcard}: {count}"
            + (f" ({groups} log groups × {per_index}×{copies})" if family.per_log_group else "")
        )
    total = open_now - ours_now + projected
    detail = (
        f"{open_now} of {limit} shards open now ({state.max_shards_per_node} per node × "
        f"{state.data_nodes}); with the routes' retention: {total} ({'; '.join(parts)})"
    )
    fix = (
        "route fewer log groups to a per-log-group pattern ({log_group} makes an index per "
        "group per day), shorten retention, or use a coarser date ({yyyy.MM}); raising "
        "cluster.max_shards_per_node only moves the wall (heap)"
    )
    if open_now >= limit:
        return [Finding(FAIL, "shards", f"at the limit: {detail}", fix)]
    if total >= limit:
        return [Finding(FAIL, "shards", f"will pass the limit: {detail}", fix)]
    if total >= SHARDS_WARN * limit:
        return [Finding(WARN, "shards", f"near the limit: {detail}", fix)]
    return [Finding(OK, "shards", detail)]


def _log_groups(listed: list[cluster.IndexInfo]) -> int:
    """Log groups seen in a per-log-group family (a name less its date), or a guess."""
    slugs = {re.sub(r"-\d{4}(\.\d{2}){0,2}$", "", i.name) for i in listed}
    return max(len(slugs), 1) if listed else LOG_GROUPS_IF_UNKNOWN


def _disk(client: Any, state: cluster.ClusterState, families: list[Family]) -> list[Finding]:
    found: list[Finding] = []
    blocked = cluster.blocked_indices(client, [f.wildcard for f in families])
    full = sorted(n for n, blocks in blocked.items() if "read_only_allow_delete" in blocks)
    if full or "cluster.blocks.read_only_allow_delete" in state.cluster_blocks:
        found.append(
            Finding(
                FAIL,
                "disk",
                f"read-only after the disk filled: {', '.join(full[:5]) or 'the whole cluster'}"
                f"{' and more' if len(full) > 5 else ''}; events are dead-lettered as disk_full",
                "free space (shorter retention and `logs maintain`, or more storage); OpenSearch "
                "lifts the block itself once usage is below the high watermark (else: PUT "
                '<index>/_settings {"index.blocks.read_only_allow_delete": null})',
            )
        )
    others = sorted(n for n, blocks in blocked.items() if n not in full and blocks)
    if others or "cluster.blocks.read_only" in state.cluster_blocks:
        found.append(
            Finding(
                FAIL,
                "disk",
                f"writes blocked: {', '.join(others[:5]) or 'cluster.blocks.read_only'}",
                "someone set a write or read-only block: lift it when that was not meant",
            )
        )
    flood = _percent(state.watermarks.get("flood_stage"))
    high = _percent(state.watermarks.get("high"))
    for node in state.nodes:
        if node.disk_percent is None or not node.data:
            continue
        used = f"{node.name}: disk {node.disk_percent}% used"
        if flood is not None and node.disk_percent >= flood:
            found.append(Finding(FAIL, "disk", f"{used}, at the flood stage ({flood}%)"))
        elif high is not None and node.disk_percent >= high:
            found.append(
                Finding(
                    WARN,
                    "disk",
                    f"{used}, past the high watermark ({high}%): shards move away or stop",
                    "shorten retention or add storage before the flood stage makes indices "
                    "read-only",
                )
            )
    if not found:
        found.append(Finding(OK, "disk", "no block; every data node under its high watermark"))
    return found


def _percent(text: str | None) -> int | None:
    if text and text.strip().endswith("%"):
        try:
            return int(float(text.strip()[:-1]))
        except ValueError:
            return None
    return None  # an absolute size watermark: the node's own disk answer counts


def _heap(state: cluster.ClusterState) -> Finding:
    heaps = [n.heap_percent for n in state.nodes if n.heap_percent is not None]
    if not heaps:
        return Finding(OK, "heap", "not reported")
    worst = max(heaps)
    if worst >= HEAP_FAIL:
        return Finding(
            FAIL,
            "heap",
            f"JVM heap {worst}% used: the circuit breaker refuses requests (429)",
            "fewer shards (each costs heap), or a larger instance",
        )
    if worst >= HEAP_WARN:
        return Finding(WARN, "heap", f"JVM heap {worst}% used", "fewer shards, or more memory")
    return Finding(OK, "heap", f"JVM heap {worst}% used at most")


def _retention(seen: _Seen, family: Family) -> Finding:
    client, settings, state = seen.client, seen.settings, seen.state
    listed, today = seen.listings[family.pattern], seen.today
    if not family.dated:
        kind = "one data stream" if settings.data_stream else "one index"
        return Finding(
            FAIL if settings.data_stream else WARN,
            "retention",
            f"{family.pattern} has no date: {kind} that only grows; retention can't delete "
            "part of it",
            "use a dated pattern, e.g. opsbundle-logs-<name>-{yyyy.MM.dd}",
        )
    if family.retention_days is None:
        return Finding(WARN, "retention", f"{family.wildcard} is kept for ever")
    overdue = [i.name for i in listed if family.expired(i.name, today)]
    if overdue:
        return Finding(
            WARN,
            "retention",
            f"{len(overdue)} {family.wildcard} indices are older than "
            f"{family.retention_days} days (oldest {overdue[0]}): retention is not running",
            "deploy the maintenance schedule (log-shipper stack) or run opsbundle logs maintain",
        )
    note = ""
    if settings.ism and ism.has_ism(state.plugins):
        name = template.template_name(settings.layout, family, settings.router.families()[0])
        try:
            client.transport.perform_request("GET", f"/_plugins/_ism/policies/{name}")
            note = f"; ISM policy {name} in place"
        except TransportError:
            return Finding(
                WARN,
                "retention",
                f"ISM is available but the policy {name} is not in place",
                "opsbundle logs maintain installs it",
            )
    return Finding(OK, "retention", f"{family.wildcard}: {family.retention_days} days{note}")


def _legacy(client: Any, families: list[Family], today: date) -> list[Finding]:
    names = lifecycle.legacy_indices(client, families)
    if not names:
        return []
    legacy = lifecycle.legacy_family(families[0])
    last = max((p[1] for n in names if (p := legacy.period(n))), default=None)
    gone = "kept for ever"
    if last and legacy.retention_days:
        gone = f"the last one on {last + timedelta(days=legacy.retention_days)}"
    return [
        Finding(
            WARN,
            "legacy",
            f"{len(names)} indices in the old per-log-group layout (logs-<group>-<day>): "
            f"maintain deletes them with the default retention ({gone})",
            "search them meanwhile with an index pattern logs-*; `logs maintain` ages them out",
        )
    ]
