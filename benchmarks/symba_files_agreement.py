"""Imported public SYMBA/MARTY 2->2 files against the engine: one text per diagram, and the same square.

Run by hand, on the public files (``QED-2-to-2-diag-TreeLevel-*.txt``, ``QCD-2-to-2-diag-TreeLevel-*.txt``;
SYMBA's QED set has 360 lines, its QCD set 234)::

    python benchmarks/symba_files_agreement.py DIR            # both theories
    python benchmarks/symba_files_agreement.py DIR --show 5

Each file goes through the importer (``symba.sources.symba_text.import_files``, as
``symba import-symba`` does).  For every row: its process in our names, whether its
amplitude is identical to the engine's row text of a diagram of that process (per
diagram: no overall sign), how many of the engine's diagrams the rows name,
and, as a check that is independent of the amplitude texts, whether MARTY's squared
amplitude of the row equals the engine's square of that diagram at random points
(``reg_prop`` set to 0).  The cost: CPU seconds of ``canonicalise`` per amplitude (the
first amplitude of a process builds the engine's diagrams).
"""

from __future__ import annotations

import argparse
import glob
import statistics
import time
from collections import Counter, defaultdict
from pathlib import Path

import sympy

from symba.physics.canonical import canonicalise, engine_amplitudes, without_sign
from symba.physics.engine import compute_process
from symba.physics.expression_parser import parse_expression
from symba.physics.kinematics import numerically_equal
from symba.physics.marty import translate_amplitude
from symba.physics.process import parse_process
from symba.sources.marty_amplitudes import AMPLITUDE_RENAMES, _fermion_labels
from symba.sources.symba_text import import_files


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path)
    ap.add_argument("--show", type=int, default=5, help="examples printed per class")
    args = ap.parse_args()
    for theory in ("qed", "qcd"):
        paths = sorted(glob.glob(str(args.folder / f"{theory.upper()}-2-to-2-diag-TreeLevel-*.txt")))
        if not paths:
            continue
        start = time.perf_counter()
        rows, stats = import_files(paths, theory=theory, reg_prop="zero")
        import_s = time.perf_counter() - start
        counts: Counter = Counter()
        examples: dict[str, list] = defaultdict(list)
        by_process: dict[str, list[int]] = defaultdict(list)
        for row in rows:
            counts[row["backend"]] += 1
            try:
                proc = parse_process(row["process"], theory)
            except ValueError as exc:
                counts["process not ours"] += 1
                examples["process not ours"].append((row["process"], str(exc)[:80]))
                continue
            engine = [without_sign(a) for a in engine_amplitudes(proc)]
            if row["amplitude"] not in engine:
                counts["other text"] += 1
                examples["other text"].append((row["process"], row["amplitude"][:200]))
                continue
            index = engine.index(row["amplitude"])
            counts["same as engine"] += 1
            by_process[row["process"]].append(index)
            square = compute_process(proc, theory).diagrams[index].squared_amplitude
            # MARTY's squares carry i*i inside sums: expand them away before evaluating
            theirs = sympy.expand(parse_expression(row["squared"].replace("I", "i")))
            if numerically_equal(theirs, square, proc.leg_masses(), proc.n_in, n_points=2):
                counts["same square"] += 1
            else:
                examples["other square"].append((row["process"], index, row["squared"][:120], square[:120]))
        # the files repeat some lines (the same diagram of the same process): count the diagrams covered
        counts["diagrams covered"] = sum(len(set(v)) for v in by_process.values())
        counts["engine diagrams"] = sum(len(engine_amplitudes(parse_process(p, theory))) for p in by_process)
        # the cost of the canonical form alone, on the translated texts (rows are in file and line order)
        labels, texts = _fermion_labels(theory), []
        for path in paths:
            for line in Path(path).read_text().splitlines():
                if line.strip():
                    fields = [f.strip() for f in line[len("Interaction:") :].split(" : ")]
                    texts.append(
                        translate_amplitude(" : ".join(fields[2:-1]), labels, rename=AMPLITUDE_RENAMES[theory])
                    )
        assert len(texts) == len(rows)
        timings = []
        for row, text in zip(rows, texts):
            t0 = time.process_time()
            canonicalise(text, row["process"], theory)
            timings.append(time.process_time() - t0)
        total = len(rows)
        print(f"{theory.upper()} 2->2: {total} rows from {len(paths)} files; import {import_s:.1f} s wall")
        print(f"  import report: {stats}")
        for key in ("same as engine", "same square", "process not ours", "other text"):
            print(f"  {key:22} {counts[key]:4d} / {total}  ({100 * counts[key] / max(total, 1):.1f}%)")
        print(f"  backends: { {k: v for k, v in counts.items() if k.startswith('symba-import')} }")
        print(
            f"  distinct diagrams named: {counts['diagrams covered']} of the engine's {counts['engine diagrams']}"
            f" for these {len(by_process)} processes (the other rows repeat a line)"
        )
        print(
            f"  canonicalise CPU per amplitude: median {statistics.median(timings) * 1e3:.2f} ms, "
            f"mean {statistics.fmean(timings) * 1e3:.2f} ms, max {max(timings) * 1e3:.1f} ms"
        )
        for cls, found in examples.items():
            print(f"  {cls}: {len(found)}")
            for example in found[: args.show]:
                print("    ", example)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
