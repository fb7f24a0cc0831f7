"""Share of MARTY's QED 2->2 diagrams whose translated amplitude is our builtin engine's string.

Run by hand (needs the MARTY bridge, see cpp/marty_bindings/README.md)::

    python benchmarks/marty_amplitude_agreement.py               # every QED 2->2 process
    python benchmarks/marty_amplitude_agreement.py --limit 20 --show 10
    python benchmarks/marty_amplitude_agreement.py --theory qcd    # the same for QCD 2->2

Every process goes through both backends of the engine (``compute_process``).
Matching: the ``marty`` backend puts each MARTY diagram at the index of its
FeynGraph twin (``marty.match_diagrams``: internal field labels, and propagator
denominators compared by value at a random phase-space point), the order the
builtin uses; diagram i of one backend is compared with diagram i of the other.
That matching is ambiguous only when two diagrams of a process have the same
propagators; the script counts such processes (none in QED 2->2).

Three shares: the same string; the same up to one overall sign per diagram
(``amplitude_printing.without_overall_sign``); the same up to one sign common to
all diagrams of the process (the overall phase of the process, which keeps the
relative signs that interference sees).  Mismatches are printed by class:
"sign" (the strings differ by the overall sign only) and "structure" (anything else).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter

from symba.physics.amplitude_printing import without_overall_sign
from symba.physics.engine import compute_process
from symba.physics.marty import bridge_status
from symba.physics.process import enumerate_processes


def compare(proc, timeout: float):
    """(per-diagram (index, propagators, marty, builtin) rows, ambiguous matching?) of one process."""
    theirs = compute_process(proc, proc.theory, backend="marty", timeout=timeout)
    ours = compute_process(proc, proc.theory, backend="builtin", timeout=timeout)
    if [d.index for d in theirs.diagrams] != [d.index for d in ours.diagrams]:
        raise ValueError(f"{len(theirs.diagrams)} MARTY diagrams against {len(ours.diagrams)} builtin ones")
    props = [tuple(sorted(d.propagators)) for d in ours.diagrams]
    rows = [(o.index, o.propagators, t.amplitude, o.amplitude) for t, o in zip(theirs.diagrams, ours.diagrams)]
    return rows, len(set(props)) != len(props)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--theory", choices=("qed", "qcd"), default="qed")
    ap.add_argument("--limit", type=int, default=0, help="first N processes only (0: all)")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per process and backend")
    ap.add_argument("--show", type=int, default=20, help="mismatches printed per class")
    args = ap.parse_args()
    status = bridge_status()
    if not status.loadable:
        raise SystemExit(f"MARTY bridge unusable: {status.reason}")
    processes = list(enumerate_processes(args.theory, ("2->2",)))
    if args.limit:
        processes = processes[: args.limit]
    start = time.perf_counter()
    counts: Counter = Counter()
    mismatches: dict[str, list] = {"sign": [], "structure": []}
    failed, ambiguous = [], []
    for proc in processes:
        try:
            rows, unclear = compare(proc, args.timeout)
        except Exception as exc:  # a benchmark reports the failure and goes on
            failed.append(f"{proc}: {type(exc).__name__}: {str(exc)[:100]}")
            continue
        if unclear:
            ambiguous.append(str(proc))
        same = [m == b for _, _, m, b in rows]
        signless = [without_overall_sign(m) == without_overall_sign(b) for _, _, m, b in rows]
        flipped = [without_overall_sign(m) == without_overall_sign(b) and m != b for _, _, m, b in rows]
        common_sign = all(same) or all(flipped)
        counts["diagrams"] += len(rows)
        counts["same"] += sum(same)
        counts["same up to sign"] += sum(signless)
        counts["same up to process phase"] += len(rows) if common_sign else 0
        for (index, props, m, b), s, u in zip(rows, same, signless):
            if not s:
                mismatches["sign" if u else "structure"].append((str(proc), index, props, m, b))
    total = counts["diagrams"]
    print(
        f"{args.theory.upper()} 2->2: {len(processes)} processes, {total} diagrams, {time.perf_counter() - start:.0f} s"
    )
    for key in ("same", "same up to sign", "same up to process phase"):
        share = 100 * counts[key] / total if total else 0.0
        print(f"  {key:26} {counts[key]:4d} / {total}  ({share:.1f}%)")
    print(f"  processes failed: {len(failed)}; with an ambiguous diagram matching: {len(ambiguous)}")
    for line in failed:
        print("  failed:", line)
    for cls, found in mismatches.items():
        print(f"\n{cls} mismatches: {len(found)} (processes: {len({f[0] for f in found})})")
        for proc, index, props, m, b in found[: args.show]:
            print(f"  {proc} diagram {index} {props}\n    marty:   {m}\n    builtin: {b}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
