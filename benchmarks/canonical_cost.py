"""CPU time of the canonical amplitude form per amplitude, without MARTY.

Run by hand::

    python benchmarks/canonical_cost.py            # QED and QCD 2->2, and a sample of 2->3

For every engine diagram of each process: ``canonical_amplitude`` with the process on the
engine's own text (the structural path: laid out, then found among the engine's texts; the
first diagram of a process also builds the engine's diagrams), and on the same text with one
denominator term changed (``2*m_e^2`` -> ``m_e^2``): the layout does not find that among the
engine's texts, so it takes the value path (evaluation at two random points, comparison with
every diagram) and is refused.  That is the cost of MARTY's Dirac-equation rewrites, which
take the same path and are accepted.
"""

from __future__ import annotations

import statistics
import time

from symba.physics import canonical
from symba.physics.process import enumerate_processes


def main() -> int:
    for theory, mult, step in (("qed", "2->2", 1), ("qcd", "2->2", 1), ("qed", "2->3", 10), ("qcd", "2->3", 10)):
        procs = list(enumerate_processes(theory, (mult,)))[::step]
        first, again, value = [], [], []
        for proc in procs:
            canonical.engine_amplitudes.cache_clear()
            canonical._engine_values.cache_clear()
            for k, text in enumerate(canonical.engine_amplitudes(proc)):
                t0 = time.process_time()
                canonical.canonical_amplitude(text, proc, signed=True)
                (first if k == 0 else again).append(time.process_time() - t0)
                other = text.replace("2*m_", "m_", 1)
                if other != text:
                    t0 = time.process_time()
                    canonical.canonicalise(other, proc, signed=True)
                    value.append(time.process_time() - t0)
        for name, xs in (("layout, first of a process", first), ("layout, others", again), ("value path", value)):
            if xs:
                print(
                    f"{theory} {mult} {name:28} n={len(xs):4d}  median {statistics.median(xs) * 1e3:7.2f} ms"
                    f"  mean {statistics.fmean(xs) * 1e3:7.2f} ms  max {max(xs) * 1e3:7.1f} ms"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
