"""Share of MARTY's 2->2 diagrams whose canonical amplitude is our engine's text for the same diagram.

Run by hand (needs the MARTY bridge, see cpp/marty_bindings/README.md)::

    python benchmarks/marty_amplitude_agreement.py               # every QED 2->2 process
    python benchmarks/marty_amplitude_agreement.py --theory qcd  # the same for QCD 2->2
    python benchmarks/marty_amplitude_agreement.py --limit 20 --show 10

MARTY's printed amplitude of each diagram is translated into our syntax
(``marty.translate_amplitude``, no process: nothing laid out yet), then passed through
``canonical.canonicalise`` with the process, as an imported SYMBA row is (per-diagram
form: no overall sign).  The diagram it belongs to is found as the ``marty`` backend
finds it (``marty.match_diagrams``: internal fields and propagator values), and its
canonical text is compared with the engine's row text of that diagram.

Reported: the share that is identical; how each got there ("layout": the structural
steps alone; "by value": the engine's form restored after a numeric comparison, e.g.
MARTY's Dirac-equation rewrites); the share identical with the sign kept (the relative
signs a whole-process row sees); texts left non-canonical, with examples; and the
canonicalisation time per amplitude (CPU seconds, MARTY's own time excluded).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections import Counter

from symba.physics import marty
from symba.physics.amplitude_syntax import canonicalize_indices, parse
from symba.physics.canonical import canonicalise, engine_amplitudes, engine_layout, flip, without_sign
from symba.physics.process import enumerate_processes


def diagrams(proc, timeout: float):
    """(engine index, MARTY's amplitude translated into our syntax) per MARTY diagram."""
    incoming, outgoing = marty.marty_legs(proc)
    raw = marty.run_in_worker(proc.theory, incoming, outgoing, True, False, timeout, what=str(proc))
    squares = [marty.read_square(d["squared"]) for d in raw["diagrams"]]
    found = [(d["mediators"], dens) for d, (_, dens) in zip(raw["diagrams"], squares)]
    order = marty.match_diagrams(proc, marty.reference_diagrams(proc), found)
    model = proc.model
    labels = {model.particle(n).label for n in model.particles if model.particle(n).fermion}
    return [(ref, marty.translate_amplitude(d["amplitude"], labels)) for ref, d in zip(order, raw["diagrams"])]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--theory", choices=("qed", "qcd"), default="qed")
    ap.add_argument("--limit", type=int, default=0, help="first N processes only (0: all)")
    ap.add_argument("--timeout", type=float, default=300.0, help="seconds per MARTY call")
    ap.add_argument("--show", type=int, default=10, help="examples printed per class")
    args = ap.parse_args()
    status = marty.bridge_status()
    if not status.loadable:
        raise SystemExit(f"MARTY bridge unusable: {status.reason}")
    processes = list(enumerate_processes(args.theory, ("2->2",)))
    if args.limit:
        processes = processes[: args.limit]
    start = time.perf_counter()
    counts: Counter = Counter()
    cpu: list[float] = []
    examples: dict[str, list] = {"not canonical": [], "other text": []}
    failed = []
    for proc in processes:
        try:
            found = diagrams(proc, args.timeout)
        except Exception as exc:  # a benchmark reports the failure and goes on
            failed.append(f"{proc}: {type(exc).__name__}: {str(exc)[:100]}")
            continue
        engine = engine_amplitudes(proc)
        for index, translated in found:
            counts["diagrams"] += 1
            t0 = time.process_time()
            text, ok = canonicalise(translated, proc)
            cpu.append(time.process_time() - t0)
            signed, _ = canonicalise(translated, proc, signed=True)
            if not ok:
                counts["not canonical"] += 1
                examples["not canonical"].append((str(proc), index, translated, engine[index]))
            elif text == without_sign(engine[index]):
                counts["same"] += 1
                laid = engine_layout(canonicalize_indices(parse(translated)), proc)
                structural = laid is not None and (laid == engine[index] or flip(laid) == engine[index])
                counts["same: layout" if structural else "same: by value"] += 1
                counts["same, sign kept"] += signed == engine[index]
            else:
                counts["other text"] += 1
                examples["other text"].append((str(proc), index, text, engine[index]))
    total = counts["diagrams"]
    print(
        f"{args.theory.upper()} 2->2: {len(processes)} processes, {total} diagrams, {time.perf_counter() - start:.0f} s"
    )
    for key in ("same", "same: layout", "same: by value", "same, sign kept", "not canonical", "other text"):
        share = 100 * counts[key] / total if total else 0.0
        print(f"  {key:18} {counts[key]:4d} / {total}  ({share:.1f}%)")
    if cpu:
        print(
            f"  canonicalisation CPU s per amplitude: median {statistics.median(cpu):.4f}, "
            f"mean {statistics.fmean(cpu):.4f}, max {max(cpu):.3f} (first call per process builds the engine's diagrams)"
        )
    print(f"  processes failed: {len(failed)}")
    for line in failed:
        print("  failed:", line)
    for cls, found in examples.items():
        print(f"\n{cls}: {len(found)} (processes: {len({f[0] for f in found})})")
        for proc, index, mine, theirs in found[: args.show]:
            print(f"  {proc} diagram {index}\n    marty:   {mine}\n    builtin: {theirs}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
