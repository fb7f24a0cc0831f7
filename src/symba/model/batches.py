"""Token shards in, padded length-bucketed batches out, streamed.

Shards are read ``READ_ROWS`` rows at a time, in row-group order, and bucketed
``buffer_rows`` rows at a time, so memory is bounded by those two numbers, not by
the dataset, a shard or a row group (the tokenize stage writes up to 1Mi rows
per row group).  The batch order is a pure function of (seed, epoch), which is
what makes a resumed run identical.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sympy
import torch

from symba.tokenization.amplitude_tokens import tokenize_amplitude
from symba.tokenization.notations import detokenize
from symba.tokenization.vocab import load_vocabulary

from .errors import ModelInputError, ShardError

TRAIN_COLUMNS = ["split", "amplitude_ids", "squared_ids"]  # required
TRAIN_READ_COLUMNS = TRAIN_COLUMNS + ["decode_amplitude_ids", "decode_squared_ids"]  # read where present
EVAL_COLUMNS = ["split", "amplitude_ids", "squared_ids", "theory", "process", "multiplicity", "squared", "diagram"]
READ_ROWS = 1024  # rows decoded and turned into Python objects at a time
READ_BUFFER_BYTES = 1 << 20  # Parquet pages are read through a buffer this size, not a whole column chunk at once
# Per-row bounds, applied in Arrow before a row becomes Python objects: an id list longer than the
# model can read is cut to ``max_ids + 1`` ids (still too long, so still skipped or counted as
# too long), a text cell over MAX_TEXT_BYTES (whole-process 3->3 squares are ~1.2 MB) is dropped
# (None: no numeric check, no relabelling for that row).  So a hostile row costs what a long one does.
MAX_ROW_IDS = 1 << 16  # the largest max_len a model config allows
MAX_TEXT_BYTES = 16 << 20
ID_COLUMNS = ("amplitude_ids", "squared_ids")
# The canonical form of a row (tokenize.canonical_training writes it on every row, evaluation's
# relabelling on test rows): where a row has it, training reads it instead of the row as written.
CANONICAL_ID_COLUMNS = ("decode_amplitude_ids", "decode_squared_ids")


def load_vocab(path: str):
    """The tokenization stage's vocabulary (``.encode .decode .pad_id .bos_id .eos_id``, ``len``)."""
    try:
        return load_vocabulary(path)
    except FileNotFoundError:
        raise ModelInputError(f"vocabulary {path} does not exist") from None
    except (ValueError, KeyError, TypeError, OSError) as exc:  # what a foreign or damaged file raises
        raise ModelInputError(f"vocabulary {path} cannot be read: {exc}") from None


def vocab_notation(vocab) -> str | None:
    return getattr(vocab, "notation", None)


def detokenize_ids(ids: list[int], vocab, notation: str | None) -> str:
    """Predicted target ids -> SymPy-parseable text (raises ValueError when ill-formed)."""
    return sympy.sstr(detokenize(list(vocab.decode(list(ids))), notation or vocab_notation(vocab)))


@dataclass
class Example:
    src: list[int]  # BOS + source + EOS
    tgt: list[int]  # BOS + target + EOS
    row: dict | None = None  # the other columns, kept for evaluation


class Specials:
    def __init__(self, vocab):
        self.pad, self.bos, self.eos = int(vocab.pad_id), int(vocab.bos_id), int(vocab.eos_id)

    def wrap(self, ids: Iterable[int]) -> list[int]:
        """BOS + ids + EOS, whether or not the shard already carried them."""
        core = [int(i) for i in ids if i not in (self.pad, self.bos, self.eos)]
        return [self.bos, *core, self.eos]


def _first_line(exc: BaseException) -> str:
    """Arrow's messages run over several lines; the error is one line."""
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def open_shard(path: str) -> pq.ParquetFile:
    """A shard opened for streaming: without ``pre_buffer`` (on by default) Arrow would read
    every selected column chunk of a row group into memory before the first row."""
    try:
        return pq.ParquetFile(path, pre_buffer=False, buffer_size=READ_BUFFER_BYTES, page_checksum_verification=True)
    except FileNotFoundError:
        raise ShardError(f"token shard {path} does not exist") from None
    except (pa.ArrowException, OSError) as exc:
        raise ShardError(f"token shard {path} is not a readable Parquet file ({_first_line(exc)})") from None


def _row_groups(paths: list[str], rng: random.Random | None):
    """(path, row group) of every shard, shuffled when ``rng``: the unit of the reading order."""
    units = []
    for path in paths:
        with open_shard(path) as pf:
            n = pf.metadata.num_row_groups
        units.extend((path, g) for g in range(n))
    if rng is not None:
        rng.shuffle(units)
    return units


