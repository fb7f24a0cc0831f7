"""The model's data path streams: bounded rows in memory, the same rows and batches as a whole read."""

import itertools
import os
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from symba.model import batches
from symba.model.batches import Specials, load_vocab, training_stream

from .model_test_data import mapping_rows, write_shard


def _shards(vocab, tmp_path, n_shards=3, rows=90, row_group_size=25, splits=("train", "valid", "test")):
    paths = []
    for k in range(n_shards):
        shard_rows = mapping_rows(vocab, rows, "train", seed=k)
        for i, r in enumerate(shard_rows):
            r["split"] = splits[i % len(splits)]
        paths.append(write_shard(tmp_path / f"s{k}.parquet", shard_rows, row_group_size=row_group_size))
    return paths


def _whole_read_rows(paths, split, columns, rng):
    """The rows of ``split`` as whole row groups read by pyarrow give them, in the documented
    order: (shard, row group) units shuffled by ``rng``, file order within a unit."""
    units = [(p, g) for p in paths for g in range(pq.ParquetFile(p).num_row_groups)]
    if rng is not None:
        rng.shuffle(units)
    out = []
    for path, group in units:
        table = pq.ParquetFile(path).read_row_group(group, columns=columns)
        out += [r for r in table.to_pylist() if r["split"] == split]
    return out


@pytest.fixture
def decoded(monkeypatch):
    """Counts the rows the shard reader decodes, and forbids reading a whole row group or file."""
    seen = {"rows": 0, "largest": 0}
    original = pq.ParquetFile.iter_batches

    def spy(self, *args, **kwargs):
        for batch in original(self, *args, **kwargs):
            seen["rows"] += batch.num_rows
            seen["largest"] = max(seen["largest"], batch.num_rows)
            yield batch

    def refuse(self, *args, **kwargs):
        raise AssertionError("a whole row group or file was read")

    monkeypatch.setattr(pq.ParquetFile, "iter_batches", spy)
    monkeypatch.setattr(pq.ParquetFile, "read_row_group", refuse)
    monkeypatch.setattr(pq.ParquetFile, "read", refuse)
    return seen


@pytest.mark.parametrize("seed", [None, 5])
def test_rows_are_those_of_whole_row_groups_in_the_same_order(vocab_path, tmp_path, monkeypatch, seed):
    vocab = load_vocab(vocab_path)
    paths = _shards(vocab, tmp_path)
    monkeypatch.setattr(batches, "READ_ROWS", 7)  # batches that straddle row groups' ends
    for split in ("train", "valid"):
        expected = _whole_read_rows(paths, split, batches.TRAIN_COLUMNS, None if seed is None else random.Random(seed))
        rng = None if seed is None else random.Random(seed)
        got = list(batches.iter_rows(paths, split, batches.TRAIN_COLUMNS, rng, vocab_size=len(vocab)))
        assert got == expected
        assert len(got) == 3 * 30


def test_a_row_group_is_decoded_read_rows_at_a_time_and_lazily(vocab_path, tmp_path, monkeypatch, decoded):
    vocab = load_vocab(vocab_path)
    path = write_shard(tmp_path / "one-group.parquet", mapping_rows(vocab, 500, "train", seed=1), row_group_size=0)
    assert pq.read_metadata(path).num_row_groups == 1  # as the tokenize stage writes shards
    monkeypatch.setattr(batches, "READ_ROWS", 32)
    rows = batches.iter_rows([path], "train", batches.TRAIN_COLUMNS)
    next(rows)
    assert decoded["rows"] == 32  # the first row costs one read batch, not the row group
    assert len(list(rows)) == 499
    assert decoded["rows"] == 500 and decoded["largest"] == 32


def test_training_stream_holds_no_more_than_its_buffer(vocab_path, tmp_path, monkeypatch, decoded):
    vocab = load_vocab(vocab_path)
    path = write_shard(tmp_path / "big.parquet", mapping_rows(vocab, 2000, "train", seed=2), row_group_size=0)
    monkeypatch.setattr(batches, "READ_ROWS", 16)
    batches.check_shards([path], len(vocab))
    assert decoded["largest"] == 16  # the shard check streams too
    decoded["rows"] = 0
    stream = training_stream([path], Specials(vocab), 32, 200, 64, buffer_rows=50, seed=0)
    next(stream)
    assert decoded["rows"] <= 50 + 16  # one bucketing buffer, plus the rest of one read batch


def test_batches_do_not_depend_on_the_read_size(vocab_path, tmp_path, monkeypatch):
    vocab = load_vocab(vocab_path)
    paths = _shards(vocab, tmp_path, rows=120, row_group_size=40, splits=("train",))
    default = batches.READ_ROWS

    def first_epochs(read_rows):
        monkeypatch.setattr(batches, "READ_ROWS", read_rows)
        stream = training_stream(paths, Specials(vocab), 32, 60, 50, buffer_rows=33, seed=11, start=(0, 2), drop=1)
        return [(e, i, [(x.src, x.tgt) for x in b]) for e, i, b in itertools.islice(stream, 150)]

    reference = first_epochs(1 << 20)  # every row group decoded at once
    assert first_epochs(5) == reference
    assert first_epochs(default) == reference
    assert {0, 1} <= {e for e, _, _ in reference}  # crosses an epoch: the per-epoch order holds too


