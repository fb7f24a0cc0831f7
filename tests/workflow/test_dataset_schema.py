"""Shard files: written whole and readable by others, damage named in one line."""

import os
import stat

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from symba.dataset_schema import (
    SCHEMA,
    ShardError,
    check_complete,
    read_shard,
    write_table_atomic,
)

ROW = {
    "process": "e- e+ -> mu- mu+",
    "theory": "qed",
    "multiplicity": "2->2",
    "diagram": 0,
    "amplitude": "a",
    "squared_raw": "s_12",
    "squared": "s_12",
    "status": "raw",
    "backend": "builtin",
    "engine_version": "1",
    "canonical_process": "e- e+ -> mu- mu+",
    "permutation": "1,2,3,4",
}


def test_written_shard_reads_back_and_follows_the_umask(tmp_path):
    path = tmp_path / "shard.parquet"
    old = os.umask(0o022)
    try:
        write_table_atomic(pa.Table.from_pylist([ROW], schema=SCHEMA), path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert read_shard(path).to_pylist() == [ROW]
    assert [p.name for p in tmp_path.iterdir()] == ["shard.parquet"]  # no temporary left behind
    check_complete([path, tmp_path / "not-yet-built.parquet"])


def test_truncated_shard_is_one_line_naming_it(tmp_path):
    path = tmp_path / "shard.parquet"
    write_table_atomic(pa.Table.from_pylist([ROW] * 50, schema=SCHEMA), path)
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(ShardError, match=r"shard.parquet: damaged, truncated or not Parquet") as info:
        read_shard(path)
    assert "\n" not in str(info.value)
    with pytest.raises(ShardError, match=r"shard.parquet is truncated or not Parquet; delete it and run again"):
        check_complete([path])


def test_foreign_parquet_is_named_as_a_schema_problem(tmp_path):
    path = tmp_path / "other.parquet"
    pq.write_table(pa.table({"x": [1, 2]}), path)
    with pytest.raises(ShardError, match="other.parquet: not a shard of the expected schema"):
        read_shard(path)
