"""Evaluation on the two held-out test sides: token, sequence and numeric-equivalence accuracy,
beam agreement, certainty, its calibration, and what a fallback to the exact engine costs.

Test sides (the split column, see :mod:`symba.tokenization.splits`), one report each:
- ``heldout_orderings`` (split ``test_orderings``): templates seen in training, under a new
  flavour or leg ordering; comparable with SYMBA's random split;
- ``heldout_templates`` (split ``test_templates``): templates never seen in training;
- ``heldout_random`` (split ``test``): the random split's test side, or the test rows of shards
  made before the two sides existed; reported only when there are such rows.

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

Rows are streamed shard by shard (one row group in memory) and the numeric checks run in
``workers`` worker processes while the model decodes the next rows.
"""

from __future__ import annotations

import json
import math
import os
import queue
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import torch

from symba.files import atomic_write
from symba.tokenization.splits import TEST_ORDERINGS, TEST_RANDOM, TEST_TEMPLATES

from . import batches
from .checkpoint import check_vocabulary, load_model
from .config import EvalConfig, eval_config
from .errors import ModelInputError
from .numeric import NumericChecker
from .plots import plot_accuracy_by_length, plot_calibration
from .relabel import LegRelabelling, canonical_example
from .report import HEADLINE_SETS, headline, print_headline  # noqa: F401 (torch-free; re-exported)
from .search import Hypothesis, beam_search, first_passing, greedy

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
CHUNK_BATCHES = 8
EVAL_COLUMNS = batches.EVAL_COLUMNS + [
    "group"
]  # rows decoded at a time = batch_size x this, sorted by length within the chunk


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
    relabelled: bool = False  # decoded with its legs in canonical order (symba.model.relabel)
    # Verified decoding (symba.model.verify): the answer is the first beam that passes the physics
    # checks, or the top beam when none does; the fields above describe that answer.
    verified: bool | None = None  # a candidate passed; None: verification off
    pick: int = 0  # beam index of the answer
    top1_sequence_ok: bool | None = None  # the top beam's, whatever verification picked
    top1_numeric_ok: bool | None = None
    candidates: int = 0  # beams checked (best first, until one passes)
    fired: dict | None = None  # check -> beams it rejected
    skipped: dict | None = None  # check -> beams on which it could not be made


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


# -- summaries -----------------------------------------------------------------------------


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
    import bisect

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
    ranked = sorted(outcomes, key=_certainty, reverse=True)
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
    kept = [o for o in outcomes if _certainty(o) >= threshold]
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
    scored = [(_certainty(o), o.numeric_ok) for o in outcomes]
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


def report(by_set: dict[str, list[Outcome]], cfg: EvalConfig) -> dict:
    """metrics.json: one object per test set (both headline sets always present)."""
    result: dict = {}
    for name in TEST_SETS:
        if name in HEADLINE_SETS or by_set.get(name):
            result[name] = side_report(by_set.get(name, []), cfg)
    scored = {name: [(_certainty(o), o.numeric_ok) for o in by_set.get(name, [])] for name in result}
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


# -- evaluation ----------------------------------------------------------------------------


class CheckerPool:
    """``n`` NumericChecker workers; each task borrows one for its whole example."""

    def __init__(self, n: int, timeout_s: float, n_points: int):
        self._free: queue.Queue = queue.Queue()
        self._all = [NumericChecker(timeout_s, n_points) for _ in range(n)]
        for checker in self._all:
            self._free.put(checker)
        self._executor = ThreadPoolExecutor(max_workers=n, thread_name_prefix="numeric")

    def submit(self, fn, *args):
        def run():
            checker = self._free.get()
            try:
                return fn(checker, *args)
            finally:
                self._free.put(checker)

        return self._executor.submit(run)

    @property
    def timeouts(self) -> int:
        return sum(c.timeouts for c in self._all)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        for checker in self._all:
            checker.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _too_long(row: dict, specials: batches.Specials, cfg: EvalConfig, test_set: str) -> Outcome:
    """A row the model cannot read: counted as wrong."""
    n = len(specials.wrap(row["squared_ids"])) - 2
    return Outcome(
        row.get("theory") or "?",
        row.get("multiplicity") or "?",
        n,
        0,
        n + 1,
        False,
        False,
        0,
        max(1, cfg.beam_size),
        None,
        None,
        test_set,
    )


def training_templates(shard_paths: list[str]) -> set[str] | None:
    """The group ids (templates) of the training rows, reading only two columns; None when a
    shard has no group column (made before groups were recorded)."""
    import pyarrow.compute as pc

    groups: set[str] = set()
    for path in shard_paths:
        with batches._open_shard(path) as pf:
            if "group" not in pf.schema_arrow.names or "split" not in pf.schema_arrow.names:
                return None
            batches._check_columns(pf, path, ["split", "group"])  # a split of another type: one line
            for row_group in range(pf.metadata.num_row_groups):
                for batch in batches._record_batches(pf, path, row_group, ["split", "group"]):
                    train = batch.filter(pc.equal(batch.column("split"), "train"))
                    groups.update(pc.unique(train.column("group")).drop_null().to_pylist())
    return groups


