"""Model files and training checkpoints: tensors and plain data only, never pickled objects.

Both are ``torch.save``d dicts of tensors, dicts, lists, str, int, float, bool and None, and
are read back with ``torch.load(..., weights_only=True)``, which refuses anything else: a
file from someone else cannot run code here.

Model file (``FORMAT_MODEL``, version 2; version 1 files hold the same plain data)::

    format, version, model_config (dict), state_dict ({name: tensor}), vocab_path (str),
    notation (str | None), specials ({pad, bos, eos}), train_config (dict), steps (int),
    provenance ({data, vocab: sha256 hex; train_config: dict})

Checkpoint (``FORMAT_CHECKPOINT``, version 1)::

    format, version, provenance, model, optimizer (plain state_dicts), step, position
    ([epoch, index] | None, rank 0's last batch), position_batches (batches that step took: the
    world size; absent = 1), window, rows (metrics so far), cpu_rng (ByteTensor), cuda_rng

The provenance says what a checkpoint was trained on; training resumes only when all of it
matches the current run (see :func:`provenance_mismatch`).
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import pickle
import warnings
import zipfile
from pathlib import Path

import torch

from symba.files import atomic_write
from symba.tokenization.notations import NOTATIONS

from .config import model_config_from_dict
from .errors import ConfigError, ModelFileError, ModelInputError
from .transformer import Seq2SeqTransformer

FORMAT_MODEL = "symba-seq2seq"
MODEL_VERSION = 2
_MODEL_FORMATS_READ = {(FORMAT_MODEL, MODEL_VERSION), ("symba-seq2seq-1", None)}  # v1 had no version key
FORMAT_CHECKPOINT = "symba-train-checkpoint"
CHECKPOINT_VERSION = 1
# The columns of the metric rows a checkpoint keeps (and of train's metrics CSV). tokens_seen and
# train_s are cumulative (source + target tokens without padding, and training seconds without
# validation): accuracy against data seen and against time.
METRIC_FIELDS = [
    "step",
    "epoch",
    "loss",
    "token_accuracy",
    "lr",
    "tokens_per_s",
    "tokens_seen",
    "train_s",
    "valid_loss",
    "valid_token_accuracy",
]
SAFE_TORCH = (2, 6)  # before 2.6, weights_only=True could still run code (CVE-2025-32434)


def _torch_version() -> tuple[int, int]:
    major, minor = torch.__version__.split(".")[:2]
    return int(major), int("".join(c for c in minor if c.isdigit()) or 0)


# -- provenance --------------------------------------------------------------------------


def file_sha256(path: str | Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def data_fingerprint(shard_paths: list[str]) -> str:
    """The training data: the bytes of every shard, in the order given (the order shapes the
    batch order).  Rewriting a shard with the same content keeps the fingerprint; another split
    or other rows change it.  Reading the shards once costs far less than one training step."""
    digest = hashlib.sha256()
    for path in shard_paths:
        digest.update(file_sha256(path).encode())
    return digest.hexdigest()


def vocab_fingerprint(vocab) -> str:
    """The vocabulary's notation and tokens in order (not its file's formatting)."""
    return hashlib.sha256(json.dumps(vocab.to_json(), sort_keys=True).encode()).hexdigest()


def provenance(train_config: dict, shard_paths: list[str], vocab) -> dict:
    return {"data": data_fingerprint(shard_paths), "vocab": vocab_fingerprint(vocab), "train_config": train_config}


def provenance_mismatch(saved, current: dict) -> list[str]:
    """What differs between a checkpoint's provenance and the current run's, in words
    ("was made with other training data", ...); empty when it matches."""
    if not isinstance(saved, dict):
        return ["records no provenance"]
    differences = []
    if saved.get("data") != current["data"]:
        differences.append("was made with other training data")
    if saved.get("vocab") != current["vocab"]:
        differences.append("was made with another vocabulary")
    old, new = saved.get("train_config"), current["train_config"]
    if old != new:
        old = old if isinstance(old, dict) else {}
        keys = sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))
        differences.append(f"was made with another train config ({', '.join(keys)})")
    return differences


# -- reading and writing -----------------------------------------------------------------


def save(obj: dict, path: str | Path) -> None:
    """Write atomically: a killed run leaves the previous file, never half of one.  A full disk
    is an OSError (ENOSPC) naming the file: torch reports it as "unexpected pos", without errno."""

    def write(tmp: str) -> None:
        try:
            torch.save(obj, tmp)
        except RuntimeError as exc:
            if "unexpected pos" in str(exc) or _free_bytes(tmp) < (1 << 20):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from None
            raise

    atomic_write(path, write)


def _free_bytes(path: str) -> int:
    try:
        info = os.statvfs(os.path.dirname(os.path.abspath(path)))
    except OSError:
        return 1 << 62
    return info.f_bavail * info.f_frsize


def _reason(exc: BaseException) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    if isinstance(exc, pickle.UnpicklingError) and len(lines) > 1:
        lines = lines[1:]  # torch's first line only suggests loading it unsafely
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


def load_plain(path: str | Path, what: str) -> dict:
    """The dict in a torch file, loaded with ``weights_only=True``; ModelFileError (one line,
    naming the file) when it is missing, empty, damaged, or holds anything but plain data."""
    path = Path(path)
    if _torch_version() < SAFE_TORCH:
        raise ModelFileError(f"torch {torch.__version__} cannot load {what} {path} safely; install torch >= 2.6")
    if not path.exists():
        raise ModelFileError(f"{what} {path} does not exist")
    if not path.is_file():
        raise ModelFileError(f"{what} {path} is not a file")
    if path.stat().st_size == 0:
        raise ModelFileError(f"{what} {path} is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch warns about pickle protocols of foreign files
            obj = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise ModelFileError(
            f"{what} {path} is not tensors and plain data; refused to load it ({_reason(exc)})"
        ) from None
    except (
        RuntimeError,
        EOFError,
        ValueError,
        TypeError,
        KeyError,
        IndexError,
        AttributeError,
        OSError,
        zipfile.BadZipFile,
        UnicodeDecodeError,
    ) as exc:  # what torch raises on damaged files
        raise ModelFileError(f"{what} {path} is damaged or not a torch file ({_reason(exc)})") from None
    if not isinstance(obj, dict):
        raise ModelFileError(f"{what} {path} does not hold a dict but {type(obj).__name__}")
    return obj


def _field(record: dict, key: str, types, path, what: str):
    if key not in record:
        raise ModelFileError(f"{what} {path} lacks {key!r}")
    value = record[key]
    if not isinstance(value, types) or (isinstance(value, bool) and types is not bool):
        raise ModelFileError(f"{what} {path}: {key!r} is a {type(value).__name__}")
    return value


def _state_dict(value, path, what: str) -> dict:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items()
    ):
        raise ModelFileError(f"{what} {path}: the weights are not a mapping of names to tensors")
    return value


def build_model(model_config: dict, state_dict: dict, path, what: str, device: str = "cpu") -> Seq2SeqTransformer:
    """The model of ``model_config`` holding ``state_dict``.  Shapes are compared first, on the
    meta device unless the config's size is within a few times the file's tensors (building on
    the meta device costs 1.4 s the first time), so a file cannot make us allocate much more
    than the tensors it holds."""
    try:
        cfg = model_config_from_dict(model_config)
    except ConfigError as exc:
        raise ModelFileError(f"{what} {path}: {exc}") from None
    if _size_bound(cfg) <= 4 * sum(v.numel() for v in state_dict.values()) + (1 << 20):
        shell = Seq2SeqTransformer(cfg)  # at most a few times what the file holds; no meta device (1.4 s)
    else:
        with torch.device("meta"):
            shell = Seq2SeqTransformer(cfg)
    expected = {k: tuple(v.shape) for k, v in shell.state_dict().items()}
    found = {k: tuple(v.shape) for k, v in state_dict.items()}
    if expected != found:
        wrong = sorted(set(expected) ^ set(found)) or sorted(k for k in expected if expected[k] != found[k])
        raise ModelFileError(f"{what} {path}: the weights do not fit its model config (first: {wrong[0]})")
    model = shell if shell.embed.weight.device.type != "meta" else Seq2SeqTransformer(cfg)
    model.load_state_dict(state_dict)
    return model.to(device)


def _size_bound(cfg) -> int:
    """An upper bound on the numbers a model of ``cfg`` allocates (weights and position table)."""
    d, layers = cfg.d_model, cfg.n_encoder_layers + cfg.n_decoder_layers
    return (cfg.vocab_size + 2 * cfg.max_len) * d + layers * (8 * d * d + 2 * d * cfg.d_ff + 16 * d + cfg.d_ff)


def load_model(path: str | Path, device: str = "cpu") -> tuple[Seq2SeqTransformer, dict]:
    """Rebuild a trained model from its file; returns (model in eval mode, the record)."""
    what = "model file"
    record = load_plain(path, what)
    if (record.get("format"), record.get("version")) not in _MODEL_FORMATS_READ:
        raise ModelFileError(
            f"{path} is not a symba model file (format {record.get('format')!r}, version {record.get('version')!r})"
        )
    model_config = _field(record, "model_config", dict, path, what)
    state = _state_dict(record.get("state_dict"), path, what)
    _field(record, "vocab_path", str, path, what)
    if record.get("notation") is not None:
        _field(record, "notation", str, path, what)
    if record.get("notation") is not None:
        if record["notation"] not in NOTATIONS:
            raise ModelFileError(
                f"{what} {path}: notation {record['notation']!r:.40} is not one of {', '.join(NOTATIONS)}"
            )
    specials = _field(record, "specials", dict, path, what)
    for key in ("pad", "bos", "eos"):
        _field(specials, key, int, path, what)
    for key, types in (("train_config", dict), ("steps", int), ("provenance", dict)):
        if record.get(key) is not None:  # not read to predict, but trusted by whoever reads the record
            _field(record, key, types, path, what)
    recorded_vocab = (record.get("provenance") or {}).get("vocab")
    if recorded_vocab is not None and not (isinstance(recorded_vocab, str) and len(recorded_vocab) == 64):
        raise ModelFileError(f"{what} {path}: its vocabulary hash is not a sha256 hex digest")
    model = build_model(model_config, state, path, what, device)
    return model.eval(), record


def check_vocabulary(record: dict, vocab, vocab_path, model_path) -> None:
    """The vocabulary must be the model's own: the same size and, when the model file records its
    hash (all files since provenance was recorded), the same tokens in the same order.  Another
    order of the same tokens would load silently and make every answer garbage."""
    size = (record.get("model_config") or {}).get("vocab_size")
    if size is not None and len(vocab) != size:
        raise ModelInputError(f"vocabulary {vocab_path} has {len(vocab)} tokens, the model was trained with {size}")
    recorded = (record.get("provenance") or {}).get("vocab")
    if recorded is not None and vocab_fingerprint(vocab) != recorded:
        raise ModelInputError(
            f"vocabulary {vocab_path} is not the one model {model_path} was trained with "
            "(other tokens, or another order); give that vocabulary with --vocab"
        )


def model_record(
    model: Seq2SeqTransformer,
    model_config: dict,
    vocab_path: str,
    notation: str | None,
    specials: dict,
    train_config: dict,
    steps: int,
    provenance: dict,
) -> dict:
    return {
        "format": FORMAT_MODEL,
        "version": MODEL_VERSION,
        "model_config": model_config,
        "state_dict": {k: v.detach().cpu() for k, v in model.state_dict().items()},
        "vocab_path": vocab_path,
        "notation": notation,
        "specials": specials,
        "train_config": train_config,
        "steps": steps,
        "provenance": provenance,
    }


def empty_window() -> dict:
    """The running totals of a training window (between two metric rows), all zero."""
    return {"loss": 0.0, "correct": 0, "tokens": 0, "all_tokens": 0, "seconds": 0.0, "steps": 0}


def load_checkpoint(path: str | Path) -> dict | None:
    """A training checkpoint's state, or None when it has another format (an older one: the
    caller starts afresh).  A file that cannot be read safely is a ModelFileError."""
    what = "checkpoint"
    state = load_plain(path, what)
    if (state.get("format"), state.get("version")) != (FORMAT_CHECKPOINT, CHECKPOINT_VERSION):
        return None
    _state_dict(state.get("model"), path, what)
    _field(state, "optimizer", dict, path, what)
    if _field(state, "step", int, path, what) < 0:
        raise ModelFileError(f"checkpoint {path}: 'step' is negative")
    _field(state, "cpu_rng", torch.Tensor, path, what)
    cuda_rng = state.get("cuda_rng")
    if cuda_rng is not None and not (
        isinstance(cuda_rng, (list, tuple)) and all(isinstance(t, torch.Tensor) for t in cuda_rng)
    ):
        raise ModelFileError(f"checkpoint {path}: 'cuda_rng' is not a list of tensors")
    position = state.get("position")
    if position is not None and not (
        isinstance(position, (list, tuple))
        and len(position) == 2
        and all(isinstance(p, int) and not isinstance(p, bool) and p >= 0 for p in position)
    ):
        raise ModelFileError(f"checkpoint {path}: 'position' is not [epoch, index]")
    window = _field(state, "window", dict, path, what)
    if set(window) != set(empty_window()) or not all(_number(v) for v in window.values()):
        raise ModelFileError(f"checkpoint {path}: 'window' is not the running totals of a training window")

    rows = _field(state, "rows", list, path, what)
    for row in rows:
        if not isinstance(row, dict) or not all(
            k in METRIC_FIELDS and (v is None or isinstance(v, str) or _number(v)) for k, v in row.items()
        ):
            raise ModelFileError(f"checkpoint {path}: 'rows' are not metric rows ({', '.join(METRIC_FIELDS[:3])}, ...)")
    batches = state.get("position_batches", 1)  # processes of the run that saved it (absent: one)
    if not isinstance(batches, int) or isinstance(batches, bool) or batches < 1:
        raise ModelFileError(f"checkpoint {path}: 'position_batches' is not a positive integer")
    return state


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
