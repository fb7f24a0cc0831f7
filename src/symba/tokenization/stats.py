"""Sequence-length statistics of the three notations, and one comparison figure."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from symba.figures import pyplot
from symba.files import atomic_write

from .amplitude_tokens import amplitude_syntax_of
from .lengths import SIDES, ShardLengths, pair_lengths
from .notations import NOTATIONS, parse_squared
from .splits import SIDES_OF_SPLIT
from .token_shards import SKIPPED_STATUSES, surely_over_max_tokens

LENGTH_LIMIT = 350  # the seed's anchor: share of pairs with both sides under 350 tokens


def _summary(lengths: list[int]) -> dict:
    if not lengths:
        return {"n": 0}
    a = np.asarray(lengths)
    return {
        "n": int(a.size),
        "median": float(np.median(a)),
        "p95": float(np.percentile(a, 95)),
        "mean": float(a.mean()),
        "max": int(a.max()),
    }


def _column_or_none(path, name: str, n: int):
    """A column of a tokenized shard, or nulls for a dataset shard without it."""
    if name in pq.read_schema(path).names:
        return pq.read_table(path, columns=[name], page_checksum_verification=True).column(name)
    return pa.nulls(n, pa.string())


def shard_lengths(path, max_tokens: int = 0) -> ShardLengths:
    """Token lengths per (notation, side), multiplicities and (split, group) of the usable unique pairs of one
    shard, and the number of pairs too long to tokenize under ``max_tokens`` (left out of the lengths).

    The tokenize stage records the same for the rows it tokenizes (``tokenize_rows(lengths=...)``).
    """
    table = pq.read_table(
        path, columns=["multiplicity", "amplitude", "squared", "status", "backend"], page_checksum_verification=True
    )
    table = table.append_column("split", _column_or_none(path, "split", table.num_rows))
    table = table.append_column("group", _column_or_none(path, "group", table.num_rows))
    record = ShardLengths(max_tokens=max_tokens)
    seen = set()
    for row in table.to_pylist():
        if row["status"] in SKIPPED_STATUSES:
            continue
        pair = (row["amplitude"] or "", row["squared"] or "")
        if pair in seen:
            continue
        seen.add(pair)
        if any(surely_over_max_tokens(text, max_tokens) for text in pair):
            record.too_long += 1
            continue
        try:
            per_notation = pair_lengths(pair[0], parse_squared(pair[1]), amplitude_syntax_of(row["backend"]))
        except ValueError:
            continue  # counted as untokenizable by tokenize_shard; lengths only describe usable rows
        record.add(per_notation, row["multiplicity"], row["split"], row["group"])
    return record


def length_report(shard_paths, json_out, png_out, max_tokens: int = 0) -> dict:
    """Median and p95 lengths per notation and side over shards read one at a time; JSON plus one PNG.

    Dataset shards and tokenized shards both work; for tokenized shards the
    JSON also counts rows and groups per split side and lists empty sides
    (a template split with few templates can leave one empty).

    With ``max_tokens`` > 0 each notation counts, per side, the pairs longer than
    the cap (``dropped_over_max_tokens``; ``pairs``: either side), which the
    tokenize stage leaves out of the token shards for its notation.
    """
    return merge_lengths((shard_lengths(path, max_tokens) for path in shard_paths), json_out, png_out, max_tokens)


def length_report_from_files(length_paths, json_out, png_out, max_tokens: int = 0) -> dict:
    """:func:`length_report` from the per-shard length files the tokenize stage writes beside its shards."""
    return merge_lengths((ShardLengths.read(path) for path in length_paths), json_out, png_out, max_tokens)


def merge_lengths(records, json_out, png_out, max_tokens: int = 0) -> dict:
    """The report of :func:`length_report` from per-shard :class:`ShardLengths`, taken in shard order."""
    lengths = {n: {s: [] for s in SIDES} for n in NOTATIONS}
    multiplicities: list[str] = []
    rows_per_side: Counter = Counter()
    groups_per_side: dict[str, set] = defaultdict(set)
    too_long = 0  # pairs over the cap in every notation, by their length in characters alone
    for shard in records:
        if shard.max_tokens != max_tokens:
            raise ValueError(f"shard lengths were recorded with max_tokens {shard.max_tokens}, not {max_tokens}")
        too_long += shard.too_long
        for n in NOTATIONS:
            for s in SIDES:
                lengths[n][s].extend(shard.lengths[n][s])
        multiplicities.extend(shard.multiplicities)
        for side, group in shard.splits:
            rows_per_side[side] += 1
            groups_per_side[side].add(group)
    report: dict = {"notations": {}, "by_multiplicity": {}, "length_limit": LENGTH_LIMIT, "max_tokens": max_tokens}
    for n in NOTATIONS:
        amp, sq = np.asarray(lengths[n]["amplitude"]), np.asarray(lengths[n]["squared"])
        entry = {s: _summary(lengths[n][s]) for s in SIDES}
        entry["pairs_under_limit"] = float(np.mean((amp < LENGTH_LIMIT) & (sq < LENGTH_LIMIT))) if amp.size else None
        if max_tokens:
            entry["dropped_over_max_tokens"] = {
                "amplitude": int(np.sum(amp > max_tokens)),
                "squared": int(np.sum(sq > max_tokens)),
                "pairs": int(np.sum((amp > max_tokens) | (sq > max_tokens))) + too_long,
                "pairs_over_by_characters": too_long,
            }
        else:
            entry["dropped_over_max_tokens"] = {"amplitude": 0, "squared": 0, "pairs": 0}
        report["notations"][n] = entry
    groups = defaultdict(list)
    for k, m in enumerate(multiplicities):
        groups[m].append(k)
    for m, idx in sorted(groups.items()):
        report["by_multiplicity"][m] = {
            n: {s: _summary([lengths[n][s][k] for k in idx]) for s in SIDES} for n in NOTATIONS
        }
    if rows_per_side:  # tokenized shards: is every side of the split populated?
        # only the template split writes test_orderings / test_templates
        kind = "template" if rows_per_side.get("test_orderings") or rows_per_side.get("test_templates") else "random"
        sides = SIDES_OF_SPLIT[kind]
        report["split"] = {
            "rows_per_side": {side: rows_per_side.get(side, 0) for side in sides},
            "groups_per_side": {side: len(groups_per_side[side]) for side in sides},
            "empty_sides": [side for side in sides if not rows_per_side.get(side)],
        }
    sq_prefix = report["notations"]["prefix"]["squared"].get("median")
    sq_short = report["notations"]["hybrid-short"]["squared"].get("median")
    report["squared_median_ratio_prefix_over_hybrid_short"] = (sq_prefix / sq_short) if sq_prefix and sq_short else None
    _write_json(report, json_out)
    plot_lengths(lengths, png_out)
    return report


def _write_json(data: dict, path) -> None:
    atomic_write(path, json.dumps(data, indent=1) + "\n")


def plot_lengths(lengths: dict, png_out) -> None:
    """Histograms of prefix / hybrid / hybrid-short lengths, one panel per side, medians marked."""
    plt = pyplot()
    colours = {"prefix": "tab:red", "hybrid": "tab:blue", "hybrid-short": "tab:green"}
    all_lengths = [x for n in NOTATIONS for s in SIDES for x in lengths[n][s]]
    top = max(all_lengths, default=1)
    width = max(1, int(np.ceil((top + 1) / 60)))  # whole tokens per bin: no empty comb teeth
    bins = np.arange(0, top + width + 1, width)
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharex=True, sharey=True)
    for ax, side in zip(axes, SIDES):
        for n in NOTATIONS:
            data = lengths[n][side]
            if not data:
                continue
            median = float(np.median(data))
            ax.hist(data, bins=bins, histtype="step", linewidth=1.8, color=colours[n], label=f"{n} (median {median:g})")
            ax.axvline(median, color=colours[n], linestyle="--", linewidth=1.2)
        ax.set_title(f"{side} ({len(lengths[NOTATIONS[0]][side])} unique pairs)", fontsize=12)
        ax.set_xlabel("sequence length (tokens)", fontsize=11)
        ax.legend(fontsize=10)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("number of expressions", fontsize=11)
    fig.suptitle("Token sequence lengths by notation (dashed: medians)", fontsize=13)
    fig.tight_layout()
    atomic_write(png_out, lambda tmp: fig.savefig(tmp, dpi=120, format="png"))
    plt.close(fig)
