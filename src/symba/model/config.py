"""Configuration dataclasses of the model, training and evaluation.

The ``train:`` and ``evaluate:`` sections of ``config.yaml`` are dicts of overrides
of these defaults.  An unknown key, a value of the wrong type or out of range is a
:class:`ConfigError` (a ValueError) that names the key, raised when the dataclass is
built: :func:`check_sections` does that for both sections before any job runs.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields, replace

from .errors import ConfigError

# Range rules per field: (lowest, highest, lowest allowed?, highest allowed?); None is unbounded.
AT_LEAST_1 = (1, None, True, True)
AT_LEAST_0 = (0, None, True, True)
POSITIVE = (0, None, False, True)
FRACTION = (0, 1, True, False)  # [0, 1)
UNIT = (0, 1, True, True)  # [0, 1]
ANY = (None, None, True, True)


def _check_fields(cfg, rules: dict) -> None:
    """Types from the defaults, ranges from ``rules``; the first bad field raises ConfigError."""
    for f in fields(cfg):
        value = getattr(cfg, f.name)
        if f.name not in rules:
            continue
        default = f.default
        if isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f.name, f"must be true or false, not {value!r}")
            continue
        if isinstance(default, str):
            if not isinstance(value, str) or not value:
                raise ConfigError(f.name, f"must be a non-empty string, not {value!r}")
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f.name, f"must be a number, not {value!r}")
        if isinstance(default, int) and not isinstance(value, int):
            raise ConfigError(f.name, f"must be an integer, not {value!r}")
        if not math.isfinite(value):
            raise ConfigError(f.name, f"must be a finite number, not {value!r}")
        low, high, low_ok, high_ok = rules[f.name]
        too_low = low is not None and (value < low or (value == low and not low_ok))
        too_high = high is not None and (value > high or (value == high and not high_ok))
        if too_low or too_high:
            lo = "" if low is None else f"{low} {'<=' if low_ok else '<'} "
            hi = "" if high is None else f" {'<=' if high_ok else '<'} {high}"
            raise ConfigError(f.name, f"must satisfy {lo}{f.name}{hi}, not {value!r}")


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int = 0  # set from the vocabulary at training time
    d_model: int = 128
    n_heads: int = 4
    n_encoder_layers: int = 2
    n_decoder_layers: int = 2
    d_ff: int = 256
    dropout: float = 0.0  # a few hundred rows seen ~50 times each: dropout only slowed learning
    max_len: int = 512  # longest source or target sequence, BOS/EOS included
    positions: str = "learned"  # "learned" | "sinusoidal"
    pad_id: int = 0

    def __post_init__(self):
        _check_fields(
            self,
            {
                "vocab_size": AT_LEAST_0,
                "d_model": AT_LEAST_1,
                "n_heads": AT_LEAST_1,
                "n_encoder_layers": AT_LEAST_1,
                "n_decoder_layers": AT_LEAST_1,
                "d_ff": AT_LEAST_1,
                "dropout": FRACTION,
                "max_len": (3, 1 << 16, True, True),  # BOS, one token, EOS; the cap bounds position tables
                "positions": ANY,
                "pad_id": AT_LEAST_0,
            },
        )
        if self.positions not in ("learned", "sinusoidal"):
            raise ConfigError("positions", f"must be 'learned' or 'sinusoidal', not {self.positions!r}")
        if self.vocab_size and self.pad_id >= self.vocab_size:
            raise ConfigError("pad_id", f"({self.pad_id}) must be below vocab_size ({self.vocab_size})")
        if self.d_model % self.n_heads:
            raise ConfigError("d_model", f"({self.d_model}) must be divisible by n_heads ({self.n_heads})")


@dataclass(frozen=True)
class TrainConfig:
    model: ModelConfig = field(default_factory=ModelConfig)
    device: str = "cpu"  # "cpu", "cuda", "cuda:1", ...; under torchrun each rank takes its LOCAL_RANK GPU
    seed: int = 1234
    max_steps: int = 1600
    batch_tokens: int = 1024  # padded tokens per batch, max(source, target) width x rows
    max_batch_size: int = 128
    buffer_rows: int = 4096  # rows read and bucketed at a time: bounds memory, not the dataset
    # Peak learning rate of the one-cycle schedule.  QED 2->2 on CPU (random split, 900 steps
    # of 2048 tokens): 1e-3 left the model underfit, 2e-3 reached 0.57 sequence accuracy, 3e-3 0.26.
    lr: float = 2e-3
    warmup_steps: int = 30
    final_lr_ratio: float = 0.01  # lr at the last step, relative to the peak
    weight_decay: float = 0.01  # applied to matrices only
    beta1: float = 0.9
    beta2: float = 0.98
    grad_clip: float = 1.0
    label_smoothing: float = 0.0
    checkpoint_every: int = 100
    log_every: int = 20
    valid_every: int = 100  # 0: no validation loss
    valid_max_rows: int = 1000
    # torch CPU threads.  1, not 2: on a loaded 2-core machine two OpenMP threads ran
    # 15x slower (297 vs 4,586 tokens/s, benchmarks/model_throughput.py).
    num_threads: int = 1
    bf16: bool = True  # bf16 autocast; only ever on CUDA
    compile: bool = False  # torch.compile the model (GPU runs)

    def __post_init__(self):
        if not isinstance(self.model, ModelConfig):
            raise ConfigError("model", f"must be a mapping of model settings, not {self.model!r}")
        _check_fields(
            self,
            {
                "device": ANY,
                "seed": AT_LEAST_0,
                "max_steps": AT_LEAST_1,
                "batch_tokens": AT_LEAST_1,
                "max_batch_size": AT_LEAST_1,
                "buffer_rows": AT_LEAST_1,
                "lr": POSITIVE,
                "warmup_steps": AT_LEAST_0,
                "final_lr_ratio": UNIT,
                "weight_decay": AT_LEAST_0,
                "beta1": FRACTION,
                "beta2": FRACTION,
                "grad_clip": AT_LEAST_0,
                "label_smoothing": FRACTION,
                "checkpoint_every": AT_LEAST_1,
                "log_every": AT_LEAST_1,
                "valid_every": AT_LEAST_0,
                "valid_max_rows": AT_LEAST_1,
                "num_threads": AT_LEAST_1,
                "bf16": ANY,
                "compile": ANY,
            },
        )


@dataclass(frozen=True)
class EvalConfig:
    beam_size: int = 4
    length_penalty: float = 0.6  # GNMT alpha; 0 ranks by summed log-probability
    max_examples: int = 200  # cap on the number of test rows of each test side; 0: all
    numeric_points: int = 4  # random phase-space points per numeric check
    numeric_timeout_s: float = 20.0  # per check, in a worker process
    batch_size: int = 32
    max_output_len: int = 0  # 0: the model's max_len
    certainty_threshold: float = -0.05  # mean log-probability below which --fallback recomputes
    device: str = "cpu"
    num_threads: int = 1  # see TrainConfig.num_threads
    workers: int = 2  # numeric-check worker processes, running while the model decodes the next rows
    # decode each amplitude with its legs in canonical order, map the answer back (symba.physics.leg_relabelling)
    relabel_legs: bool = True
    # check each beam candidate's physics without the answer (symba.model.verify) and answer with
    # the first that passes; the top beam when none does
    verify: bool = True
    verify_points: int = 3  # random phase-space points of the verification

    def __post_init__(self):
        _check_fields(
            self,
            {
                "workers": (1, 64, True, True),
                "beam_size": AT_LEAST_1,
                "length_penalty": AT_LEAST_0,
                "max_examples": AT_LEAST_0,
                "numeric_points": AT_LEAST_1,
                "numeric_timeout_s": POSITIVE,
                "batch_size": AT_LEAST_1,
                "max_output_len": AT_LEAST_0,
                "certainty_threshold": ANY,
                "device": ANY,
                "num_threads": AT_LEAST_1,
                "relabel_legs": ANY,
                "verify": ANY,
                "verify_points": (1, 20, True, True),
            },
        )


def _override(obj, overrides: dict, where: str):
    if not isinstance(overrides, dict):
        raise ConfigError(where, f"must be a mapping, not {type(overrides).__name__}")
    known = {f.name: f for f in fields(obj)}
    changes = {}
    for key, value in overrides.items():
        name = f"{where}.{key}"
        if key not in known:
            raise ConfigError(name, f"is unknown; known keys: {', '.join(sorted(known))}")
        current = getattr(obj, key)
        if isinstance(current, ModelConfig):
            value = _override(current, value, name)
        elif isinstance(current, bool):
            if not isinstance(value, bool):
                raise ConfigError(name, f"must be true or false, not {value!r}")
        elif isinstance(current, (int, float)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(name, f"must be a number, not {value!r}")
            if type(current) is int:
                if not (isinstance(value, int) or (math.isfinite(value) and float(value).is_integer())):
                    raise ConfigError(name, f"must be an integer, not {value!r}")
                value = int(value)
            else:
                value = float(value)
        elif isinstance(current, str) and not isinstance(value, str):
            raise ConfigError(name, f"must be a string, not {value!r}")
        changes[key] = value
    try:
        return replace(obj, **changes)
    except ConfigError as exc:  # raised by __post_init__ with the bare field name
        raise ConfigError(f"{where}.{exc.key}", exc.problem) from None


def train_config(overrides: dict | None) -> TrainConfig:
    return _override(TrainConfig(), overrides or {}, "train")


def eval_config(overrides: dict | None) -> EvalConfig:
    return _override(EvalConfig(), overrides or {}, "evaluate")


def model_config_from_dict(d: dict) -> ModelConfig:
    return _override(ModelConfig(), d, "model")


def check_sections(train: dict | None, evaluate: dict | None) -> None:
    """Build the train and evaluate configs from their ``config.yaml`` sections, so that an
    unknown key or a bad value fails before any job runs (ConfigError, one line, naming the key)."""
    train_config(train)
    eval_config(evaluate)


def to_dict(cfg) -> dict:
    return asdict(cfg)
