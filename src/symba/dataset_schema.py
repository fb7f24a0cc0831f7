"""The Parquet schema of symba datasets; shards written atomically and verified, read with one-line errors.

One row per (process, diagram).  ``diagram == -1`` is the whole-process row:
its amplitude is the sum of the diagram amplitudes and its squared amplitude
includes interference.  The tokenize stage adds ``split`` and token-id columns.

With ``orderings: all`` a row's ``process`` is an ordering of its legs
(``e+ e- -> a mu+ mu-``), derived by relabelling the computation of
``canonical_process`` with ``permutation`` (ordered leg k holds canonical leg
permutation[k-1]; see ``symba.physics.orderings``).  Canonical rows have
``canonical_process == process`` and the identity ``"1,2,...,n"``.
"""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq

from symba.files import atomic_write
from symba.physics.results import WHOLE_PROCESS  # noqa: F401  (re-exported: the whole-process row)

STATUSES = ("ok", "timeout", "error", "raw")  # "raw": not simplified (yet)

SCHEMA = pa.schema(
    [
        ("process", pa.string()),  # "e- e+ -> mu- mu+"
        ("theory", pa.string()),  # "qed" | "qcd"
        ("multiplicity", pa.string()),  # "2->2"
        ("diagram", pa.int32()),  # diagram index, or -1 for the whole process
        ("amplitude", pa.string()),  # amplitude_syntax text
        ("squared_raw", pa.string()),  # squared amplitude as computed
        ("squared", pa.string()),  # simplified squared amplitude (= squared_raw unless status == "ok")
        ("status", pa.string()),  # one of STATUSES
        ("backend", pa.string()),  # "builtin" | "marty" | "symba-import"
        ("engine_version", pa.string()),
        ("canonical_process", pa.string()),  # the process computed; = process for canonical rows
        ("permutation", pa.string()),  # "2,1,4,3": ordered leg k holds canonical leg [k-1]; identity for canonical rows
    ]
)
ORDERING_COLUMNS = ("canonical_process", "permutation")

TOKEN_COLUMNS = pa.schema(
    [
        ("split", pa.string()),  # "train" | "valid" | "test"
        ("group", pa.string()),  # split group key (hash)
        ("amplitude_ids", pa.list_(pa.int32())),
        ("squared_ids", pa.list_(pa.int32())),
    ]
)


PARQUET_MAGIC = b"PAR1"  # first and last four bytes of every Parquet file


class ShardError(ValueError):
    """A shard that cannot be read: truncated, not Parquet, or in another schema."""


def looks_complete(path: str | os.PathLike) -> bool:
    """Cheap check (two reads) that a Parquet file was not cut short: both magic markers present."""
    try:
        with open(path, "rb") as handle:
            if handle.read(4) != PARQUET_MAGIC:
                return False
            handle.seek(-4, os.SEEK_END)
            return handle.read(4) == PARQUET_MAGIC
    except OSError:
        return False


def check_complete(paths) -> None:
    """Raise :class:`ShardError` naming the existing files among ``paths`` that were cut short."""
    broken = [str(p) for p in paths if os.path.exists(p) and not looks_complete(p)]
    if broken:
        more = f" (and {len(broken) - 1} more)" if len(broken) > 1 else ""
        raise ShardError(
            f"{broken[0]}{more} is truncated or not Parquet; delete it and run again: Snakemake then rebuilds it and what depends on it"
        )


def identity_permutation(process: str) -> str:
    """``"1,2,...,n"`` for a process of n legs (the permutation column of a canonical row)."""
    legs = len((process or "").replace("->", " ").split())
    return ",".join(str(k) for k in range(1, legs + 1))


def fill_ordering_defaults(rows: list[dict]) -> list[dict]:
    """Rows without ordering columns (imports, shards written before them) become canonical rows."""
    for row in rows:
        if not row.get("canonical_process"):
            row["canonical_process"] = row.get("process")
        if not row.get("permutation"):
            row["permutation"] = identity_permutation(row.get("process") or "")
    return rows


def with_ordering_columns(table: pa.Table) -> pa.Table:
    """``table`` with the ordering columns filled in where it lacks them (canonical rows)."""
    if all(name in table.column_names for name in ORDERING_COLUMNS):
        return table
    processes = table.column("process").to_pylist() if "process" in table.column_names else [None] * table.num_rows
    defaults = {
        "canonical_process": processes,
        "permutation": [identity_permutation(p or "") for p in processes],
    }
    for name in ORDERING_COLUMNS:
        if name not in table.column_names:
            table = table.append_column(name, pa.array(defaults[name], pa.string()))
    return table


def read_shard(path: str | os.PathLike, schema: pa.Schema | None = SCHEMA) -> pa.Table:
    """Read a shard with exactly the columns of ``schema`` (None: as stored).

    A truncated or foreign file is a :class:`ShardError` naming it in one line; missing columns
    are an error too (Arrow would fill them with nulls).
    """
    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise ShardError(f"{path}: no such shard") from None
    except (pa.ArrowException, OSError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ShardError(f"{path}: truncated or not Parquet ({reason}); delete it and rerun to rebuild it") from None
    if schema is None:
        return table
    table = with_ordering_columns(table)
    missing = [name for name in schema.names if name not in table.column_names]
    if missing:
        raise ShardError(f"{path}: not a shard of the expected schema (missing columns: {', '.join(missing)})")
    try:
        return table.select(schema.names).cast(schema)
    except (pa.ArrowException, ValueError) as exc:
        raise ShardError(f"{path}: not a shard of the expected schema ({str(exc).splitlines()[0]})") from None


def write_table_atomic(table: pa.Table, path: str | os.PathLike) -> None:
    """Write Parquet beside ``path``, read its footer back, then rename it into place (umask respected)."""

    def write_and_verify(tmp: str) -> None:
        pq.write_table(table, tmp)
        if pq.read_metadata(tmp).num_rows != table.num_rows:
            raise OSError(f"{path}: Parquet written with a wrong row count")

    atomic_write(path, write_and_verify)
