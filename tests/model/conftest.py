"""Fixtures of the model tests (data helpers live in model_test_data.py)."""

import pytest
import torch

from symba.tokenization.vocab import write_vocabulary

from .model_test_data import NOTATION


@pytest.fixture(autouse=True)
def _one_thread():
    # Tiny matrices: a second thread only adds synchronisation, and on a loaded
    # machine OpenMP spin-waits make it 10-100x slower.
    torch.set_num_threads(1)


@pytest.fixture
def vocab_path(tmp_path):
    path = tmp_path / "vocab.json"
    write_vocabulary(path, NOTATION)
    return str(path)
