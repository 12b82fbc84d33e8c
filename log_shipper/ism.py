"""Index State Management (ISM) policies: retention inside the cluster, where it has the plugin.

Amazon OpenSearch Service domains and OpenSearch with the index-management plugin run ISM;
a plain node and Serverless do not (there `logs maintain` deletes expired indices with core
APIs, and it does so everywhere, as a second line). One policy per family with a retention,
`opsbundle-logs-<family>`: an index stays in `open` until it is `retention + one period` old
(ISM counts age from the index's creation, which is its first event: the period's start),
then moves to `delete`. Its `ism_template` attaches the policy to every new index of the
family; `attach` adds it to indices made before the policy existed.

Request and response shapes follow the ISM API documentation (opensearch.org, "ISM API"):
    PUT  _plugins/_ism/policies/<id>[?if_seq_no=&if_primary_term=]   {"policy": {...}}
    GET  _plugins/_ism/policies/<id>  -> {"_id", "_seq_no", "_primary_term", "policy": {...}}
    POST _plugins/_ism/add/<index pattern>   {"policy_id": ...}
         -> {"updated_indices": n, "failures": bool, "failed_indices": [...]}
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from opensearchpy.exceptions import NotFoundError, TransportError

from log_shipper.layout import Family
from log_shipper.template import MANAGED_BY, PRIORITY

PLUGIN = "opensearch-index-management"


@dataclass(frozen=True)
class PolicyResult:
    policy_id: str
    put: bool
    attached: int = 0


def has_ism(plugins: list[dict[str, Any]]) -> bool:
    """Whether `_cat/plugins?format=json` lists the index-management plugin on any node."""
    return any(p.get("component") == PLUGIN for p in plugins)


def policy_id(template_name: str) -> str:
    return template_name  # one family, one template, one policy: the same name


def policy_body(family: Family) -> dict[str, Any]:
    """The policy for a family with a retention (callers check `family.ism_min_index_age`)."""
    age = family.ism_min_index_age
    assert age is not None
    policy: dict[str, Any] = {
        "default_state": "open",
        "states": [
            {
                "name": "open",
                "actions": [],
                "transitions": [{"state_name": "delete", "conditions": {"min_index_age": age}}],
            },
            {"name": "delete", "actions": [{"delete": {}}], "transitions": []},
        ],
        "ism_template": [{"index_patterns": [family.wildcard], "priority": PRIORITY}],
    }
    digest = hashlib.blake2b(json.dumps(policy, sort_keys=True).encode(), digest_size=6)
    # OpenSearch hands the states back with defaults added (each action's retry): the
    # description carries a digest of what we asked for, to compare with.
    policy["description"] = (
        f"{MANAGED_BY}: delete {family.wildcard} indices once every event in them is older "
        f"than {family.retention_days} days [{digest.hexdigest()}]"
    )
    return {"policy": policy}


def install(client: Any, family: Family, name: str) -> PolicyResult:
    """Put the policy when missing or different; attach it to the family's unmanaged indices."""
    body = policy_body(family)
    path = f"/_plugins/_ism/policies/{name}"
    try:
        current = client.transport.perform_request("GET", path)
    except NotFoundError:
        current = None
    put = False
    if current is None:
        client.transport.perform_request("PUT", path, body=body)
        put = True
    elif current.get("policy", {}).get("description") != body["policy"]["description"]:
        params = {"if_seq_no": current["_seq_no"], "if_primary_term": current["_primary_term"]}
        client.transport.perform_request("PUT", path, params=params, body=body)
        put = True
    return PolicyResult(name, put, attach(client, family, name))


def attach(client: Any, family: Family, name: str) -> int:
    """Add the policy to indices of the family that no policy manages yet (made before it)."""
    try:
        answer = client.transport.perform_request(
            "POST", f"/_plugins/_ism/add/{family.wildcard}", body={"policy_id": name}
        )
    except TransportError as error:
        if error.status_code == 404:  # no index of the family yet
            return 0
        raise
    return int(answer.get("updated_indices", 0)) if isinstance(answer, dict) else 0
