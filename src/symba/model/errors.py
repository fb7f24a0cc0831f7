"""The model stage's own input errors: what the CLI reports as one line with exit code 2.

Anything else raised below ``symba train/evaluate/predict`` is a bug and keeps its traceback.
"""

from __future__ import annotations


class ModelInputError(ValueError):
    """Bad input from the user: a config value, a file, an amplitude, an option."""


class ConfigError(ModelInputError):
    """A ``train:``/``evaluate:``/model config value that is unknown, mistyped or out of range."""

    def __init__(self, key: str, problem: str):
        self.key, self.problem = key, problem
        super().__init__(f"config key {key!r} {problem}")


class ModelFileError(ModelInputError):
    """A model or checkpoint file that is missing, damaged, or holds more than tensors and plain data."""


class ShardError(ModelInputError):
    """A token shard that cannot be read or does not fit the vocabulary."""
