"""Simplification of one dataset shard: ``squared`` and ``status`` filled from ``squared_raw``.

Rows that differ only by a relabelling of the legs (the orderings of one process,
exchanges of identical particles) or of the mass symbols (one process for each lepton
flavour) are simplified once per class and mapped back
(:mod:`symba.simplify.classes`); the cache is keyed by the class representative.
"""

from __future__ import annotations

import os

import pyarrow as pa

from symba.dataset_schema import WHOLE_PROCESS, read_shard, write_table_atomic
from symba.simplify.classes import Relabelling, map_back, representative
from symba.simplify.simplifier import Outcome, SimplifyOptions, simplify_expressions


def simplify_rows(
    rows: list[dict], options: SimplifyOptions, classes: bool = True, masses: bool = True
) -> tuple[list[Outcome], dict]:
    """One Outcome per row (``squared_raw`` simplified), once per class of relabelled expressions.

    ``masses=False`` relabels legs only (benchmarks compare the two).  A row whose
    simplification failed keeps its own raw text.  Whole-process rows (``diagram`` -1) get the
    grouped form of :mod:`symba.simplify.whole`; it relabels by renaming like any other text.
    """
    raw = [r["squared_raw"] for r in rows]

    def kept_raw(text: str) -> bool:  # never simplified: no class needed (renaming 3 MB texts took minutes)
        return options.method == "none" or bool(options.max_chars) and len(text) > options.max_chars

    reps = [
        (r["squared_raw"], Relabelling())
        if not classes or kept_raw(r["squared_raw"])
        else representative(
            r["squared_raw"], r.get("process"), r.get("canonical_process"), r.get("permutation"), masses
        )
        for r in rows
    ]
    whole = [r.get("diagram") == WHOLE_PROCESS for r in rows]
    outcomes, stats = simplify_expressions([text for text, _ in reps], options, whole)
    mapped = []
    for text, (_, legs), outcome in zip(raw, reps, outcomes):
        if outcome.status == "ok":
            mapped.append(Outcome("ok", map_back(outcome.text, legs, options.method)))
        elif outcome.status == "raw":
            mapped.append(Outcome("raw", text))
        else:
            mapped.append(Outcome(outcome.status, text, outcome.message))
    # classes of texts; ``distinct`` counts (text, whole-process) pairs, what is simplified
    classes = len({text for text, _ in reps})
    return mapped, dict(stats.as_dict(), distinct_raw=len(set(raw)), classes=classes)


def simplify_table(table: pa.Table, options: SimplifyOptions) -> tuple[pa.Table, dict]:
    """Fill ``squared`` and ``status`` from ``squared_raw``; every row is kept."""
    names = ("squared_raw", "process", "canonical_process", "permutation", "diagram")
    columns = [c for c in names if c in table.column_names]
    outcomes, stats = simplify_rows(table.select(columns).to_pylist(), options)
    table = table.set_column(
        table.schema.get_field_index("squared"), "squared", pa.array([o.text for o in outcomes], pa.string())
    )
    table = table.set_column(
        table.schema.get_field_index("status"), "status", pa.array([o.status for o in outcomes], pa.string())
    )
    messages = sorted({f"{o.status}: {o.message}" for o in outcomes if o.message})
    return table, dict(stats, messages=messages)


def simplify_shard(in_path: str | os.PathLike, out_path: str | os.PathLike, options: SimplifyOptions) -> dict:
    table, stats = simplify_table(read_shard(in_path), options)
    write_table_atomic(table, out_path)
    return stats
