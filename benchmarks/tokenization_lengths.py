"""Sequence lengths per notation (median, p95) and tokenization throughput.

Run by hand, e.g.::

    python benchmarks/tokenization_lengths.py --theory qed --multiplicity 2->2 --simplify factor
    python benchmarks/tokenization_lengths.py --theory qed --multiplicity 2->3 --every 10 --simplify factor
    python benchmarks/tokenization_lengths.py --shards results/default/dataset/qed/*.parquet

Without ``--shards`` the expressions come from the builtin engine.  With
``--json``/``--png`` it also writes the length report of ``symba.tokenization.stats``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from symba.dataset_schema import SCHEMA
from symba.tokenization.amplitude_tokens import tokenize_amplitude
from symba.tokenization.notations import NOTATIONS, parse_squared, tokenize
from symba.tokenization.stats import LENGTH_LIMIT, length_report


def engine_rows(
    theory: str, multiplicity: str, max_processes: int | None, timeout: float, every: int = 1
) -> list[dict]:
    from symba.physics.engine import ENGINE_VERSION, compute_process
    from symba.physics.process import enumerate_processes

    processes = enumerate_processes(theory, (multiplicity,))[::every][: max_processes or None]
    rows = []
    for k, proc in enumerate(processes):
        try:
            result = compute_process(proc, theory=theory, timeout=timeout)
        except Exception as exc:  # a benchmark reports what it could not compute and goes on
            print(f"  skipped {proc}: {exc}", file=sys.stderr)
            continue
        for d in result.diagrams:
            rows.append(
                _row(str(proc), theory, multiplicity, d.index, d.amplitude, d.squared_amplitude, ENGINE_VERSION)
            )
        print(f"  [{k + 1}/{len(processes)}] {proc}: {len(result.diagrams)} diagram(s)", file=sys.stderr)
    return rows


def _row(process, theory, multiplicity, diagram, amplitude, squared, version):
    return dict(
        process=process, theory=theory, multiplicity=multiplicity, diagram=diagram, amplitude=amplitude,
        squared_raw=squared, squared=squared, status="ok", backend="builtin", engine_version=version,
    )  # fmt: skip


def shard_rows(paths) -> list[dict]:
    rows = []
    for p in paths:
        rows += pq.read_table(p, columns=SCHEMA.names).to_pylist()
    return rows


def simplify_rows(rows: list[dict], method: str) -> list[dict]:
    """As the workflow's simplify rule does (``factor`` on FLINT), without its timeout."""
    from symba.simplify.simplifier import simplify_text

    done = {}
    for r in rows:
        if r["squared"] not in done:
            done[r["squared"]] = simplify_text(r["squared"], method)
        r["squared"] = done[r["squared"]]
    return rows


def measure(rows: list[dict], max_chars: int = 0) -> None:
    """``max_chars`` > 0: longer squared texts are not parsed (SymPy takes seconds per 100 kB) but
    counted as over the limit (a token is at most a few characters, so they are far over it)."""
    pairs = list(dict.fromkeys((r["amplitude"], r["squared"]) for r in rows if r["status"] in ("ok", "raw")))
    n_long = sum(len(sq) > max_chars for _, sq in pairs) if max_chars else 0
    if n_long:
        pairs = [(a, sq) for a, sq in pairs if len(sq) <= max_chars]
    print(f"{len(pairs) + n_long} unique (amplitude, squared) pairs, {n_long} of them over {max_chars} characters")
    t0 = time.perf_counter()
    exprs = [parse_squared(sq) for _, sq in pairs]
    parse_s = time.perf_counter() - t0
    lengths = {}
    for n in NOTATIONS:
        t0 = time.perf_counter()
        sq = [len(tokenize(e, n)) for e in exprs]
        sq_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        amp = [len(tokenize_amplitude(a, n)) for a, _ in pairs]
        amp_s = time.perf_counter() - t0
        lengths[n] = (np.array(amp), np.array(sq))
        under = np.sum((lengths[n][0] < LENGTH_LIMIT) & (lengths[n][1] < LENGTH_LIMIT)) / (len(pairs) + n_long)
        print(
            f"{n:>13}: squared median (parsed pairs) {np.median(sq):7.1f} p95 {np.percentile(sq, 95):7.1f} | "
            f"amplitude median {np.median(amp):6.1f} p95 {np.percentile(amp, 95):6.1f} | "
            f"pairs < {LENGTH_LIMIT} on both sides {100 * under:5.1f}% | "
            f"{len(exprs) / sq_s:8.0f} squared/s (parsed), {len(pairs) / amp_s:6.0f} amplitudes/s"
        )
    print(f"parsing squared text with SymPy: {len(exprs) / parse_s:.0f} expressions/s")
    ratio = np.median(lengths["prefix"][1]) / np.median(lengths["hybrid-short"][1])
    print(f"squared median prefix / hybrid-short = {ratio:.2f} (goal >= 2)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shards", nargs="*", help="Parquet shards in symba.dataset_schema.SCHEMA (instead of the engine)")
    ap.add_argument("--theory", default="qed")
    ap.add_argument("--multiplicity", default="2->2")
    ap.add_argument("--max-processes", type=int, default=None)
    ap.add_argument(
        "--every", type=int, default=1, help="take every k-th process, or with --shards every k-th row (a sample)"
    )
    ap.add_argument("--timeout", type=float, default=120.0)
    ap.add_argument(
        "--simplify",
        choices=("none", "factor", "cancel"),
        default="none",
        help="simplify each squared amplitude first, as the workflow's simplify rule does",
    )
    ap.add_argument("--max-chars", type=int, default=0, help="count longer squared texts as over the limit, unparsed")
    ap.add_argument("--json", help="also write the length report JSON here")
    ap.add_argument("--png", help="also write the length comparison PNG here")
    args = ap.parse_args(argv)
    rows = (
        shard_rows(args.shards)[:: args.every]
        if args.shards
        else engine_rows(args.theory, args.multiplicity, args.max_processes, args.timeout, args.every)
    )
    if not rows:
        print("no rows", file=sys.stderr)
        return 1
    if args.simplify != "none":
        rows = simplify_rows(rows, args.simplify)
    measure(rows, args.max_chars)
    if args.json or args.png:
        with tempfile.TemporaryDirectory() as tmp:
            shard = Path(tmp) / "rows.parquet"
            pq.write_table(pa.table({n: [r[n] for r in rows] for n in SCHEMA.names}, schema=SCHEMA), shard)
            length_report([shard], args.json or Path(tmp) / "lengths.json", args.png or Path(tmp) / "lengths.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
