"""Which CRM field means what, and turning raw CRM records into Leads (pure).

A record that cannot become a lead is skipped and counted under a reason; it never stops
the run. Unknown status values are kept as "other" and counted, so totals stay whole.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any

from opsbundle.exceptions import ConfigError
from report_fn.leads import NOT_SET, OTHER_STATUS, STATUSES, Lead

CANONICAL_FIELDS = ("id", "created", "source", "campaign", "case_type", "state", "status")
MAX_VALUE_LENGTH = 120

# Reasons a row is skipped (the keys of DataQuality.skipped_by_reason).
NOT_AN_OBJECT = "not_an_object"
MISSING_ID = "missing_id"
DUPLICATE_ID = "duplicate_id"
MISSING_CREATED = "missing_created_time"
BAD_CREATED = "bad_created_time"

DEFAULT_FIELDS: dict[str, dict[str, str]] = {
    "salesforce": {
        "id": "Id",
        "created": "CreatedDate",
        "source": "LeadSource",
        "campaign": "Campaign__c",
        "case_type": "Case_Type__c",
        "state": "State",
        "status": "Status",
    },
    "hubspot": {
        "id": "hs_object_id",
        "created": "createdate",
        "source": "hs_analytics_source",
        "campaign": "campaign",
        "case_type": "case_type",
        "state": "state",
        "status": "hs_lead_status",
    },
    "export": {
        "id": "id",
        "created": "created_at",
        "source": "source",
        "campaign": "campaign",
        "case_type": "case_type",
        "state": "state",
        "status": "status",
    },
}

DEFAULT_STATUSES: dict[str, dict[str, str]] = {
    "salesforce": {
        "open - not contacted": "new",
        "working - contacted": "contacted",
        "qualified": "qualified",
        "closed - converted": "signed",
        "closed - not converted": "rejected",
    },
    "hubspot": {
        "new": "new",
        "open": "contacted",
        "in_progress": "contacted",
        "attempted_to_contact": "contacted",
        "connected": "contacted",
        "open_deal": "qualified",
        "qualified": "qualified",
        "signed": "signed",
        "closed_won": "signed",
        "unqualified": "rejected",
        "bad_timing": "rejected",
    },
    "export": {},
}

_WHITESPACE = re.compile(r"\s+")
_US_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%m/%d/%Y")


@dataclass(frozen=True)
class FieldMapping:
    """Canonical field → CRM field name (dotted for nested), and CRM status → canonical."""

    fields: Mapping[str, str]
    statuses: Mapping[str, str]

    @classmethod
    def for_crm(
        cls,
        family: str,
        *,
        fields: Mapping[str, Any] | None = None,
        statuses: Mapping[str, Any] | None = None,
        fields_setting: str = "CRM_FIELD_MAP",
        statuses_setting: str = "CRM_STATUS_MAP",
    ) -> FieldMapping:
        merged = dict(DEFAULT_FIELDS[family])
        for name, crm_field in (fields or {}).items():
            if name not in CANONICAL_FIELDS:
                raise ConfigError(
                    fields_setting,
                    f"unknown field {name!r}; the fields are {', '.join(CANONICAL_FIELDS)}",
                )
            if not isinstance(crm_field, str) or not crm_field.strip():
                raise ConfigError(fields_setting, f"{name!r} must name a CRM field")
            merged[name] = crm_field.strip()
        status_map = {canonical: canonical for canonical in STATUSES}
        status_map.update(DEFAULT_STATUSES[family])
        for crm_value, canonical in (statuses or {}).items():
            if canonical not in STATUSES:
                raise ConfigError(
                    statuses_setting,
                    f"{crm_value!r} maps to {canonical!r}; use one of {', '.join(STATUSES)}",
                )
            status_map[str(crm_value).strip().casefold()] = canonical
        return cls(fields=merged, statuses=status_map)

    def crm_fields(self) -> list[str]:
        """The CRM fields to ask for, in canonical order, without repeats."""
        return list(dict.fromkeys(self.fields[name] for name in CANONICAL_FIELDS))


@dataclass
class ParsedLeads:
    leads: list[Lead] = field(default_factory=list)
    rows_read: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    unmapped_statuses: Counter[str] = field(default_factory=Counter)


def parse_records(
    records: Iterable[Any], mapping: FieldMapping, *, naive_tz: tzinfo = UTC
) -> ParsedLeads:
    """Leads from raw records; naive timestamps are read in `naive_tz` (the report's zone)."""
    parsed = ParsedLeads()
    seen: set[str] = set()
    f = mapping.fields
    for record in records:
        parsed.rows_read += 1
        if not isinstance(record, Mapping):
            parsed.skipped[NOT_AN_OBJECT] += 1
            continue
        lead_id = _text(field_value(record, f["id"]))
        if lead_id is None:
            parsed.skipped[MISSING_ID] += 1
            continue
        raw_created = field_value(record, f["created"])
        if raw_created is None or raw_created == "":
            parsed.skipped[MISSING_CREATED] += 1
            continue
        created = parse_time(raw_created, naive_tz)
        if created is None:
            parsed.skipped[BAD_CREATED] += 1
            continue
        if lead_id in seen:
            parsed.skipped[DUPLICATE_ID] += 1
            continue
        seen.add(lead_id)
        raw_status = _text(field_value(record, f["status"]))
        status = mapping.statuses.get(raw_status.casefold()) if raw_status else None
        if status is None:
            status = OTHER_STATUS
            parsed.unmapped_statuses[raw_status or NOT_SET] += 1
        parsed.leads.append(
            Lead(
                id=lead_id,
                created=created,
                source=_text(field_value(record, f["source"])) or NOT_SET,
                campaign=_text(field_value(record, f["campaign"])) or NOT_SET,
                case_type=_text(field_value(record, f["case_type"])) or NOT_SET,
                state=_text(field_value(record, f["state"])) or NOT_SET,
                status=status,
            )
        )
    return parsed


def parse_time(value: Any, naive_tz: tzinfo = UTC) -> datetime | None:
    """An aware UTC datetime from ISO 8601, epoch seconds/milliseconds or US dates; else None."""
    moment: datetime | None
    if isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float):
        moment = _from_epoch(float(value))
    elif isinstance(value, str):
        text = value.strip()
        moment = _from_epoch(float(text)) if text.isdigit() else _from_text(text)
    else:
        return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=naive_tz)
    return moment.astimezone(UTC)


def _from_epoch(number: float) -> datetime | None:
    seconds = number / 1000 if number > 1e11 else number  # HubSpot and JS send milliseconds
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _from_text(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        pass
    for pattern in _US_FORMATS:
        try:
            return datetime.strptime(text, pattern)  # the caller applies the zone
        except ValueError:
            continue
    return None


def field_value(record: Mapping[str, Any], path: str) -> Any:
    """A record's value for a field name, or a dotted path into nested objects."""
    if path in record:
        return record[path]
    value: Any = record
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, Mapping | list):
        return None
    text = _WHITESPACE.sub(" ", str(value)).strip()
    if not text:
        return None
    return text if len(text) <= MAX_VALUE_LENGTH else text[: MAX_VALUE_LENGTH - 1] + "…"
