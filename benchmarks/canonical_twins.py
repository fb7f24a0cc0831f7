"""How many test rows have their canonical pair (legs and flavours) among the training rows.

    python benchmarks/canonical_twins.py results/marty-qcd qcd

Reads a run's token shards; checks that each canonical amplitude has one canonical square
(the renaming is consistent) and that renaming back gives each row's own square."""

from __future__ import annotations

import collections
import glob
import sys

import pyarrow.parquet as pq

from symba.physics.leg_relabelling import relabelling_of_process
from symba.tokenization.notations import parse_squared


def main(run: str, theory: str) -> None:
    rows = []
    for path in sorted(glob.glob(f"{run}/tokens/{theory}/*.parquet")):
        rows += pq.read_table(path, columns=["process", "theory", "amplitude", "squared", "split"]).to_pylist()
    squares = collections.defaultdict(set)
    canonical = []
    for r in rows:
        relabelling = relabelling_of_process(r["process"], r["theory"], flavours=True)
        if relabelling is None:
            continue
        amplitude = relabelling.canonical_amplitude(r["amplitude"])
        squared = parse_squared(relabelling.squared_to_canonical(r["squared"]))
        back = relabelling.squared_from_canonical(relabelling.squared_to_canonical(r["squared"]))
        assert parse_squared(back) == parse_squared(r["squared"]), r["process"]
        squares[amplitude].add(squared)
        canonical.append((amplitude, squared, r["split"]))
    inconsistent = sum(len(s) > 1 for s in squares.values())
    print(f"rows {len(rows)}, canonical amplitudes {len(squares)}, with more than one square {inconsistent}")
    train = {(a, s) for a, s, side in canonical if side == "train"}
    for side in ("valid", "test", "test_orderings", "test_templates"):
        of_side = [(a, s) for a, s, split in canonical if split == side]
        if of_side:
            print(
                f"{side}: {len(of_side)} rows, canonical pair among training rows: {sum(p in train for p in of_side)}"
            )


if __name__ == "__main__":
    main(*sys.argv[1:3])
