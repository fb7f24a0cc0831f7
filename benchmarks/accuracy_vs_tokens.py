"""Next-token accuracy (train and valid) against training tokens seen, from training metrics.

    python benchmarks/accuracy_vs_tokens.py --out benchmarks/accuracy_vs_tokens.png \\
        seed=/work/runs/seed/results/model/metrics.csv gpu-recipe-cpu=/work/runs/sweep/gpuq/metrics.csv

Each argument is LABEL=metrics.csv (or a bare path, labelled by its folder), as written by
``symba train``: its ``tokens_seen`` column (source + target tokens, padding excluded, cumulative)
is the x axis; ``--x train_s`` plots against training seconds instead.  Dotted lines mark the
ends of epochs: until the first, the training accuracy is measured on rows not yet seen.  Prints, per run, the
tokens seen and the valid accuracy at each validation, so the report can quote them.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

X_COLUMNS = {"tokens_seen": "training tokens seen (source + target, no padding)", "train_s": "training seconds"}


def read_run(path: str, x: str) -> dict[str, list[tuple[float, float]]]:
    with open(path, newline="") as fh:
        rows = list(csv.DictReader(fh))
    if not rows or x not in rows[0]:
        raise ValueError(f"{path} has no {x} column (written by symba train since tokens_seen was added)")
    curves: dict[str, list[tuple[float, float]]] = {"train": [], "valid": [], "epoch_ends": []}
    for before, row in zip([None, *rows], rows):
        if before is not None and row["epoch"] != before["epoch"]:
            curves["epoch_ends"].append((float(before[x]), 0.0))
        curves["train"].append((float(row[x]), float(row["token_accuracy"])))
        if row["valid_token_accuracy"] != "":
            curves["valid"].append((float(row[x]), float(row["valid_token_accuracy"])))
    return curves


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runs", nargs="+", help="LABEL=metrics.csv or metrics.csv")
    ap.add_argument("--out", default="benchmarks/accuracy_vs_tokens.png")
    ap.add_argument("--x", choices=sorted(X_COLUMNS), default="tokens_seen")
    ap.add_argument("--title", default="Next-token accuracy (teacher forcing) against training data")
    args = ap.parse_args()
    runs = []
    for spec in args.runs:
        label, _, path = spec.rpartition("=") if "=" in spec else (Path(spec).parent.name, "", spec)
        try:
            runs.append((label, read_run(path, args.x)))
        except (OSError, ValueError, KeyError) as exc:
            print(f"accuracy_vs_tokens: error: {exc}", file=sys.stderr)
            return 2

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for i, (label, curves) in enumerate(runs):
        color = f"C{i}"
        if curves["train"]:
            ax.plot(*zip(*curves["train"]), color=color, alpha=0.35, lw=1, label=f"{label} train")
        for x, _ in curves["epoch_ends"]:  # before the first epoch ends, train rows are unseen rows
            ax.axvline(x, color=color, ls=":", lw=0.8)
        if curves["valid"]:
            ax.plot(*zip(*curves["valid"]), "o-", color=color, ms=3, label=f"{label} valid")
        print(label)
        for x, acc in curves["valid"]:
            print(f"  {args.x}={x:,.0f} valid_token_accuracy={acc:.4f}")
    ax.set_xscale("log")
    ax.set_xlabel(X_COLUMNS[args.x])
    ax.set_ylabel("next-token accuracy")
    ax.set_ylim(0, 1.01)
    ax.grid(alpha=0.3)
    ax.set_title(args.title, fontsize=10)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
