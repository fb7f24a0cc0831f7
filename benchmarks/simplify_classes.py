"""Simplification once per relabelling class against the naive route (every row), side by side.

Run by hand (under nice; the rows are computed first, not timed):
    python benchmarks/simplify_classes.py [--processes "e- e+ -> mu- mu+ a" ...] [--sympy-naive] [--diagrams-only]

Rows are every ordering of the sample processes (``orderings: all``), per diagram and whole
process.  Routes: FLINT per class (the workflow's), FLINT on every distinct row, and with
``--sympy-naive`` SymPy's factor on every distinct row (SYMBA's route; slow).  No cache.
"""

from __future__ import annotations

import argparse
import time

from symba.physics.engine import ENGINE_VERSION, compute_process
from symba.physics.orderings import rows_for_orderings
from symba.physics.process import parse_process
from symba.simplify import SimplifyOptions
from symba.simplify.shards import simplify_rows
from symba.workflow.amplitude_shards import process_rows

DEFAULT = ["e- e+ -> mu- mu+ a", "e- a -> e- a a", "e- e+ -> e- e+ a", "e- mu- -> e- mu- a"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--processes", nargs="+", default=DEFAULT)
    ap.add_argument("--theory", default="qed")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--sympy-naive", action="store_true")
    ap.add_argument(
        "--diagrams-only", action="store_true", help="leave out whole-process rows (SymPy takes minutes on 2->3 ones)"
    )
    args = ap.parse_args()
    rows = []
    for text in args.processes:
        proc = parse_process(text, args.theory)
        result = compute_process(proc, theory=args.theory)
        rows += rows_for_orderings(result, lambda r: process_rows(r, proc.multiplicity, ENGINE_VERSION), "all")
    if args.diagrams_only:
        rows = [r for r in rows if r["diagram"] != -1]
    routes = [("flint, per class", "flint", True), ("flint, every row", "flint", False)]
    if args.sympy_naive:
        routes.append(("sympy, every row", "sympy", False))
    base = None
    for name, engine, classes in routes:
        start = time.monotonic()
        outcomes, stats = simplify_rows(rows, SimplifyOptions(engine=engine, timeout=args.timeout), classes=classes)
        seconds = time.monotonic() - start
        base = base or seconds
        ok = sum(o.status == "ok" for o in outcomes)
        print(
            f"{name:18s} rows {len(rows):6d}  simplified {stats['distinct']:6d}  ok rows {ok:6d}  "
            f"timeouts {stats['timeout']:3d}  wall {seconds:8.2f} s  ratio to per-class {seconds / base:6.2f}"
        )


if __name__ == "__main__":
    main()
