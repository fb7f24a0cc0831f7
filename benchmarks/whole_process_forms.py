"""Lengths of whole-process squares in four forms: raw, factored whole, grouped, one denominator.

Run by hand (prints a markdown table), e.g.::

    python benchmarks/whole_process_forms.py
    python benchmarks/whole_process_forms.py --every-23 40 --count-23 10 --every-33 500 --count-33 6

Forms of |sum_d M_d|^2 (the ``diagram == -1`` row):

- ``raw``: the engine's FORM text, bracketed over propagator denominators (``squared_raw``);
- ``factored``: FLINT's factor of the whole (the simplify stage before), through the simplify
  workers under ``--factor-timeout``, no retry;
- ``grouped``: :func:`symba.simplify.whole.grouped_factored_text`, the form the simplify stage
  now writes: each product of denominators with its numerator factored;
- ``common``: the expanded numerator over one common denominator (only for raw texts up to
  ``--max-common-chars``: it reaches a gigabyte for 3->3).

Tokens are counted in each notation for texts up to ``--max-token-chars`` (SymPy parses them);
longer texts are counted as over every limit.
"""

from __future__ import annotations

import argparse
import math
import sys
import time

from symba.physics.engine import compute_process
from symba.physics.process import enumerate_processes
from symba.simplify.flint import _Reader
from symba.simplify.simplifier import SimplifyOptions, simplify_expressions
from symba.simplify.whole import check_same_value, grouped_factored_text
from symba.tokenization.notations import NOTATIONS, parse_squared, tokenize

LIMITS = (256, 350, 512, 1024, 2000)
FORMS = ("raw", "factored", "grouped", "common")


def engine_texts(multiplicity: str, every: int, count: int, timeout: float) -> list[tuple[str, str]]:
    """(process, whole-process square) of every ``every``-th QED process, ``count`` of them."""
    out = []
    for proc in enumerate_processes("qed", [multiplicity])[::every][:count]:
        result = compute_process(proc, "qed", timeout=timeout)
        out.append((str(proc), result.squared_amplitude))
        print(f"  {multiplicity} {proc}: {len(result.diagrams)} diagrams, {len(result.squared_amplitude)} chars",
              file=sys.stderr)  # fmt: skip
    return out


def common_denominator_text(text: str) -> str:
    """The expanded numerator over the product of the irreducible denominators."""
    value = _Reader(text).read()
    den = "*".join(f"({f})^{k}" for f, k in value.den.values())
    return f"({value.num})/({den})" if den else str(value.num)


def token_counts(text: str | None, max_chars: int) -> dict[str, int | None]:
    if text is None or len(text) > max_chars:
        return dict.fromkeys(NOTATIONS)
    expr = parse_squared(text)
    return {n: len(tokenize(expr, n)) for n in NOTATIONS}


def percentile(values: list[float], q: float) -> float:
    """Nearest rank."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def spread(values: list[float]) -> str:
    """median / p95 / max; a value not counted (over --max-token-chars) is infinite and shows as ``over``."""
    if not values:
        return "-"
    shown = [percentile(values, 0.5), percentile(values, 0.95), max(values)]
    return " / ".join("over" if v == math.inf else f"{v:,}" for v in shown)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--every-23", type=int, default=40)
    parser.add_argument("--count-23", type=int, default=10)
    parser.add_argument("--every-33", type=int, default=500)
    parser.add_argument("--count-33", type=int, default=6)
    parser.add_argument("--engine-timeout", type=float, default=120)
    parser.add_argument("--factor-timeout", type=float, default=60)
    parser.add_argument("--factor-memory-mb", type=int, default=6000)
    parser.add_argument("--max-common-chars", type=int, default=40_000)
    parser.add_argument("--max-token-chars", type=int, default=4_000_000)
    args = parser.parse_args(argv)

    samples = {
        "2->3": engine_texts("2->3", args.every_23, args.count_23, args.engine_timeout),
        "3->3": engine_texts("3->3", args.every_33, args.count_33, args.engine_timeout),
    }
    print("| multiplicity | form | rows | chars median / p95 / max | notation | tokens median / p95 / max | "
          + " | ".join(f"<= {n}" for n in LIMITS) + " |")  # fmt: skip
    print("|---|---|---|---|---|---|" + "---|" * len(LIMITS))
    for multiplicity, rows in samples.items():
        raws = [text for _, text in rows]
        options = SimplifyOptions(timeout=args.factor_timeout, retries=0, memory_mb=args.factor_memory_mb)
        start = time.monotonic()
        factored, _ = simplify_expressions(raws, options)
        factor_s = time.monotonic() - start
        start = time.monotonic()
        grouped = [grouped_factored_text(text) for text in raws]
        group_s = time.monotonic() - start
        start = time.monotonic()
        for raw, form in zip(raws, grouped):
            check_same_value(raw, form)
        check_s = time.monotonic() - start
        texts = {
            "raw": raws,
            "factored": [o.text if o.status == "ok" else None for o in factored],
            "grouped": grouped,
            "common": [common_denominator_text(t) if len(t) <= args.max_common_chars else None for t in raws],
        }
        tokens = {form: [token_counts(t, args.max_token_chars) for t in texts[form]] for form in FORMS}
        for form in FORMS:
            done = [t for t in texts[form] if t is not None]
            chars = spread([len(t) for t in done])
            for notation in NOTATIONS:
                counts = [c[notation] for c, t in zip(tokens[form], texts[form]) if t is not None]
                fits = [sum(c is not None and c <= n for c in counts) for n in LIMITS]
                shown = spread([math.inf if c is None else c for c in counts])
                print(f"| {multiplicity} | {form} | {len(done)}/{len(rows)} | {chars} | {notation} | {shown} | "
                      + " | ".join(map(str, fits)) + " |")  # fmt: skip
        shorter = sum(
            (g["hybrid-short"] or math.inf) <= (r["hybrid-short"] or math.inf) and len(gt) <= len(rt)
            for g, r, gt, rt in zip(tokens["grouped"], tokens["raw"], grouped, raws)
        )
        print(f"<!-- {multiplicity}: grouped no longer than raw (chars and hybrid-short tokens) in {shorter}/{len(rows)} rows; "
              f"factored {factor_s:.1f} s ({sum(o.status == 'ok' for o in factored)} ok), grouped {group_s:.1f} s, "
              f"equality check {check_s:.1f} s; factored failures: "
              f"{sorted({o.message for o in factored if o.status != 'ok'})} -->")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
