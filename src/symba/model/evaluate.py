"""Evaluation on the test split: token, sequence and numeric-equivalence accuracy,
beam agreement, certainty and its calibration.

Definitions (per example, then pooled):
- token accuracy: position-wise agreement of the top prediction with the truth over the
  truth's positions, EOS included (a prediction that stops early misses the rest);
- sequence accuracy: the top prediction's tokens equal the truth's;
- numeric accuracy: the top prediction, detokenized and parsed by SymPy, equals the true
  squared amplitude at random physical phase-space points (unparseable = wrong);
- beam agreement: the fraction of the top-k beams numerically equivalent to the truth;
- certainty: the sum and the mean of the top prediction's token log-probabilities.
"""

from __future__ import annotations

import json
import math
import os
from collections import defaultdict
from dataclasses import dataclass, field

import torch

from symba.files import atomic_write

from . import batches
from .checkpoint import load_model
from .config import EvalConfig, eval_config
from .errors import ModelInputError
from .numeric import NumericChecker
from .plots import plot_accuracy_by_length, plot_calibration
from .search import Hypothesis, beam_search, greedy

SUMMARY_KEYS = ("n_test", "token_accuracy", "sequence_accuracy", "numeric_accuracy", "beam_agreement",
                "topk_numeric_accuracy", "mean_logprob_sum", "mean_logprob_mean")


@dataclass
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
    prediction: str = ""
    alternatives: list = field(default_factory=list)


def decode_batch(model, src: torch.Tensor, specials: batches.Specials, cfg: EvalConfig) -> list[list[Hypothesis]]:
    max_len = cfg.max_output_len or None
    if cfg.beam_size <= 1:
        return [[h] for h in greedy(model, src, specials.bos, specials.eos, max_len, cfg.length_penalty)]
    return beam_search(model, src, specials.bos, specials.eos, cfg.beam_size, cfg.length_penalty, max_len)


def token_matches(pred: list[int], truth: list[int], eos: int) -> tuple[int, int]:
    p, t = pred + [eos], truth + [eos]
    return sum(a == b for a, b in zip(p, t)), len(t)


def _detokenize(ids, vocab, notation, checker: NumericChecker) -> str | None:
    """Model output as text, or None: detokenized in the checker's worker, under its timeout."""
    try:
        tokens = vocab.decode(ids)
    except ValueError:  # an id outside the vocabulary: no expression, the prediction is wrong
        return None
    return checker.detokenize(tokens, notation or batches.vocab_notation(vocab))


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


def _certainty(o: Outcome) -> float:
    return float("-inf") if o.logprob_mean is None else o.logprob_mean


