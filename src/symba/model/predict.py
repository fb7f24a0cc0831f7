"""Predict the squared amplitude of an amplitude, with its certainty and beam alternatives.

With a fallback, a prediction whose certainty (mean token log-probability) is below a
threshold is replaced by the exact engine result, and the output says so.  The threshold
comes from the evaluation (``metrics.json``: the certainty at which accepted answers were
at least 99.9% right) unless given.  Model output is detokenized in a worker process under
a timeout (:class:`symba.model.numeric.NumericChecker`), never in this process.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import torch

from symba.physics.canonical import canonicalise

from . import batches
from .checkpoint import check_vocabulary, load_model
from .config import EvalConfig
from .errors import ModelInputError
from .numeric import NumericChecker
from .relabel import relabelling_for
from .search import beam_search, greedy

EXACT_TIMEOUT_S = 600.0  # the engine's own bound on one exact computation
MAX_INPUT_CHARS = 1_000_000  # an amplitude the model can read is far shorter


@dataclass
class Prediction:
    squared: str | None  # None: the top beam does not detokenize to an expression
    logprob_sum: float
    logprob_mean: float
    alternatives: list[tuple[str | None, float, float]] = field(default_factory=list)  # (text, sum, mean)
    source: str = "model"  # "model" | "exact"
    note: str = ""
    tokens: list[str] = field(default_factory=list)  # the top beam's tokens
    model_squared: str | None = None  # with source "exact": what the model had said
    canonical_process: str | None = None  # decoded with the legs relabelled to this order, then mapped back


class Predictor:
    """A model loaded once, for many amplitudes; close it (or use ``with``) to stop its worker."""

    def __init__(
        self,
        model_path: str,
        beam_size: int = 4,
        vocab_path: str | None = None,
        length_penalty: float = EvalConfig.length_penalty,
        device: str = "cpu",
        timeout_s: float = EvalConfig.numeric_timeout_s,
        relabel_legs: bool = EvalConfig.relabel_legs,
    ):
        if beam_size < 1:
            raise ModelInputError(f"the beam size must be at least 1 (1: greedy), not {beam_size}")
        self.model_path = model_path
        self.model, record = load_model(model_path, device)
        self.vocab = batches.load_vocab(vocab_path or record["vocab_path"])
        check_vocabulary(record, self.vocab, vocab_path or record["vocab_path"], model_path)
        self.notation = record.get("notation") or batches.vocab_notation(self.vocab)
        self.specials = batches.Specials(self.vocab)
        self.beam_size, self.length_penalty, self.device = beam_size, length_penalty, device
        self.relabel_legs = relabel_legs
        self.checker = NumericChecker(timeout_s)  # its worker starts on the first request

    def close(self) -> None:
        self.checker.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

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

    def _text(self, ids: list[int]) -> str | None:
        try:
            tokens = self.vocab.decode(ids)
        except ValueError:  # an id outside the vocabulary: no expression
            return None
        return self.checker.detokenize(tokens, self.notation)

    def _relabelled_source(self, amplitude: str, process: str | None, theory: str | None):
        """(source ids, relabelling): the amplitude with its legs in canonical order, or as it is
        (relabelling None) when relabelling is off or does not apply."""
        readable = self.relabel_legs and len(amplitude) <= MAX_INPUT_CHARS  # longer: source_ids refuses it
        relabelling = relabelling_for(amplitude, process, theory) if readable else None
        if relabelling is not None:
            try:
                return self.source_ids(relabelling.canonical_amplitude(amplitude)), relabelling
            except (ModelInputError, ValueError):  # the relabelled text does not tokenize: use the input
                pass
        return self.source_ids(amplitude), None

    def __call__(self, amplitude: str, process: str | None = None, theory: str | None = None) -> Prediction:
        """``process`` (legs as the amplitude numbers them) and ``theory`` name the legs to
        relabel; without a process the legs are read from the amplitude's wavefunctions."""
        amplitude = canonicalise(amplitude, process, theory)[0]  # MARTY's text and ours read alike
        ids, relabelling = self._relabelled_source(amplitude, process, theory)
        src = torch.tensor([ids], dtype=torch.long, device=self.device)
        bos, eos = self.specials.bos, self.specials.eos
        if self.beam_size == 1:
            hyps = greedy(self.model, src, bos, eos, alpha=self.length_penalty)
        else:
            hyps = beam_search(self.model, src, bos, eos, self.beam_size, self.length_penalty)[0]

        def text(h):
            t = self._text(h.ids)
            return relabelling.squared_from_canonical(t) if t is not None and relabelling else t

        top = hyps[0]
        squared = text(top)
        tokens = list(self.vocab.decode(top.ids))
        if relabelling is not None and squared is not None:
            tokens = self.checker.tokenize(squared, self.notation) or tokens  # the tokens of the renamed answer
        return Prediction(
            squared,
            top.logprob,
            top.mean_logprob,
            [(text(h), h.logprob, h.mean_logprob) for h in hyps[1:]],
            tokens=tokens,
            canonical_process=relabelling.canonical_process if relabelling else None,
        )


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


