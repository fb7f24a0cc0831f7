"""The metrics of an evaluation, from its per-row outcomes: pure arithmetic, no torch.

Definitions (per example, then pooled):
- token accuracy: position-wise agreement of the top prediction with the truth over the
  truth's positions, EOS included (a prediction that stops early misses the rest);
- sequence accuracy: the top prediction's tokens equal the truth's;
- numeric accuracy: the top prediction, detokenized and parsed, equals the true squared
  amplitude at random physical phase-space points (unparseable = wrong);
- beam agreement: the fraction of the top-k beams numerically equivalent to the truth;
- certainty: the mean of the top prediction's token log-probabilities;
- selective: sorted by certainty, the largest most-certain share whose numeric accuracy is at
  least ``TARGET_ACCURACY``, per test set (an analysis figure);
- the fallback threshold (``certainty.fallback_threshold``): the lowest certainty at which every
  test set's accepted answers are at least ``TARGET_ACCURACY`` right.  It is the one threshold:
  ``symba predict --fallback`` recomputes below it, and each set's ``fallback_at_common_threshold``
  (the headline's figures) says what share that recomputes and the accuracy after it.

:mod:`symba.model.evaluate` makes the outcomes (decoding and numeric checks);
:mod:`symba.model.report` prints the headline of the resulting metrics.json.
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from dataclasses import dataclass

from symba.tokenization.splits import TEST_ORDERINGS, TEST_RANDOM, TEST_TEMPLATES

from .config import EvalConfig
from .report import HEADLINE_SETS

SUMMARY_KEYS = (
    "n_test",
    "token_accuracy",
    "sequence_accuracy",
    "numeric_accuracy",
    "beam_agreement",
    "topk_numeric_accuracy",
    "mean_logprob_sum",
    "mean_logprob_mean",
)
# metrics.json key -> split value of its rows
TEST_SETS = {"heldout_orderings": TEST_ORDERINGS, "heldout_templates": TEST_TEMPLATES, "heldout_random": TEST_RANDOM}
TARGET_ACCURACY = 0.999  # accepted answers must be at least this often numerically right
CERTAINTY = "mean token log-probability"


@dataclass(slots=True)
class Outcome:
    theory: str
    multiplicity: str
    target_len: int
    token_matches: int
    token_total: int
    sequence_ok: bool
    numeric_ok: bool
    beams_equivalent: int
    beams: int
    logprob_sum: float | None  # None: no prediction (source too long for the model)
    logprob_mean: float | None
    test_set: str = ""  # the metrics.json key it is reported under
    relabelled: bool = False  # decoded with its legs in canonical order (symba.physics.leg_relabelling)
    flavours_renamed: bool = False  # and its flavours renamed to canonical ones (symba.physics.flavours)
    # Verified decoding (symba.model.verify): the answer is the first beam that passes the physics
    # checks, or the top beam when none does; the fields above describe that answer.
    verified: bool | None = None  # a candidate passed; None: verification off
    pick: int = 0  # beam index of the answer
    top1_sequence_ok: bool | None = None  # the top beam's, whatever verification picked
    top1_numeric_ok: bool | None = None
    candidates: int = 0  # beams checked (best first, until one passes)
    fired: dict | None = None  # check -> beams it rejected
    skipped: dict | None = None  # check -> beams on which it could not be made


def summarize(outcomes: list[Outcome]) -> dict:
    n = len(outcomes)
    if n == 0:
        return {k: 0 if k == "n_test" else None for k in SUMMARY_KEYS}
    return {
        "n_test": n,
        "token_accuracy": sum(o.token_matches for o in outcomes) / max(1, sum(o.token_total for o in outcomes)),
        "sequence_accuracy": sum(o.sequence_ok for o in outcomes) / n,
        "numeric_accuracy": sum(o.numeric_ok for o in outcomes) / n,
        "beam_agreement": sum(o.beams_equivalent / max(1, o.beams) for o in outcomes) / n,
        "topk_numeric_accuracy": sum(o.beams_equivalent > 0 for o in outcomes) / n,
        "mean_logprob_sum": _mean([o.logprob_sum for o in outcomes]),
        "mean_logprob_mean": _mean([o.logprob_mean for o in outcomes]),
    }


def _mean(values):
    real = [v for v in values if v is not None]
    return sum(real) / len(real) if real else None


def certainty_of(o: Outcome) -> float:
    """The certainty of an outcome; -inf when nothing was predicted (the source was too long)."""
    return float("-inf") if o.logprob_mean is None else o.logprob_mean


def selective_accuracy(scored: list[tuple[float, bool]], target: float = TARGET_ACCURACY) -> dict:
    """The largest most-certain share of (certainty, right) pairs whose accuracy is >= ``target``.

    A threshold accepts every answer at or above it, so the share ends between two distinct
    certainties (ties are accepted or rejected together).  ``threshold`` is the lowest accepted
    certainty; None when no share reaches the target (every answer is recomputed).  Rejected
    answers are recomputed exactly and count as right: ``accuracy_after_fallback``, at the cost
    ``recomputed`` (their share)."""
    n = len(scored)
    ranked = sorted(scored, key=lambda p: p[0], reverse=True)
    best, right = 0, 0
    best_right = 0
    for k, (certainty, ok) in enumerate(ranked, start=1):
        right += bool(ok)
        at_boundary = k == n or ranked[k][0] < certainty
        if at_boundary and certainty != float("-inf") and right >= target * k - 1e-12:
            best, best_right = k, right
    return {
        "target_accuracy": target,
        "threshold": ranked[best - 1][0] if best else None,
        "coverage": best / n if n else None,
        "accepted_accuracy": best_right / best if best else None,
        "accuracy_after_fallback": (best_right + n - best) / n if n else None,
        "recomputed": (n - best) / n if n else None,
    }


def common_threshold(scored_by_set: dict[str, list[tuple[float, bool]]], target: float = TARGET_ACCURACY):
    """The lowest certainty threshold at which the accepted answers of every test set are at least
    ``target`` right (a set with nothing accepted passes); None when even the most certain answer
    fails somewhere, so every answer must be recomputed."""
    sides = []
    for scored in scored_by_set.values():
        ranked = sorted((c for c, _ in scored if c != float("-inf")), reverse=True)
        right_sorted = sorted(((c, ok) for c, ok in scored if c != float("-inf")), key=lambda p: p[0], reverse=True)
        prefix = [0]
        for _, ok in right_sorted:
            prefix.append(prefix[-1] + bool(ok))
        sides.append(([-c for c in ranked], prefix))  # ascending keys for bisect
    candidates = sorted({c for scored in scored_by_set.values() for c, _ in scored if c != float("-inf")}, reverse=True)
    best = None
    for t in candidates:
        ok = True
        for keys, prefix in sides:
            accepted = bisect.bisect_right(keys, -t)  # answers with certainty >= t
            if accepted and prefix[accepted] < target * accepted - 1e-12:
                ok = False
                break
        if ok:
            best = t
    return best


def fallback_at(scored: list[tuple[float, bool]], threshold: float | None) -> dict:
    """Accuracy after fallback, and its cost, at a given threshold (None: recompute all)."""
    n = len(scored)
    kept = [ok for c, ok in scored if threshold is not None and c >= threshold]
    return {
        "threshold": threshold,
        "coverage": len(kept) / n if n else None,
        "accepted_accuracy": sum(kept) / len(kept) if kept else None,
        "accuracy_after_fallback": (sum(kept) + n - len(kept)) / n if n else None,
        "recomputed": (n - len(kept)) / n if n else None,
    }


def calibration(outcomes: list[Outcome], threshold: float, n_points: int = 21) -> dict:
    """Accuracy of the predictions kept when those below a certainty threshold are rejected.

    The curve sweeps the threshold so that coverage runs from the most certain prediction alone
    to all of them."""
    ranked = sorted(outcomes, key=certainty_of, reverse=True)
    n = len(ranked)
    curve = []
    if n:
        sizes = sorted({max(1, round(n * i / (n_points - 1))) for i in range(n_points)})
        for k in sizes:
            kept = ranked[:k]
            curve.append(
                {
                    "threshold": kept[-1].logprob_mean,  # None only for unpredicted rows
                    "coverage": k / n,
                    "numeric_accuracy": sum(o.numeric_ok for o in kept) / k,
                    "sequence_accuracy": sum(o.sequence_ok for o in kept) / k,
                }
            )
    kept = [o for o in outcomes if certainty_of(o) >= threshold]
    return {
        "certainty": CERTAINTY,
        "curve": curve,
        "at_threshold": {
            "threshold": threshold,
            "coverage": len(kept) / n if n else None,
            "numeric_accuracy": sum(o.numeric_ok for o in kept) / len(kept) if kept else None,
        },
    }


def accuracy_by_length(outcomes: list[Outcome], n_bins: int = 10) -> list[dict]:
    if not outcomes:
        return []
    lo, hi = min(o.target_len for o in outcomes), max(o.target_len for o in outcomes)
    width = max(1, math.ceil((hi - lo + 1) / n_bins))
    bins: dict[int, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        bins[(o.target_len - lo) // width].append(o)
    out = []
    for b in sorted(bins):
        group = bins[b]
        out.append(
            {
                "min_len": lo + b * width,
                "max_len": lo + (b + 1) * width - 1,
                "n": len(group),
                "sequence_accuracy": sum(o.sequence_ok for o in group) / len(group),
                "numeric_accuracy": sum(o.numeric_ok for o in group) / len(group),
            }
        )
    return out


def side_report(outcomes: list[Outcome], cfg: EvalConfig) -> dict:
    """One test side: the summary, broken down per theory and multiplicity, and its certainty."""
    result = summarize(outcomes)
    for key, attr in (("per_multiplicity", "multiplicity"), ("per_theory", "theory")):
        groups: dict[str, list[Outcome]] = defaultdict(list)
        for o in outcomes:
            groups[getattr(o, attr)].append(o)
        result[key] = {g: summarize(v) for g, v in sorted(groups.items())}
    pairs: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        pairs[f"{o.theory} {o.multiplicity}"].append(o)
    result["per_theory_multiplicity"] = {g: summarize(v) for g, v in sorted(pairs.items())}
    scored = [(certainty_of(o), o.numeric_ok) for o in outcomes]
    result["selective"] = selective_accuracy(scored)
    result["fallback_at_config_threshold"] = fallback_at(scored, cfg.certainty_threshold)
    result["calibration"] = calibration(outcomes, cfg.certainty_threshold)
    result["accuracy_by_length"] = accuracy_by_length(outcomes)
    if any(o.verified is not None for o in outcomes):
        result["verification"] = verification_summary(outcomes)
    return result


def verification_summary(outcomes: list[Outcome]) -> dict:
    """Verified decoding on one test side: how often each physics check rejected a beam, and the
    accuracy of the first beam that passed (verified top-k), beside the unverified top beam's.
    Rows with no passing beam count as wrong in ``verified_topk_accuracy``, and as recomputed
    (right) by the exact engine in ``accuracy_after_fallback``."""
    checked = [o for o in outcomes if o.verified is not None]
    n = len(outcomes)
    fired: dict[str, int] = defaultdict(int)
    skipped: dict[str, int] = defaultdict(int)
    for o in checked:
        for check, count in (o.fired or {}).items():
            fired[check] += count
        for check, count in (o.skipped or {}).items():
            skipped[check] += count
    passing = [o for o in checked if o.verified]
    right = sum(o.numeric_ok for o in passing)
    return {
        "candidates": sum(o.candidates for o in checked),  # beams checked, best first until one passed
        "fired": dict(sorted(fired.items())),  # check -> beams it rejected (one beam may fail several)
        "skipped": dict(sorted(skipped.items())),  # check -> beams on which it could not be made
        "rows_with_passing_candidate": len(passing),
        "coverage": len(passing) / n if n else None,
        "verified_topk_accuracy": right / n if n else None,
        "accepted_accuracy": right / len(passing) if passing else None,
        "accuracy_after_fallback": (right + n - len(passing)) / n if n else None,
        "answer_below_top_beam": sum(o.pick > 0 for o in checked),
        "unverified_top1_numeric_accuracy": sum(bool(o.top1_numeric_ok) for o in outcomes) / n if n else None,
        "unverified_top1_sequence_accuracy": sum(bool(o.top1_sequence_ok) for o in outcomes) / n if n else None,
    }


def evaluation_metrics(by_set: dict[str, list[Outcome]], cfg: EvalConfig) -> dict:
    """metrics.json: one object per test set (both headline sets always present)."""
    result: dict = {}
    for name in TEST_SETS:
        if name in HEADLINE_SETS or by_set.get(name):
            result[name] = side_report(by_set.get(name, []), cfg)
    scored = {name: [(certainty_of(o), o.numeric_ok) for o in by_set.get(name, [])] for name in result}
    threshold = common_threshold(scored)
    for name in result:
        result[name]["fallback_at_common_threshold"] = fallback_at(scored[name], threshold)
    result["certainty"] = {
        "measure": CERTAINTY,
        "target_accuracy": TARGET_ACCURACY,
        # the lowest threshold at which every test set's accepted answers reach the target; None:
        # recompute all.  symba predict --fallback reads it.
        "fallback_threshold": threshold,
    }
    result["config"] = {k: getattr(cfg, k) for k in cfg.__dataclass_fields__}
    return result
