"""Predict the squared amplitudes of amplitudes, with their certainty and beam alternatives.

:class:`Predictor` (``symba.model.load(path)``) loads the model once and answers many amplitudes:
their sources are decoded together in length-sorted batches, and each answer is turned into the
dataset's ``squared`` text (:mod:`symba.model.answers`) in worker processes while the next batch
decodes.  So ``prediction`` is character-identical to the dataset's row when it is right,
whether the model or the exact engine gave it.

With a fallback, a prediction whose certainty (mean token log-probability) is below a threshold
is replaced by the exact engine result, computed in the same workers side by side.  The threshold
is the evaluation's (``metrics.json``: ``certainty.fallback_threshold``, the one threshold whose
recomputed share the headline reports) unless given; the beam size and length penalty then
default to the evaluation's too, so the certainties are the ones the threshold was chosen on.
The process is read from the amplitude (its spinors and polarisation vectors name the legs) when
not given, and the diagram found by matching the amplitude against the exact result's.
"""

from __future__ import annotations

import json
import math
import os
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import torch

from symba.dataset_schema import WHOLE_PROCESS
from symba.physics.canonical import canonicalise
from symba.physics.leg_relabelling import process_of_amplitude, relabelling_for

from . import batches
from .answers import AnswerPool, run_dataset
from .checkpoint import check_vocabulary, load_model
from .config import EvalConfig
from .errors import ModelInputError
from .search import beam_search, greedy

MAX_INPUT_CHARS = 1_000_000  # an amplitude the model can read is far shorter
# Sources decoded together, sorted by length.  Beam search's per-step cost grows with batch x
# length (its cache is re-gathered each step): the default run's 87 distinct held-out sources
# (beam 2) cost 0.7 CPU-s in batches of 16, 0.8-0.9 in batches of 8 and 32; 200 sources cost
# 4.0 in batches of 8 against 9.9 in batches of 64.
DECODE_BATCH = 16
READ_CHUNK = 64  # requests taken in at a time (stdin: what has arrived), 8 at first
# Answers kept for repeated requests: decoding, answer text and exact results depend only on
# their inputs, and relabelling maps many amplitudes onto one canonical source (default run:
# 200 held-out lines, 87 distinct sources).  Bounded, so a long stream does not grow memory; a
# request text over REUSED_TEXT_CHARS (far longer than the model reads) is not kept.
REUSE_ENTRIES = 1024
REUSED_TEXT_CHARS = 20_000


class _Recent(OrderedDict):
    """A dict that forgets its least recently used entries past ``size``."""

    def __init__(self, size: int = REUSE_ENTRIES):
        super().__init__()
        self.size = size

    def get_or_make(self, key, make):
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = self[key] = make()
        if len(self) > self.size:
            self.popitem(last=False)
        return value


@dataclass
class Prediction:
    squared: str | None  # the dataset's squared text; None: no expression (see error)
    logprob_sum: float
    logprob_mean: float
    alternatives: list[tuple[str | None, float, float]] = field(default_factory=list)  # (text, sum, mean)
    source: str = "model"  # "model" | "exact"
    note: str = ""
    tokens: list[str] = field(default_factory=list)  # of ``squared`` (the model's top beam when None)
    model_squared: str | None = None  # with source "exact": what the model had said
    canonical_process: str | None = None  # decoded with the legs relabelled to this order, then mapped back
    error: str | None = None  # this input could not be answered (one line); the other fields are empty
    model_tokens: list[str] = field(default_factory=list)  # with source "exact": the model's tokens


@dataclass
class _Item:
    """One request on its way through decoding and the answer workers."""

    amplitude: str  # canonical once read
    process: str | None
    theory: str
    diagram: int | None
    as_given: str = ""  # the amplitude as the request wrote it
    ids: list[int] | None = None
    relabelling: object = None
    error: str | None = None
    hyps: list = field(default_factory=list)
    futures: list = field(default_factory=list)  # model answers of the beams, best first
    exact: object = None  # future of the exact answer
    submitted: bool = False  # decoded, its answers asked for


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


