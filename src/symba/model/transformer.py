"""Encoder-decoder transformer (pre-norm) with a key/value cache for decoding.

Source and target share one vocabulary, so one embedding matrix serves the
encoder input, the decoder input and (tied) the output projection.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig


class Attention(nn.Module):
    """Multi-head attention; self-attention when ``memory`` is None."""

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.n_heads = cfg.n_heads
        self.q = nn.Linear(cfg.d_model, cfg.d_model)
        self.kv = nn.Linear(cfg.d_model, 2 * cfg.d_model)
        self.out = nn.Linear(cfg.d_model, cfg.d_model)
        self.dropout = cfg.dropout

    def _heads(self, x):  # (B, T, D) -> (B, H, T, D/H)
        b, t, d = x.shape
        return x.view(b, t, self.n_heads, d // self.n_heads).transpose(1, 2)

    def forward(self, x, *, kv_input=None, mask=None, causal=False, cache=None):
        """``cache`` is a dict updated in place: self-attention appends the new keys and
        values; cross-attention computes them from ``kv_input`` once and reuses them."""
        q = self._heads(self.q(x))
        if cache is not None and kv_input is not None and "k" in cache:
            k, v = cache["k"], cache["v"]
        else:
            k, v = (self._heads(t) for t in self.kv(x if kv_input is None else kv_input).chunk(2, dim=-1))
            if cache is not None:
                if kv_input is None and "k" in cache:
                    k = torch.cat([cache["k"], k], dim=2)
                    v = torch.cat([cache["v"], v], dim=2)
                cache["k"], cache["v"] = k, v
        # With a cache, the new queries are the last positions: nothing after them exists yet.
        is_causal = causal and cache is None and x.shape[1] > 1
        y = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=is_causal, dropout_p=self.dropout if self.training else 0.0
        )
        b, h, t, dh = y.shape
        return self.out(y.transpose(1, 2).reshape(b, t, h * dh))


class FeedForward(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.up = nn.Linear(cfg.d_model, cfg.d_ff)
        self.down = nn.Linear(cfg.d_ff, cfg.d_model)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x):
        return self.drop(self.down(F.gelu(self.up(x))))


class EncoderLayer(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.norm1, self.attn = nn.LayerNorm(cfg.d_model), Attention(cfg)
        self.norm2, self.ff = nn.LayerNorm(cfg.d_model), FeedForward(cfg)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, mask):
        x = x + self.drop(self.attn(self.norm1(x), mask=mask))
        return x + self.ff(self.norm2(x))


class DecoderLayer(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        self.norm1, self.self_attn = nn.LayerNorm(cfg.d_model), Attention(cfg)
        self.norm2, self.cross_attn = nn.LayerNorm(cfg.d_model), Attention(cfg)
        self.norm3, self.ff = nn.LayerNorm(cfg.d_model), FeedForward(cfg)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, memory, memory_mask, cache=None):
        self_cache = cross_cache = None
        if cache is not None:
            self_cache, cross_cache = cache.setdefault("self", {}), cache.setdefault("cross", {})
        x = x + self.drop(self.self_attn(self.norm1(x), causal=True, cache=self_cache))
        x = x + self.drop(self.cross_attn(self.norm2(x), kv_input=memory, mask=memory_mask, cache=cross_cache))
        return x + self.ff(self.norm3(x))


def sinusoidal_table(max_len: int, d_model: int) -> torch.Tensor:
    pos = torch.arange(max_len, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, d_model, 2, dtype=torch.float32) * (-math.log(10000.0) / d_model))
    table = torch.zeros(max_len, d_model)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq)[:, : d_model // 2]
    return table


class Seq2SeqTransformer(nn.Module):
    def __init__(self, cfg: ModelConfig):
        super().__init__()
        if cfg.vocab_size <= 0:
            raise ValueError("model.vocab_size must be set (from the vocabulary)")
        self.cfg = cfg
        self.embed = nn.Embedding(cfg.vocab_size, cfg.d_model, padding_idx=cfg.pad_id)
        if cfg.positions == "learned":
            self.src_pos = nn.Embedding(cfg.max_len, cfg.d_model)
            self.tgt_pos = nn.Embedding(cfg.max_len, cfg.d_model)
        else:
            self.register_buffer("pos_table", sinusoidal_table(cfg.max_len, cfg.d_model), persistent=False)
        self.drop = nn.Dropout(cfg.dropout)
        self.encoder = nn.ModuleList(EncoderLayer(cfg) for _ in range(cfg.n_encoder_layers))
        self.decoder = nn.ModuleList(DecoderLayer(cfg) for _ in range(cfg.n_decoder_layers))
        self.enc_norm = nn.LayerNorm(cfg.d_model)
        self.dec_norm = nn.LayerNorm(cfg.d_model)
        self.apply(self._init)
        # Token embeddings ~ N(0, 1/d): scaled by sqrt(d) they enter at unit size, and the tied
        # output layer starts with logits of order one.  Learned positions are not scaled, so
        # they start at unit size too: at 1/sqrt(d) the encoder saw a near bag of tokens and
        # mixed up which mass goes where.
        nn.init.normal_(self.embed.weight, std=cfg.d_model**-0.5)
        if cfg.positions == "learned":
            for emb in (self.src_pos, self.tgt_pos):
                nn.init.normal_(emb.weight, std=1.0)
        # Residual output projections start smaller (GPT-2), so deep stacks start near identity.
        for name, p in self.named_parameters():
            if name.endswith("out.weight") or name.endswith("down.weight"):
                nn.init.normal_(
                    p, std=p.shape[1] ** -0.5 / math.sqrt(2 * (cfg.n_encoder_layers + cfg.n_decoder_layers))
                )

    @staticmethod
    def _init(module):
        # std 1/sqrt(fan_in) keeps activations at unit size whatever d_model is; a fixed
        # 0.02 (GPT-2, d=768) leaves small models' attention uniform for hundreds of steps.
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, std=module.weight.shape[1] ** -0.5)
            nn.init.zeros_(module.bias)

    def _positions(self, which: str, start: int, length: int, device):
        if start + length > self.cfg.max_len:
            raise ValueError(f"sequence of length {start + length} exceeds model max_len {self.cfg.max_len}")
        idx = torch.arange(start, start + length, device=device)
        if self.cfg.positions == "learned":
            return (self.src_pos if which == "src" else self.tgt_pos)(idx)
        return self.pos_table[idx]

    def _embed(self, ids, which: str, start: int = 0):
        x = self.embed(ids) * math.sqrt(self.cfg.d_model)
        return self.drop(x + self._positions(which, start, ids.shape[1], ids.device))

    def encode(self, src):
        """Memory (B, S, D) and its attention mask (B, 1, 1, S), True where a key is real."""
        mask = (src != self.cfg.pad_id)[:, None, None, :]
        x = self._embed(src, "src")
        for layer in self.encoder:
            x = layer(x, mask)
        return self.enc_norm(x), mask

    def decode(self, tgt, memory, memory_mask, cache=None, start: int = 0):
        """Logits (B, T, V) for decoder inputs ``tgt`` at positions start..start+T-1."""
        x = self._embed(tgt, "tgt", start)
        for i, layer in enumerate(self.decoder):
            layer_cache = None if cache is None else cache.setdefault(i, {})
            x = layer(x, memory, memory_mask, layer_cache)
        return self.dec_norm(x) @ self.embed.weight.T  # tied output projection

    def forward(self, src, tgt_in):
        memory, mask = self.encode(src)
        return self.decode(tgt_in, memory, mask)

    def n_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def reorder_cache(cache: dict, index: torch.Tensor) -> None:
    """Select batch rows of the self-attention caches after beam search regroups the beams.

    Cross-attention caches stay: a beam only ever moves within its own example, whose
    memory rows are identical."""
    for layer_cache in cache.values():
        c = layer_cache.get("self")
        if c and "k" in c:
            c["k"] = c["k"].index_select(0, index)
            c["v"] = c["v"].index_select(0, index)
