"""The cluster as the shipper sees it: a snapshot read with core APIs that every OpenSearch
(and Amazon OpenSearch Service) answers, for `logs maintain` and `logs doctor`.

Read-only; each figure says where it comes from:
    GET /                                    version
    GET _cluster/health                      status, data nodes, shards (unassigned too)
    GET _cluster/settings?include_defaults   shard limit per node, disk watermarks, blocks
    GET _cat/allocation, _cat/nodes          disk and heap per node
    GET _cat/plugins                         whether ISM is there
    GET _cat/indices/<patterns>              each index of ours: size, shards, replicas
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from opensearchpy.exceptions import NotFoundError, TransportError

DEFAULT_MAX_SHARDS_PER_NODE = 1000
DEFAULT_WATERMARKS = {"low": "85%", "high": "90%", "flood_stage": "95%"}


@dataclass(frozen=True)
class IndexInfo:
    name: str
    primaries: int
    replicas: int
    docs: int
    primary_bytes: int
    health: str  # green, yellow, red ("" when closed)
    status: str  # open, close


@dataclass(frozen=True)
class NodeInfo:
    name: str
    data: bool
    heap_percent: int | None
    disk_percent: int | None


@dataclass
class ClusterState:
    version: str = ""
    distribution: str = "opensearch"
    status: str = ""
    data_nodes: int = 1
    active_shards: int = 0
    unassigned_shards: int = 0
    initializing_shards: int = 0
    max_shards_per_node: int = DEFAULT_MAX_SHARDS_PER_NODE
    watermarks: dict[str, str] = field(default_factory=lambda: dict(DEFAULT_WATERMARKS))
    cluster_blocks: list[str] = field(default_factory=list)
    nodes: list[NodeInfo] = field(default_factory=list)
    plugins: list[dict[str, Any]] = field(default_factory=list)

    @property
    def shard_limit(self) -> int:
        """What `cluster.max_shards_per_node` allows in all: per data node."""
        return self.max_shards_per_node * max(1, self.data_nodes)

    @property
    def open_shards(self) -> int:
        """Shards the limit counts: every copy of every open index, assigned or not."""
        return self.active_shards + self.unassigned_shards + self.initializing_shards


def read_state(client: Any) -> ClusterState:
    """The snapshot; raises TransportError when OpenSearch can't be asked at all."""
    state = ClusterState()
    root = client.info()
    version = root.get("version", {})
    state.version = str(version.get("number", ""))
    state.distribution = str(version.get("distribution", "elasticsearch"))
    health = client.cluster.health()
    state.status = str(health.get("status", ""))
    state.data_nodes = int(health.get("number_of_data_nodes", 1) or 1)
    state.active_shards = int(health.get("active_shards", 0))
    state.unassigned_shards = int(health.get("unassigned_shards", 0))
    state.initializing_shards = int(health.get("initializing_shards", 0))
    settings = _flat_settings(client)
    limit = settings.get("cluster.max_shards_per_node")
    if limit is not None:
        state.max_shards_per_node = int(limit)
    for level in DEFAULT_WATERMARKS:
        value = settings.get(f"cluster.routing.allocation.disk.watermark.{level}")
        if value:
            state.watermarks[level] = str(value)
    state.cluster_blocks = [
        name
        for name in ("cluster.blocks.read_only", "cluster.blocks.read_only_allow_delete")
        if str(settings.get(name, "false")).lower() == "true"
    ]
    state.nodes = _nodes(client)
    state.plugins = _optional(lambda: client.cat.plugins(format="json"), [])
    return state


def _flat_settings(client: Any) -> dict[str, Any]:
    answer = client.cluster.get_settings(include_defaults=True, flat_settings=True)
    merged: dict[str, Any] = {}
    for scope in ("defaults", "persistent", "transient"):  # the later ones win
        merged.update(answer.get(scope, {}) or {})
    return merged


def _nodes(client: Any) -> list[NodeInfo]:
    heap = _optional(lambda: client.cat.nodes(format="json", h="name,heap.percent,node.role"), [])
    disk = _optional(lambda: client.cat.allocation(format="json", h="node,disk.percent"), [])
    disk_by_node = {d.get("node"): _int(d.get("disk.percent")) for d in disk}
    return [
        NodeInfo(
            name=str(n.get("name")),
            data="d" in str(n.get("node.role", "d")),
            heap_percent=_int(n.get("heap.percent")),
            disk_percent=disk_by_node.get(n.get("name")),
        )
        for n in heap
    ]


def indices(client: Any, patterns: list[str], *, data_streams: bool = False) -> list[IndexInfo]:
    """Every index (open or closed) matching the patterns, with its primary store size; with
    `data_streams`, each data stream as one, its backing indices (.ds-<name>-000001) added up."""
    if not patterns:
        return []
    try:
        rows = client.cat.indices(
            index=",".join(patterns),
            format="json",
            bytes="b",
            expand_wildcards="open,closed",
            h="index,health,status,pri,rep,docs.count,pri.store.size",
        )
    except NotFoundError:
        return []
    found = [
        IndexInfo(
            name=str(row.get("index")),
            primaries=_int(row.get("pri")) or 0,
            replicas=_int(row.get("rep")) or 0,
            docs=_int(row.get("docs.count")) or 0,
            primary_bytes=_int(row.get("pri.store.size")) or 0,
            health=str(row.get("health") or ""),
            status=str(row.get("status") or ""),
        )
        for row in rows
    ]
    if data_streams:
        found = _by_stream(found)
    return sorted(found, key=lambda i: i.name)


_BACKING = re.compile(r"\.ds-(.+)-\d{6}")


def _by_stream(backing: list[IndexInfo]) -> list[IndexInfo]:
    streams: dict[str, IndexInfo] = {}
    for index in backing:
        match = _BACKING.fullmatch(index.name)
        if match is None:
            continue
        name = match.group(1)
        seen = streams.get(name)
        streams[name] = IndexInfo(
            name=name,
            primaries=index.primaries + (seen.primaries if seen else 0),
            replicas=index.replicas,
            docs=index.docs + (seen.docs if seen else 0),
            primary_bytes=index.primary_bytes + (seen.primary_bytes if seen else 0),
            health=index.health,
            status=index.status,
        )
    return list(streams.values())


def blocked_indices(client: Any, patterns: list[str]) -> dict[str, list[str]]:
    """Index → the blocks set on it (read_only_allow_delete is the disk's)."""
    if not patterns:
        return {}
    try:
        answer = client.indices.get_settings(
            index=",".join(patterns), name="index.blocks.*", flat_settings=True
        )
    except NotFoundError:
        return {}
    found: dict[str, list[str]] = {}
    for name, body in (answer or {}).items():
        blocks = [
            key.removeprefix("index.blocks.")
            for key, value in (body.get("settings") or {}).items()
            if str(value).lower() == "true"
        ]
        if blocks:
            found[name] = blocks
    return found


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _optional(read: Any, default: Any) -> Any:
    """A figure some offerings don't give (Serverless has no _cat/plugins): the default."""
    try:
        return read()
    except TransportError as error:
        if isinstance(error.status_code, int) and error.status_code in (400, 403, 404, 405):
            return default
        raise
