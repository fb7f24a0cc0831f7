"""Wall time and peak memory of the default run (config.yaml) in a fresh directory.

    python benchmarks/workflow_default_run.py [--target tokens] [--repeats 1]

Peak memory: the largest max_rss over the per-job `benchmark:` files (each job with
its children, e.g. simplification workers), and the Snakemake process's own peak.
"""

from __future__ import annotations

import argparse
import csv
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def job_peaks(results: Path) -> dict[str, float]:
    peaks: dict[str, float] = {}
    for tsv in results.glob("benchmarks/**/*.tsv"):
        rule = tsv.relative_to(results / "benchmarks").parts[0].removesuffix(".tsv")
        with tsv.open() as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                if row["max_rss"] not in ("-", "NA", ""):
                    peaks[rule] = max(peaks.get(rule, 0.0), float(row["max_rss"]))
    return peaks


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--target", default="evaluation", choices=["dataset", "tokens", "model", "evaluation"])
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    walls = []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            shutil.copy(ROOT / "config.yaml", workdir / "config.yaml")
            cmd = [
                sys.executable,
                "-m",
                "snakemake",
                "-s",
                str(ROOT / "Snakefile"),
                "--directory",
                str(workdir),
                "--cores",
                "2",
                "--config",
                f"targets=[{args.target}]",
            ]
            start = time.perf_counter()
            result = subprocess.run(cmd, capture_output=True, text=True)
            walls.append(time.perf_counter() - start)
            if result.returncode != 0:
                raise SystemExit(result.stderr[-3000:])
            peaks = job_peaks(workdir / "results/default")
    print(
        f"default run up to '{args.target}': median wall {statistics.median(walls):.1f} s "
        f"(runs: {', '.join(f'{w:.1f}' for w in walls)})"
    )
    print("peak RSS per rule (MB, last run): " + ", ".join(f"{k} {v:.0f}" for k, v in sorted(peaks.items())))
    print(
        f"peak RSS of the snakemake process tree's largest process: "
        f"{resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024:.0f} MB"
    )


if __name__ == "__main__":
    main()