@lru_cache(maxsize=64)
def _exact_process(process: str, theory: str):
    from symba.physics.engine import compute_process

    try:
        return compute_process(process, theory, timeout=EXACT_TIMEOUT_S)
    except ValueError as exc:  # the physics stage's input errors (ProcessError, ...) are ValueErrors
        raise ModelInputError(f"process {process!r}: {str(exc).splitlines()[0] if str(exc) else exc}") from None


def engine_result(process: str, theory: str, diagram: int | None) -> str:
    """The exact squared amplitude: of one diagram (0-based index), or of the whole process."""
    result = _exact_process(" ".join(process.split()), theory)
    if diagram is None or diagram < 0:
        return result.squared_amplitude
    for d in result.diagrams:
        if d.index == diagram:
            return d.squared_amplitude
    raise ModelInputError(f"process {process!r} has no diagram {diagram} (it has {len(result.diagrams)})")


def metrics_threshold(metrics_path: str | Path, model_path: str | None = None) -> float:
    """The fallback threshold recorded by an evaluation: the certainty at which accepted answers
    were at least 99.9% right on every test set (inf: none was, so every answer is recomputed).
    ModelInputError when the file is unreadable, or evaluated another model than ``model_path``."""
    path = Path(metrics_path)
    try:
        result = json.loads(path.read_text())
        threshold = result["certainty"]["fallback_threshold"]
        evaluated = result.get("model")
    except FileNotFoundError:
        raise ModelInputError(f"metrics file {path} does not exist") from None
    except (OSError, ValueError, KeyError, TypeError):
        raise ModelInputError(f"metrics file {path} holds no fallback threshold (run symba evaluate)") from None
    if model_path and evaluated and os.path.abspath(evaluated) != os.path.abspath(model_path):
        raise ModelInputError(f"metrics file {path} evaluated {evaluated}, not {model_path}")
    if threshold is None:
        return math.inf
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not math.isfinite(threshold):
        raise ModelInputError(f"metrics file {path}: fallback_threshold {threshold!r} is not a number")
    return float(threshold)


def default_metrics_path(model_path: str) -> Path:
    """Where the workflow's evaluation of a model lies: results/model/model.pt -> results/evaluation/metrics.json."""
    return Path(model_path).resolve().parent.parent / "evaluation" / "metrics.json"


def choose_threshold(model_path: str, threshold: float | None, metrics_path: str | None) -> tuple[float, str]:
    """The fallback threshold and where it came from: --threshold, --metrics, the workflow's
    metrics.json next to the model, else EvalConfig's default."""
    if threshold is not None:
        return threshold, "--threshold"
    if metrics_path:
        return metrics_threshold(metrics_path, model_path), str(metrics_path)
    found = default_metrics_path(model_path)
    if found.is_file():
        try:
            return metrics_threshold(found, model_path), str(found)
        except ModelInputError:
            pass  # another model's or an older evaluation: not this model's threshold
    return EvalConfig.certainty_threshold, "default"


def apply_fallback(
    pred: Prediction, threshold: float, process: str | None, theory: str, diagram: int | None
) -> Prediction:
    if pred.squared is not None and pred.logprob_mean >= threshold:
        return pred
    if not process:
        raise ModelInputError('the fallback needs the process (--process, or a "process" key on the line)')
    why = "unparseable" if pred.squared is None else f"certainty {pred.logprob_mean:.4f} below threshold {threshold}"
    exact = engine_result(process, theory, diagram)
    said = pred.squared if pred.squared is not None else "tokens " + " ".join(pred.tokens)
    return Prediction(
        exact,
        pred.logprob_sum,
        pred.logprob_mean,
        pred.alternatives,
        "exact",
        f"model prediction rejected ({why}); exact engine result used instead (model said: {said})",
        pred.tokens,
        pred.squared,
        pred.canonical_process,
    )


def exact_tokens(text: str, notation: str | None) -> list[str] | None:
    """Tokens of an engine result (trusted text), or None when it has no token form."""
    from symba.tokenization.notations import parse_expression, tokenize

    try:
        return list(tokenize(parse_expression(text), notation))
    except ValueError:
        return None


def json_record(pred: Prediction, notation: str | None) -> dict:
    """One JSON-lines answer: ``prediction`` (expression text), ``tokens`` (of that expression),
    ``certainty`` (the model's mean token log-probability), ``source`` (model | exact)."""
    record = {"prediction": pred.squared, "tokens": pred.tokens, "certainty": pred.logprob_mean, "source": pred.source}
    if pred.source == "exact":
        record["tokens"] = exact_tokens(pred.squared, notation)
        record["model_prediction"], record["model_tokens"] = pred.model_squared, pred.tokens
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