class Predictor:
    """A model loaded once, for many amplitudes; close it (or use ``with``) to stop its workers.

    ``predict(amplitudes)`` answers a list; ``predict_iter`` a stream, in order, as soon as each
    answer is ready.  ``fallback``: recompute below ``threshold`` (None: inf, every answer).
    ``workers``: answer worker processes (None: :func:`symba.model.answers.default_workers`).
    ``alternatives``: False leaves ``Prediction.alternatives`` empty, for a caller that never
    shows them (the beams' text is worked out in the workers, as much again as the answer's)."""

    def __init__(
        self,
        model_path: str,
        beam_size: int = 4,
        vocab_path: str | None = None,
        length_penalty: float = EvalConfig.length_penalty,
        device: str = "cpu",
        timeout_s: float = EvalConfig.numeric_timeout_s,
        relabel_legs: bool = EvalConfig.relabel_legs,
        relabel_flavours: bool = False,
        fallback: bool = False,
        threshold: float | None = None,
        theory: str = "qed",
        workers: int | None = None,
        batch_size: int = DECODE_BATCH,
        pool: AnswerPool | None = None,
        num_threads: int = EvalConfig.num_threads,
        alternatives: bool = True,
    ):
        if beam_size < 1:
            raise ModelInputError(f"the beam size must be at least 1 (1: greedy), not {beam_size}")
        if (workers is not None and workers < 1) or batch_size < 1:
            raise ModelInputError("workers and batch_size must be at least 1")
        self.model_path = model_path
        if device == "cpu":
            # a small model: more threads only synchronise, and spin-wait on a loaded machine
            torch.set_num_threads(num_threads)
        # started first (or by the caller, before importing torch): the workers' imports overlap ours
        self.pool = pool if pool is not None else AnswerPool(workers, timeout_s, run_dataset(model_path))
        try:
            self.model, record = load_model(model_path, device)
            self.vocab = batches.load_vocab(vocab_path or record["vocab_path"])
            check_vocabulary(record, self.vocab, vocab_path or record["vocab_path"], model_path)
        except BaseException:
            self.pool.close()
            raise
        if len(self.vocab) != self.model.cfg.vocab_size:
            self.pool.close()
            raise ModelInputError(
                f"vocabulary {vocab_path or record['vocab_path']} has {len(self.vocab)} tokens, "
                f"the model was trained with {self.model.cfg.vocab_size}"
            )
        self.notation = record.get("notation") or batches.vocab_notation(self.vocab)
        self.specials = batches.Specials(self.vocab)
        self.beam_size, self.length_penalty, self.device = beam_size, length_penalty, device
        self.relabel_legs = relabel_legs
        self.relabel_flavours = relabel_flavours  # the model was evaluated so (tokenize.relabel_flavours)
        self.fallback = fallback
        self.threshold = math.inf if threshold is None else threshold
        self.theory = theory
        self.batch_size = batch_size
        # False: the beam alternatives' text is not worked out (a caller that never shows them)
        self.alternatives = alternatives
        self._sources = _Recent()  # request -> (amplitude, ids, relabelling, error)
        self._decoded = _Recent()  # source ids -> hypotheses
        self._futures = _Recent()  # worker request -> its future

    def close(self) -> None:
        self.pool.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # -- reading the input ---------------------------------------------------------------

    def source_ids(self, amplitude: str) -> list[int]:
        """BOS + the amplitude's token ids + EOS; ModelInputError for text the model cannot read."""
        if not amplitude.strip():
            raise ModelInputError("the amplitude is empty")
        if len(amplitude) > MAX_INPUT_CHARS:
            raise ModelInputError(f"the amplitude has {len(amplitude)} characters, over the {MAX_INPUT_CHARS} limit")
        try:
            ids = batches.amplitude_to_ids(amplitude, self.vocab)
        except (ValueError, KeyError, IndexError) as exc:  # syntax errors and tokens outside the vocabulary
            raise ModelInputError(f"the amplitude cannot be tokenized: {exc}") from None
        if len(ids) > self.model.cfg.max_len:
            raise ModelInputError(
                f"the amplitude has {len(ids)} tokens; the model reads at most {self.model.cfg.max_len}"
            )
        return ids

    def _relabelled_source(self, amplitude: str, process: str | None, theory: str | None):
        """(source ids, relabelling): the amplitude with its legs in canonical order, or as it is
        (relabelling None) when relabelling is off or does not apply."""
        readable = self.relabel_legs and len(amplitude) <= MAX_INPUT_CHARS  # longer: source_ids refuses it
        relabelling = relabelling_for(amplitude, process, theory, self.relabel_flavours) if readable else None
        if relabelling is not None:
            try:
                return self.source_ids(relabelling.canonical_amplitude(amplitude)), relabelling
            except (ModelInputError, ValueError):  # the relabelled text does not tokenize: use the input
                pass
        return self.source_ids(amplitude), None

    def _item(self, request) -> _Item:
        if isinstance(request, str):
            request = {"amplitude": request}
        item = _Item(
            request.get("amplitude") or "",
            request.get("process"),
            request.get("theory") or self.theory,
            request.get("diagram"),
            as_given=request.get("amplitude") or "",
            error=request.get("error"),
        )
        if item.error is None:
            if len(item.amplitude) + len(str(item.process or "")) > REUSED_TEXT_CHARS:
                source = self._source(item.amplitude, item.process, item.theory)
            else:
                key = (item.amplitude, item.process, item.theory)
                source = self._sources.get_or_make(key, lambda: self._source(item.amplitude, item.process, item.theory))
            item.amplitude, item.ids, item.relabelling, item.error = source
        return item

    def _source(self, amplitude: str, process: str | None, theory: str):
        """(canonical amplitude, source ids, relabelling, error) of a request."""
        try:
            if len(amplitude) <= MAX_INPUT_CHARS:  # longer: source_ids refuses it
                # MARTY's text and ours read alike (docs/physics.md, section 7)
                amplitude = canonicalise(amplitude, process, theory)[0]
            ids, relabelling = self._relabelled_source(amplitude, process, theory)
            return amplitude, ids, relabelling, None
        except ModelInputError as exc:
            return amplitude, None, None, _first_line(exc)

    # -- decoding and answering ------------------------------------------------------------

    def _decode(self, items: list[_Item]) -> Iterator[None]:
        """Beam search over the items' sources, ``batch_size`` at a time, shortest first (a
        source seen before is not decoded again); then every beam goes to the answer workers,
        and low-certainty answers to the exact engine.  Yields after each step, so that the
        caller hands out the answers ready meanwhile."""
        waiting = [it for it in items if it.ids is not None]
        hyps_of = {}
        for it in waiting:
            key = tuple(it.ids)
            if key not in hyps_of:
                hyps_of[key] = self._decoded.get(key)
        waiting = self._submit_decoded(waiting, hyps_of)
        yield
        todo = sorted((list(key) for key, hyps in hyps_of.items() if hyps is None), key=len)
        bos, eos, pad = self.specials.bos, self.specials.eos, self.specials.pad
        for start in range(0, len(todo), self.batch_size):
            group = todo[start : start + self.batch_size]
            width = max(len(ids) for ids in group)
            src = torch.tensor([ids + [pad] * (width - len(ids)) for ids in group], device=self.device)
            if self.beam_size == 1:
                found = [[h] for h in greedy(self.model, src, bos, eos, alpha=self.length_penalty)]
            else:
                found = beam_search(self.model, src, bos, eos, self.beam_size, self.length_penalty)
            for ids, hyps in zip(group, found):
                hyps_of[tuple(ids)] = hyps
                self._decoded.get_or_make(tuple(ids), lambda hyps=hyps: hyps)
            # this group's items go to the workers before the next group decodes
            waiting = self._submit_decoded(waiting, hyps_of)
            yield

    def _submit_decoded(self, items: list[_Item], hyps_of: dict) -> list[_Item]:
        """Submits the items whose source is decoded; returns the others."""
        left = []
        for it in items:
            hyps = hyps_of[tuple(it.ids)]
            if hyps is None:
                left.append(it)
            else:
                it.hyps = hyps
                self._submit(it)
                it.submitted = True
        return left

    def _submit(self, it: _Item) -> None:
        permutation = it.relabelling.decode_text if it.relabelling is not None else None
        process = it.process or process_of_amplitude(it.amplitude, it.theory)
        for h in it.hyps if self.alternatives else it.hyps[:1]:
            try:
                tokens = self.vocab.decode(h.ids)
            except ValueError:  # an id outside the vocabulary: no expression
                tokens = None
            it.futures.append(None if tokens is None else self._model_answer(tokens, permutation, process, it))
        top = it.hyps[0]
        if self.fallback and top.mean_logprob < self.threshold:
            it.exact = self._exact(it)
        # an unparseable top answer is sent to the exact engine once its text is known (_answer)

    def _model_answer(self, tokens, permutation, process, it: _Item):
        whole = it.diagram == WHOLE_PROCESS  # without a diagram: written as a per-diagram square
        key = ("model", tuple(tokens), permutation, process, it.theory, whole)
        return self._futures.get_or_make(
            key, lambda: self.pool.model(tokens, self.notation, permutation, process, it.theory, whole)
        )

    def _exact(self, it: _Item):
        process = it.process or process_of_amplitude(it.amplitude, it.theory)
        if not process:
            return (
                "the fallback needs the process: the amplitude's spinors and polarisation vectors do not "
                'name its legs (give --process, or a "process" key on the line)'
            )
        amplitude = it.amplitude  # with a diagram, it only checks a dataset row
        key = ("exact", " ".join(process.split()), it.theory, it.diagram, amplitude)
        as_given = it.as_given if len(it.as_given) <= REUSED_TEXT_CHARS else None  # only a shortcut
        return self._futures.get_or_make(
            key, lambda: self.pool.exact(process, it.theory, it.diagram, amplitude, self.notation, as_given)
        )

    def _answer(self, it: _Item) -> Prediction:
        if it.error is not None:
            return Prediction(None, math.nan, math.nan, error=it.error)
        answers = [f.result() if f is not None else {"text": None, "tokens": None} for f in it.futures]
        top, model = it.hyps[0], answers[0]
        if "error" in model:
            model = {"text": None, "tokens": None}
        raw_tokens = self._tokens(top.ids)
        pred = Prediction(
            model["text"],
            top.logprob,
            top.mean_logprob,
            [(a.get("text"), h.logprob, h.mean_logprob) for a, h in zip(answers[1:], it.hyps[1:])],
            tokens=model["tokens"] or raw_tokens,
            canonical_process=it.relabelling.canonical_process if it.relabelling is not None else None,
        )
        if not self.fallback or (pred.squared is not None and top.mean_logprob >= self.threshold):
            return pred
        exact = it.exact if it.exact is not None else self._exact(it)
        if isinstance(exact, str):
            return Prediction(None, top.logprob, top.mean_logprob, error=exact)
        exact = exact.result()
        if "error" in exact:
            return Prediction(None, top.logprob, top.mean_logprob, error=exact["error"])
        why = (
            "unparseable"
            if pred.squared is None
            else f"certainty {top.mean_logprob:.4f} below threshold {self.threshold}"
        )
        said = pred.squared if pred.squared is not None else "tokens " + " ".join(raw_tokens)
        return Prediction(
            exact["text"],
            top.logprob,
            top.mean_logprob,
            pred.alternatives,
            "exact",
            f"model prediction rejected ({why}); exact engine result used instead (model said: {said})",
            exact["tokens"] or [],
            pred.squared,
            pred.canonical_process,
            model_tokens=pred.tokens,
        )

    def _tokens(self, ids: list[int]) -> list[str]:
        try:
            return list(self.vocab.decode(ids))
        except ValueError:
            return [str(i) for i in ids]

    # -- the public calls -------------------------------------------------------------------

    def predict_iter(self, requests: Iterable, chunks: Iterable[list] | None = None) -> Iterator[Prediction]:
        """A Prediction per request (amplitude text, or a dict with ``amplitude`` and optionally
        ``process``, ``theory``, ``diagram``; ``error`` passes a reading error through), in order.
        ``chunks``: the requests already grouped (what arrived together); else groups that grow
        from 1 to READ_CHUNK, so the first answer comes early."""
        if chunks is None:
            chunks = _growing_chunks(iter(requests), READ_CHUNK)
        pending: list[_Item] = []
        for chunk in chunks:
            items = [self._item(r) for r in chunk]
            pending.extend(items)
            for _ in self._decode(items):
                # answers ready while the next group decodes go out now
                while pending and _ready(pending[0]):
                    yield self._answer(pending.pop(0))
        for it in pending:
            yield self._answer(it)

    def predict(self, amplitudes: Iterable) -> list[Prediction]:
        """Predictions of many amplitudes (text, or dicts as for :meth:`predict_iter`), in order;
        an amplitude that cannot be answered has ``error`` set."""
        return list(self.predict_iter(amplitudes))

    def __call__(self, amplitude: str, process: str | None = None, theory: str | None = None) -> Prediction:
        """One amplitude; ``process`` (legs as the amplitude numbers them) and ``theory`` name the
        legs to relabel; without a process the legs are read from the amplitude's wavefunctions."""
        (pred,) = self.predict([{"amplitude": amplitude, "process": process, "theory": theory}])
        if pred.error is not None:
            raise ModelInputError(pred.error)
        return pred


