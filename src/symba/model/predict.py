"""Predict the squared amplitude of one amplitude, with its certainty and beam alternatives.

With a fallback, a prediction whose certainty (mean token log-probability) is below a
threshold is replaced by the exact engine result, and the output says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from . import batches
from .config import EvalConfig
from .search import beam_search, greedy
from .train import load_model


@dataclass
class Prediction:
    squared: str | None  # None: the top beam does not detokenize to an expression
    logprob_sum: float
    logprob_mean: float
    alternatives: list[tuple[str | None, float, float]] = field(default_factory=list)  # (text, sum, mean)
    source: str = "model"  # "model" | "engine"
    note: str = ""
    tokens: list[str] = field(default_factory=list)  # the top beam's tokens


def predict(model_path: str, amplitude: str, beam_size: int = 4, vocab_path: str | None = None,
            length_penalty: float = EvalConfig.length_penalty, device: str = "cpu") -> Prediction:
    model, record = load_model(model_path, device)
    vocab = batches.load_vocab(vocab_path or record["vocab_path"])
    notation = record.get("notation") or batches.vocab_notation(vocab)
    specials = batches.Specials(vocab)
    try:
        src_ids = batches.amplitude_to_ids(amplitude, vocab)
    except (KeyError, IndexError) as exc:
        raise ValueError(f"the amplitude has a token the model's vocabulary lacks: {exc}") from None
    if len(src_ids) > model.cfg.max_len:
        raise ValueError(f"the amplitude has {len(src_ids)} tokens; the model reads at most {model.cfg.max_len}")
    src = torch.tensor([src_ids], dtype=torch.long, device=device)
    if beam_size <= 1:
        hyps = greedy(model, src, specials.bos, specials.eos, alpha=length_penalty)
    else:
        hyps = beam_search(model, src, specials.bos, specials.eos, beam_size, length_penalty)[0]

    def text(h):
        try:
            return batches.detokenize_ids(h.ids, vocab, notation)
        except Exception:  # an ill-formed beam: shown as such, never crashes the command
            return None

    top = hyps[0]
    return Prediction(text(top), top.logprob, top.mean_logprob,
                      [(text(h), h.logprob, h.mean_logprob) for h in hyps[1:]],
                      tokens=list(vocab.decode(top.ids)))


def engine_result(process: str, theory: str, diagram: int | None) -> str:
    """The exact squared amplitude: of one diagram (0-based index), or of the whole process."""
    from symba.physics.engine import compute_process

    result = compute_process(process, theory)
    if diagram is None or diagram < 0:
        return result.squared_amplitude
    for d in result.diagrams:
        if d.index == diagram:
            return d.squared_amplitude
    raise ValueError(f"process {process!r} has no diagram {diagram} (it has {len(result.diagrams)})")


def apply_fallback(pred: Prediction, threshold: float, process: str, theory: str, diagram: int | None) -> Prediction:
    if pred.squared is not None and pred.logprob_mean >= threshold:
        return pred
    why = "unparseable" if pred.squared is None else f"certainty {pred.logprob_mean:.4f} below threshold {threshold}"
    exact = engine_result(process, theory, diagram)
    said = pred.squared if pred.squared is not None else "tokens " + " ".join(pred.tokens)
    return Prediction(exact, pred.logprob_sum, pred.logprob_mean, pred.alternatives, "engine",
                      f"model prediction rejected ({why}); exact engine result used instead (model said: {said})",
                      pred.tokens)


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
