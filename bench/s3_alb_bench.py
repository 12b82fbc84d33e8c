"""S3 source speed: a 100 MB Application Load Balancer access log, read as the shipper reads it.

Run: `make bench` or `.venv/bin/python bench/s3_alb_bench.py [--mb N] [--rounds R]`.

The log (gzip'd, as ELB writes it; lines from the AWS documentation's examples with their
times, clients and targets varied) is read in fresh child processes pinned to one core, floor
and pipeline alternating, CPU time, best of the rounds:
  floor      gunzip the object as it streams in, and split it into lines: nothing else
  pipeline   the S3 source's own code: the object streamed (s3_objects.open_object over a
             GetObject body), lines bounded, chunks of 5,000 lines, each line parsed into its
             fields (formats/elb.py), documents with their ids, the bulk sender's batches and
             each `_bulk` request body as bytes (what would be posted, unsent)
  memory     peak RSS of the pipeline's process (whole process)
Budget: peak RSS under 256 MB (the figures of speed are reported against the floor).
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MEMORY_BUDGET_MB = 256
FIXTURE = ROOT / "tests" / "fixtures" / "log_shipper" / "s3" / "alb.log"


def make_log(path: Path, megabytes: float, seed: int = 3) -> tuple[int, int]:
    """A gzip'd ALB log of about `megabytes` uncompressed: (lines, bytes)."""
    rng = random.Random(seed)
    templates = FIXTURE.read_text().splitlines()
    day = time.strftime("%Y-%m-%d", time.gmtime(time.time() - 86_400))
    written = lines = 0
    with gzip.open(path, "wb", compresslevel=6) as out:
        while written < megabytes * 1024 * 1024:
            line = rng.choice(templates)
            hour, minute, second = rng.randrange(24), rng.randrange(60), rng.randrange(60)
            stamp = f"{day}T{hour:02d}:{minute:02d}:{second:02d}.{rng.randrange(10**6):06d}Z"
            client = ".".join(str(rng.randrange(1, 255)) for _ in range(4))
            fields = line.split(" ", 4)
            fields[1] = stamp
            if not fields[3].startswith("["):
                fields[3] = f"{client}:{rng.randrange(1024, 65535)}"
            text = (" ".join(fields) + "\n").encode()
            out.write(text)
            written += len(text)
            lines += 1
    return lines, written


class Body:
    """A GetObject body: read(n) as the object streams in."""

    def __init__(self, path: Path) -> None:
        self._file = path.open("rb")

    def read(self, amount: int = -1) -> bytes:
        return self._file.read(amount)


class FakeS3:
    def __init__(self, path: Path) -> None:
        self.path = path

    def get_object(self, **_: object) -> dict[str, object]:
        return {"Body": Body(self.path)}


def floor(path: Path) -> int:
    count = 0
    with gzip.open(path, "rb") as stream:
        for _ in stream:
            count += 1
    return count


def pipeline(path: Path) -> int:
    from datetime import UTC, datetime
    from itertools import islice

    from log_shipper import s3_objects
    from log_shipper.bulk import BulkSender, bulk_body
    from log_shipper.events import LogBatch, LogEvent
    from log_shipper.file_transform import transform_file_batch
    from log_shipper.routing import Route
    from log_shipper.s3_events import ObjectRef

    ref = ObjectRef("bench", "AWSLogs/123456789012/elasticloadbalancing/x.log.gz", etag="e")
    stream = s3_objects.open_object(FakeS3(path), ref)
    lines = s3_objects.lines(stream)
    route, now, size = Route(), datetime.now(UTC), 0
    sender = BulkSender(client=None)
    while chunk := list(islice(lines, 5000)):
        batch = LogBatch(
            owner="123456789012",
            log_group=ref.url,
            log_stream="e",
            events=[LogEvent(str(x.number), 0, x.text) for x in chunk],
            source="elb",
        )
        documents = transform_file_batch(batch, route, region="us-east-2", ingested=now)
        for request in sender.batches(documents):
            size += len(bulk_body(request))
    return size


def child(step: str, path: Path) -> dict[str, float]:
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})
    from log_shipper.memory import cyclic_gc_paused, keep_freed_memory

    keep_freed_memory()
    started = time.process_time()
    with cyclic_gc_paused():
        (floor if step == "floor" else pipeline)(path)
    seconds = time.process_time() - started
    return {
        "seconds": seconds,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run(step: str, path: Path) -> dict[str, float]:
    command = [sys.executable, __file__, "--child", step, "--file", str(path)]
    return json.loads(subprocess.run(command, check=True, capture_output=True, text=True).stdout)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=100.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--child", choices=("floor", "pipeline"), help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.file)))
        return 0
    with tempfile.TemporaryDirectory(prefix="alb-bench-") as scratch:
        path = Path(scratch) / "alb.log.gz"
        lines, raw = make_log(path, args.mb)
        mb = raw / 1024 / 1024
        packed = path.stat().st_size / 1024 / 1024
        print(
            f"S3 source: an ALB access log of {mb:.0f} MB ({lines:,} lines, {packed:.0f} MB "
            f"gzip'd), best of {args.rounds} rounds, one core"
        )
        runs: dict[str, list[dict[str, float]]] = {"floor": [], "pipeline": []}
        for _ in range(args.rounds):
            for step, results in runs.items():
                results.append(run(step, path))
    base = min(r["seconds"] for r in runs["floor"])
    best = min(r["seconds"] for r in runs["pipeline"])
    peak = max(r["peak_rss_mb"] for r in runs["pipeline"])
    print(
        f"  floor     {base:6.2f} s CPU  {mb / base:7.1f} MB/s  {lines / base:10,.0f} lines/s "
        "(gunzip + split lines)"
    )
    print(
        f"  pipeline  {best:6.2f} s CPU  {mb / best:7.1f} MB/s  {lines / best:10,.0f} events/s "
        f"= {best / base:.1f}x the floor"
    )
    print(f"  memory    peak RSS {peak:.0f} MB (budget {MEMORY_BUDGET_MB} MB)")
    within = peak <= MEMORY_BUDGET_MB
    print("budget: " + ("within budget" if within else "over budget on memory"))
    return 0 if within else 1


if __name__ == "__main__":
    sys.exit(main())