def _ready(it: _Item) -> bool:
    if it.error is None and not it.submitted:
        return False
    futures = [*it.futures, it.exact]
    return all(f is None or isinstance(f, str) or f.done() for f in futures)


def _growing_chunks(requests: Iterator, most: int) -> Iterator[list]:
    size = 1  # the first answer comes after one decode, not eight
    while True:
        chunk = []
        for r in requests:
            chunk.append(r)
            if len(chunk) >= size:
                break
        if not chunk:
            return
        yield chunk
        size = min(most, size * 2)


def predict(
    model_path: str,
    amplitude: str,
    beam_size: int = 4,
    vocab_path: str | None = None,
    length_penalty: float = EvalConfig.length_penalty,
    device: str = "cpu",
    process: str | None = None,
    theory: str | None = None,
    relabel_legs: bool = EvalConfig.relabel_legs,
) -> Prediction:
    with Predictor(model_path, beam_size, vocab_path, length_penalty, device, relabel_legs=relabel_legs) as predictor:
        return predictor(amplitude, process, theory)


def _read_metrics(metrics_path: str | Path, model_path: str | None) -> dict:
    path = Path(metrics_path)
    try:
        result = json.loads(path.read_text())
        result["certainty"]["fallback_threshold"]
    except FileNotFoundError:
        raise ModelInputError(f"metrics file {path} does not exist") from None
    except (OSError, ValueError, KeyError, TypeError):
        raise ModelInputError(f"metrics file {path} holds no fallback threshold (run symba evaluate)") from None
    evaluated = result.get("model")
    if model_path and evaluated and os.path.abspath(evaluated) != os.path.abspath(model_path):
        raise ModelInputError(f"metrics file {path} evaluated {evaluated}, not {model_path}")
    return result


