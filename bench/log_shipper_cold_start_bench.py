"""Log shipper cold start: the zip's size, and `import log_shipper.handler` as Lambda runs it.

Run: `make bench` or `.venv/bin/python bench/log_shipper_cold_start_bench.py [--runs N]
[--instructions]`.

Lambda runs python3.12 from the unpacked zip in a read-only folder: Python can't write the
bytecode it compiles, so a zip without `__pycache__` compiles every module on every cold
start. This benchmark builds the zip twice (with the python3.12 bytecode `make package` adds,
and sources only), unpacks each, swaps the compiled dependency (orjson, built for aarch64)
for this machine's build of the same version, and imports the handler in fresh python3.12
processes that may not write bytecode (-B), with the Lambda runtime's own packages beside it
(a python3.12 virtualenv holding boto3, as /var/runtime does), alternating the two zips.
`--instructions` also counts the import's instructions with callgrind: the same figure on a
busy machine as on a quiet one.

Budget: `import log_shipper.handler` under 250 ms (median) from the zip as shipped.
"""

from __future__ import annotations

import argparse
import glob
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from opsbundle import packaging

IMPORT_BUDGET_MS = 250
VALGRIND = shutil.which("valgrind") or ""
RUNTIME = ROOT / ".cache" / "bench-python312-runtime"
MEASURE = (
    "import sys, time; sys.path.insert(0, {path!r}); started = time.perf_counter(); "
    "import log_shipper.handler; print((time.perf_counter() - started) * 1000)"
)


def runtime_python(python312: str) -> Path:
    """A python3.12 virtualenv with boto3 (and so dateutil, jmespath, six): Lambda's runtime."""
    python = RUNTIME / "bin" / "python"
    if not python.exists():
        subprocess.run([python312, "-m", "venv", str(RUNTIME)], check=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", "boto3"],
            check=True,
        )
    return python


def unpack(zip_path: Path, where: Path, python: Path) -> Path:
    with zipfile.ZipFile(zip_path) as archive:
        archive.extractall(where)
    for record in sorted(where.glob("*.dist-info/RECORD")):  # compiled: this machine's build
        files = [line.split(",")[0] for line in record.read_text().splitlines() if line]
        if not any(f.endswith(".so") for f in files):
            continue
        distribution, version = record.parent.name.removesuffix(".dist-info").split("-", 1)
        for relative in files:
            (where / relative).unlink(missing_ok=True)
        wheels = where.parent / "wheels"
        subprocess.run(
            [
                str(python),
                "-m",
                "pip",
                "download",
                "-q",
                "--disable-pip-version-check",
                "--no-deps",
                "--only-binary=:all:",
                "-d",
                str(wheels),
                f"{distribution}=={version}",
            ],
            check=True,
        )
        (wheel,) = glob.glob(str(wheels / f"{distribution}-{version}-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            archive.extractall(where)
    return where


def import_ms(python: Path, tree: Path) -> float:
    answer = subprocess.run(
        [str(python), "-B", "-I", "-c", MEASURE.format(path=str(tree))],
        capture_output=True,
        text=True,
        check=True,
        env={"AWS_REGION": "us-east-1"},
    )
    return float(answer.stdout.strip())


def instructions(python: Path, tree: Path) -> int | None:
    if not VALGRIND:
        return None
    answer = subprocess.run(
        [
            VALGRIND,
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            str(python),
            "-B",
            "-I",
            "-c",
            MEASURE.format(path=str(tree)),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={"AWS_REGION": "us-east-1"},
    )
    found = re.search(r"Collected : (\d+)", answer.stderr)
    return int(found.group(1)) if found else None


def unzipped_mb(path: Path) -> float:
    with zipfile.ZipFile(path) as archive:
        return sum(i.file_size for i in archive.infolist()) / 1024 / 1024


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=11)
    parser.add_argument("--instructions", action="store_true", help="count them (callgrind)")
    args = parser.parse_args()
    python312 = packaging.find_python312()
    if python312 is None:
        print("no python3.12 here (set OPSBUNDLE_PYTHON312): Lambda's interpreter is needed")
        return 1
    python = runtime_python(python312)
    with tempfile.TemporaryDirectory(prefix="cold-start-") as scratch:
        trees: dict[str, Path] = {}
        for kind, bytecode in (("shipped", True), ("sources only", False)):
            dist = Path(scratch) / kind.replace(" ", "-")
            (built,) = packaging.build(["log_shipper"], dist, bytecode=bytecode)
            print(
                f"  zip ({kind:12}) {built.size / 1024 / 1024:5.1f} MB, "
                f"{unzipped_mb(built.path):5.1f} MB unzipped"
            )
            trees[kind] = unpack(built.path, dist / "task", python)
        times: dict[str, list[float]] = {kind: [] for kind in trees}
        for tree in trees.values():
            import_ms(python, tree)  # warm the file cache, as a fresh Lambda's disk is
        for _ in range(args.runs):
            for kind, tree in trees.items():
                times[kind].append(import_ms(python, tree))
        for kind, measured in times.items():
            counted = ""
            if args.instructions:
                found = instructions(python, trees[kind])
                counted = f", {found / 1e9:.2f} billion instructions" if found else ""
            print(
                f"  import    log_shipper.handler ({kind}): {min(measured):.0f} ms best, "
                f"{statistics.median(measured):.0f} ms median of {args.runs}{counted}"
            )
    median = statistics.median(times["shipped"])
    print(
        f"budget: import {median:.0f} ms against {IMPORT_BUDGET_MS} ms: "
        + ("within budget" if median <= IMPORT_BUDGET_MS else "over budget")
    )
    return 0 if median <= IMPORT_BUDGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
