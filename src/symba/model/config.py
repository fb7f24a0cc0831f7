"""Configuration dataclasses of the model, training and evaluation.

The ``train:`` and ``evaluate:`` sections of ``config.yaml`` are dicts of overrides
of these defaults; an unknown key is a ValueError that names it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields, replace


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
        if self.positions not in ("learned", "sinusoidal"):
            raise ValueError(f"model.positions must be 'learned' or 'sinusoidal', not {self.positions!r}")
        if self.d_model % self.n_heads:
            raise ValueError(f"model.d_model ({self.d_model}) must be divisible by model.n_heads ({self.n_heads})")


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


@dataclass(frozen=True)
class EvalConfig:
    beam_size: int = 4
    length_penalty: float = 0.6  # GNMT alpha; 0 ranks by summed log-probability
    max_examples: int = 200  # cap on the number of test rows; 0: all
    numeric_points: int = 4  # random phase-space points per numeric check
    numeric_timeout_s: float = 20.0  # per check, in a worker process
    batch_size: int = 32
    max_output_len: int = 0  # 0: the model's max_len
    certainty_threshold: float = -0.05  # mean log-probability below which --fallback recomputes
    device: str = "cpu"
    num_threads: int = 1  # see TrainConfig.num_threads


def _override(obj, overrides: dict, where: str):
    if not isinstance(overrides, dict):
        raise ValueError(f"{where or 'config'} must be a mapping, not {type(overrides).__name__}")
    known = {f.name: f for f in fields(obj)}
    changes = {}
    for key, value in overrides.items():
        name = f"{where}.{key}" if where else key
        if key not in known:
            raise ValueError(f"unknown config key {name!r}; known: {', '.join(sorted(known))}")
        current = getattr(obj, key)
        if isinstance(current, ModelConfig):
            value = _override(current, value, name)
        elif isinstance(current, bool):
            if not isinstance(value, bool):
                raise ValueError(f"config key {name!r} must be true or false, not {value!r}")
        elif isinstance(current, (int, float)) and not isinstance(current, bool):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"config key {name!r} must be a number, not {value!r}")
            if type(current) is int and not float(value).is_integer():
                raise ValueError(f"config key {name!r} must be an integer, not {value!r}")
            value = type(current)(value)
        elif isinstance(current, str) and not isinstance(value, str):
            raise ValueError(f"config key {name!r} must be a string, not {value!r}")
        changes[key] = value
    return replace(obj, **changes)


def train_config(overrides: dict | None) -> TrainConfig:
    return _override(TrainConfig(), overrides or {}, "train")


def eval_config(overrides: dict | None) -> EvalConfig:
    return _override(EvalConfig(), overrides or {}, "evaluate")


def model_config_from_dict(d: dict) -> ModelConfig:
    return _override(ModelConfig(), d, "model")


def to_dict(cfg) -> dict:
    return asdict(cfg)