def calibration(outcomes: list[Outcome], threshold: float, n_points: int = 21) -> dict:
    """Accuracy of the predictions kept when those below a certainty threshold are rejected.

    Certainty is the mean token log-probability; the curve sweeps the threshold so that
    coverage runs from the most certain prediction alone to all of them."""
    ranked = sorted(outcomes, key=_certainty, reverse=True)
    n = len(ranked)
    curve = []
    if n:
        sizes = sorted({max(1, round(n * i / (n_points - 1))) for i in range(n_points)})
        for k in sizes:
            kept = ranked[:k]
            curve.append({
                "threshold": kept[-1].logprob_mean,  # None only for unpredicted rows
                "coverage": k / n,
                "numeric_accuracy": sum(o.numeric_ok for o in kept) / k,
                "sequence_accuracy": sum(o.sequence_ok for o in kept) / k,
            })
    kept = [o for o in outcomes if _certainty(o) >= threshold]
    return {
        "certainty": "mean token log-probability",
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
        out.append({
            "min_len": lo + b * width,
            "max_len": lo + (b + 1) * width - 1,
            "n": len(group),
            "sequence_accuracy": sum(o.sequence_ok for o in group) / len(group),
            "numeric_accuracy": sum(o.numeric_ok for o in group) / len(group),
        })
    return out



def evaluate_examples(model, vocab, notation, examples: list[batches.Example], cfg: EvalConfig,
                      too_long: list[dict] = ()) -> list[Outcome]:
    specials = batches.Specials(vocab)
    device = next(model.parameters()).device
    outcomes: list[Outcome] = []
    ordered = sorted(examples, key=lambda e: len(e.src))
    with NumericChecker(cfg.numeric_timeout_s, cfg.numeric_points) as checker:
        for start in range(0, len(ordered), cfg.batch_size):
            batch = ordered[start : start + cfg.batch_size]
            src, _ = batches.collate(batch, specials.pad)
            for ex, hyps in zip(batch, decode_batch(model, src.to(device), specials, cfg)):
                outcomes.append(_score(ex, hyps, vocab, notation, specials, checker))
    for row in too_long:  # the model cannot read them: counted as wrong
        truth = specials.wrap(row["squared_ids"])[1:-1]
        outcomes.append(Outcome(row.get("theory", "?"), row.get("multiplicity", "?"), len(truth), 0,
                                len(truth) + 1, False, False, 0, max(1, cfg.beam_size), None, None))
    return outcomes


def _score(ex: batches.Example, hyps: list[Hypothesis], vocab, notation, specials, checker) -> Outcome:
    row = ex.row or {}
    truth_ids = ex.tgt[1:-1]
    truth_text = row.get("squared")
    process, theory = row.get("process"), row.get("theory")
    verdicts, texts = [], []
    for h in hyps:
        text = _detokenize(h.ids, vocab, notation, checker)
        texts.append(text)
        if h.ids == truth_ids:
            verdicts.append(True)  # the very same tokens: the very same expression
        elif text is None or truth_text is None or process is None:
            verdicts.append(False)
        else:
            verdicts.append(checker.check(text, truth_text, process, theory))
    top = hyps[0]  # decoding always keeps at least one live hypothesis
    matches, total = token_matches(top.ids, truth_ids, specials.eos)
    return Outcome(
        theory=theory or "?",
        multiplicity=row.get("multiplicity") or "?",
        target_len=len(truth_ids),
        token_matches=matches,
        token_total=total,
        sequence_ok=top.ids == truth_ids,
        numeric_ok=bool(verdicts and verdicts[0]),
        beams_equivalent=sum(verdicts),
        beams=len(hyps),
        logprob_sum=top.logprob,
        logprob_mean=top.mean_logprob,
        prediction=texts[0] if texts and texts[0] is not None else "",
        alternatives=[(t, h.logprob) for t, h in zip(texts[1:], hyps[1:])],
    )


def report(outcomes: list[Outcome], cfg: EvalConfig) -> dict:
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
    result["calibration"] = calibration(outcomes, cfg.certainty_threshold)
    result["accuracy_by_length"] = accuracy_by_length(outcomes)
    result["config"] = {k: getattr(cfg, k) for k in cfg.__dataclass_fields__}
    return result


def run_evaluation(model_path: str, shard_paths: list[str], vocab_path: str | None, config: dict,
                   metrics_json: str, calibration_png: str, length_png: str) -> dict:
    """Evaluate a trained model on the test split of the shards; writes JSON and two PNGs.

    ``config`` is the ``evaluate:`` section of config.yaml; ``vocab_path`` None: the
    vocabulary the model was trained with."""
    cfg = eval_config(config)
    if cfg.device == "cpu":
        torch.set_num_threads(cfg.num_threads)
    model, record = load_model(model_path, cfg.device)
    vocab_path = vocab_path or record["vocab_path"]
    vocab = batches.load_vocab(vocab_path)
    if len(vocab) != model.cfg.vocab_size:
        raise ModelInputError(f"vocabulary {vocab_path} has {len(vocab)} tokens, the model was trained with "
                              f"{model.cfg.vocab_size}")
    notation = record.get("notation") or batches.vocab_notation(vocab)
    specials = batches.Specials(vocab)
    too_long: list[dict] = []
    chosen: list[batches.Example] = []
    rows = batches.iter_rows(list(shard_paths), "test", batches.EVAL_COLUMNS, vocab_size=len(vocab))
    for ex in batches.examples(rows, specials, model.cfg.max_len, keep_row=True, skipped=too_long):
        chosen.append(ex)
        if cfg.max_examples and len(chosen) + len(too_long) >= cfg.max_examples:
            break
    if not chosen and not too_long:
        raise ModelInputError(f"no test rows in {len(shard_paths)} shard(s)")
    outcomes = evaluate_examples(model, vocab, notation, chosen, cfg, too_long)
    result = report(outcomes, cfg)
    result["model"] = os.path.abspath(model_path)
    result["n_too_long"] = len(too_long)
    atomic_write(metrics_json, json.dumps(result, indent=2))
    plot_calibration(result["calibration"], calibration_png)
    plot_accuracy_by_length(result["accuracy_by_length"], length_png)
    return result
