"""The PNG figures of training and evaluation (matplotlib, headless, written atomically)."""

from __future__ import annotations

import csv

from symba.figures import pyplot
from symba.files import atomic_write


def _save(fig, path: str) -> None:
    plt = pyplot()
    atomic_write(path, lambda tmp: fig.savefig(tmp, dpi=100, format="png"))
    plt.close(fig)


def plot_training(metrics_csv: str, lr_png: str, curves_png: str) -> None:
    """The learning-rate schedule, and loss and next-token accuracy (train and valid) by step."""
    plt = pyplot()
    with open(metrics_csv, newline="") as fh:
        rows = list(csv.DictReader(fh))
    steps = [int(r["step"]) for r in rows]

    def col(name):
        pts = [(int(r["step"]), float(r[name])) for r in rows if r[name] != ""]
        return [p[0] for p in pts], [p[1] for p in pts]

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(steps, [float(r["lr"]) for r in rows])
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.set_title("Learning-rate schedule (warmup + one cycle)")
    fig.tight_layout()
    _save(fig, lr_png)

    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.5))
    ax1.plot(*col("loss"), label="train")
    ax1.plot(*col("valid_loss"), "o-", label="valid")
    ax1.set_xlabel("step")
    ax1.set_ylabel("cross-entropy")
    ax1.set_yscale("log")
    ax1.legend()
    ax2.plot(*col("token_accuracy"), label="train")
    ax2.plot(*col("valid_token_accuracy"), "o-", label="valid")
    ax2.set_xlabel("step")
    ax2.set_ylabel("next-token accuracy")
    ax2.set_ylim(0, 1.01)
    ax2.legend()
    fig.tight_layout()
    _save(fig, curves_png)


_SET_LABELS = {
    "heldout_orderings": "held-out orderings",
    "heldout_templates": "held-out templates",
    "heldout_random": "random test",
}
_SET_COLORS = {"heldout_orderings": "tab:blue", "heldout_templates": "tab:red", "heldout_random": "tab:green"}


def plot_calibration(cal_by_set: dict[str, dict], path: str) -> None:
    """Accuracy of the kept predictions against coverage as the certainty threshold sweeps, per test set."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name, cal in cal_by_set.items():
        label, color = _SET_LABELS.get(name, name), _SET_COLORS.get(name)
        cov = [p["coverage"] for p in cal["curve"]]
        if not cov:
            ax.plot([], [], "o-", color=color, label=f"{label}: no rows")
            continue
        ax.plot(cov, [p["numeric_accuracy"] for p in cal["curve"]], "o-", color=color, label=f"{label}, numeric")
        ax.plot(
            cov,
            [p["sequence_accuracy"] for p in cal["curve"]],
            "s--",
            color=color,
            alpha=0.6,
            label=f"{label}, sequence",
        )
    ax.axhline(0.999, color="grey", lw=0.8, ls=":", label="99.9%")
    ax.set_xlabel("coverage (fraction kept, most certain first)")
    ax.set_ylabel("accuracy of kept predictions")
    ax.set_xlim(0, 1.02)
    ax.set_ylim(0, 1.02)
    ax.set_title("Calibration: reject below a certainty threshold")
    ax.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, path)


def plot_accuracy_by_length(by_len_by_set: dict[str, list[dict]], path: str) -> None:
    """Numeric and sequence accuracy per target-length bin and test set, labelled with the bin's count."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    for name, by_len in by_len_by_set.items():
        label, color = _SET_LABELS.get(name, name), _SET_COLORS.get(name)
        mids = [(b["min_len"] + b["max_len"]) / 2 for b in by_len]
        if not mids:
            ax.plot([], [], "o-", color=color, label=f"{label}: no rows")
            continue
        ax.plot(mids, [b["numeric_accuracy"] for b in by_len], "o-", color=color, label=f"{label}, numeric")
        ax.plot(
            mids, [b["sequence_accuracy"] for b in by_len], "s--", color=color, alpha=0.6, label=f"{label}, sequence"
        )
        for x, b in zip(mids, by_len):
            ax.annotate(
                str(b["n"]),
                (x, b["numeric_accuracy"]),
                textcoords="offset points",
                xytext=(0, 5),
                fontsize=7,
                ha="center",
                color=color,
            )
    ax.set_xlabel("target length (tokens)")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.05)
    ax.set_title("Accuracy against sequence length (labels: examples)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    _save(fig, path)
