"""Dry-run and no-op-rerun time of the workflow for a 30,000-process manifest.

The manifest is synthetic (process-like names over the QED particles, no
conservation check) and no amplitude is computed: the shard outputs are copies
of one empty Parquet table, written later stage after later stage, and
`snakemake --touch` then marks the stamp and manifest jobs done.

    python benchmarks/workflow_scale.py [--processes 30000] [--batch-size 64] [--repeats 3]
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from symba.pipeline.manifest import assign_shards, stable_hash

SNAKEFILE = Path(__file__).resolve().parents[1] / "Snakefile"
PARTICLES = ["e-", "e+", "mu-", "mu+", "ta-", "ta+", "u", "u~", "d", "d~", "s", "s~", "a"]


def synthetic_processes(n: int) -> list[str]:
    names = set()
    for n_in, n_out in ((2, 3), (3, 2)):
        for legs in itertools.product(PARTICLES, repeat=n_in + n_out):
            names.add(" ".join(legs[:n_in]) + " -> " + " ".join(legs[n_in:]))
    # A hash-ordered sample: spread over all particles, the same every time.
    return sorted(names, key=lambda p: stable_hash("qed", p))[:n]


def snakemake(workdir: Path, *args: str) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--directory", str(workdir), "--cores", "2", *args]
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        raise SystemExit(result.stdout[-2000:] + result.stderr[-2000:])
    return elapsed, result.stdout + result.stderr


def create_outputs(workdir: Path, shards: list[str]) -> None:
    import pyarrow.parquet as pq

    from symba.dataset_schema import SCHEMA

    empty = workdir / "empty.parquet"
    pq.write_table(SCHEMA.empty_table(), empty)  # a complete Parquet file passes the truncation check
    for kind, suffix in (("reports/skipped", ".tsv"), ("amplitudes", ".parquet"), ("dataset", ".parquet")):
        folder = workdir / "results/default" / kind / "qed"
        folder.mkdir(parents=True, exist_ok=True)
        time.sleep(1.1)  # later stage written later: newer mtime
        for shard in shards:
            (folder / f"{shard}{suffix}").write_bytes(b"" if suffix == ".tsv" else empty.read_bytes())
    (workdir / "results/default/reports/skipped.tsv").write_text("theory\tprocess\treason\n")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--processes", type=int, default=30_000)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    processes = synthetic_processes(args.processes)
    shards = list(assign_shards("qed", processes, args.batch_size))
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "manifest.tsv").write_text("".join(f"qed\t{p}\n" for p in processes))
        config = {"targets": ["dataset"], "manifest": "manifest.tsv", "sharding": {"batch_size": args.batch_size}}
        (workdir / "config.yaml").write_text(yaml.safe_dump(config))
        dry = [snakemake(workdir, "--dry-run")[0] for _ in range(args.repeats)]
        create_outputs(workdir, shards)
        snakemake(workdir, "--touch")  # stamps and shard manifests
        noop = []
        for _ in range(args.repeats):
            elapsed, out = snakemake(workdir)
            if "Nothing to be done" not in out:
                raise SystemExit("no-op rerun did work:\n" + out[-2000:])
            noop.append(elapsed)
    print(f"processes: {len(processes)}   batch_size: {args.batch_size}   shards (jobs per stage): {len(shards)}")
    print(f"dry run:      median {statistics.median(dry):6.2f} s   (runs: {', '.join(f'{t:.2f}' for t in dry)})")
    print(f"no-op rerun:  median {statistics.median(noop):6.2f} s   (runs: {', '.join(f'{t:.2f}' for t in noop)})")


if __name__ == "__main__":
    main()
