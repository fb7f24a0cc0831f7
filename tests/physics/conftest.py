"""Shared fixtures of the physics tests."""

from functools import lru_cache

import pytest

from symba.physics.engine import compute_process


@pytest.fixture(scope="session")
def engine_result():
    """compute_process, called once per process and theory for the whole session (it runs FORM)."""
    return lru_cache(maxsize=None)(compute_process)
