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
