"""Many-gluon QCD squares: the former whole-process route against gluon_sums, side by side.

Run by hand:
    python benchmarks/qcd_gluons.py [--runs 3] [--old-timeout 120] [--all-2to3] [--skip-compare]

Each run is a fresh diagram build plus both FORM runs (per-diagram squares and
the whole-process square), so it is what compute_process costs.  Prints the
median wall time per route, the CPU time FORM used, and the ratio old/new.
The old route ("pairs": every pair of diagrams with physical polarisation
projectors expanded before the traces) is stopped at --old-timeout.

Candidates, measured on the shared 2-core machine (load 5-15 from other jobs,
so wall times are 2-5x the CPU times), 2026-12-01.  FORM CPU s of the
whole-process program alone:
  u g -> u g g
    pairs, momenta written out before the traces (former route)     6.3
    q vectors for composite momenta, all written out in one module  10.8
    q vectors written out one at a time, .sort in between            3.9
    ... p_i.p_j -> s_ij after every step                             3.6
    ... four q's per module, shortest first                          2.2  <- chosen (with quarks)
    vertex momenta written out, q only in the propagators            4.5
    e/f polarisation vectors through the traces, sums afterwards     7-13
    other choices of reference vectors / of the -g gluon             2.3-2.8
  g g -> g g g
    pairs (former route)                                     > 600 wall (issue 10), > 120 here
    q vectors, projectors multiplied in before sorting       > 60, 9 M terms, stopped
    e/f vectors per diagram with e.k = e.n = 0, sums one gluon
    at a time                                                      ~30
    ... dropping e.k, e.n again after each gluon                   13.2
    ... momentum conservation on e.p, invariants each step          5.4  <- chosen (gluons only)
  FORM's SmallSize/LargeSize/TermsInSmall/WorkSpace raised 5-10x: no change
  (u g -> u g g 3.4-3.8 s either way); tform -w2 is used when 2 cores are free.

This script's output, 3 runs each, medians:
  load ~1.7 (13:07 UTC)              wall     FORM CPU
  u g -> u g g   gluon_sums          1.64 s   2.65 s
  u g -> u g g   pairs               6.28 s   6.03 s    ratio 3.83
  g g -> g g g   gluon_sums          6.86 s   7.70 s
  g g -> g g g   pairs               FORM timed out after 120 s (ratio > 17)
  load ~5 (12:44 UTC)
  u g -> u g g   gluon_sums 6.35 s / pairs 13.51 s (ratio 2.13); g g -> g g g 15.68 s / > 120 s
--all-2to3 --skip-compare (nice -n 10, one process at a time, not the workflow):
  load ~2:      205 processes in  61 s, all ok; slowest g g -> g g g 5.6 s, g g -> d d~ g 3.1 s
  load 10-15:   205 processes in 386 s, all ok; slowest g g -> g g g 39 s, t t~ -> g g g 18 s
One QCD 3->3 process by hand, load ~7: u u g -> u u g (72 diagrams, quark route)
  437 s wall, 210 s FORM CPU, 89.6 MB of output: 3->3 is still out of reach.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

from symba.physics.diagrams import build_diagrams
from symba.physics.form.runner import FormError
from symba.physics.process import enumerate_processes, parse_process
from symba.physics.squaring import square


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
    ap.add_argument(
        "--old-timeout",
        type=float,
        default=120.0,
        help="stop the former route after this many seconds",
    )
    ap.add_argument(
        "--all-2to3",
        action="store_true",
        help="also time every QCD 2->3 process (new route)",
    )
    ap.add_argument("--skip-compare", action="store_true", help="only the --all-2to3 sweep")
    args = ap.parse_args()
    if not args.skip_compare:
        for text in ("u g -> u g g", "g g -> g g g"):
            compare(text, args.runs, args.old_timeout)
    if args.all_2to3:
        all_2to3(600.0)


if __name__ == "__main__":
    main()
