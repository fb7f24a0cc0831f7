"""Seconds per process for the builtin and the MARTY backend, side by side in one run.

Run by hand (needs the MARTY bridge, see cpp/marty_bindings/README.md)::

    python benchmarks/marty_vs_builtin.py                  # a sample of each class
    python benchmarks/marty_vs_builtin.py --per-class 10 --timeout 300

Each timed call is a full ``compute_process``: diagrams, amplitudes, per-diagram
and whole-process squares.  The MARTY time includes starting its worker process.
Classes: QED 2->2, QED 2->3 and QCD 2->2 (with two or more external gluons the
MARTY time includes the builtin whole-process square it takes over).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from symba.physics.engine import compute_process
from symba.physics.marty import bridge_status
from symba.physics.process import enumerate_processes

CLASSES = [("qed", "2->2"), ("qed", "2->3"), ("qcd", "2->2")]


def timed(proc, backend: str, timeout: float) -> float | str:
    start = time.perf_counter()
    try:
        compute_process(proc, proc.theory, backend=backend, timeout=timeout)
    except Exception as exc:  # a benchmark reports the failure and goes on
        return f"failed: {type(exc).__name__}: {str(exc)[:60]}"
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-class", type=int, default=5, help="processes drawn per class")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--timeout", type=float, default=600.0)
    args = ap.parse_args()
    status = bridge_status()
    if not status.loadable:
        raise SystemExit(f"MARTY bridge unusable: {status.reason}")
    rng = random.Random(args.seed)
    print(f"{'class':10} {'process':28} {'builtin s':>10} {'marty s':>10}")
    for theory, mult in CLASSES:
        pool = list(enumerate_processes(theory, (mult,)))
        sample = rng.sample(pool, min(args.per_class, len(pool)))
        times: dict[str, list[float]] = {"builtin": [], "marty": []}
        for proc in sample:
            row = {}
            for backend in ("builtin", "marty"):
                t = timed(proc, backend, args.timeout)
                row[backend] = t
                if isinstance(t, float):
                    times[backend].append(t)
            cells = [f"{row[b]:10.2f}" if isinstance(row[b], float) else f" {row[b]}" for b in ("builtin", "marty")]
            print(f"{theory + ' ' + mult:10} {str(proc):28} {' '.join(cells)}")
        med = {b: (f"{statistics.median(v):10.2f}" if v else f"{'-':>10}") for b, v in times.items()}
        print(f"{theory + ' ' + mult:10} {'median':28} {med['builtin']} {med['marty']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
