"""Simplify once per class of expressions that differ only by a relabelling of the legs.

With ``orderings: all`` every ordering of a process repeats the squared amplitudes
of its canonical process with ``s_ij`` renamed; identical particles (``e- e- ->
e- e-``, ``... -> a a``) make even one process hold relabelled copies (t and u
channels).  Each expression is mapped to a class representative: among the
relabellings that take the row's legs onto its canonical process (the row's
``permutation`` composed with every exchange of identical particles there), the
lexicographically smallest text.  The representative is simplified (and cached
under its own text, so reruns and other orderings hit it) and the result is
mapped back by renaming.  The mapped text parses to the same SymPy expression
(hence the same tokens) as simplifying the row directly; for ``factor``,
:func:`reprint_factored` also gives the very text of the direct result
(renaming variables maps irreducible factors to irreducible factors).

Expressions that differ only by which mass symbol stands where (``e- e+ -> mu- mu+``
and ``e- e+ -> ta- ta+``: ``m_mu`` for ``m_tau``) share a class too: the masses a
row holds are renamed onto the first ones of ``ALL_MASSES``, in the order of how
often each occurs in the text (an order no renaming changes; ties are tried both
ways).  Only mass symbols are renamed, never couplings or numbers (charges), and
always as a bijection, so this is exact for every method: simplification
commutes with renaming independent variables.  Rows whose expressions are not
renamings of each other (a quark's charge factor, a different number of masses)
simply stay in different classes.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction

from symba.physics.orderings import NAME_RE, OrderingError, parse_permutation, rename_leg_symbol
from symba.physics.symbols import ALL_MASSES, MASS_SYMBOL_RE, SYMBOL_NAME_PATTERN
from symba.simplify.flint import FactorSyntaxError, canonical_factored_text, sum_polynomial

MAX_EXCHANGES = 48  # exchanges of identical particles tried per process (3 photons: 6)
MAX_RELABELLINGS = 96  # (exchanges) x (orders of equally frequent masses) tried per row

LegMap = dict[int, int]  # leg as written -> leg in the representative
MassMap = dict[str, str]  # mass symbol as written -> mass symbol in the representative


@dataclass(frozen=True)
class Relabelling:
    """Row -> representative: legs renamed by ``legs``, mass symbols by ``masses`` (both bijections)."""

    legs: LegMap = field(default_factory=dict)
    masses: MassMap = field(default_factory=dict)

    def is_identity(self) -> bool:
        return all(k == v for k, v in self.legs.items()) and all(k == v for k, v in self.masses.items())

    def inverse(self) -> Relabelling:
        return Relabelling({v: k for k, v in self.legs.items()}, {v: k for k, v in self.masses.items()})


def rename_legs(text: str, legs: LegMap, masses: MassMap | None = None) -> str:
    """``text`` with every ``p_i`` and ``s_ij`` renamed by ``legs`` (``s_ij`` keeps i < j) and
    every mass symbol by ``masses``, all in one pass (so swaps are simultaneous)."""
    if not masses:
        return NAME_RE.sub(lambda m: rename_leg_symbol(m.group(0), legs), text)
    if not legs:
        return NAME_RE.sub(lambda m: masses.get(m.group(0), m.group(0)), text)
    return NAME_RE.sub(lambda m: masses.get(m.group(0)) or rename_leg_symbol(m.group(0), legs), text)


_KNOWN_MASSES = frozenset(ALL_MASSES)


def mass_maps(text: str) -> list[MassMap]:
    """Bijections from the mass symbols in ``text`` onto the first ones of ``ALL_MASSES``.

    The masses are ranked by how often each occurs (unchanged by any renaming), so only
    equally frequent ones are tried in every order; [{}] when there is no mass.
    """
    counts: dict[str, int] = {}
    for name in NAME_RE.findall(text):
        if name in _KNOWN_MASSES:
            counts[name] = counts.get(name, 0) + 1
    if not counts:
        return [{}]
    ties: dict[int, list[str]] = {}
    for name, n in counts.items():
        ties.setdefault(n, []).append(name)
    groups = [sorted(ties[n]) for n in sorted(ties, reverse=True)]  # most frequent first
    targets = ALL_MASSES[: len(counts)]
    maps = []
    for choice in itertools.product(*(itertools.permutations(g) for g in groups)):
        order = [name for perm in choice for name in perm]
        maps.append(dict(zip(order, targets)))
    return maps


def exchanges(process: str) -> list[LegMap]:
    """Leg maps of a process onto itself that exchange identical particles on one side; identity first."""
    if not process or process.count("->") != 1:
        return []
    lhs, rhs = process.split("->")
    groups: list[list[int]] = []
    leg = 1
    for side in (lhs.split(), rhs.split()):
        positions: dict[str, list[int]] = {}
        for name in side:
            positions.setdefault(name, []).append(leg)
            leg += 1
        groups += [legs for legs in positions.values() if len(legs) > 1]
    if math.prod(math.factorial(len(g)) for g in groups) > MAX_EXCHANGES:
        groups = []  # too many: each row stays its own class (still correct, only less shared)
    maps = []
    for choice in itertools.product(*(itertools.permutations(g) for g in groups)):
        legs = {k: k for k in range(1, leg)}
        for group, image in zip(groups, choice):
            legs.update(zip(group, image))
        maps.append(legs)
    return maps


def to_canonical_legs(permutation: str | None, n_legs: int) -> LegMap:
    """Ordered leg -> canonical leg, from the permutation column (identity when there is none)."""
    if not permutation:
        return {k: k for k in range(1, n_legs + 1)}
    return dict(enumerate(parse_permutation(permutation), start=1))


def representative(
    text: str, process: str | None, canonical_process: str | None, permutation: str | None, masses: bool = True
) -> tuple[str, Relabelling]:
    """(class representative text, relabelling from the row to it).

    A row whose columns do not parse gets no leg relabelling; ``masses=False`` keeps
    every mass symbol as it is.  Too many combinations to try: the legs alone.
    """
    legs_choices = _leg_maps(process, canonical_process, permutation)
    mass_choices = mass_maps(text) if masses else [{}]
    if len(legs_choices) * len(mass_choices) > MAX_RELABELLINGS:
        mass_choices = [{}]  # still correct, only less shared
    try:
        return _smallest(text, legs_choices, mass_choices)
    except OrderingError:  # the text names legs its process does not have: masses only
        return _smallest(text, [{}], mass_choices)


def _smallest(text: str, legs_choices: list[LegMap], mass_choices: list[MassMap]) -> tuple[str, Relabelling]:
    best: tuple[str, Relabelling] | None = None
    for legs in legs_choices:
        for mass_map in mass_choices:
            candidate = rename_legs(text, legs, mass_map) if legs or mass_map else text
            if best is None or candidate < best[0]:
                best = (candidate, Relabelling(legs, mass_map))
    return best


def _leg_maps(process: str | None, canonical_process: str | None, permutation: str | None) -> list[LegMap]:
    """Leg maps from the row onto its canonical process, one per exchange of identical particles there."""
    autos = exchanges(canonical_process or process or "")
    if not autos:
        return [{}]
    try:
        to_canonical = to_canonical_legs(permutation, len(autos[0]))
    except OrderingError:
        return [{}]
    if len(to_canonical) != len(autos[0]):
        return [{}]
    return [{k: auto[c] for k, c in to_canonical.items()} for auto in autos]


def map_back(text: str, relabelling: Relabelling, method: str, reprint: bool = False) -> str:
    """A simplified representative as the row's own expression (``relabelling``: row -> representative).

    The renamed text is the row's simplified expression, equal as a SymPy expression (so in
    tokens) to simplifying the row directly.  ``reprint`` (method factor) also restores the
    canonical order of terms and factors, so the text itself is the direct result; it costs
    about as much as FLINT's factoring (factored whole-process squares reach a megabyte).
    """
    if relabelling.is_identity():
        return text
    renamed = _rename_by_table(text, relabelling.inverse())
    if method != "factor" or not reprint:
        return renamed
    try:
        return reprint_factored(renamed)
    except ValueError:
        return renamed  # not in the factored form (cannot happen for method factor): equal in value anyway


_RENAMED_RE = re.compile(rf"(?<![A-Za-z0-9_])(?:[sp]_[0-9]+|{MASS_SYMBOL_RE.pattern})(?![A-Za-z0-9_])")


def _rename_by_table(text: str, relabelling: Relabelling) -> str:
    """:func:`rename_legs` through one lookup table: the same text, 3x faster (simplified whole-process
    squares of 2->3 reach a megabyte, and every ordering maps one back)."""
    legs = relabelling.legs
    table = {f"p_{i}": f"p_{j}" for i, j in legs.items()}
    for i in legs:
        for j in legs:
            if i != j:
                a, b = sorted((legs[i], legs[j]))
                table[f"s_{i}{j}"] = f"s_{a}{b}"
    table.update(relabelling.masses)
    return _RENAMED_RE.sub(lambda m: table.get(m.group(0), m.group(0)), text)


# ----------------------------------------------------------------- canonical factored text, re-printed


def _top_level_split(text: str, seps: str) -> list[tuple[str, str]]:
    """(separator before, piece) at parenthesis depth 0."""
    out, depth, start, sep = [], 0, 0, ""
    for k, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and ch in seps:
            out.append((sep, text[start:k]))
            sep, start = ch, k + 1
    out.append((sep, text[start:]))
    return out


def _is_group(text: str) -> bool:
    """``(a*b*...)``: the parenthesised denominator product of the canonical form (not a sum)."""
    if not (text.startswith("(") and text.endswith(")")):
        return False
    inner = text[1:-1]
    depth = 0
    for k, ch in enumerate(inner):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return False  # "(a) + (b)": the outer parentheses do not match
        elif depth == 0 and ch in "+-" and k > 0:
            return False
    return "*" in inner


_TERM_RE = re.compile(r"([+-]?)([^+-]+)")
_POWER_RE = re.compile(rf"^({SYMBOL_NAME_PATTERN})(?:\^([0-9]+))?$")


def _sum_of_monomials(text: str):
    """``c*x^a*y^b + ...`` (integer coefficients, no parentheses) read quickly; None otherwise.

    Factored whole-process squares reach a megabyte; the general reader would take seconds.
    """
    if "(" in text or "/" in text:
        return None
    index: dict[str, int] = {}
    terms: list[tuple[int, dict[int, int]]] = []
    for sign, body in _TERM_RE.findall(text):
        coef, powers = 1, {}
        for piece in body.split("*"):
            if piece.isdigit():
                coef *= int(piece)
                continue
            m = _POWER_RE.match(piece)
            if m is None:
                return None
            at = index.setdefault(m.group(1), len(index))
            powers[at] = powers.get(at, 0) + int(m.group(2) or 1)
        terms.append((-coef if sign == "-" else coef, powers))
    names = tuple(index)
    coeffs: dict[tuple[int, ...], int] = {}
    for coef, powers in terms:
        exps = tuple(powers.get(i, 0) for i in range(len(names)))
        coeffs[exps] = coeffs.get(exps, 0) + coef
    return names, coeffs


def reprint_factored(text: str) -> str:
    """The canonical factored text of an expression already in that form, with its symbols renamed.

    Reads ``[-]n*f1^k1*.../(d*g1^j1*...)`` factor by factor (no product is expanded) and
    prints it with :func:`symba.simplify.flint.canonical_factored_text`.
    """
    text = text.replace(" ", "")
    if text == "0":
        return "0"
    sign = 1
    if text.startswith("-"):
        sign, text = -1, text[1:]
    parts = _top_level_split(text, "/")
    if len(parts) > 2:
        raise FactorSyntaxError("more than one '/' at the top level: not the canonical factored form")
    content = Fraction(sign)
    factors = []
    for (_, part), k_sign in zip(parts, (1, -1)):
        if k_sign < 0 and _is_group(part):
            part = part[1:-1]
        for sep, item in _top_level_split(part, "*"):
            base, _, power = item.rpartition("^") if item.rfind("^") > item.rfind(")") else (item, "", "1")
            k = int(power) * k_sign
            if base.isdigit():
                content *= Fraction(int(base)) ** k
            elif base.startswith("(") and base.endswith(")"):
                poly = _sum_of_monomials(base[1:-1])
                if poly is None:  # not as the canonical printer writes sums: the general reader
                    poly = sum_polynomial(base[1:-1])
                factors.append((poly, k))
            elif base.replace("_", "").isalnum() and not base[0].isdigit():
                factors.append(((((base,), {(1,): 1})), k))
            else:
                raise FactorSyntaxError(f"unexpected factor {item!r}")
    return canonical_factored_text(content, factors)
