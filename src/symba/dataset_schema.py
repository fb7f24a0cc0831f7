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

import hashlib
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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

# Test rows decoded with their legs in canonical order (symba.physics.leg_relabelling): source and target ids
# in that order and the permutation back ("2,1,4,3": written leg k holds canonical leg [k-1]);
# null where the row is decoded as written.  Part of TOKEN_COLUMNS.
DECODE_COLUMNS = pa.schema(
    [
        ("decode_amplitude_ids", pa.list_(pa.int32())),
        ("decode_squared_ids", pa.list_(pa.int32())),
        ("decode_permutation", pa.string()),
    ]
)

TOKEN_COLUMNS = pa.schema(
    [
        ("split", pa.string()),  # "train" | "valid" | "test"
        ("group", pa.string()),  # split group key (hash)
        ("amplitude_ids", pa.list_(pa.int32())),
        ("squared_ids", pa.list_(pa.int32())),
    ]
    + list(DECODE_COLUMNS)
)
# Bumped when TOKEN_COLUMNS change: it enters the tokenize stamp, so older token shards are rebuilt.
TOKEN_SHARD_VERSION = 2  # 2: the decode columns


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


DIGEST_KEY = b"symba.content_digest"  # schema metadata: digest of the table as written


def _feed_array(digest, array: pa.Array) -> None:
    """Feed ``array``'s values (not its memory layout: slicing, chunking, null slots) to ``digest``."""
    nulls = array.is_null()
    digest.update(nulls.cast(pa.int8()).to_numpy(zero_copy_only=False).tobytes())
    kind = array.type
    if pa.types.is_string(kind) or pa.types.is_binary(kind) or pa.types.is_large_string(kind):
        filled = array.fill_null("" if pa.types.is_string(kind) or pa.types.is_large_string(kind) else b"")
        width = np.int64 if pa.types.is_large_string(kind) else np.int32
        offsets = np.frombuffer(
            filled.buffers()[1], dtype=width, count=len(filled) + 1, offset=filled.offset * width().itemsize
        )
        digest.update((offsets - offsets[0]).tobytes())
        if len(filled) and filled.buffers()[2] is not None:
            digest.update(memoryview(filled.buffers()[2])[offsets[0] : offsets[-1]])
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
        digest.update(pc.list_value_length(array).fill_null(0).cast(pa.int64()).to_numpy().tobytes())
        _feed_array(digest, pc.list_flatten(array))
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_boolean(kind):
        digest.update(
            array.fill_null(0).cast(pa.float64() if pa.types.is_floating(kind) else pa.int64()).to_numpy().tobytes()
        )
    else:  # not used by symba's shards; correct, only slower
        digest.update(json.dumps(array.to_pylist(), default=str).encode())


def _type_name(kind: pa.DataType) -> str:
    """A type as text without the list's child field name (Arrow writes "item", Parquet reads "element")."""
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return f"{'large_' if pa.types.is_large_list(kind) else ''}list<{_type_name(kind.value_type)}>"
    return str(kind)


def table_digest(table: pa.Table) -> str:
    """Digest of a table's column names, types and values, the same however it is laid out in memory."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(json.dumps([[f.name, _type_name(f.type)] for f in table.schema] + [table.num_rows]).encode())
    for column in table.columns:
        _feed_array(digest, column.combine_chunks())
    return digest.hexdigest()


def _read_verified(path: str | os.PathLike) -> pa.Table:
    """The table in ``path``, its pages' checksums and its content digest checked.

    Shards written before the digest (no key) are read with the page checks alone.
    """
    table = pq.read_table(path, page_checksum_verification=True)
    stored = (table.schema.metadata or {}).get(DIGEST_KEY)
    if stored is not None and stored.decode(errors="replace") != table_digest(table):
        raise ValueError("content does not match its digest")
    return table.replace_schema_metadata({k: v for k, v in (table.schema.metadata or {}).items() if k != DIGEST_KEY})


def read_shard(path: str | os.PathLike, schema: pa.Schema | None = SCHEMA) -> pa.Table:
    """Read a shard with exactly the columns of ``schema`` (None: as stored).

    Pages are checked against their checksums and the whole table against its digest: a
    damaged, truncated or foreign file is a :class:`ShardError` naming it in one line; missing
    columns are an error too (Arrow would fill them with nulls).
    """
    try:
        table = _read_verified(path)
    except FileNotFoundError:
        raise ShardError(f"{path}: no such shard") from None
    except (pa.ArrowException, OSError, ValueError, KeyError, IndexError) as exc:  # damage takes many shapes
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ShardError(
            f"{path}: damaged, truncated or not Parquet ({reason[:200]}); delete it and rerun to rebuild it"
        ) from None
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
    """Write Parquet beside ``path`` with page checksums and a content digest, read it back and
    verify it, then rename it into place (umask respected)."""
    metadata = {**(table.schema.metadata or {}), DIGEST_KEY: table_digest(table).encode()}
    table = table.replace_schema_metadata(metadata)

    def write_and_verify(tmp: str) -> None:
        pq.write_table(table, tmp, write_page_checksum=True)
        try:
            _read_verified(tmp)  # what a later read will check, checked once while it can still be rewritten
        except (pa.ArrowException, ValueError) as exc:
            raise OSError(f"{path}: Parquet written does not read back ({exc})") from None

    atomic_write(path, write_and_verify)