def metrics_threshold(metrics_path: str | Path, model_path: str | None = None) -> float:
    """The fallback threshold recorded by an evaluation: the certainty at which accepted answers
    were at least 99.9% right on every test set (inf: none was, so every answer is recomputed).
    ModelInputError when the file is unreadable, or evaluated another model than ``model_path``."""
    threshold = _read_metrics(metrics_path, model_path)["certainty"]["fallback_threshold"]
    if threshold is None:
        return math.inf
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
        raise ModelInputError(f"metrics file {metrics_path}: fallback_threshold {threshold!r} is not a number")
    return float(threshold)


def default_metrics_path(model_path: str) -> Path:
    """Where the workflow's evaluation of a model lies: results/model/model.pt -> results/evaluation/metrics.json."""
    return Path(model_path).resolve().parent.parent / "evaluation" / "metrics.json"


def find_metrics(model_path: str, metrics_path: str | None) -> str | None:
    """This model's metrics.json: ``metrics_path`` (checked), else the workflow's next to the
    model when it evaluated this model, else None."""
    if metrics_path:
        _read_metrics(metrics_path, model_path)
        return str(metrics_path)
    found = default_metrics_path(model_path)
    if found.is_file():
        try:
            _read_metrics(found, model_path)
            return str(found)
        except ModelInputError:
            pass  # another model's or an older evaluation: not this model's threshold
    return None


