"""What relabelling-aware inference gains: one model evaluated with and without it, per test side.

Run by hand (nice it on a shared machine):

    python benchmarks/relabel_gain.py --model results/default/model/model.pt \\
        --out benchmarks/relabel_gain.json results/default/tokens/qed/*.parquet

Runs ``symba.model.evaluate.run_evaluation`` twice (``evaluate.relabel_legs`` false, then
true) with the same settings and prints token, sequence and numeric accuracy per test side,
how many rows were relabelled, and how many of those have their canonical twin (the same
diagram of the canonical process) among the training rows.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from symba.model import batches
from symba.model.evaluate import TEST_SETS
from symba.model.evaluate import run_evaluation as evaluate
from symba.physics.leg_relabelling import relabelling_for

METRICS = ("token_accuracy", "sequence_accuracy", "numeric_accuracy")


def training_pairs(shards: list[str]) -> set[tuple[str, int]]:
    """(process, diagram) of every training row."""
    rows = batches.iter_rows(shards, "train", ["split", "amplitude_ids", "squared_ids", "process", "diagram"])
    return {(r["process"], r["diagram"]) for r in rows}


def twins(shards: list[str], max_examples: int) -> dict:
    """Per test side: rows a relabelling applies to, and those whose canonical row was trained on."""
    trained = training_pairs(shards)
    out = {}
    columns = ["split", "amplitude_ids", "squared_ids", "process", "theory", "diagram", "amplitude"]
    for name, split in TEST_SETS.items():
        n = relabelled = twin = 0
        for row in batches.iter_rows(shards, split, columns):
            if max_examples and n >= max_examples:
                break
            n += 1
            relabelling = relabelling_for(row["amplitude"], row["process"], row["theory"])
            if relabelling is not None:
                relabelled += 1
                twin += (relabelling.canonical_process, row["diagram"]) in trained
        out[name] = {"n": n, "relabellable": relabelled, "canonical_twin_trained": twin}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--vocab", help="default: the model's own")
    ap.add_argument("--max-examples", type=int, default=0, help="rows per test side (0: all)")
    ap.add_argument("--beam", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", help="JSON file for the numbers")
    ap.add_argument("shards", nargs="+")
    args = ap.parse_args()

    result: dict = {"model": args.model, "shards": args.shards, "max_examples": args.max_examples, "beam": args.beam}
    result["twins"] = twins(args.shards, args.max_examples)
    for relabel in (False, True):
        config = {
            "max_examples": args.max_examples,
            "beam_size": args.beam,
            "workers": args.workers,
            "relabel_legs": relabel,
        }
        with tempfile.TemporaryDirectory() as tmp:
            t0 = time.perf_counter()
            metrics = evaluate(
                args.model,
                args.shards,
                args.vocab,
                config,
                str(Path(tmp) / "metrics.json"),
                str(Path(tmp) / "calibration.png"),
                str(Path(tmp) / "length.png"),
            )
            seconds = time.perf_counter() - t0
        key = "with" if relabel else "without"
        result[key] = {"seconds": round(seconds, 1), "n_relabelled": metrics["relabel_legs"]["n_relabelled"]}
        for name in TEST_SETS:
            if name in metrics:
                result[key][name] = {k: metrics[name][k] for k in ("n_test", *METRICS)}

    print(f"{'side':<20} {'n':>5} {'relabelled':>10} {'twin':>5}  " + "  ".join(f"{m[:-9]:>17}" for m in METRICS))
    for name in TEST_SETS:
        if name not in result["with"]:
            continue
        n = result["with"][name]["n_test"]
        twin = result["twins"][name]
        cells = []
        for m in METRICS:
            a, b = result["without"][name][m], result["with"][name][m]
            cells.append("        -" if a is None else f"{a:.3f} -> {b:.3f}".rjust(17))
        relabelled = result["with"]["n_relabelled"].get(name, 0)
        print(f"{name:<20} {n:>5} {relabelled:>10} {twin['canonical_twin_trained']:>5}  " + "  ".join(cells))
    print(f"seconds: without {result['without']['seconds']}, with {result['with']['seconds']}")
    if args.out:
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
