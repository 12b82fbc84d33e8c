"""Filters keep the leads a report is about: every field named must match one of its patterns."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from report_fn.filters import LeadFilter
from report_fn.leads import Lead


def lead(**values: str) -> Lead:
    fields = {"source": "TV", "campaign": "Mass Torts – Camp Lejeune", "case_type": "Mass Torts",
              "state": "TX", "status": "new", **values}  # fmt: skip  # laid out as a table
    return Lead(id="1", created=datetime(2026, 11, 26, tzinfo=UTC), **fields)


def test_no_filter_keeps_everything() -> None:
    assert not LeadFilter()
    assert LeadFilter().apply([lead(), lead(state="FL")]) == [lead(), lead(state="FL")]


def test_every_field_must_match_one_of_its_patterns() -> None:
    only = LeadFilter.of({"state": ["TX", "fl"], "campaign": "mass torts*"})
    assert only.keep(lead())
    assert only.keep(lead(state="FL"))
    assert not only.keep(lead(state="CA"))
    assert not only.keep(lead(campaign="Car Accident – Search"))
    assert only.describe() == "state TX or fl · campaign mass torts*"


def test_status_can_be_filtered() -> None:
    assert LeadFilter.of({"status": "signed"}).apply([lead(), lead(status="signed")]) == [
        lead(status="signed")
    ]


def test_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown lead field 'owner'"):
        LeadFilter.of({"owner": "me"})
