"""Factorisation time, FLINT against SymPy, on QED 2->3 squared amplitudes.

Run by hand (slow: SymPy takes minutes on whole-process squares):
    nice -n 10 python benchmarks/flint_vs_sympy.py [--per-diagram 30] [--whole 10] [--timeout 60]

Both routes start from the engine's text and end at the same canonical string
(symba.simplify.flint): FLINT reads the text itself; SymPy parses it with
parse_expression, runs sympy.factor and prints through the same printer.  SymPy
runs in a child process, measured there without interpreter start-up, and is
killed after --timeout + 30 s of wall time (or counted as timed out past
--timeout CPU seconds).  Times are CPU seconds (process_time): the machine is
shared, and wall time would measure the load.  Prints medians side by side and
the ratio, counting a timeout as --timeout (so SymPy's figures are lower bounds).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time

from symba.physics import compute_process, enumerate_processes
from symba.simplify.flint import flint_factor_text

_CHILD = """
import json, sys, time
from symba.simplify.flint import sympy_factor_text
import sympy
sympy.factor(sympy.Symbol('x') ** 2 - 1)  # warm up the polys machinery
text = sys.stdin.read()
t0 = time.process_time()
out = sympy_factor_text(text)
print(json.dumps({"seconds": time.process_time() - t0, "text": out}))
"""


def sympy_time(text: str, timeout: float) -> tuple[float, str | None]:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD],
            input=text,
            capture_output=True,
            text=True,
            timeout=timeout + 30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return timeout, None
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip().splitlines()[-1])
    answer = json.loads(done.stdout)
    if answer["seconds"] > timeout:
        return timeout, None
    return answer["seconds"], answer["text"]


def sample_expressions(n_diagram: int, n_whole: int, seed: int = 0) -> list[tuple[str, str, str]]:
    procs = enumerate_processes("qed", ["2->3"])
    random.Random(seed).shuffle(procs)
    per_diagram, whole = [], []
    for proc in procs:
        if len(per_diagram) >= n_diagram and len(whole) >= n_whole:
            break
        result = compute_process(proc)
        if len(per_diagram) < n_diagram:
            d = result.diagrams[0]
            per_diagram.append((str(proc), f"diagram {d.index}", d.squared_amplitude))
        if len(whole) < n_whole and len(result.diagrams) > 1:
            whole.append((str(proc), "whole process", result.squared_amplitude))
    return per_diagram + whole


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-diagram", type=int, default=30)
    ap.add_argument("--whole", type=int, default=10)
    ap.add_argument("--timeout", type=float, default=60.0)
    args = ap.parse_args()

    rows = []
    flint_factor_text("(2*x^2 - 2*y^2)/(x + y)")  # load FLINT before timing
    for process, which, raw in sample_expressions(args.per_diagram, args.whole):
        t0 = time.process_time()
        flint_text = flint_factor_text(raw)
        t_flint = time.process_time() - t0
        t_sympy, sympy_text = sympy_time(raw, args.timeout)
        same = "timeout" if sympy_text is None else ("same" if sympy_text == flint_text else "DIFFERENT")
        rows.append((which == "whole process", len(raw), t_flint, t_sympy, sympy_text is None, same))
        print(
            f"{process:28s} {which:14s} {len(raw):6d} chars -> {len(flint_text):8d}  "
            f"flint {t_flint:8.4f} s  sympy {t_sympy:8.2f} s  {same}",
            flush=True,
        )

    for label, keep in (("per-diagram", False), ("whole-process", True)):
        part = [r for r in rows if r[0] == keep]
        if not part:
            continue
        f = statistics.median(r[2] for r in part)
        s = statistics.median(r[3] for r in part)
        timeouts = sum(r[4] for r in part)
        print(
            f"{label}: {len(part)} expressions, median chars {statistics.median(r[1] for r in part):.0f}; "
            f"median flint {f:.4f} s, sympy {s:.2f} s ({timeouts} timeouts at {args.timeout:g} s), "
            f"ratio {s / f:.0f}x; total flint {sum(r[2] for r in part):.2f} s, sympy >= {sum(r[3] for r in part):.1f} s"
        )
    different = sum(r[5] == "DIFFERENT" for r in rows)
    print(f"canonical texts: {different} different among {sum(not r[4] for r in rows)} that SymPy finished")


if __name__ == "__main__":
    main()
