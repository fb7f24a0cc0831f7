"""Evaluation on the two held-out test sides: token, sequence and numeric-equivalence accuracy,
beam agreement, certainty, its calibration, and what a fallback to the exact engine costs.

Test sides (the split column, see :mod:`symba.tokenization.splits`), one report each:
- ``heldout_orderings`` (split ``test_orderings``): templates seen in training, under a new
  flavour or leg ordering; comparable with SYMBA's random split;
- ``heldout_templates`` (split ``test_templates``): templates never seen in training;
- ``heldout_random`` (split ``test``): the random split's test side, or the test rows of shards
  made before the two sides existed; reported only when there are such rows.

The metrics are defined and computed in :mod:`symba.model.metrics` (no torch); this module
decodes the rows and scores each one.

Rows are streamed shard by shard (one row group in memory) and the numeric checks run in
``workers`` worker processes while the model decodes the next rows.
"""

from __future__ import annotations

import json
import os
import queue
from collections import defaultdict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pyarrow.compute as pc
import torch

from symba.dataset_schema import DECODE_COLUMNS
from symba.files import atomic_write
from symba.physics.leg_relabelling import DecodeLabelling
from symba.physics.orderings import OrderingError

from . import batches
from .checkpoint import check_vocabulary, load_model
from .config import EvalConfig, eval_config
from .errors import ModelInputError, ShardError
from .metrics import TEST_SETS, Outcome, evaluation_metrics
from .numeric import NumericChecker
from .plots import plot_accuracy_by_length, plot_calibration
from .search import Hypothesis, beam_search, first_passing, greedy

CHUNK_BATCHES = 8  # rows decoded at a time = batch_size x this, sorted by length within the chunk
EVAL_COLUMNS = batches.EVAL_COLUMNS + ["group"]


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
    groups: set[str] = set()
    for path in shard_paths:
        with batches.open_shard(path) as pf:
            if "group" not in pf.schema_arrow.names or "split" not in pf.schema_arrow.names:
                return None
            batches.check_columns(pf, path, ["split", "group"])  # a split of another type: one line
            for row_group in range(pf.metadata.num_row_groups):
                for batch in batches.record_batches(pf, path, row_group, ["split", "group"]):
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
    chunk: list[tuple[batches.Example, str, DecodeLabelling | None]] = []
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
        canonical = canonical_example(row, specials, len(vocab)) if cfg.relabel_legs else None
        if canonical and max(len(canonical[0].src), len(canonical[0].tgt)) <= model.cfg.max_len:
            ex, relabelling = canonical  # token scores in the canonical labelling
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


def canonical_example(row: dict, specials: batches.Specials, vocab_size: int):
    """(example with the legs in canonical order, relabelling back to the row's legs) from the
    row's ``DECODE_COLUMNS`` (written by the tokenize stage); None when the row is decoded as it is."""
    if "decode_permutation" not in row:  # iter_rows leaves out the columns a shard lacks
        raise ShardError(
            "token shards lack the decode_permutation column (tokenized by an older symba): "
            "run the tokenize stage again, or set evaluate.relabel_legs: false"
        )
    if not row["decode_permutation"]:
        return None
    try:
        relabelling = DecodeLabelling.from_text(row["decode_permutation"])
    except OrderingError as exc:
        raise ShardError(f"token row of {row.get('process')!r}: decode_permutation: {exc}") from None
    ids = []
    for column in ("decode_amplitude_ids", "decode_squared_ids"):
        values = row.get(column)
        if not values or not all(isinstance(i, int) and 0 <= i < vocab_size for i in values):
            raise ShardError(
                f"token row of {row.get('process')!r}: {column} is missing or has ids outside the vocabulary"
            )
        ids.append(specials.wrap(values))
    return batches.Example(ids[0], ids[1], row), relabelling


@dataclass(frozen=True)
class VerifyOptions:
    """What verified decoding needs besides the row: masses set to zero and points per check."""

    massless: tuple = ()
    n_points: int = 3


def _candidate_text(h: Hypothesis, vocab, notation, checker, relabelling) -> str | None:
    """A beam's expression text in the row's own leg labels (None: not an expression of the row's
    process, e.g. a p_5 a 2->2 row cannot have: the model's output is never trusted)."""
    text = _detokenize(h.ids, vocab, notation, checker)
    if text is not None and relabelling is not None:
        try:
            text = relabelling.squared(text)
        except OrderingError:
            return None
    return text


def _candidate_texts(hyps, vocab, notation, checker, relabelling) -> list[str | None]:
    return [_candidate_text(h, vocab, notation, checker, relabelling) for h in hyps]


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
    relabelling: DecodeLabelling | None = None,
    verify: VerifyOptions | None = None,
) -> Outcome:
    """With ``relabelling`` (canonical legs -> the row's), the source and target are in canonical
    leg order; each prediction is renamed back to the row's legs before its numeric check against the row's truth.  With
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
        text = texts[j] if texts is not None else _candidate_text(h, vocab, notation, checker, relabelling)
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
        flavours_renamed=relabelling is not None and not relabelling.flavours.is_identity,
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
            # the amplitude text: checked against by verified decoding
            columns = (
                EVAL_COLUMNS
                + (DECODE_COLUMNS.names if cfg.relabel_legs else [])
                + (["amplitude"] if cfg.verify else [])
            )
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
    result = evaluation_metrics(by_set, cfg)
    result["model"] = os.path.abspath(model_path)
    result["n_too_long"] = {
        name: sum(o.logprob_mean is None for o in by_set[name]) for name in TEST_SETS if name in result
    }
    result["n_orderings_rows_of_unseen_templates"] = moved[0]
    result["numeric_timeouts"] = timeouts
    result["relabel_legs"] = {
        "used": cfg.relabel_legs,
        "n_relabelled": {name: sum(o.relabelled for o in by_set[name]) for name in TEST_SETS if name in result},
        "n_flavours_renamed": {
            name: sum(o.flavours_renamed for o in by_set[name]) for name in TEST_SETS if name in result
        },
    }
    # the token shards decided (tokenize.relabel_flavours); `symba predict` decodes as this evaluation did
    result["relabel_flavours"] = {"used": any(o.flavours_renamed for o in outcomes)}
    atomic_write(metrics_json, json.dumps(result, indent=2))
    shown = {name: result[name] for name in TEST_SETS if name in result}
    plot_calibration({name: side["calibration"] for name, side in shown.items()}, calibration_png)
    plot_accuracy_by_length({name: side["accuracy_by_length"] for name, side in shown.items()}, length_png)
    return result
