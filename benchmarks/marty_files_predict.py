"""A trained model on the public MARTY QED 2->2 amplitudes, through ``symba predict --jsonl -``.

Run by hand::

    python benchmarks/marty_files_predict.py MODEL.pt DIR [--fallback] [--tokens TOKENS_DIR]
    # DIR: QED-2-to-2-diag-TreeLevel-*.txt; TOKENS_DIR (e.g. results/default/tokens/qed): the model's
    # token shards, to count right answers by the split of the same (process, canonical amplitude) row

Each line's amplitude is MARTY's text translated into our syntax only (not canonicalised:
``symba predict`` must do that at its door), sent with the row's process; the prediction is
right when it equals the line's own squared amplitude at random points (MARTY's ``i*i``
expanded, ``reg_prop`` = 0).
"""

from __future__ import annotations

import glob
import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import sympy

from symba.physics.canonical import canonicalise
from symba.physics.expression_parser import parse_expression
from symba.physics.kinematics import numerically_equal
from symba.physics.marty import translate_amplitude
from symba.physics.process import parse_process
from symba.sources.marty_amplitudes import AMPLITUDE_RENAMES, _fermion_labels
from symba.sources.symba_text import import_files


def _splits(folder: str) -> dict:
    """(process, canonical amplitude) -> split, over the per-diagram rows of the token shards."""
    found = {}
    for path in glob.glob(str(Path(folder) / "*.parquet")):
        for r in pq.read_table(path, columns=["process", "diagram", "amplitude", "split"]).to_pylist():
            if r["diagram"] >= 0:
                found[(r["process"], canonicalise(r["amplitude"], r["process"], "qed")[0])] = r["split"]
    return found


def main() -> int:
    model, folder = sys.argv[1], Path(sys.argv[2])
    fallback = ["--fallback"] if "--fallback" in sys.argv[3:] else []
    tokens = sys.argv[sys.argv.index("--tokens") + 1] if "--tokens" in sys.argv else None
    paths = sorted(glob.glob(str(folder / "QED-2-to-2-diag-TreeLevel-*.txt")))
    rows, _ = import_files(paths, theory="qed", reg_prop="zero")
    texts = []
    for path in paths:
        for line in Path(path).read_text().splitlines():
            if line.strip():
                fields = [f.strip() for f in line[len("Interaction:") :].split(" : ")]
                texts.append(
                    translate_amplitude(
                        " : ".join(fields[2:-1]), _fermion_labels("qed"), rename=AMPLITUDE_RENAMES["qed"]
                    )
                )
    request = "".join(
        json.dumps({"amplitude": t, "process": r["process"], "theory": "qed"}) + "\n" for t, r in zip(texts, rows)
    )
    start = time.perf_counter()
    cmd = [sys.executable, "-m", "symba", "predict", "--model", model, "--jsonl", *fallback, "-"]
    done = subprocess.run(cmd, input=request, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(done.stderr[-2000:])
    answers = [json.loads(x) for x in done.stdout.splitlines() if x.strip()]
    right = 0
    by_split = Counter()
    split_of = _splits(tokens) if tokens else {}
    sources = {}
    for answer in answers:
        sources[answer.get("source", "error")] = sources.get(answer.get("source", "error"), 0) + 1
    for answer, row, text in zip(answers, rows, texts):
        proc = parse_process(row["process"], "qed")
        truth = sympy.expand(parse_expression(row["squared"].replace("I", "i")))
        predicted = answer.get("prediction")
        ok = bool(predicted) and numerically_equal(
            parse_expression(predicted), truth, proc.leg_masses(), proc.n_in, n_points=2
        )
        right += ok
        if tokens:
            key = (row["process"], canonicalise(text, row["process"], "qed")[0])
            by_split[(split_of.get(key, "not in the shards"), ok)] += 1
    print(
        f"{right} / {len(rows)} numerically right ({100 * right / len(rows):.1f}%); predict wall {wall:.0f} s; answered by {sources}"
    )
    for (split, ok), n in sorted(by_split.items()):
        print(f"  split {split}: {'right' if ok else 'wrong'} {n}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
