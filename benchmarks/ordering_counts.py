"""Rows per multiplicity, canonical order against every leg ordering, next to SYMBA's counts.

Run by hand:  python benchmarks/ordering_counts.py [--theory qed] [--multiplicities 1->2 2->2 2->3]

Counts only: diagrams come from FeynGraph, nothing is squared.  "diagram rows" are
per-diagram rows (one SYMBA sample each); our datasets add one whole-process row
per process and ordering, counted separately.
"""

from __future__ import annotations

import argparse
import time

from symba.physics.orderings import distinct_orderings
from symba.physics.process import enumerate_processes, generate_feyngraph_diagrams

# Lines of the public SYMBA QED files (FIELD-NOTES.md): (all lines, unique lines).
SYMBA_QED = {"1->2": (432, 54), "2->2": (10_944, 2_988), "2->3": (129_024, 58_332)}


def counts(theory: str, multiplicity: str) -> dict:
    procs = enumerate_processes(theory, [multiplicity])
    diagrams = [len(generate_feyngraph_diagrams(p)) for p in procs]
    orderings = [len(distinct_orderings(p)) for p in procs]
    return {
        "processes": len(procs),
        "ordered processes": sum(orderings),
        "diagram rows, canonical": sum(diagrams),
        "diagram rows, all orderings": sum(d * o for d, o in zip(diagrams, orderings)),
        "whole-process rows, all orderings": sum(orderings),
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--theory", default="qed")
    ap.add_argument("--multiplicities", nargs="+", default=["1->2", "2->2", "2->3"])
    args = ap.parse_args()
    for mult in args.multiplicities:
        t0 = time.perf_counter()
        c = counts(args.theory, mult)
        line = ", ".join(f"{k} {v:,}" for k, v in c.items())
        symba = SYMBA_QED.get(mult) if args.theory == "qed" else None
        ref = ""
        if symba:
            per_diagram = symba[0] / c["diagram rows, canonical"]
            ref = f" | SYMBA: {symba[0]:,} lines ({symba[1]:,} unique) = {per_diagram:g} x our canonical diagram rows"
        print(f"{args.theory} {mult}: {line}{ref}  [{time.perf_counter() - t0:.1f} s]", flush=True)


if __name__ == "__main__":
    main()
