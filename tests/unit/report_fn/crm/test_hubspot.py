"""How a HubSpot window over the 10,000-result cap is cut into smaller ones."""

from __future__ import annotations

from itertools import pairwise

from report_fn.crm.hubspot import _split


def test_split_covers_the_window_without_gaps_or_overlaps() -> None:
    parts = _split(1000, 87_400_000, total=30_000)
    assert len(parts) == 4  # 30,000 / 8,000 rounded up
    assert parts[0][0] == 1000 and parts[-1][1] == 87_400_000
    assert all(a[1] == b[0] for a, b in pairwise(parts))


def test_split_always_makes_progress() -> None:
    assert _split(0, 2, total=10_001) == [(0, 1), (1, 2)]


def test_searches_are_paced_under_hubspots_five_a_second() -> None:
    from datetime import UTC, datetime

    from report_fn.crm.base import CRMHttp
    from report_fn.crm.hubspot import HubSpotConnector
    from report_fn.crm.mapping import FieldMapping

    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(round(seconds, 3))
        now[0] += seconds

    class FakeResponse:
        def json(self) -> dict[str, object]:
            return {"total": 1, "results": [{"id": "1", "properties": {}}]}

    http = CRMHttp(crm="hubspot", secret_setting="CRM_SECRET_ARN", sleep=sleep)
    http.request = lambda *args, **kwargs: FakeResponse()  # type: ignore[method-assign,assignment]
    connector = HubSpotConnector(
        token="t",
        mapping=FieldMapping.for_crm("hubspot"),
        http=http,
        requests_per_second=4,
        clock=lambda: now[0],
    )
    start, end = datetime(2026, 11, 26, tzinfo=UTC), datetime(2026, 11, 27, tzinfo=UTC)
    for _ in range(3):
        connector.fetch(start, end)
    assert slept == [0.25, 0.25]
