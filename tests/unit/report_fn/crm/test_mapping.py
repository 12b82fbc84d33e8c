"""Raw CRM records → leads: skipped rows are counted by reason, never crash the run."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from opsbundle.exceptions import ConfigError
from report_fn.crm.mapping import FieldMapping, parse_records, parse_time

EXPORT = FieldMapping.for_crm("export")


def test_malformed_rows_are_skipped_and_counted_by_reason() -> None:
    rows = [
        {"id": "1", "created_at": "2026-11-26T10:00:00Z", "status": "new", "source": "TV"},
        {"id": "1", "created_at": "2026-11-26T11:00:00Z", "status": "new"},  # repeated id
        {"id": "", "created_at": "2026-11-26T11:00:00Z"},
        {"id": "3", "created_at": ""},
        {"id": "4"},
        {"id": "5", "created_at": "next tuesday"},
        ["not", "a", "record"],
        None,
        {"id": "6", "created_at": 1764151200000, "status": "Closed Won"},  # epoch ms
    ]
    parsed = parse_records(rows, EXPORT)
    assert parsed.rows_read == 9
    assert [lead.id for lead in parsed.leads] == ["1", "6"]
    assert dict(parsed.skipped) == {
        "duplicate_id": 1,
        "missing_id": 1,
        "missing_created_time": 2,
        "bad_created_time": 1,
        "not_an_object": 2,
    }
    assert dict(parsed.unmapped_statuses) == {"Closed Won": 1}
    assert parsed.leads[1].status == "other"
    assert parsed.leads[0].campaign == "(not set)"


def test_times_in_the_shapes_crms_send() -> None:
    expected = datetime(2026, 11, 26, 13, 5, tzinfo=UTC)
    assert parse_time("2026-11-26T13:05:00.000+0000") == expected  # Salesforce
    assert parse_time("2026-11-26T13:05:00Z") == expected  # HubSpot
    assert parse_time("1795698300000") == expected  # epoch milliseconds as text
    assert parse_time(1795698300) == expected  # epoch seconds
    ny = ZoneInfo("America/New_York")
    assert parse_time("11/26/2026 08:05", ny) == expected  # a US export, local time
    assert parse_time("2026-11-26 08:05:00", ny) == expected
    assert parse_time("soon") is None
    assert parse_time(True) is None


def test_salesforce_defaults_map_its_picklist_and_nested_fields() -> None:
    mapping = FieldMapping.for_crm("salesforce", fields={"campaign": "Campaign.Name"})
    record = {
        "attributes": {"type": "Lead"},
        "Id": "00Q1",
        "CreatedDate": "2026-11-26T13:05:00.000+0000",
        "LeadSource": "Web",
        "Status": "Closed - Converted",
        "Campaign": {"attributes": {"type": "Campaign"}, "Name": "TV & Radio"},
        "State": "TX",
        "Case_Type__c": "Mass Torts",
    }
    (lead,) = parse_records([record], mapping).leads
    assert (lead.status, lead.campaign, lead.case_type) == ("signed", "TV & Radio", "Mass Torts")
    assert mapping.crm_fields() == [
        "Id",
        "CreatedDate",
        "LeadSource",
        "Campaign.Name",
        "Case_Type__c",
        "State",
        "Status",
    ]


def test_user_status_map_extends_the_defaults_case_insensitively() -> None:
    mapping = FieldMapping.for_crm("hubspot", statuses={"Retained": "signed"})
    rows = [
        {"hs_object_id": "1", "createdate": "2026-11-26T13:05:00Z", "hs_lead_status": "RETAINED"},
        {"hs_object_id": "2", "createdate": "2026-11-26T13:05:00Z", "hs_lead_status": "OPEN_DEAL"},
    ]
    assert [lead.status for lead in parse_records(rows, mapping).leads] == ["signed", "qualified"]


def test_bad_mappings_name_the_setting() -> None:
    with pytest.raises(ConfigError, match="CRM_FIELD_MAP: unknown field 'owner'"):
        FieldMapping.for_crm("export", fields={"owner": "OwnerId"})
    with pytest.raises(ConfigError, match="CRM_STATUS_MAP: 'Won' maps to 'won'"):
        FieldMapping.for_crm("export", statuses={"Won": "won"})


def test_long_and_messy_values_are_trimmed() -> None:
    rows = [
        {"id": "1", "created_at": "2026-11-26T10:00:00Z", "source": "  Google \n Ads " + "x" * 300}
    ]
    (lead,) = parse_records(rows, EXPORT).leads
    assert lead.source.startswith("Google Ads x")
    assert len(lead.source) == 120
