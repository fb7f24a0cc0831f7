"""Tokenize one Parquet shard: dedupe, split, and add the token-id columns.

Memory is bounded by one shard: the vocabulary is closed and the split side of
a row depends only on its own group key, so no pass over the whole dataset is
needed.  Pairs duplicated across shards share a group key and therefore land
on the same side.

All orderings of a canonical row (``orderings: all``) share its group: the
group key is computed on the row mapped back to the canonical labelling of its
legs, so relabelled copies of one expression never straddle the split.
Rows longer than ``max_tokens`` (either side, > 0) are left out and counted.

Test rows also carry what evaluation decodes (``DECODE_COLUMNS``): their source and target
ids with the legs in the canonical order of :mod:`symba.physics.leg_relabelling`, and the permutation
that renames a prediction back, so evaluation neither parses processes nor tokenizes text.
``relabel_flavours`` renames fermion flavours to canonical ones there too (:mod:`symba.physics.flavours`);
``canonical_training`` writes the columns on every row, and training reads them.
"""

from __future__ import annotations

from collections import Counter

import pyarrow as pa
import sympy

from symba.dataset_schema import DECODE_COLUMNS, SCHEMA, TOKEN_COLUMNS, read_shard, write_table_atomic
from symba.physics.leg_relabelling import relabelling_for
from symba.physics.orderings import Relabelling, relabel_amplitude
from symba.physics.process import parse_process

from .amplitude_tokens import amplitude_syntax_of, tokenize_amplitude
from .lengths import ShardLengths, pair_lengths
from .notations import DEFAULT_NOTATION, check_notation, parse_squared, tokenize
from .splits import (
    DEFAULT_FRACTIONS,
    DEFAULT_SPLIT,
    SIDES_OF_SPLIT,
    TEST_SIDES,
    check_fractions,
    check_split_kind,
    group_id,
    process_key,
    random_key,
    side_of,
    template_key,
    template_side,
)
from .vocab import build_vocabulary

OUTPUT_SCHEMA = pa.schema(list(SCHEMA) + list(TOKEN_COLUMNS))
SKIPPED_STATUSES = ("error", "timeout")  # rows without a usable squared amplitude
MAX_REPORTED_ERRORS = 5


def _leg_masses(process: str, theory: str, cache: dict):
    if (process, theory) not in cache:
        try:
            parsed = parse_process(process, theory, check=False)
            cache[(process, theory)] = (parsed.leg_masses(), parsed.n_in)
        except ValueError:
            cache[(process, theory)] = (None, None)  # unknown legs: masses abstracted by name order, legs kept
    return cache[(process, theory)]


def _to_canonical(row) -> Relabelling | None:
    """The relabelling from a derived row's legs back to its canonical process's; None for a canonical row."""
    if not row.get("permutation"):
        return None
    relabelling = Relabelling.from_text(row["permutation"])
    return None if relabelling.is_identity else relabelling.inverse


def _canonical_labelling(expr: sympy.Expr, to_canonical: Relabelling) -> sympy.Expr:
    """``expr`` with its ``s_ij``/``p_i`` renamed from the ordered legs to the canonical ones."""
    renames = {}
    for sym in expr.free_symbols:
        name = to_canonical.rename(sym.name)
        if name != sym.name:
            renames[sym] = sympy.Symbol(name, **sym.assumptions0)
    return expr.xreplace(renames)


def _canonical_squared_text(squared: str, to_canonical: Relabelling) -> str:
    """The text of an ordered row's squared amplitude with its legs renamed back to the canonical ones."""
    try:
        return to_canonical.squared(squared)
    except ValueError:
        return squared  # not a relabelling: the row gets its own key


def _canonical_amplitude(amplitude: str, to_canonical: Relabelling | None, leg_masses) -> str:
    """The amplitude in the canonical labelling, printed as the relabelling prints it (also for canonical rows).

    Text outside our amplitude syntax (imported MARTY text, never relabelled) stays as it is.
    """
    if to_canonical is None:
        try:
            return relabel_amplitude(amplitude, tuple(range(1, len(leg_masses or ()) + 1)), leg_masses or ())
        except ValueError:
            return amplitude
    return to_canonical.amplitude(amplitude, leg_masses or ())


