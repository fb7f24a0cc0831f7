"""Greedy and batched beam-search decoding, both through the key/value cache.

Every hypothesis carries its summed log-probability (EOS included): the model's
certainty.  Beams are ranked by the GNMT length-normalised score
``logprob / ((5 + n) / 6) ** alpha``; alpha = 0 ranks by the plain sum.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .transformer import Seq2SeqTransformer, reorder_cache


@dataclass
class Hypothesis:
    ids: list[int]  # predicted target tokens, without BOS and EOS
    logprob: float  # sum of log-probabilities of the emitted tokens, EOS included
    finished: bool  # emitted EOS before the length limit
    score: float  # length-normalised rank score

    @property
    def n_scored(self) -> int:
        return len(self.ids) + int(self.finished)

    @property
    def mean_logprob(self) -> float:
        return self.logprob / max(1, self.n_scored)


def length_penalty(n, alpha: float):
    return ((5.0 + n) / 6.0) ** alpha


def _max_steps(model: Seq2SeqTransformer, max_len: int | None) -> int:
    limit = model.cfg.max_len - 1  # decoder positions 0..max_len-1, position 0 is BOS
    return limit if not max_len else min(max_len, limit)


def _next_logprobs(model, token, memory, mask, cache, step, bos):
    """Log-probabilities of the next token; PAD and BOS are never predicted."""
    logits = model.decode(token, memory, mask, cache, start=step)[:, -1].float()
    logits[:, [model.cfg.pad_id, bos]] = float("-inf")
    return F.log_softmax(logits, dim=-1)


@torch.no_grad()
def greedy(
    model: Seq2SeqTransformer, src: torch.Tensor, bos: int, eos: int, max_len: int | None = None, alpha: float = 0.0
) -> list[Hypothesis]:
    """Most probable next token at each step, for a batch of padded sources (B, S)."""
    model.eval()
    memory, mask = model.encode(src)
    b = src.shape[0]
    cache: dict = {}
    token = torch.full((b, 1), bos, dtype=torch.long, device=src.device)
    finished = torch.zeros(b, dtype=torch.bool, device=src.device)
    logprob = torch.zeros(b, dtype=torch.float32, device=src.device)
    out = []
    for step in range(_max_steps(model, max_len)):
        logp = _next_logprobs(model, token, memory, mask, cache, step, bos)
        nxt = logp.argmax(dim=-1)
        logprob = logprob + torch.where(finished, 0.0, logp.gather(1, nxt[:, None])[:, 0])
        out.append(torch.where(finished, model.cfg.pad_id, nxt))
        finished = finished | (nxt == eos)
        token = nxt[:, None]
        if bool(finished.all()):
            break
    tokens = torch.stack(out, dim=1).tolist() if out else [[] for _ in range(b)]
    hyps = []
    for row, lp, done in zip(tokens, logprob.tolist(), finished.tolist()):
        ids = row[: row.index(eos)] if eos in row else row
        n = len(ids) + int(done)
        hyps.append(Hypothesis(ids, lp, done, lp / length_penalty(n, alpha)))
    return hyps


@torch.no_grad()
def beam_search(
    model: Seq2SeqTransformer,
    src: torch.Tensor,
    bos: int,
    eos: int,
    beam_size: int = 4,
    alpha: float = 0.6,
    max_len: int | None = None,
) -> list[list[Hypothesis]]:
    """Batched beam search; for each source, its beams best first (dead beams dropped)."""
    model.eval()
    b, k, pad = src.shape[0], beam_size, model.cfg.pad_id
    device = src.device
    memory, mask = model.encode(src)
    memory, mask = memory.repeat_interleave(k, dim=0), mask.repeat_interleave(k, dim=0)
    cache: dict = {}
    # Only beam 0 is alive at the start, so the k beams do not all pick the same tokens.
    logprob = torch.full((b, k), float("-inf"), device=device)
    logprob[:, 0] = 0.0
    length = torch.zeros((b, k), device=device)
    finished = torch.zeros((b, k), dtype=torch.bool, device=device)
    history = torch.zeros((b, k, 0), dtype=torch.long, device=device)
    token = torch.full((b * k, 1), bos, dtype=torch.long, device=device)
    for step in range(_max_steps(model, max_len)):
        logp = _next_logprobs(model, token, memory, mask, cache, step, bos)
        v = logp.shape[-1]
        logp = logp.view(b, k, v)
        # A finished beam continues only with PAD, at no cost, so it keeps its place.
        done_row = torch.full((v,), float("-inf"), device=device)
        done_row[pad] = 0.0
        logp = torch.where(finished[..., None], done_row, logp)
        cand = logprob[..., None] + logp
        new_len = length + (~finished).float()
        rank = cand / length_penalty(new_len, alpha)[..., None]
        _, flat = rank.view(b, k * v).topk(k, dim=-1)
        beam, tok = flat // v, flat % v
        logprob = cand.view(b, k * v).gather(1, flat)
        length = new_len.gather(1, beam)
        was_done = finished.gather(1, beam)
        finished = was_done | (tok == eos)
        history = torch.cat([history.gather(1, beam[..., None].expand(-1, -1, history.shape[-1])), tok[..., None]], -1)
        reorder_cache(cache, (beam + torch.arange(b, device=device)[:, None] * k).view(-1))
        token = tok.view(b * k, 1)
        if bool(finished.all()):
            break
    results = []
    scores = logprob / length_penalty(length, alpha)
    for i in range(b):
        hyps = []
        for j in range(k):
            if logprob[i, j].item() == float("-inf"):
                continue
            row = history[i, j].tolist()
            ids = row[: row.index(eos)] if eos in row else row
            hyps.append(Hypothesis(ids, logprob[i, j].item(), bool(finished[i, j]), scores[i, j].item()))
        hyps.sort(key=lambda h: h.score, reverse=True)
        results.append(hyps)
    return results


def first_passing(passed: list[bool]) -> int | None:
    """Verified decoding: the index of the best-ranked beam that passed the physics checks
    (:mod:`symba.model.verify`), None when every beam was rejected (the caller answers with the
    top beam, or hands the row to the exact engine)."""
    return next((j for j, ok in enumerate(passed) if ok), None)