def choose_threshold(model_path: str, threshold: float | None, metrics_path: str | None) -> tuple[float, str]:
    """The fallback threshold and where it came from: --threshold, --metrics, the workflow's
    metrics.json next to the model, else EvalConfig's default."""
    if threshold is not None:
        return threshold, "--threshold"
    found = find_metrics(model_path, metrics_path)
    if found:
        return metrics_threshold(found, model_path), found
    return EvalConfig.certainty_threshold, "default"


def evaluated_search(metrics_path: str | None) -> dict:
    """The beam size, length penalty and flavour renaming an evaluation decoded with (empty
    without one): the certainties its threshold was chosen on come from them."""
    if not metrics_path:
        return {}
    result = json.loads(Path(metrics_path).read_text())
    config = result.get("config") or {}
    out = {}
    if isinstance(result.get("relabel_flavours"), dict) and result["relabel_flavours"].get("used") is True:
        out["relabel_flavours"] = True
    if (
        isinstance(config.get("beam_size"), int)
        and not isinstance(config["beam_size"], bool)
        and config["beam_size"] >= 1
    ):
        out["beam_size"] = config["beam_size"]
    if isinstance(config.get("length_penalty"), (int, float)) and math.isfinite(config["length_penalty"]):
        out["length_penalty"] = float(config["length_penalty"])
    return out