def record_batches(pf: pq.ParquetFile, path: str, group: int, columns: list[str]) -> Iterator[pa.RecordBatch]:
    """Row group ``group`` of a shard, ``READ_ROWS`` rows at a time; damage is a ShardError.

    A row group with more than MAX_ROW_IDS ids per row on average is refused before it is
    decoded (its id count is in the metadata): run-length encoding lets a 9 kB file hold a row of
    20M ids, which would take gigabytes to decode."""
    meta = pf.metadata.row_group(group)
    for k in range(meta.num_columns):
        chunk = meta.column(k)
        name = chunk.path_in_schema.split(".")[0]
        if (
            name in ID_COLUMNS + CANONICAL_ID_COLUMNS
            and name in columns
            and chunk.num_values > max(1, meta.num_rows) * MAX_ROW_IDS
        ):
            raise ShardError(
                f"token shard {path}: row group {group} holds {chunk.num_values} ids in {name} for "
                f"{meta.num_rows} row(s), over the bound of {MAX_ROW_IDS} per row"
            )
    reader = pf.iter_batches(batch_size=READ_ROWS, row_groups=[group], columns=columns, use_threads=False)
    while True:
        try:
            batch = next(reader)
        except StopIteration:
            return
        except (pa.ArrowException, OSError) as exc:
            raise ShardError(f"token shard {path} is damaged ({_first_line(exc)})") from None
        yield batch


def _check_ids(table: pa.Table | pa.RecordBatch, path: str, vocab_size: int) -> None:
    """Every id a valid row of the embedding: an id outside the vocabulary would crash the model."""
    names = table.schema.names
    for column in ID_COLUMNS + tuple(c for c in CANONICAL_ID_COLUMNS if c in names):
        ids = table[column]
        if column in CANONICAL_ID_COLUMNS:  # null where a row is its own canonical form
            ids = ids.drop_null()
        if not (pa.types.is_list(ids.type) or pa.types.is_large_list(ids.type)) or not pa.types.is_integer(
            ids.type.value_type
        ):
            raise ShardError(f"token shard {path}: column {column} is {ids.type}, not a list of integer ids")
        flat = pc.list_flatten(ids)
        if ids.null_count or flat.null_count:
            raise ShardError(f"token shard {path}: column {column} has missing ids")
        if len(flat):
            low, high = pc.min_max(flat).values()
            if low.as_py() < 0 or high.as_py() >= vocab_size:
                bad = low.as_py() if low.as_py() < 0 else high.as_py()
                raise ShardError(
                    f"token shard {path}: id {bad} in {column} is outside the vocabulary "
                    f"(0..{vocab_size - 1}); was it tokenized with another vocabulary?"
                )


def check_shards(paths: list[str], vocab_size: int) -> None:
    """Every shard readable, with the token columns and only ids of the vocabulary: one pass
    over the id columns, so bad data fails before training starts, not hours into it."""
    for path in paths:
        with open_shard(path) as pf:
            check_columns(pf, path, TRAIN_COLUMNS)
            for group in range(pf.metadata.num_row_groups):
                for batch in record_batches(pf, path, group, ["amplitude_ids", "squared_ids"]):
                    _check_ids(batch, path, vocab_size)


def check_columns(pf: pq.ParquetFile, path: str, columns: list[str]) -> list[str]:
    """The wanted columns the shard has; the token columns must be among them, ``split`` text."""
    schema = pf.schema_arrow
    present = [c for c in columns if c in schema.names]
    missing = set(TRAIN_COLUMNS) - set(schema.names)
    if missing:
        raise ShardError(f"token shard {path} lacks column(s) {', '.join(sorted(missing))}")
    split = schema.field("split").type
    if not (pa.types.is_string(split) or pa.types.is_large_string(split)):
        raise ShardError(f"token shard {path}: column split is {split}, not text")
    return present


def bound_rows(batch: pa.RecordBatch, max_ids: int) -> pa.RecordBatch:
    """``batch`` with id lists cut to ``max_ids + 1`` ids and text cells over MAX_TEXT_BYTES
    dropped (see MAX_ROW_IDS), before anything is turned into Python objects."""
    columns = {}
    for name in batch.schema.names:
        column = batch[name]
        if (
            name in ID_COLUMNS + CANONICAL_ID_COLUMNS
            and len(column)
            and (pc.max(pc.list_value_length(column)).as_py() or 0) > max_ids + 1
        ):
            column = pc.list_slice(column, 0, max_ids + 1)
        elif (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)) and len(column):
            too_long = pc.greater(pc.binary_length(column), MAX_TEXT_BYTES)
            if pc.any(too_long).as_py():
                column = pc.if_else(too_long, pa.scalar(None, column.type), column)
        columns[name] = column
    return pa.RecordBatch.from_pydict(columns)


