"""The Parquet schema of symba datasets; shards written atomically and verified, read with one-line errors.

One row per (process, diagram).  ``diagram == -1`` is the whole-process row:
its amplitude is the sum of the diagram amplitudes and its squared amplitude
includes interference.  The tokenize stage adds ``split`` and token-id columns.
"""

from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq

from symba.files import atomic_write

WHOLE_PROCESS = -1
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
    ]
)

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
