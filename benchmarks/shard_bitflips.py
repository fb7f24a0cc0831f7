"""Single-bit flips in complete shards: how many read back silently changed (issue 23, item 3).

Run by hand:  PYTHONPATH=src python benchmarks/shard_bitflips.py [--flips 300] [--seed 0]

Builds one dataset shard (5 QED 2->2 processes, every ordering) and its token shard, then flips
one random bit of the file at a time and reads it back two ways: as symba wrote and read shards
before issue 23 (plain ``pq.write_table`` / ``pq.read_table``) and as it does now
(:func:`symba.dataset_schema.write_table_atomic` / :func:`symba.dataset_schema.read_shard`).
Each read ends as an error naming the file (detected), the same table, or a silently changed one.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from symba.dataset_schema import SCHEMA, ShardError, read_shard, write_table_atomic
from symba.pipeline.amplitude_shards import compute_amplitude_shard
from symba.tokenization.token_shards import OUTPUT_SCHEMA, tokenize_shard

PROCESSES = ["e- e+ -> mu- mu+", "mu- mu+ -> a a", "e- e+ -> a a", "e- mu- -> e- mu-", "e- a -> e- a"]


def old_read(path: Path, schema: pa.Schema) -> pa.Table:
    return pq.read_table(path).select(schema.names)


def new_read(path: Path, schema: pa.Schema) -> pa.Table:
    return read_shard(path, schema)


def flip_trials(clean: bytes, schema: pa.Schema, reader, flips: int, seed: int, work: Path) -> Counter:
    expected = pa.BufferReader(clean)
    truth = pq.read_table(expected).select(schema.names)
    rng = random.Random(seed)
    counts: Counter = Counter()
    damaged = work / "damaged.parquet"
    for _ in range(flips):
        bit = rng.randrange(len(clean) * 8)
        data = bytearray(clean)
        data[bit // 8] ^= 1 << (bit % 8)
        damaged.write_bytes(bytes(data))
        try:
            table = reader(damaged, schema)
        except ShardError as exc:
            assert "\n" not in str(exc) and str(damaged) in str(exc), exc
            counts["detected (one line naming the file)"] += 1
            continue
        except Exception as exc:  # noqa: BLE001  (the old reader: any exception is at least not silent)
            counts[f"detected ({type(exc).__name__})"] += 1
            continue
        counts["unchanged" if table.equals(truth) else "SILENTLY CHANGED"] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--flips", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        compute_amplitude_shard(PROCESSES, "qed", work / "dataset.parquet", orderings="all")
        tokenize_shard(work / "dataset.parquet", work / "tokens.parquet")
        for name, schema in (("dataset", SCHEMA), ("tokens", OUTPUT_SCHEMA)):
            table = read_shard(work / f"{name}.parquet", schema)
            pq.write_table(table, work / "old.parquet")  # as written before issue 23
            write_table_atomic(table, work / "new.parquet")
            for label, path, reader in (("before", "old.parquet", old_read), ("after", "new.parquet", new_read)):
                clean = (work / path).read_bytes()
                counts = flip_trials(clean, schema, reader, args.flips, args.seed, work)
                print(f"{name} shard ({table.num_rows} rows, {len(clean)} bytes), {label}: {dict(counts)}")


if __name__ == "__main__":
    main()
