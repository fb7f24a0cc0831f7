"""Simplification throughput: the seed's way (factor every line in one process) against
symba's (dedupe, worker processes with timeouts, then the warm cache), and factor vs cancel.

Input: the squared amplitudes of QED 2->2 over e, mu and the photon (diagram rows
and whole-process rows), computed here by the engine.

    python benchmarks/workflow_simplify.py [--particles e- e+ mu- mu+ a] [--workers 2] [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import sympy

from symba.physics.engine import compute_process
from symba.physics.expression_parser import symbol_table
from symba.physics.process import enumerate_processes
from symba.simplify import SimplifyOptions, simplify_expressions


def squared_amplitudes(particles: list[str]) -> list[str]:
    texts = []
    for proc in enumerate_processes("qed", ("2->2",), particles):
        result = compute_process(proc)
        texts += [d.squared_amplitude for d in result.diagrams] + [result.squared_amplitude]
    return texts


def seed_way(texts: list[str]) -> float:
    start = time.perf_counter()
    for text in texts:
        sympy.sstr(sympy.factor(sympy.sympify(text, locals=symbol_table())))
    return time.perf_counter() - start


def symba_way(texts: list[str], options: SimplifyOptions) -> float:
    start = time.perf_counter()
    outcomes, stats = simplify_expressions(texts, options)
    assert stats.timeout == stats.error == 0, stats
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--particles", nargs="+", default=["e-", "e+", "mu-", "mu+", "a"])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    texts = squared_amplitudes(args.particles)
    n, distinct = len(texts), len(set(texts))
    print(f"expressions: {n}, distinct: {distinct}")

    def report(label, seconds):
        median = statistics.median(seconds)
        print(f"{label:48s} median {median:7.2f} s   {n / median:8.1f} expressions/s")

    report("seed: factor each line, one process", [seed_way(texts) for _ in range(args.repeats)])
    for method in ("factor", "cancel"):
        cold, warm = [], []
        for _ in range(args.repeats):
            with tempfile.TemporaryDirectory() as cache:
                options = SimplifyOptions(method=method, workers=args.workers, cache_dir=cache)
                cold.append(symba_way(texts, options))
                warm.append(symba_way(texts, options))
        report(f"symba {method}: dedupe + {args.workers} workers, cold cache", cold)
        report(f"symba {method}: warm cache (a rerun)", warm)


if __name__ == "__main__":
    main()
