"""Per-shard token lengths in every notation, kept row by row so a merge reproduces the whole report.

The tokenize stage fills a :class:`ShardLengths` from the squared amplitudes it parses
anyway and writes it beside its token shard; parsing is most of the cost of a length, so
the report over all shards is then a cheap merge (:func:`symba.tokenization.stats.merge_lengths`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from symba.files import atomic_write

from .amplitude_tokens import canonical_amplitude_tree, tokenize_amplitude_tree, tokenize_marty_amplitude
from .notations import NOTATIONS, tokenize

SIDES = ("amplitude", "squared")
FORMAT = 1  # bumped when the file's fields change


def pair_lengths(amplitude: str, expr, syntax: str, known: dict | None = None) -> dict[str, tuple[int, int]]:
    """(amplitude, squared) token counts per notation of one pair; ``expr`` is the parsed squared amplitude.

    ``known`` holds counts already computed for some notations (the tokenize stage's own).
    Raises ValueError when some notation cannot tokenize the pair.
    """
    known = known or {}
    missing = [n for n in NOTATIONS if n not in known]
    if syntax == "marty":  # MARTY lexemes are the same in every notation
        amplitude_tokens = dict.fromkeys(missing, len(tokenize_marty_amplitude(amplitude))) if missing else {}
    elif syntax == "symba":
        tree = canonical_amplitude_tree(amplitude) if missing else None
        amplitude_tokens = {n: len(tokenize_amplitude_tree(tree, n)) for n in missing}
    else:
        raise ValueError(f"unknown amplitude syntax {syntax!r}")
    counts = dict(known)
    for n in missing:
        counts[n] = (amplitude_tokens[n], len(tokenize(expr, n)))
    return {n: counts[n] for n in NOTATIONS}


@dataclass
class ShardLengths:
    """Token lengths per (notation, side), multiplicity and (split, group) of the usable unique pairs of one
    shard, in row order, and the pairs left out as too long by their characters alone."""

    max_tokens: int = 0
    lengths: dict = field(default_factory=lambda: {n: {s: [] for s in SIDES} for n in NOTATIONS})
    multiplicities: list = field(default_factory=list)
    splits: list = field(default_factory=list)
    too_long: int = 0

    def add(self, per_notation: dict[str, tuple[int, int]], multiplicity, split=None, group=None) -> None:
        for n, (amplitude, squared) in per_notation.items():
            self.lengths[n]["amplitude"].append(amplitude)
            self.lengths[n]["squared"].append(squared)
        self.multiplicities.append(multiplicity)
        if split is not None:
            self.splits.append((split, group))

    def write(self, path) -> None:
        data = {
            "format": FORMAT,
            "max_tokens": self.max_tokens,
            "too_long": self.too_long,
            "multiplicities": self.multiplicities,
            "splits": [list(pair) for pair in self.splits],
            "lengths": self.lengths,
        }
        atomic_write(path, json.dumps(data, separators=(",", ":")) + "\n")

    @classmethod
    def read(cls, path) -> ShardLengths:
        """A file written by :meth:`write`; a file of another shape is one ValueError naming it."""
        try:
            with open(path) as f:
                data = json.load(f)
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
            lengths = {n: {s: [int(x) for x in data["lengths"][n][s]] for s in SIDES} for n in NOTATIONS}
            record = cls(
                max_tokens=int(data["max_tokens"]),
                lengths=lengths,
                multiplicities=list(data["multiplicities"]),
                splits=[(side, group) for side, group in data["splits"]],
                too_long=int(data["too_long"]),
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}: not a shard length file ({exc})") from None
        sizes = {len(v) for sides in lengths.values() for v in sides.values()}
        if sizes != {len(record.multiplicities)}:
            raise ValueError(f"{path}: not a shard length file (columns of different lengths)")
        return record
