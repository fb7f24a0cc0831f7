"""One engine call per process for the whole test session (engine calls run FORM)."""

from functools import lru_cache

from symba.physics.engine import compute_process


@lru_cache(maxsize=None)
def engine_result(text: str, theory: str):
    return compute_process(text, theory)
