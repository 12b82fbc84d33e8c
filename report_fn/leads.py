"""A lead as the report sees it, whatever CRM it came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

STATUSES = ("new", "contacted", "qualified", "signed", "rejected")
OTHER_STATUS = "other"
NOT_SET = "(not set)"
DIMENSIONS = ("source", "campaign", "case_type", "state")


@dataclass(frozen=True, slots=True)
class Lead:
    id: str
    created: datetime  # aware, UTC
    source: str
    campaign: str
    case_type: str
    state: str
    status: str  # one of STATUSES or OTHER_STATUS