def iter_rows(
    paths: list[str],
    split: str,
    columns: list[str],
    rng: random.Random | None = None,
    vocab_size: int | None = None,
    max_ids: int = MAX_ROW_IDS,
) -> Iterator[dict]:
    """Rows of one split, in file order within a row group, row groups shuffled when ``rng``.

    At most ``READ_ROWS`` rows are decoded at a time and one shard is open at a time.  With
    ``vocab_size``, every id is checked to lie in the vocabulary (ShardError naming the shard).
    Id lists longer than ``max_ids + 1`` (pass the model's max_len) are cut, see :func:`bound_rows`."""
    opened: tuple[str, pq.ParquetFile] | None = None  # kept for the next unit of the same shard
    try:
        for path, group in _row_groups(paths, rng):
            if opened is None or opened[0] != path:
                if opened is not None:
                    opened[1].close()
                opened = path, open_shard(path)
            pf = opened[1]
            present = check_columns(pf, path, columns)
            for batch in record_batches(pf, path, group, present):
                try:
                    batch = batch.filter(pc.equal(batch["split"], split))
                    if vocab_size is not None:
                        _check_ids(batch, path, vocab_size)
                    batch = bound_rows(batch, max_ids)
                except (pa.ArrowException, OSError) as exc:
                    raise ShardError(f"token shard {path} is damaged ({_first_line(exc)})") from None
                yield from batch.to_pylist()
    finally:
        if opened is not None:
            opened[1].close()


def examples(
    rows: Iterable[dict], specials: Specials, max_len: int, keep_row: bool = False, skipped: list | None = None
) -> Iterator[Example]:
    for row in rows:
        canonical = row.get("decode_amplitude_ids"), row.get("decode_squared_ids")
        source, target = canonical if all(canonical) else (row["amplitude_ids"], row["squared_ids"])
        ex = Example(specials.wrap(source), specials.wrap(target), row if keep_row else None)
        if len(ex.src) > max_len or len(ex.tgt) > max_len:
            if skipped is not None:
                skipped.append(row)
            continue
        yield ex


def bucket_batches(
    items: Iterable[Example], batch_tokens: int, max_batch_size: int, buffer_rows: int, rng: random.Random | None
) -> Iterator[list[Example]]:
    """Batches of similar length: sort each buffer by length, cut by a token budget,
    then shuffle the batches of the buffer (when ``rng``)."""

    def flush(buffer):
        if rng is not None:
            rng.shuffle(buffer)
        buffer.sort(key=lambda e: (len(e.tgt), len(e.src)))
        batches, current, width = [], [], 0
        for ex in buffer:
            w = max(width, len(ex.src), len(ex.tgt))
            if current and (w * (len(current) + 1) > batch_tokens or len(current) >= max_batch_size):
                batches.append(current)
                current, w = [], max(len(ex.src), len(ex.tgt))
            current.append(ex)
            width = w
        if current:
            batches.append(current)
        if rng is not None:
            rng.shuffle(batches)
        return batches

    buffer: list[Example] = []
    for ex in items:
        buffer.append(ex)
        if len(buffer) >= buffer_rows:
            yield from flush(buffer)
            buffer = []
    if buffer:
        yield from flush(buffer)


def collate(batch: list[Example], pad: int) -> tuple[torch.Tensor, torch.Tensor]:
    def pad_to(seqs):
        width = max(len(s) for s in seqs)
        return torch.tensor([s + [pad] * (width - len(s)) for s in seqs], dtype=torch.long)

    return pad_to([e.src for e in batch]), pad_to([e.tgt for e in batch])


def epoch_rng(seed: int, epoch: int) -> random.Random:
    return random.Random(seed * 1_000_003 + epoch)


def training_stream(
    paths: list[str],
    specials: Specials,
    max_len: int,
    batch_tokens: int,
    max_batch_size: int,
    buffer_rows: int,
    seed: int,
    start: tuple[int, int] = (0, 0),
    drop: int = 0,
    rank: int = 0,
    world_size: int = 1,
    vocab_size: int | None = None,
) -> Iterator[tuple[int, int, list[Example]]]:
    """Endless (epoch, index in epoch, batch) from batch ``start``, after dropping ``drop``
    batches; rank r of world_size takes every world_size-th batch from there.

    Resuming at the position of the last batch done with ``drop = world_size`` gives
    exactly the batches an uninterrupted run would have seen next.
    """
    epoch, counter = start[0], 0
    while True:
        rng = epoch_rng(seed, epoch)
        rows = iter_rows(paths, "train", TRAIN_READ_COLUMNS, rng, vocab_size, max_ids=max_len)
        n = 0
        for index, batch in enumerate(
            bucket_batches(examples(rows, specials, max_len), batch_tokens, max_batch_size, buffer_rows, rng)
        ):
            n += 1
            if epoch == start[0] and index < start[1]:
                continue
            counter += 1
            if counter <= drop:
                continue
            if (counter - drop - 1) % world_size == rank:
                yield epoch, index, batch
        if n == 0:
            raise ShardError(f"no training rows (split 'train', at most {max_len} tokens) in {len(paths)} shard(s)")
        epoch += 1


def amplitude_to_ids(text: str, vocab) -> list[int]:
    """Amplitude text -> BOS + token ids + EOS, as the tokenization stage writes them."""
    ids = vocab.encode(list(tokenize_amplitude(text, vocab_notation(vocab))))
    return Specials(vocab).wrap(ids)