def decoding_columns(row: dict, vocab, notation: str, flavours: bool = False) -> dict:
    """``DECODE_COLUMNS`` of a row: its source and target ids with the legs in canonical order
    (no BOS/EOS) and the permutation from them back to the row's legs; all None when no
    relabelling applies (evaluation decodes the row as it is).  ``flavours``: fermion flavours
    renamed to canonical ones as well (:mod:`symba.physics.flavours`).

    The target is the row's squared amplitude renamed to canonical legs; the simplify stage
    guarantees the renamed text parses to the same SymPy expression as the canonical row's, so
    these are that row's very tokens."""
    none = dict.fromkeys(DECODE_COLUMNS.names)
    amplitude, squared = row.get("amplitude"), row.get("squared")
    if not amplitude or not squared:
        return none
    relabelling = relabelling_for(amplitude, row.get("process"), row.get("theory"), flavours)
    if relabelling is None:
        return none
    try:
        source = vocab.encode(list(tokenize_amplitude(relabelling.canonical_amplitude(amplitude), notation)))
        expr = parse_squared(relabelling.squared_to_canonical(squared))  # trusted dataset text
        target = vocab.encode(list(tokenize(expr, notation)))
    except (ValueError, KeyError, IndexError, ArithmeticError, TypeError):  # no token form: decode as it is
        return none
    return {
        "decode_amplitude_ids": source,
        "decode_squared_ids": target,
        "decode_permutation": relabelling.decode_text,
    }


# No token stands for more than this many printed characters (the longest, such as `m_tau^2*s_12`,
# plus its operator), so longer text cannot fit the cap: megabyte whole-process squares are counted
# as over the cap without parsing them (tens of seconds each).
MAX_CHARS_PER_TOKEN = 64


def surely_over_max_tokens(text: str, max_tokens: int) -> bool:
    """True when ``text`` is too long to fit in ``max_tokens`` tokens of any notation (0 = no cap)."""
    return (
        bool(max_tokens)
        and len(text) > MAX_CHARS_PER_TOKEN * max_tokens
        and (len(text) - text.count(" ") > MAX_CHARS_PER_TOKEN * max_tokens)
    )


