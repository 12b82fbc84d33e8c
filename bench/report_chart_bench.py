"""The report's chart: time and memory to draw it, and what it costs report_fn's zip.

Run: `make bench` or `.venv/bin/python bench/report_chart_bench.py [--repeat R] [--out DIR]`.

Each day is drawn in a fresh child process, from the sample CRM's leads at 21:00 New York
time: an ordinary 24-hour day, the 23-hour day clocks go forward (8 Mar 2026) and the 25-hour
day they go back (1 Nov 2026). The child reports
  first    chart_data + render_png the first time: Pillow's import and font load included,
           what a cold Lambda pays
  warm     the best and median of R more renders (a warm container)
  memory   the peak RSS of the whole process, and how much drawing added to it
The PNGs are written to DIR (default .cache/bench/charts) so they can be looked at.

Then report_fn.zip is built (python -m opsbundle.packaging, wheels from the cache) and its
size given with Pillow's share, against the zip without Pillow and jsonschema measured before
the chart existed. Budgets: first render under 1 s CPU, warm under 0.3 s, the process under
150 MB, the zip under 15 MB (Lambda's limit for a direct upload is 50 MB).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FIRST_BUDGET_S, WARM_BUDGET_S, MEMORY_BUDGET_MB, ZIP_BUDGET_MB = 1.0, 0.3, 150, 15
BEFORE_ZIP_BYTES = 4_608_979  # report_fn.zip before the chart (same wheels, same bytecode)
NY = ZoneInfo("America/New_York")
DAYS = {
    "24-hour": datetime(2026, 11, 26, 21, 0, tzinfo=NY),
    "23-hour": datetime(2026, 3, 8, 21, 0, tzinfo=NY),
    "25-hour": datetime(2026, 11, 1, 21, 0, tzinfo=NY),
}


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(day: str, repeat: int, out: Path) -> dict[str, float]:
    from opsbundle.metrics import RunMetrics
    from report_fn.builder import ReportBuilder
    from report_fn.crm.mapping import FieldMapping
    from report_fn.crm.sample import SampleConnector

    builder = ReportBuilder(
        name="leads",
        timezone=NY,
        connector=SampleConnector(timezone=NY),
        mapping=FieldMapping.for_crm("export"),
        metrics=RunMetrics(service="bench"),
        archive=None,
    )
    report = builder.build(DAYS[day])
    before = rss_mb()
    started = time.process_time()
    from report_fn.chart import chart_data, render_png

    png = render_png(chart_data(report))
    first = time.process_time() - started
    warm = []
    for _ in range(repeat):
        started = time.process_time()
        render_png(chart_data(report))
        warm.append(time.process_time() - started)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"leads-per-hour-{day}.png").write_bytes(png)
    return {
        "first_s": first,
        "warm_best_s": min(warm),
        "warm_median_s": statistics.median(warm),
        "peak_rss_mb": rss_mb(),
        "drawing_mb": rss_mb() - before,
        "png_kb": len(png) / 1024,
    }


def zip_figures() -> dict[str, float]:
    with tempfile.TemporaryDirectory() as dist:
        subprocess.run(
            [sys.executable, "-m", "opsbundle.packaging", dist, "--only", "report_fn"],
            check=True,
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=900,
        )
        with zipfile.ZipFile(Path(dist) / "report_fn.zip") as archive:
            entries = archive.infolist()
            size = (Path(dist) / "report_fn.zip").stat().st_size
    pillow = [e for e in entries if e.filename.startswith(("PIL/", "pillow"))]
    schema = [
        e
        for e in entries
        if e.filename.startswith(("jsonschema", "referencing", "rpds", "attr", "yaml/", "PyYAML"))
    ]
    return {
        "zip_mb": size / 1e6,
        "unzipped_mb": sum(e.file_size for e in entries) / 1e6,
        "pillow_mb": sum(e.compress_size for e in pillow) / 1e6,
        "pillow_unzipped_mb": sum(e.file_size for e in pillow) / 1e6,
        "schema_yaml_mb": sum(e.compress_size for e in schema) / 1e6,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--out", type=Path, default=ROOT / ".cache" / "bench" / "charts")
    parser.add_argument("--no-zip", action="store_true", help="skip building the zip")
    parser.add_argument("--child", choices=tuple(DAYS), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.repeat, args.out)))
        return 0
    print(
        f"drawing the chart of leads per hour at 21:00, fresh process per day, "
        f"{args.repeat} warm renders each; PNGs in {args.out}"
    )
    failed = False
    for day in DAYS:
        result = json.loads(
            subprocess.run(
                [
                    sys.executable,
                    __file__,
                    "--child",
                    day,
                    "--repeat",
                    str(args.repeat),
                    "--out",
                    str(args.out),
                ],
                check=True,
                capture_output=True,
                text=True,
            ).stdout
        )
        print(
            f"  {day} day: first {result['first_s']:.3f} s CPU (Pillow's import included), "
            f"warm best {result['warm_best_s']:.3f} s, median {result['warm_median_s']:.3f} s; "
            f"peak RSS {result['peak_rss_mb']:.0f} MB, drawing added "
            f"{result['drawing_mb']:.0f} MB; PNG {result['png_kb']:.0f} KB"
        )
        failed |= (
            result["first_s"] > FIRST_BUDGET_S
            or result["warm_best_s"] > WARM_BUDGET_S
            or result["peak_rss_mb"] > MEMORY_BUDGET_MB
        )
    if not args.no_zip:
        figures = zip_figures()
        print(
            f"  report_fn.zip {figures['zip_mb']:.1f} MB zipped "
            f"({figures['unzipped_mb']:.1f} MB unzipped), was {BEFORE_ZIP_BYTES / 1e6:.1f} MB; "
            f"Pillow {figures['pillow_mb']:.1f} MB of it ({figures['pillow_unzipped_mb']:.1f} MB "
            f"unzipped), jsonschema and PyYAML {figures['schema_yaml_mb']:.1f} MB"
        )
        failed |= figures["zip_mb"] > ZIP_BUDGET_MB
    verdict = "over budget" if failed else "within budget"
    print(
        f"budget: first render under {FIRST_BUDGET_S} s, warm under {WARM_BUDGET_S} s, "
        f"{MEMORY_BUDGET_MB} MB, zip under {ZIP_BUDGET_MB} MB: {verdict}"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
