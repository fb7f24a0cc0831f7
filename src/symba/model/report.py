"""The headline of an evaluation, as plain text: imports no torch, so the Snakemake process can
print it at the end of a run (the Snakefile's ``onsuccess``) without loading the model library."""

from __future__ import annotations

import json
from pathlib import Path

HEADLINE_SETS = ("heldout_orderings", "heldout_templates")


def headline(result: dict) -> list[str]:
    """Two lines, one per headline test set: the accuracies, the certainty figures, and whether
    the legs were relabelled to canonical order before decoding."""
    lines = []
    relabel = result.get("relabel_legs") or {}
    # split: random has one test side of its own; the two headline sides are then empty
    random_side = (result.get("heldout_random") or {}).get("n_test")
    for name in ("heldout_random",) if random_side else HEADLINE_SETS:
        side = result.get(name)
        if not side:
            continue
        label = name.replace("heldout_", "held-out ")
        if not side["n_test"]:
            lines.append(f"{label}: no test rows")
            continue
        # The threshold predict --fallback uses (certainty.fallback_threshold, common to the test
        # sets), not each set's own best: the share recomputed here is the share predict recomputes.
        fb = side["fallback_at_common_threshold"]
        accepted = (
            f"{fb['coverage']:.0%} answered by the model at certainty >= {fb['threshold']:.4f}"
            if fb["threshold"] is not None
            else f"no certainty reaches {side['selective']['target_accuracy']:.1%} right"
        )
        lines.append(
            f"{label}: n={side['n_test']} token {side['token_accuracy']:.3f} sequence "
            f"{side['sequence_accuracy']:.3f} numeric {side['numeric_accuracy']:.3f}; {accepted}; "
            f"after fallback {fb['accuracy_after_fallback']:.3f} with {fb['recomputed']:.0%} recomputed"
            + _relabel_note(relabel, name)
            + _verify_note(side.get("verification"))
        )
    return lines


def _verify_note(ver: dict | None) -> str:
    if not ver or ver["coverage"] is None:
        return ""
    return (
        f"; verified top-k {ver['verified_topk_accuracy']:.3f} ({ver['coverage']:.0%} with a passing beam, "
        f"{ver['accepted_accuracy'] or 0:.3f} of them right; top beam alone {ver['unverified_top1_numeric_accuracy']:.3f})"
    )


def _relabel_note(relabel: dict, name: str) -> str:
    if "used" not in relabel:  # a metrics.json from before relabel_legs
        return ""
    if not relabel["used"]:
        return "; legs as written (relabel_legs off)"
    return f"; {relabel['n_relabelled'].get(name, 0)} decoded with legs in canonical order"


def print_headline(metrics_json: str, targets=None) -> None:
    """The two test sets of metrics.json (when evaluation was run)."""
    if targets is not None and "evaluation" not in targets:
        return
    path = Path(metrics_json)
    if not path.is_file():
        return
    try:
        result = json.loads(path.read_text())
        lines = headline(result)
    except (ValueError, KeyError, TypeError):  # an older metrics.json: nothing to summarize
        return
    threshold = (result.get("certainty") or {}).get("fallback_threshold")
    fallback = "recompute all" if threshold is None else f"recompute below certainty {threshold:.4f}"
    print(f"evaluation ({metrics_json}; symba predict --fallback: {fallback}):")
    for line in lines:
        print(f"  {line}")


def print_run_summary(run_dir: str, targets) -> None:
    """The workflow's last lines: where the run's outputs and job logs are, then the headline."""
    print(f"symba: done; results in {run_dir}/ (dataset/, tokens/, model/, evaluation/, reports/)")
    print(f"  job logs: {run_dir}/logs/; per-job time and memory: {run_dir}/benchmarks/")
    print_headline(f"{run_dir}/evaluation/metrics.json", targets)
