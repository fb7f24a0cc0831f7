"""The simplification stage: squared amplitudes rewritten by SymPy under a timeout, per shard.

``expressions`` holds the timeout-guarded, deduplicated, cached simplifier; ``worker`` is the
process it runs in; ``shards`` applies it to a dataset shard.
"""

from symba.simplify.shards import simplify_shard, simplify_table
from symba.simplify.simplifier import (
    METHODS,
    Outcome,
    SimplifyOptions,
    SimplifyStats,
    simplify_expressions,
    simplify_text,
)

__all__ = [
    "METHODS",
    "Outcome",
    "SimplifyOptions",
    "SimplifyStats",
    "simplify_expressions",
    "simplify_shard",
    "simplify_table",
    "simplify_text",
]
