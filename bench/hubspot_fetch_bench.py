"""Fetch 30,000 leads from one day through the HubSpot emulator, window splitting included.

Run: `make bench` or `.venv/bin/python bench/hubspot_fetch_bench.py [--leads N] [--rps R]`.
The HubSpot search API returns at most 10,000 results per query and 200 a page, so the
connector splits the day into smaller windows first. Three runs are reported:
  no limit      the emulator answers as fast as it can: the client's own cost (the
                emulator runs in this process, so its CPU is counted too)
  5 req/s       the emulator enforces HubSpot's documented search limit (5 requests a
                second per account) with 429s: first with the connector's pacing off
                (it backs off on each 429, and may give up: five 429s in a row for one
                page end the run, as they would against HubSpot), then with its default
                pacing (4 a second), which must get every lead
All go over real HTTP on 127.0.0.1 with the production connector (requests, keep-alive).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from report_fn.crm.base import CRMHttp
from report_fn.crm.hubspot import HubSpotConnector
from report_fn.crm.mapping import FieldMapping, parse_records
from report_fn.exceptions import CRMError
from report_fn.window import report_windows
from tests.emulators.hubspot import HubSpotEmulator, make_contacts

AT = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)
TZ = ZoneInfo("America/New_York")


def run(leads: int, rps: int | None, pace: float | None, *, may_fail: bool = False) -> str:
    window = report_windows(AT, TZ).today
    with HubSpotEmulator(token="pat-bench", requests_per_second=rps) as emulator:
        emulator.add_objects("contacts", make_contacts(leads, window.start, window.end, seed=9))
        http = CRMHttp(crm="hubspot", secret_setting="CRM_SECRET_ARN", max_wait_seconds=600)
        mapping = FieldMapping.for_crm("hubspot")
        connector = HubSpotConnector(
            token="pat-bench",
            mapping=mapping,
            http=http,
            base_url=emulator.url,
            requests_per_second=pace,
        )
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            result = connector.fetch(window.start, window.end)
        except CRMError as error:
            if not may_fail:
                raise
            return (
                f"gave up after {time.perf_counter() - wall:.1f} s: {error}; "
                f"{http.requests} requests, {http.retries} answered 429 and retried"
            )
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        parsed = parse_records(result.records, mapping, naive_tz=TZ)
        assert len(parsed.leads) == leads, len(parsed.leads)
        assert result.complete
    return (
        f"{leads:,} leads in {wall:.1f} s wall ({cpu:.1f} s CPU in this process), "
        f"{http.requests} requests, {connector.windows_searched} windows searched, "
        f"{http.retries} answered 429 and retried"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=30_000)
    parser.add_argument("--rps", type=int, default=5, help="the throttled run's limit")
    args = parser.parse_args()
    print(f"HubSpot search, {args.leads:,} leads created on one day, 200 a page, 10k cap")
    print(f"  no limit, no pacing:        {run(args.leads, None, None)}")
    print(f"  {args.rps} req/s limit, no pacing:  {run(args.leads, args.rps, None, may_fail=True)}")
    print(f"  {args.rps} req/s limit, paced at 4/s: {run(args.leads, args.rps, 4.0)}")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C: the emulator has shut down on the way out
        print("interrupted", file=sys.stderr)
        sys.exit(130)