def tokenize_rows(
    rows,
    notation=DEFAULT_NOTATION,
    split=DEFAULT_SPLIT,
    fractions=DEFAULT_FRACTIONS,
    seed=0,
    max_tokens: int = 0,
    relabel_flavours: bool = False,
    canonical_training: bool = False,
    lengths: ShardLengths | None = None,
):
    """Rows (dicts in SCHEMA) -> (rows with TOKEN_COLUMNS added, stats). Dedupes within ``rows``.

    ``max_tokens`` > 0 leaves out rows with a longer amplitude or squared amplitude
    (counted in ``skipped["over_max_tokens"]``).  Test rows carry ``DECODE_COLUMNS``
    (``relabel_flavours``: canonical flavours too); with ``canonical_training`` every row does,
    and training reads them: the model learns canonical pairs only.  ``lengths`` (made with the
    same ``max_tokens``) collects every usable pair's length in all notations, as the length
    report counts them, from the squared amplitude parsed here once.
    """
    if max_tokens < 0:
        raise ValueError(f"max_tokens must be >= 0 (0 = no cap), got {max_tokens}")
    check_notation(notation)
    check_split_kind(split)
    fractions = check_fractions(fractions)
    vocab = build_vocabulary(notation)
    seen: set[tuple[str, str]] = set()
    legs_cache: dict = {}
    templates: dict = {}
    skipped: Counter = Counter()
    errors: list[str] = []
    out = []
    rows_in = 0
    for row in rows:
        rows_in += 1
        if row.get("status") in SKIPPED_STATUSES:
            skipped[f"status {row['status']}"] += 1
            continue
        amplitude, squared = row.get("amplitude") or "", row.get("squared") or ""
        pair = (amplitude, squared)
        if pair in seen:
            skipped["duplicate"] += 1
            continue
        seen.add(pair)
        if surely_over_max_tokens(amplitude, max_tokens) or surely_over_max_tokens(squared, max_tokens):
            skipped["over_max_tokens"] += 1
            if lengths is not None:
                lengths.too_long += 1
            continue
        try:
            expr = parse_squared(squared)
            squared_tokens = tokenize(expr, notation)
            amplitude_tokens = tokenize_amplitude(amplitude, notation, amplitude_syntax_of(row.get("backend", "")))
        except ValueError as exc:
            skipped["untokenizable"] += 1
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append(f"{row.get('process')} diagram {row.get('diagram')}: {exc}")
            continue
        if lengths is not None:
            _record_lengths(lengths, row, expr, {notation: (len(amplitude_tokens), len(squared_tokens))})
        if max_tokens and max(len(amplitude_tokens), len(squared_tokens)) > max_tokens:
            skipped["over_max_tokens"] += 1
            continue
        try:
            to_canonical = _to_canonical(row)
        except ValueError as exc:
            skipped["untokenizable"] += 1
            if len(errors) < MAX_REPORTED_ERRORS:
                errors.append(f"{row.get('process')} diagram {row.get('diagram')}: {exc}")
            continue
        if split == "template":
            # The template ignores flavours and leg order, so every ordering of a process shares it; the
            # ordered process decides train or test_orderings within the training templates.
            # Every ordering of a canonical row is a relabelling within each side, which the template key
            # minimises over: compute it once per canonical text (a dozen relabellings of a square each).
            template_of = (
                row.get("theory"),
                row.get("canonical_process") or row.get("process"),
                squared if to_canonical is None else _canonical_squared_text(squared, to_canonical),
            )
            if template_of not in templates:
                leg_masses, n_in = _leg_masses(row.get("process", ""), row.get("theory", "qed"), legs_cache)
                templates[template_of] = group_id(template_key(expr, leg_masses, row.get("theory", ""), n_in), seed)
            group = templates[template_of]
            side = template_side(
                group, group_id(process_key(row.get("process") or "", row.get("theory") or ""), seed), fractions
            )
        else:  # the pair of the canonical row, in printed forms that every ordering of it maps back to
            canonical_process = row.get("canonical_process") or row.get("process", "")
            legs, _ = _leg_masses(canonical_process, row.get("theory", "qed"), legs_cache)
            key_expr = expr if to_canonical is None else _canonical_labelling(expr, to_canonical)
            group = group_id(
                random_key(_canonical_amplitude(amplitude, to_canonical, legs), sympy.sstr(key_expr)), seed
            )
            side = side_of(group, fractions)
        new = dict(row)
        new.update(
            split=side,
            group=group,
            amplitude_ids=vocab.encode(amplitude_tokens),
            squared_ids=vocab.encode(squared_tokens),
        )
        # evaluation decodes test rows; training reads the other rows' only with canonical_training
        decoded = side in TEST_SIDES or canonical_training
        new.update(
            decoding_columns(row, vocab, notation, relabel_flavours) if decoded else dict.fromkeys(DECODE_COLUMNS.names)
        )
        out.append(new)
    rows_per_side = Counter(r["split"] for r in out)
    groups_per_side = {s: len({r["group"] for r in out if r["split"] == s}) for s in SIDES_OF_SPLIT[split]}
    stats = {
        "notation": notation,
        "split": split,
        "fractions": list(fractions),
        "seed": seed,
        "rows_in": rows_in,
        "rows_out": len(out),
        "skipped": dict(skipped),
        "errors": errors,
        "rows_per_side": {s: rows_per_side.get(s, 0) for s in SIDES_OF_SPLIT[split]},
        "groups_per_side": groups_per_side,
        "max_amplitude_tokens": max((len(r["amplitude_ids"]) for r in out), default=0),
        "max_squared_tokens": max((len(r["squared_ids"]) for r in out), default=0),
        "max_tokens": max_tokens,
        "vocabulary_size": len(vocab),
    }
    return out, stats


def _record_lengths(lengths: ShardLengths, row: dict, expr, known: dict) -> None:
    try:
        per_notation = pair_lengths(
            row.get("amplitude") or "", expr, amplitude_syntax_of(row.get("backend", "")), known
        )
    except ValueError:
        return  # some notation cannot tokenize it: the length report leaves the pair out
    lengths.add(per_notation, row.get("multiplicity"), row.get("split"), row.get("group"))


def tokenize_shard(
    in_path,
    out_path,
    notation: str = DEFAULT_NOTATION,
    split: str = DEFAULT_SPLIT,
    fractions=DEFAULT_FRACTIONS,
    seed: int = 0,
    max_tokens: int = 0,
    relabel_flavours: bool = False,
    canonical_training: bool = False,
    lengths_out=None,
) -> dict:
    """Read a shard in ``symba.dataset_schema.SCHEMA``, add ``TOKEN_COLUMNS``, write it atomically; return stats.

    ``lengths_out``: also write the shard's lengths in every notation there (:mod:`.lengths`).
    """
    rows = read_shard(in_path).to_pylist()  # checksums verified; a damaged shard is one line naming it
    lengths = ShardLengths(max_tokens=max_tokens) if lengths_out is not None else None
    out, stats = tokenize_rows(
        rows, notation, split, fractions, seed, max_tokens, relabel_flavours, canonical_training, lengths
    )
    columns = {name: [r[name] for r in out] for name in OUTPUT_SCHEMA.names}
    write_table_atomic(pa.table(columns, schema=OUTPUT_SCHEMA), out_path)
    if lengths is not None:
        lengths.write(lengths_out)
    return stats
