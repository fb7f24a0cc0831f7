"""Simplification of one dataset shard: ``squared`` and ``status`` filled from ``squared_raw``."""

from __future__ import annotations

import os

import pyarrow as pa

from symba.dataset_schema import read_shard, write_table_atomic
from symba.simplify.expressions import SimplifyOptions, simplify_expressions


def simplify_table(table: pa.Table, options: SimplifyOptions) -> tuple[pa.Table, dict]:
    """Fill ``squared`` and ``status`` from ``squared_raw``; every row is kept."""
    raw = table.column("squared_raw").to_pylist()
    outcomes, stats = simplify_expressions(raw, options)
    table = table.set_column(table.schema.get_field_index("squared"), "squared", pa.array([o.text for o in outcomes], pa.string()))
    table = table.set_column(table.schema.get_field_index("status"), "status", pa.array([o.status for o in outcomes], pa.string()))
    messages = sorted({f"{o.status}: {o.message}" for o in outcomes if o.message})
    return table, dict(stats.as_dict(), messages=messages)


def simplify_shard(in_path: str | os.PathLike, out_path: str | os.PathLike, options: SimplifyOptions) -> dict:
    table, stats = simplify_table(read_shard(in_path), options)
    write_table_atomic(table, out_path)
    return stats