def json_record(pred: Prediction) -> dict:
    """One JSON-lines answer: ``prediction`` (the dataset's squared text), ``tokens`` (of that
    text), ``certainty`` (the model's mean token log-probability), ``source`` (model | exact);
    or ``error``."""
    if pred.error is not None:
        return {"error": pred.error}
    record = {"prediction": pred.squared, "tokens": pred.tokens, "certainty": pred.logprob_mean, "source": pred.source}
    if pred.source == "exact":
        record["model_prediction"], record["model_tokens"] = pred.model_squared, pred.model_tokens
    if pred.canonical_process:
        record["decoded_as"] = pred.canonical_process
    return record


def read_request(line: str) -> dict:
    """A stdin line: amplitude text, or a JSON object {"amplitude", "process"?, "theory"?, "diagram"?}."""
    text = line.strip()
    if not text.startswith("{"):
        return {"amplitude": text}
    try:
        request = json.loads(text)
    except ValueError as exc:
        raise ModelInputError(f"the line is not valid JSON ({exc})") from None
    if not isinstance(request, dict) or not isinstance(request.get("amplitude"), str):
        raise ModelInputError('a JSON line needs an "amplitude" string')
    for key, types in (("process", str), ("theory", str), ("diagram", int)):
        value = request.get(key)
        if value is not None and (not isinstance(value, types) or isinstance(value, bool)):
            raise ModelInputError(f'"{key}" must be a {types.__name__}, not {value!r}')
    if request.get("theory") not in (None, "qed", "qcd"):
        raise ModelInputError(f'"theory" must be qed or qcd, not {request["theory"]!r}')
    return request


def format_line(pred: Prediction) -> str:
    """One line per amplitude (stdin mode): the prediction, a tab, its mean token log-probability."""
    shown = pred.squared if pred.squared is not None else "(not a valid expression) " + " ".join(pred.tokens)
    return f"{shown}\t{pred.logprob_mean:.4f}"


def format_prediction(pred: Prediction) -> str:
    shown = pred.squared if pred.squared is not None else "(not a valid expression) " + " ".join(pred.tokens)
    lines = [f"squared amplitude: {shown}"]
    if pred.source == "exact":
        lines.append(f"source: exact engine (fallback) -- {pred.note}")
    else:
        lines.append("source: model")
    if pred.canonical_process:
        lines.append(f"decoded as: {pred.canonical_process} (legs relabelled to canonical order, answer mapped back)")
    lines.append(
        f"certainty: sum log-prob {pred.logprob_sum:.4f}, mean log-prob {pred.logprob_mean:.4f}, "
        f"sequence probability {math.exp(pred.logprob_sum):.4f}"
    )
    if pred.alternatives:
        lines.append("beam alternatives:")
        for i, (t, s, m) in enumerate(pred.alternatives, start=2):
            lines.append(
                f"  {i}. {t if t is not None else '(not a valid expression)'}  (sum log-prob {s:.4f}, mean {m:.4f})"
            )
    return "\n".join(lines)