def test_training_stream_feeds_the_bucketing_the_rows_of_whole_row_groups(vocab_path, tmp_path, monkeypatch):
    vocab = load_vocab(vocab_path)
    paths = _shards(vocab, tmp_path, splits=("train", "valid"))
    monkeypatch.setattr(batches, "READ_ROWS", 6)
    specials = Specials(vocab)
    rng = batches.epoch_rng(3, 0)
    rows = _whole_read_rows(paths, "train", batches.TRAIN_COLUMNS, rng)
    expected = list(batches.bucket_batches(batches.examples(rows, specials, 32), 60, 50, 20, rng))
    stream = training_stream(paths, specials, 32, 60, 50, buffer_rows=20, seed=3)
    got = [next(stream) for _ in expected]
    assert [(e, i) for e, i, _ in got] == [(0, i) for i in range(len(expected))]
    assert [[(x.src, x.tgt) for x in b] for _, _, b in got] == [[(x.src, x.tgt) for x in b] for b in expected]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts open file descriptors in /proc")
def test_one_shard_is_open_at_a_time(vocab_path, tmp_path):
    vocab = load_vocab(vocab_path)
    paths = _shards(vocab, tmp_path, n_shards=12, rows=20, row_group_size=5)
    before = len(os.listdir("/proc/self/fd"))
    most = before
    for _ in batches.iter_rows(paths, "train", batches.TRAIN_COLUMNS, random.Random(0)):
        most = max(most, len(os.listdir("/proc/self/fd")))
    assert most - before <= 1
    assert len(os.listdir("/proc/self/fd")) == before


def test_arrow_holds_a_few_pages_not_the_row_group(tmp_path):
    import numpy as np

    n, rng = 120_000, np.random.default_rng(0)

    def ids(width):
        offsets = pa.array(np.arange(0, (n + 1) * width, width, dtype=np.int32))
        return pa.ListArray.from_arrays(offsets, pa.array(rng.integers(4, 300, size=n * width, dtype=np.int32)))

    path = str(tmp_path / "wide.parquet")
    table = pa.table({"split": pa.array(["train"] * n), "amplitude_ids": ids(80), "squared_ids": ids(60)})
    pq.write_table(table, path)  # one row group, as the tokenize stage writes a shard
    group = pq.read_metadata(path).row_group(0)
    stored = sum(group.column(i).total_compressed_size for i in range(group.num_columns))  # ~18 MB
    base, peak, rows = pa.total_allocated_bytes(), 0, 0
    with batches.open_shard(path) as pf:
        for batch in batches.record_batches(pf, path, 0, batches.TRAIN_COLUMNS):
            peak, rows = max(peak, pa.total_allocated_bytes() - base), rows + batch.num_rows
    assert rows == n
    assert peak < stored / 3  # pre-buffered (Arrow's default), the column chunks, ~stored, are held


def test_a_bad_id_past_the_first_read_batch_is_found(vocab_path, tmp_path, monkeypatch):
    vocab = load_vocab(vocab_path)
    rows = mapping_rows(vocab, 100, "valid", seed=6)
    rows[90]["squared_ids"] = [5, len(vocab)]
    path = write_shard(tmp_path / "oov.parquet", rows, row_group_size=0)
    monkeypatch.setattr(batches, "READ_ROWS", 16)
    with pytest.raises(batches.ShardError, match=r"oov.parquet: id \d+ in squared_ids is outside the vocabulary"):
        batches.check_shards([path], len(vocab))
    with pytest.raises(batches.ShardError, match=r"oov.parquet: id \d+ in squared_ids is outside the vocabulary"):
        list(batches.iter_rows([path], "valid", batches.TRAIN_COLUMNS, vocab_size=len(vocab)))


def test_training_templates_are_those_of_the_train_rows(vocab_path, tmp_path, monkeypatch):
    from symba.model.evaluate import training_templates

    vocab = load_vocab(vocab_path)
    paths = _shards(vocab, tmp_path, splits=("train", "valid", "test_templates"))
    for k, path in enumerate(paths):  # a template per row, so each side has its own
        table = pq.read_table(path)
        groups = [f"g{k}-{i}" if i % 7 else None for i in range(table.num_rows)]
        pq.write_table(table.set_column(table.schema.get_field_index("group"), "group", pa.array(groups)), path)
    expected = {r["group"] for p in paths for r in pq.read_table(p).to_pylist() if r["split"] == "train"} - {None}
    monkeypatch.setattr(batches, "READ_ROWS", 8)
    assert training_templates(paths) == expected
    assert len(expected) == 3 * 30 - 3 * 5  # rows 0, 21, 42, 63, 84 of each shard have no group


def test_in_file_order_each_shard_is_opened_once_to_read(vocab_path, tmp_path, monkeypatch):
    vocab = load_vocab(vocab_path)
    paths = _shards(vocab, tmp_path, rows=60, row_group_size=5)  # 12 row groups each
    opened = []
    original = batches.open_shard
    monkeypatch.setattr(batches, "open_shard", lambda path: opened.append(path) or original(path))
    assert len(list(batches.iter_rows(paths, "train", batches.TRAIN_COLUMNS))) == 3 * 20
    assert opened == paths + paths  # once to count its row groups, once to read them all
