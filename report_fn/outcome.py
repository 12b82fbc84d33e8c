"""What one run of a report did: posted, recovered, duplicate, quiet, dry_run or test."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from report_fn.aggregate import LeadReport
from report_fn.render import Framing


@dataclass
class ReportOutcome:
    status: str  # posted, recovered, duplicate, quiet, dry_run, test
    slot: datetime
    report: LeadReport | None = None
    channel: str | None = None  # the first channel's ID and message
    ts: str | None = None
    archive_key: str | None = None
    problems: list[str] = field(default_factory=list)
    posts: dict[str, str] = field(default_factory=dict)  # channel as configured -> ts
    framing: Framing | None = None
    emailed: bool = False

    def to_json(self) -> dict[str, Any]:
        raised = self.framing.raised if self.framing else []
        return {
            "report": self.report.name if self.report else None,
            "status": self.status,
            "slot": self.slot.isoformat().replace("+00:00", "Z"),
            "channel": self.channel,
            "ts": self.ts,
            "posts": self.posts,
            "archive_key": self.archive_key,
            "leads": self.report.totals.leads if self.report else None,
            "flags": [flag.threshold.headline for flag in raised],
            "emailed": self.emailed,
            "problems": self.problems,
        }