def evaluate_rows(
    model, vocab, notation, rows, cfg: EvalConfig, pool: CheckerPool, route=None, massless=()
) -> list[Outcome]:
    """Outcomes of a stream of test rows (at most ``cfg.max_examples``; 0: all), each tagged with
    ``route(row)``, its test set.  Rows are decoded ``batch_size x CHUNK_BATCHES`` at a time; at
    most a few chunks wait for their numeric checks, so memory does not grow with the rows."""
    specials = batches.Specials(vocab)
    device = next(model.parameters()).device
    outcomes: list[Outcome] = []
    pending: deque = deque()
    chunk: list[tuple[batches.Example, str, LegRelabelling | None]] = []
    limit = cfg.batch_size * CHUNK_BATCHES
    route = route or (lambda row: "")
    verify = VerifyOptions(tuple(massless or ()), cfg.verify_points) if cfg.verify else None

    def drain(keep: int) -> None:
        while len(pending) > keep:
            outcomes.append(pending.popleft().result())

    def decode(chunk):
        chunk.sort(key=lambda item: len(item[0].src))
        for start in range(0, len(chunk), cfg.batch_size):
            batch = chunk[start : start + cfg.batch_size]
            src, _ = batches.collate([ex for ex, _, _ in batch], specials.pad)
            for (ex, test_set, relabelling), hyps in zip(batch, decode_batch(model, src.to(device), specials, cfg)):
                pending.append(pool.submit(_score, ex, hyps, vocab, notation, specials, test_set, relabelling, verify))
        drain(2 * limit)

    seen = 0
    for row in rows:
        if cfg.max_examples and seen >= cfg.max_examples:
            break
        seen += 1
        ex = batches.Example(specials.wrap(row["amplitude_ids"]), specials.wrap(row["squared_ids"]), row)
        relabelling = None
        canonical = canonical_example(row, vocab, notation) if cfg.relabel_legs else None
        if canonical and max(len(canonical[0]), len(canonical[1])) <= model.cfg.max_len:
            ex = batches.Example(canonical[0], canonical[1], row)  # token scores in the canonical labelling
            relabelling = canonical[2]
        if len(ex.src) > model.cfg.max_len or len(ex.tgt) > model.cfg.max_len:
            outcomes.append(_too_long(row, specials, cfg, route(row)))
            continue
        chunk.append((ex, route(row), relabelling))
        if len(chunk) >= limit:
            decode(chunk)
            chunk = []
    if chunk:
        decode(chunk)
    drain(0)
    return outcomes


@dataclass(frozen=True)
class VerifyOptions:
    """What verified decoding needs besides the row: masses set to zero and points per check."""

    massless: tuple = ()
    n_points: int = 3


def _candidate_texts(hyps, vocab, notation, checker, relabelling) -> list[str | None]:
    """Each beam's expression text in the row's own leg labels (None: not an expression)."""
    texts = []
    for h in hyps:
        text = _detokenize(h.ids, vocab, notation, checker)
        if text is not None and relabelling is not None:
            text = relabelling.squared_from_canonical(text)
        texts.append(text)
    return texts


def verified_pick(checker: NumericChecker, texts: list[str | None], row: dict, opts: VerifyOptions):
    """(index of the first candidate that passes every physics check or None, check -> candidates it
    rejected, check -> candidates on which it was skipped, candidates checked).  Rows are checked
    without their answer; beams are checked best first until one passes."""
    fired: dict[str, int] = defaultdict(int)
    skipped: dict[str, int] = defaultdict(int)
    passed: list[bool] = []
    for text in texts:
        if any(passed):
            break
        if text is None:
            verdict = {"failed": ["parse"], "skipped": []}
        else:
            verdict = checker.verify(
                text,
                row.get("amplitude") or "",
                row.get("process") or "",
                row.get("theory") or "qed",
                row.get("diagram") if row.get("diagram") is not None else 0,
                opts.massless,
                opts.n_points,
            )
        for check in verdict["failed"]:
            fired[check] += 1
        for check in verdict["skipped"]:
            skipped[check] += 1
        passed.append(not verdict["failed"])
    return first_passing(passed), dict(fired), dict(skipped), len(passed)


