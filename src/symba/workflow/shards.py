"""Per-shard stages of the workflow: amplitudes of a list of processes, then simplification.

Shard files are Parquet in :data:`symba.dataset.SCHEMA`: one row per diagram
plus the whole-process row (``diagram == -1``, amplitude = sum of the diagram
amplitudes, squared amplitude with interference).  Each stage reads one shard
and writes one shard, atomically, so memory is bounded by a shard.
"""

from __future__ import annotations

import logging
import os

import pyarrow as pa
import pyarrow.parquet as pq

from symba.dataset import SCHEMA, WHOLE_PROCESS, write_table_atomic

from .simplify import SimplifyOptions, simplify_expressions

log = logging.getLogger(__name__)


def process_rows(result, multiplicity: str, engine_version: str) -> list[dict]:
    """Rows of one ``ProcessResult``: each diagram, then the whole process."""
    base = {
        "process": result.process,
        "theory": result.theory,
        "multiplicity": multiplicity,
        "backend": result.backend,
        "engine_version": engine_version,
        "status": "raw",
    }
    rows = [
        dict(base, diagram=d.index, amplitude=d.amplitude, squared_raw=d.squared_amplitude, squared=d.squared_amplitude)
        for d in result.diagrams
    ]
    amplitudes = [d.amplitude for d in result.diagrams]
    whole = amplitudes[0] if len(amplitudes) == 1 else " + ".join(f"({a})" for a in amplitudes)
    rows.append(
        dict(
            base,
            backend=result.whole_process_backend,  # "builtin" where MARTY's whole square is unphysical
            diagram=WHOLE_PROCESS,
            amplitude=whole,
            squared_raw=result.squared_amplitude,
            squared=result.squared_amplitude,
        )
    )
    return rows


def rows_to_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def compute_amplitude_shard(
    processes: list[str],
    theory: str,
    out_path: str | os.PathLike,
    backend: str = "builtin",
    timeout: float = 600.0,
    on_error: str = "fail",
    massless: list[str] | tuple[str, ...] = (),
) -> dict:
    """Compute every process of a shard and write its rows.

    ``on_error="skip"`` logs a failing process and leaves it out; ``"fail"`` raises.
    """
    from symba.physics.engine import ENGINE_VERSION, compute_process
    from symba.physics.process import parse_process

    if on_error not in ("fail", "skip"):
        raise ValueError(f"amplitudes.on_error must be 'fail' or 'skip', got {on_error!r}")
    rows: list[dict] = []
    failed: list[str] = []
    for text in processes:
        try:
            proc = parse_process(text, theory)
            result = compute_process(proc, theory=theory, backend=backend, timeout=timeout, massless=massless)
        except Exception as exc:
            if on_error == "fail":
                raise RuntimeError(f"process '{text}' ({theory}, {backend}) failed: {exc}") from exc
            log.warning("skipping process '%s': %s: %s", text, type(exc).__name__, exc)
            failed.append(text)
            continue
        rows.extend(process_rows(result, proc.multiplicity, ENGINE_VERSION))
    write_table_atomic(rows_to_table(rows), out_path)
    return {"processes": len(processes), "failed": failed, "rows": len(rows)}


def simplify_table(table: pa.Table, options: SimplifyOptions) -> tuple[pa.Table, dict]:
    """Fill ``squared`` and ``status`` from ``squared_raw``; every row is kept."""
    raw = table.column("squared_raw").to_pylist()
    outcomes, stats = simplify_expressions(raw, options)
    table = table.set_column(table.schema.get_field_index("squared"), "squared", pa.array([o.text for o in outcomes], pa.string()))
    table = table.set_column(table.schema.get_field_index("status"), "status", pa.array([o.status for o in outcomes], pa.string()))
    messages = sorted({f"{o.status}: {o.message}" for o in outcomes if o.message})
    return table, dict(stats.as_dict(), messages=messages)


def simplify_shard(in_path: str | os.PathLike, out_path: str | os.PathLike, options: SimplifyOptions) -> dict:
    table = pq.read_table(in_path, schema=SCHEMA)
    table, stats = simplify_table(table, options)
    write_table_atomic(table, out_path)
    return stats


def read_shards(paths) -> pa.Table:
    """Concatenate shards (for small runs and tests; large runs should iterate shard by shard)."""
    tables = [pq.read_table(p, schema=SCHEMA) for p in paths]
    return pa.concat_tables(tables) if tables else SCHEMA.empty_table()
