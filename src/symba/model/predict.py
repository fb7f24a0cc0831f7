"""Predict the squared amplitude of an amplitude, with its certainty and beam alternatives.

With a fallback, a prediction whose certainty (mean token log-probability) is below a
threshold is replaced by the exact engine result, and the output says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from . import batches
from .checkpoint import load_model
from .config import EvalConfig
from .errors import ModelInputError
from .search import beam_search, greedy


@dataclass
class Prediction:
    squared: str | None  # None: the top beam does not detokenize to an expression
    logprob_sum: float
    logprob_mean: float
    alternatives: list[tuple[str | None, float, float]] = field(default_factory=list)  # (text, sum, mean)
    source: str = "model"  # "model" | "engine"
    note: str = ""
    tokens: list[str] = field(default_factory=list)  # the top beam's tokens


class Predictor:
    """A model loaded once, for many amplitudes."""

    def __init__(self, model_path: str, beam_size: int = 4, vocab_path: str | None = None,
                 length_penalty: float = EvalConfig.length_penalty, device: str = "cpu"):
        if beam_size < 1:
            raise ModelInputError(f"the beam size must be at least 1 (1: greedy), not {beam_size}")
        self.model, record = load_model(model_path, device)
        self.vocab = batches.load_vocab(vocab_path or record["vocab_path"])
        if len(self.vocab) != self.model.cfg.vocab_size:
            raise ModelInputError(f"vocabulary {vocab_path or record['vocab_path']} has {len(self.vocab)} tokens, "
                                  f"the model was trained with {self.model.cfg.vocab_size}")
        self.notation = record.get("notation") or batches.vocab_notation(self.vocab)
        self.specials = batches.Specials(self.vocab)
        self.beam_size, self.length_penalty, self.device = beam_size, length_penalty, device

    def source_ids(self, amplitude: str) -> list[int]:
        """BOS + the amplitude's token ids + EOS; ModelInputError for text the model cannot read."""
        if not amplitude.strip():
            raise ModelInputError("the amplitude is empty")
        try:
            ids = batches.amplitude_to_ids(amplitude, self.vocab)
        except (ValueError, KeyError, IndexError) as exc:  # syntax errors and tokens outside the vocabulary
            raise ModelInputError(f"the amplitude cannot be tokenized: {exc}") from None
        if len(ids) > self.model.cfg.max_len:
            raise ModelInputError(f"the amplitude has {len(ids)} tokens; the model reads at most "
                                  f"{self.model.cfg.max_len}")
        return ids

    def __call__(self, amplitude: str) -> Prediction:
        src = torch.tensor([self.source_ids(amplitude)], dtype=torch.long, device=self.device)
        bos, eos = self.specials.bos, self.specials.eos
        if self.beam_size == 1:
            hyps = greedy(self.model, src, bos, eos, alpha=self.length_penalty)
        else:
            hyps = beam_search(self.model, src, bos, eos, self.beam_size, self.length_penalty)[0]

        def text(h):
            try:
                return batches.detokenize_ids(h.ids, self.vocab, self.notation)
            except Exception:  # an ill-formed beam: shown as such, never crashes the command
                return None

        top = hyps[0]
        return Prediction(text(top), top.logprob, top.mean_logprob,
                          [(text(h), h.logprob, h.mean_logprob) for h in hyps[1:]],
                          tokens=list(self.vocab.decode(top.ids)))


def predict(model_path: str, amplitude: str, beam_size: int = 4, vocab_path: str | None = None,
            length_penalty: float = EvalConfig.length_penalty, device: str = "cpu") -> Prediction:
    return Predictor(model_path, beam_size, vocab_path, length_penalty, device)(amplitude)


def engine_result(process: str, theory: str, diagram: int | None) -> str:
    """The exact squared amplitude: of one diagram (0-based index), or of the whole process."""
    from symba.physics.engine import compute_process

    try:
        result = compute_process(process, theory)
    except ValueError as exc:  # the physics stage's input errors (ProcessError, ...) are ValueErrors
        raise ModelInputError(f"--process {process!r}: {exc}") from None
    if diagram is None or diagram < 0:
        return result.squared_amplitude
    for d in result.diagrams:
        if d.index == diagram:
            return d.squared_amplitude
    raise ModelInputError(f"process {process!r} has no diagram {diagram} (it has {len(result.diagrams)})")


def apply_fallback(pred: Prediction, threshold: float, process: str, theory: str, diagram: int | None) -> Prediction:
    if pred.squared is not None and pred.logprob_mean >= threshold:
        return pred
    why = "unparseable" if pred.squared is None else f"certainty {pred.logprob_mean:.4f} below threshold {threshold}"
    exact = engine_result(process, theory, diagram)
    said = pred.squared if pred.squared is not None else "tokens " + " ".join(pred.tokens)
    return Prediction(exact, pred.logprob_sum, pred.logprob_mean, pred.alternatives, "engine",
                      f"model prediction rejected ({why}); exact engine result used instead (model said: {said})",
                      pred.tokens)


def format_line(pred: Prediction) -> str:
    """One line per amplitude (stdin mode): the prediction, a tab, its mean token log-probability."""
    shown = pred.squared if pred.squared is not None else "(not a valid expression) " + " ".join(pred.tokens)
    return f"{shown}\t{pred.logprob_mean:.4f}"


def format_prediction(pred: Prediction) -> str:
    shown = pred.squared if pred.squared is not None else "(not a valid expression) " + " ".join(pred.tokens)
    lines = [f"squared amplitude: {shown}"]
    if pred.source == "engine":
        lines.append(f"source: exact engine (fallback) -- {pred.note}")
    else:
        lines.append("source: model")
    lines.append(f"certainty: sum log-prob {pred.logprob_sum:.4f}, mean log-prob {pred.logprob_mean:.4f}, "
                 f"sequence probability {torch.tensor(pred.logprob_sum).exp().item():.4f}")
    if pred.alternatives:
        lines.append("beam alternatives:")
        for i, (t, s, m) in enumerate(pred.alternatives, start=2):
            lines.append(f"  {i}. {t if t is not None else '(not a valid expression)'}  "
                         f"(sum log-prob {s:.4f}, mean {m:.4f})")
    return "\n".join(lines)