def _score(
    checker: NumericChecker,
    ex: batches.Example,
    hyps: list[Hypothesis],
    vocab,
    notation,
    specials,
    test_set: str = "",
    relabelling: LegRelabelling | None = None,
    verify: VerifyOptions | None = None,
) -> Outcome:
    """With ``relabelling``, the source and target are in canonical leg order; each prediction is
    renamed back to the row's legs before its numeric check against the row's truth.  With
    ``verify``, the answer is the first beam that passes the physics checks (top beam if none)."""
    row = ex.row or {}
    truth_ids = ex.tgt[1:-1]
    truth_text = row.get("squared")
    process, theory = row.get("process"), row.get("theory")
    verdicts = []
    texts = _candidate_texts(hyps, vocab, notation, checker, relabelling) if verify else None
    for j, h in enumerate(hyps):
        if h.ids == truth_ids:
            verdicts.append(True)  # the very same tokens: the very same expression
            continue
        if texts is not None:
            text = texts[j]
        else:
            text = _detokenize(h.ids, vocab, notation, checker)
            if text is not None and relabelling is not None:
                text = relabelling.squared_from_canonical(text)
        if text is None or not truth_text or not process:
            verdicts.append(False)
        else:
            verdicts.append(checker.check(text, truth_text, process, theory))
    pick, fired, skipped, checked = None, None, None, 0
    if verify:
        pick, fired, skipped, checked = verified_pick(checker, texts, row, verify)
    answer = hyps[pick or 0]  # decoding always keeps at least one live hypothesis
    matches, total = token_matches(answer.ids, truth_ids, specials.eos)
    return Outcome(
        theory=theory or "?",
        multiplicity=row.get("multiplicity") or "?",
        target_len=len(truth_ids),
        token_matches=matches,
        token_total=total,
        sequence_ok=answer.ids == truth_ids,
        numeric_ok=bool(verdicts and verdicts[pick or 0]),
        beams_equivalent=sum(verdicts),
        beams=len(hyps),
        logprob_sum=answer.logprob,
        logprob_mean=answer.mean_logprob,
        test_set=test_set,
        relabelled=relabelling is not None,
        verified=None if not verify else pick is not None,
        pick=pick or 0,
        top1_sequence_ok=hyps[0].ids == truth_ids,
        top1_numeric_ok=bool(verdicts and verdicts[0]),
        candidates=checked,
        fired=fired,
        skipped=skipped,
    )


def run_evaluation(
    model_path: str,
    shard_paths: list[str],
    vocab_path: str | None,
    config: dict,
    metrics_json: str,
    calibration_png: str,
    length_png: str,
    massless=(),
) -> dict:
    """Evaluate a trained model on the test sides of the shards; writes JSON and two PNGs.

    ``config`` is the ``evaluate:`` section of config.yaml; ``vocab_path`` None: the
    vocabulary the model was trained with; ``massless``: the mass symbols the dataset set to
    zero (``amplitudes.massless``), which verified decoding must know."""
    cfg = eval_config(config)
    if cfg.device == "cpu":
        torch.set_num_threads(cfg.num_threads)
    model, record = load_model(model_path, cfg.device)
    vocab_path = vocab_path or record["vocab_path"]
    vocab = batches.load_vocab(vocab_path)
    check_vocabulary(record, vocab, vocab_path, model_path)
    notation = record.get("notation") or batches.vocab_notation(vocab)
    trained = training_templates(list(shard_paths))
    moved = [0]

    def route(name):
        def test_set(row):
            # a test_orderings row whose template has no training row (all its processes were
            # held out) is an unseen template: reported as such
            if name == "heldout_orderings" and trained is not None and row.get("group") not in trained:
                moved[0] += 1
                return "heldout_templates"
            return name

        return test_set

    outcomes: list[Outcome] = []
    with CheckerPool(cfg.workers, cfg.numeric_timeout_s, cfg.numeric_points) as pool:
        for name, split in TEST_SETS.items():
            # the amplitude text: relabelled, and checked against by verified decoding
            columns = EVAL_COLUMNS + (["amplitude"] if cfg.relabel_legs or cfg.verify else [])
            rows = batches.iter_rows(
                list(shard_paths), split, columns, vocab_size=len(vocab), max_ids=model.cfg.max_len
            )
            outcomes += evaluate_rows(model, vocab, notation, rows, cfg, pool, route(name), massless)
        timeouts = pool.timeouts
    if not outcomes:
        raise ModelInputError(f"no test rows (split {', '.join(TEST_SETS.values())}) in {len(shard_paths)} shard(s)")
    by_set: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_set[o.test_set].append(o)
    result = report(by_set, cfg)
    result["model"] = os.path.abspath(model_path)
    result["n_too_long"] = {
        name: sum(o.logprob_mean is None for o in by_set[name]) for name in TEST_SETS if name in result
    }
    result["n_orderings_rows_of_unseen_templates"] = moved[0]
    result["numeric_timeouts"] = timeouts
    result["relabel_legs"] = {
        "used": cfg.relabel_legs,
        "n_relabelled": {name: sum(o.relabelled for o in by_set[name]) for name in TEST_SETS if name in result},
    }
    atomic_write(metrics_json, json.dumps(result, indent=2))
    shown = {name: result[name] for name in TEST_SETS if name in result}
    plot_calibration({name: side["calibration"] for name, side in shown.items()}, calibration_png)
    plot_accuracy_by_length({name: side["accuracy_by_length"] for name, side in shown.items()}, length_png)
    return result
