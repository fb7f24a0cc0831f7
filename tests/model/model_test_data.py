"""Small synthetic token shards in the real vocabulary, for fast model tests."""

from __future__ import annotations

import random

import pyarrow as pa

from symba.dataset_schema import SCHEMA, TOKEN_COLUMNS, write_table_atomic
from symba.tokenization.notations import tokenize

NOTATION = "hybrid-short"
COLUMNS = pa.schema(list(SCHEMA) + list(TOKEN_COLUMNS))

# A 1:1 token map: the "mapping task" target is the source with every token mapped.
SOURCE_TOKENS = ["s_12", "s_13", "s_14", "s_23", "s_24", "s_34", "m_e", "m_mu", "e", "g_s"]
TARGET_TOKENS = ["s_34", "s_24", "s_23", "s_14", "s_13", "s_12", "m_mu", "m_e", "g_s", "e"]


def row(split, src_ids, tgt_ids, squared="", process="e- e+ -> mu- mu+", theory="qed"):
    return {
        "process": process,
        "theory": theory,
        "multiplicity": "2->2",
        "diagram": 0,
        "amplitude": "",
        "squared_raw": squared,
        "squared": squared,
        "status": "ok",
        "backend": "builtin",
        "engine_version": "1",
        "split": split,
        "group": "g",
        "amplitude_ids": list(src_ids),
        "squared_ids": list(tgt_ids),
    }


def write_shard(path, rows, row_group_size=64) -> str:
    table = pa.Table.from_pylist(rows, schema=COLUMNS)
    write_table_atomic(table, path)
    if row_group_size:  # several row groups, so streaming across them is exercised
        import pyarrow.parquet as pq

        pq.write_table(table, path, row_group_size=row_group_size)
    return str(path)


def keyword_rows(vocab, n, split, seed, n_classes=8):
    """Keyword task: the source is noise with one keyword somewhere; the target is a fixed
    token sequence per keyword.  Learnable by content attention; a per-position majority
    guess is mostly wrong."""
    rng = random.Random(seed)
    keywords = SOURCE_TOKENS[:n_classes]
    table_rng = random.Random(0)  # the same targets in every split
    targets = [[table_rng.choice(TARGET_TOKENS) for _ in range(table_rng.randint(3, 6))] for _ in keywords]
    noise = ["p_1", "p_2", "p_3", "p_4", "m_c", "m_b"]
    out = []
    for _ in range(n):
        c = rng.randrange(n_classes)
        src = [rng.choice(noise) for _ in range(rng.randint(3, 6))]
        src.insert(rng.randint(0, len(src)), keywords[c])
        out.append(row(split, vocab.encode(src), vocab.encode(targets[c])))
    return out


def mapping_rows(vocab, n, split, seed, min_len=3, max_len=7):
    """Token-map task: learnable, and a per-position majority guess gets ~10% right."""
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        k = rng.randint(min_len, max_len)
        picks = [rng.randrange(len(SOURCE_TOKENS)) for _ in range(k)]
        out.append(
            row(split, vocab.encode([SOURCE_TOKENS[p] for p in picks]), vocab.encode([TARGET_TOKENS[p] for p in picks]))
        )
    return out


# Squared amplitudes of e- e+ -> mu- mu+ shapes (massless variants), as expression targets.
EXPRESSIONS = [
    "2*e^4*(s_13*s_24 + s_14*s_23)/s_12^2",
    "2*e^4*s_14*s_23/s_12^2",
    "e^4*s_13*s_24/s_12^2",
    "4*e^4*s_13*s_24/s_34^2",
]


def expression_rows(vocab, split):
    """A handful of pairs: a distinct short source each, a real squared amplitude as target."""
    rows = []
    for k, text in enumerate(EXPRESSIONS):
        src = vocab.encode([SOURCE_TOKENS[k], SOURCE_TOKENS[(k + 3) % 10], "e"])
        rows.append(row(split, src, vocab.encode(tokenize(text, NOTATION)), squared=text))
    return rows


TINY_TRAIN = {"num_threads": 1}  # see conftest.py
TINY_MODEL = {
    "d_model": 32,
    "n_heads": 2,
    "n_encoder_layers": 1,
    "n_decoder_layers": 1,
    "d_ff": 64,
    "dropout": 0.0,
    "max_len": 32,
}


# Two amplitude -> squared-amplitude pairs (s-channel photon; docs/physics.md worked example).
AMPLITUDES = {
    "e- e+ -> mu- mu+": (
        "-i*e^2*vbar(e,p_2,d1)*gamma(mu1,d1,d2)*u(e,p_1,d2)*ubar(mu,p_3,d3)*gamma(mu1,d3,d4)*v(mu,p_4,d4)"
        "/(2*m_e^2 + 2*s_12)",
        "2*e^4*(s_13*s_24 + s_14*s_23 + m_mu^2*s_12 + m_e^2*s_34 + 2*m_e^2*m_mu^2) / (m_e^2 + s_12)^2",
    ),
    "e- e+ -> ta- ta+": (
        "-i*e^2*vbar(e,p_2,d1)*gamma(mu1,d1,d2)*u(e,p_1,d2)*ubar(ta,p_3,d3)*gamma(mu1,d3,d4)*v(ta,p_4,d4)"
        "/(2*m_e^2 + 2*s_12)",
        "2*e^4*(s_13*s_24 + s_14*s_23 + m_tau^2*s_12 + m_e^2*s_34 + 2*m_e^2*m_tau^2) / (m_e^2 + s_12)^2",
    ),
}


def amplitude_rows(vocab, split):
    from symba.physics.canonical import without_sign
    from symba.tokenization.amplitude_tokens import tokenize_amplitude

    # per-diagram rows as the dataset writes them: no overall sign (docs/physics.md section 6)
    return [
        row(
            split,
            vocab.encode(tokenize_amplitude(without_sign(amp), NOTATION)),
            vocab.encode(tokenize(sq, NOTATION)),
            sq,
            process,
        )
        for process, (amp, sq) in AMPLITUDES.items()
    ]
