"""Many-gluon QCD squares: the former whole-process route against gluon_sums, side by side.

Run by hand:
    python benchmarks/qcd_gluons.py [--runs 3] [--old-timeout 120] [--all-2to3] [--skip-compare]

Each run is a fresh diagram build plus both FORM runs (per-diagram squares and
the whole-process square), so it is what compute_process costs.  Prints the
median wall time per route, the CPU time FORM used, and the ratio old/new.
The old route ("pairs": every pair of diagrams with physical polarisation
projectors expanded before the traces) is stopped at --old-timeout.

Measured on the shared 2-core machine (load 9-12 from other jobs, so wall
times there are 3-5x the CPU times), 2026-12-01:
  candidates for u g -> u g g, FORM CPU s of the whole-process program:
    pairs, momenta written out (former route)                     6.3
    q vectors for composite momenta, all q written out at once   10.8
    q vectors, written out one at a time with .sort              3.9
    ... and p_i.p_j -> s_ij after every step                      3.6   <- chosen for quarks
    e/f polarisation vectors through the traces, sums after       7.0-13
  candidates for g g -> g g g:
    pairs (former route)                                         > 600 wall (issue 10)
    q vectors, projectors expanded before sorting                 > 60 CPU, 9M terms, stopped
    e/f vectors per diagram, dropping e.k and e.n, sums one gluon
    at a time                                                     ~30 CPU
    ... dropping again after each gluon's sum                     13.2  <- chosen for gluons only
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

from symba.physics.diagrams import build_diagrams
from symba.physics.process import enumerate_processes, parse_process
from symba.physics.squaring import FormError, square


def _children_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def timed(text: str, route: str, timeout: float) -> tuple[float, float, str]:
    """(wall s, FORM CPU s, status) of one compute of the process's squares."""
    proc = parse_process(text, "qcd")
    cpu0, t0 = _children_cpu(), time.perf_counter()
    try:
        square(proc, build_diagrams(proc), timeout=timeout, whole_process_route=route)
        status = "ok"
    except FormError as exc:
        status = str(exc)
    return time.perf_counter() - t0, _children_cpu() - cpu0, status


def compare(text: str, runs: int, old_timeout: float) -> None:
    rows = {}
    for route, timeout in (("gluon_sums", 600.0), ("pairs", old_timeout)):
        results = []
        for _ in range(runs):
            results.append(timed(text, route, timeout))
            if results[-1][2] != "ok":
                break  # a timeout would only repeat
        ok = [r for r in results if r[2] == "ok"]
        if ok:
            rows[route] = statistics.median(r[0] for r in ok)
            cpu = statistics.median(r[1] for r in ok)
            print(f"{text:16s} {route:10s} median {rows[route]:7.2f} s wall, {cpu:7.2f} s FORM CPU over {len(ok)} runs")
        else:
            print(f"{text:16s} {route:10s} {results[0][2]}")
    if len(rows) == 2:
        print(f"{text:16s} ratio pairs/gluon_sums {rows['pairs'] / rows['gluon_sums']:.2f}")


def all_2to3(timeout: float) -> None:
    procs = enumerate_processes("qcd", ["2->3"])
    t0 = time.perf_counter()
    statuses: dict[str, int] = {}
    slowest = []
    for proc in procs:
        wall, _cpu, status = timed(str(proc), "gluon_sums", timeout)
        key = "ok" if status == "ok" else "timeout" if "timed out" in status else "failed"
        statuses[key] = statuses.get(key, 0) + 1
        slowest.append((wall, str(proc)))
    slowest.sort(reverse=True)
    print(f"QCD 2->3: {len(procs)} processes in {time.perf_counter() - t0:.0f} s, statuses {statuses}")
    print("slowest: " + ", ".join(f"{p} {w:.1f} s" for w, p in slowest[:5]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--old-timeout", type=float, default=120.0, help="stop the former route after this many seconds")
    ap.add_argument("--all-2to3", action="store_true", help="also time every QCD 2->3 process (new route)")
    ap.add_argument("--skip-compare", action="store_true", help="only the --all-2to3 sweep")
    args = ap.parse_args()
    if not args.skip_compare:
        for text in ("u g -> u g g", "g g -> g g g"):
            compare(text, args.runs, args.old_timeout)
    if args.all_2to3:
        all_2to3(600.0)


if __name__ == "__main__":
    main()
