"""Tokenize one Parquet shard: dedupe, split, and add the token-id columns.

Memory is bounded by one shard: the vocabulary is closed and the split side of
a row depends only on its own group key, so no pass over the whole dataset is
needed.  Pairs duplicated across shards share a group key and therefore land
on the same side.
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq

from symba.dataset_schema import SCHEMA, TOKEN_COLUMNS, write_table_atomic
from symba.physics.process import parse_process

from .amplitude_tokens import amplitude_syntax_of, tokenize_amplitude
from .notations import DEFAULT_NOTATION, check_notation, parse_expression, tokenize
from .splits import (
    DEFAULT_FRACTIONS,
    DEFAULT_SPLIT,
    SIDES_OF_SPLIT,
    check_fractions,
    check_split_kind,
    group_id,
    process_key,
    random_key,
    side_of,
    template_key,
    template_side,
)
from .vocab import build_vocabulary

OUTPUT_SCHEMA = pa.schema(list(SCHEMA) + list(TOKEN_COLUMNS))
SKIPPED_STATUSES = ("error", "timeout")  # rows without a usable squared amplitude
MAX_REPORTED_ERRORS = 5


def _leg_masses(process: str, theory: str, cache: dict):
    if (process, theory) not in cache:
        try:
            parsed = parse_process(process, theory, check=False)
            cache[(process, theory)] = (parsed.leg_masses(), parsed.n_in)
        except ValueError:
            cache[(process, theory)] = (None, None)  # unknown legs: masses abstracted by name order, legs kept
    return cache[(process, theory)]


def tokenize_rows(rows, notation=DEFAULT_NOTATION, split=DEFAULT_SPLIT, fractions=DEFAULT_FRACTIONS, seed=0):
    """Rows (dicts in SCHEMA) -> (rows with TOKEN_COLUMNS added, stats). Dedupes within ``rows``."""
    check_notation(notation)
    check_split_kind(split)
    fractions = check_fractions(fractions)
    vocab = build_vocabulary(notation)
    seen: set[tuple[str, str]] = set()
    legs_cache: dict = {}
    skipped: Counter = Counter()
    errors: list[str] = []
    out = []
    rows_in = 0
    for row in rows:
        rows_in += 1
        if row.get("status") in SKIPPED_STATUSES:
            skipped[f"status {row['status']}"] += 1
            continue
        amplitude, squared = row.get("amplitude") or "", row.get("squared") or ""
        pair = (amplitude, squared)
        if pair in seen:
            skipped["duplicate"] += 1
            continue
        seen.add(pair)
        try:
            expr = parse_expression(squared)
            squared_tokens = tokenize(expr, notation)
            amplitude_tokens = tokenize_amplitude(amplitude, notation, amplitude_syntax_of(row.get("backend", "")))
        except ValueError as exc:
            skipped["untokenizable"] += 1
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append(f"{row.get('process')} diagram {row.get('diagram')}: {exc}")
            continue
        if split == "template":
            leg_masses, n_in = _leg_masses(row.get("process", ""), row.get("theory", "qed"), legs_cache)
            group = group_id(template_key(expr, leg_masses, row.get("theory", ""), n_in), seed)
            side = template_side(group, group_id(process_key(row.get("process") or "", row.get("theory") or ""), seed),
                                 fractions)
        else:
            group = group_id(random_key(amplitude, squared), seed)
            side = side_of(group, fractions)
        new = dict(row)
        new.update(
            split=side,
            group=group,
            amplitude_ids=vocab.encode(amplitude_tokens),
            squared_ids=vocab.encode(squared_tokens),
        )
        out.append(new)
    rows_per_side = Counter(r["split"] for r in out)
    groups_per_side = {s: len({r["group"] for r in out if r["split"] == s}) for s in SIDES_OF_SPLIT[split]}
    stats = {
        "notation": notation,
        "split": split,
        "fractions": list(fractions),
        "seed": seed,
        "rows_in": rows_in,
        "rows_out": len(out),
        "skipped": dict(skipped),
        "errors": errors,
        "rows_per_side": {s: rows_per_side.get(s, 0) for s in SIDES_OF_SPLIT[split]},
        "groups_per_side": groups_per_side,
        "max_amplitude_tokens": max((len(r["amplitude_ids"]) for r in out), default=0),
        "max_squared_tokens": max((len(r["squared_ids"]) for r in out), default=0),
        "vocabulary_size": len(vocab),
    }
    return out, stats


def tokenize_shard(
    in_path,
    out_path,
    notation: str = DEFAULT_NOTATION,
    split: str = DEFAULT_SPLIT,
    fractions=DEFAULT_FRACTIONS,
    seed: int = 0,
) -> dict:
    """Read a shard in ``symba.dataset_schema.SCHEMA``, add ``TOKEN_COLUMNS``, write it atomically; return stats."""
    table = pq.read_table(in_path)
    missing = [name for name in SCHEMA.names if name not in table.column_names]
    if missing:
        raise ValueError(f"{in_path}: missing column(s) {', '.join(missing)}")
    rows = table.select(SCHEMA.names).to_pylist()
    out, stats = tokenize_rows(rows, notation, split, fractions, seed)
    columns = {name: [r[name] for r in out] for name in OUTPUT_SCHEMA.names}
    write_table_atomic(pa.table(columns, schema=OUTPUT_SCHEMA), out_path)
    return stats
