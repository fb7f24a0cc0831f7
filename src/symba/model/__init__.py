"""Sequence-to-sequence transformer: amplitude tokens in, squared-amplitude tokens out.

Submodules import torch; this package file does not, so light helpers (numeric checks
in worker processes) stay cheap to import.
"""
