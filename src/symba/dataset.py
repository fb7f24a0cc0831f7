"""The Parquet schema of symba datasets, and atomic writing.

One row per (process, diagram).  ``diagram == -1`` is the whole-process row:
its amplitude is the sum of the diagram amplitudes and its squared amplitude
includes interference.  The tokenize stage adds ``split`` and token-id columns.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

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


def write_table_atomic(table: pa.Table, path: str | os.PathLike) -> None:
    """Write Parquet to a temporary file beside ``path``, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        pq.write_table(table, tmp)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
