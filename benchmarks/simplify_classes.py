"""Simplification once per relabelling class against the naive route (every row), side by side.

Run by hand (under nice; the rows are computed or read first, not timed):
    python benchmarks/simplify_classes.py [--processes "e- e+ -> mu- mu+ a" ...] [--sympy-naive] [--diagrams-only]
    python benchmarks/simplify_classes.py --shards results/default/amplitudes/qed/*.parquet [--every 20]

Rows are every ordering of the sample processes (``orderings: all``), per diagram and whole
process, or the rows of amplitude shards (``--every k``: every k-th row).  Routes: FLINT per
class of legs and masses (the workflow's), per class of legs only, FLINT on every distinct row,
and with ``--sympy-naive`` SymPy's factor on every distinct row (SYMBA's route; slow).  No cache.
"""

from __future__ import annotations

import argparse
import time

import pyarrow.parquet as pq

from symba.physics.engine import ENGINE_VERSION, compute_process
from symba.physics.orderings import rows_for_orderings
from symba.physics.process import parse_process
from symba.pipeline.amplitude_shards import process_rows
from symba.simplify import SimplifyOptions
from symba.simplify.shards import simplify_rows

DEFAULT = ["e- e+ -> mu- mu+ a", "e- a -> e- a a", "e- e+ -> e- e+ a", "e- mu- -> e- mu- a"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--processes", nargs="+", default=DEFAULT)
    ap.add_argument("--shards", nargs="+", help="amplitude shards (Parquet) instead of computing --processes")
    ap.add_argument("--every", type=int, default=1, help="take every k-th row (a spread-out sample)")
    ap.add_argument("--only", nargs="+", help="run only the routes whose name starts with one of these")
    ap.add_argument("--theory", default="qed")
    ap.add_argument("--timeout", type=float, default=60)
    ap.add_argument("--sympy-naive", action="store_true")
    ap.add_argument(
        "--diagrams-only", action="store_true", help="leave out whole-process rows (SymPy takes minutes on 2->3 ones)"
    )
    args = ap.parse_args()
    rows = []
    if args.shards:
        columns = ["squared_raw", "process", "canonical_process", "permutation", "diagram"]
        for path in args.shards:
            rows += pq.read_table(path, columns=columns).to_pylist()
    else:
        for text in args.processes:
            proc = parse_process(text, args.theory)
            result = compute_process(proc, theory=args.theory)
            rows += rows_for_orderings(result, lambda r: process_rows(r, proc.multiplicity, ENGINE_VERSION), "all")
    if args.diagrams_only:
        rows = [r for r in rows if r["diagram"] != -1]
    rows = rows[:: args.every]
    routes = [
        ("flint, per leg+mass class", "flint", True, True),
        ("flint, per leg class", "flint", True, False),
        ("flint, every row", "flint", False, False),
    ]
    if args.sympy_naive:
        routes.append(("sympy, every row", "sympy", False, False))
    if args.only:
        routes = [r for r in routes if r[0].startswith(tuple(args.only))]
    base = None
    for name, engine, classes, masses in routes:
        start = time.monotonic()
        options = SimplifyOptions(engine=engine, timeout=args.timeout)
        outcomes, stats = simplify_rows(rows, options, classes=classes, masses=masses)
        seconds = time.monotonic() - start
        base = base or seconds
        ok = sum(o.status == "ok" for o in outcomes)
        print(
            f"{name:26s} rows {len(rows):6d}  simplified {stats['distinct']:6d}  ok rows {ok:6d}  "
            f"timeouts {stats['timeout']:3d}  wall {seconds:8.2f} s  ratio to per-class {seconds / base:6.2f}"
        )


if __name__ == "__main__":
    main()
