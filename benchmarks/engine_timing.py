"""Seconds per process of the builtin engine, and diagram/process counts.

Run by hand:  python benchmarks/engine_timing.py [--counts] [--with-3to3]
Prints medians over a fixed sample of processes per class (each a fresh
compute, FORM start-up included).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from symba.physics import compute_process, enumerate_processes
from symba.physics.process import generate_feyngraph_diagrams


def timed(proc) -> float:
    t0 = time.perf_counter()
    compute_process(proc)
    return time.perf_counter() - t0


def sample(theory, mult, k, seed=0):
    procs = enumerate_processes(theory, [mult])
    return random.Random(seed).sample(procs, min(k, len(procs)))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--counts", action="store_true", help="count processes and diagrams per multiplicity")
    ap.add_argument("--with-3to3", action="store_true")
    ap.add_argument("--per-class", type=int, default=12)
    args = ap.parse_args()

    classes = [("qed", "2->2"), ("qed", "2->3"), ("qcd", "2->2"), ("qcd", "2->3")]
    for theory, mult in classes:
        times = [timed(p) for p in sample(theory, mult, args.per_class)]
        print(
            f"{theory} {mult}: median {statistics.median(times):.3f} s, max {max(times):.3f} s over {len(times)} processes"
        )
    for text in ["u g -> u g g"]:
        times = [timed(compute_process.__globals__["parse_process"](text, "qcd")) for _ in range(3)]
        print(f"qcd {text}: median {statistics.median(times):.2f} s over {len(times)} runs")

    if args.counts:
        mults = ["1->2", "2->1", "2->2", "2->3", "3->2"] + (["3->3"] if args.with_3to3 else [])
        for theory in ("qed", "qcd"):
            for mult in mults:
                procs = enumerate_processes(theory, [mult])
                n_diag = sum(len(generate_feyngraph_diagrams(p)) for p in procs)
                print(f"counts {theory} {mult}: {len(procs)} processes, {n_diag} diagrams")


if __name__ == "__main__":
    main()
