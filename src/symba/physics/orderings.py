"""Every ordering of a process's legs, derived from its canonical computation by relabelling.

``e+ e- -> a mu+ mu-`` is the canonical ``e- e+ -> mu- mu+ a`` with its legs
renumbered.  Its rows are made from the canonical result by renaming momenta
``p_i``, dot products ``s_ij`` and leg indices; nothing is recomputed.  The
incoming particles are only permuted among incoming positions and the outgoing
among outgoing ones, so averaging factors and 1/k! stay as they are.

A permutation lists, for each leg of the ordered process, the canonical leg it
holds: ``(2, 1, 5, 4, 3)`` takes ``e- e+ -> mu- mu+ a`` to ``e+ e- -> a mu+ mu-``.
Identical particles keep their relative order, so each distinct ordering has
exactly one permutation.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import NamedTuple

from .amplitude_syntax import Node, canonicalize_indices, parse, to_string
from .process import parse_process
from .results import DiagramResult, ProcessResult
from .symbols import DOT_PRODUCT_RE, MASS_SYMBOL_RE, MOMENTUM_RE, SYMBOL_NAME_PATTERN

MAX_LEGS_PER_SIDE = 4  # 4! = 24 orderings a side at most; MULTIPLICITIES stop at 3
MAX_TEXT_CHARS = 50_000_000  # whole-process 3->3 squares are about 1.2 MB
NAME_RE = re.compile(r"(?<![A-Za-z0-9_])" + SYMBOL_NAME_PATTERN)  # a whole name, not the tail of one
_PROPAGATOR_RE = re.compile(r"^([A-Za-z][A-Za-z0-9_]*)\(([-+0-9p_*]+)\)$")
_MOMENTUM_TERM_RE = re.compile(r"([-+]?)(?:([0-9]+)\*)?p_([1-9])")


class OrderingError(ValueError):
    """A process or permutation that cannot be ordered or relabelled; one-line message."""


class Ordering(NamedTuple):
    process: str  # the ordered process, e.g. "e+ e- -> a mu+ mu-"
    permutation: tuple[int, ...]  # ordered leg k (1-based) holds canonical leg permutation[k - 1]


def permutation_text(permutation) -> str:
    """The compact column form, e.g. ``"2,1,5,4,3"``."""
    return ",".join(str(int(x)) for x in permutation)


def parse_permutation(text: str) -> tuple[int, ...]:
    try:
        perm = tuple(int(x) for x in text.split(","))
    except ValueError:
        raise OrderingError(f"malformed permutation {text!r}: expected e.g. '2,1,3,4'") from None
    _check_permutation(perm)
    return perm


def _check_permutation(perm) -> None:
    if sorted(perm) != list(range(1, len(perm) + 1)):
        raise OrderingError(f"{permutation_text(perm)!r} is not a permutation of 1..{len(perm)}")


def _sides(process) -> tuple[tuple[str, ...], tuple[str, ...]]:
    if hasattr(process, "incoming"):
        return tuple(process.incoming), tuple(process.outgoing)
    if not isinstance(process, str) or process.count("->") != 1:
        raise OrderingError(f"malformed process {process!r}: expected 'IN... -> OUT...'")
    lhs, rhs = process.split("->")
    incoming, outgoing = tuple(lhs.split()), tuple(rhs.split())
    if not incoming or not outgoing:
        raise OrderingError(f"malformed process {process!r}: both sides of '->' need a particle")
    return incoming, outgoing


def _distinct_arrangements(names: tuple[str, ...], first_leg: int) -> list[tuple[tuple[str, ...], tuple[int, ...]]]:
    """Distinct sequences of a multiset of particles, each with the legs it takes.

    Position by position, each distinct particle still left is tried in order
    of first appearance, and identical particles are used in leg order: the
    written order comes first and no sequence repeats.
    """
    kinds = list(dict.fromkeys(names))
    legs_of = {k: [first_leg + i for i, n in enumerate(names) if n == k] for k in kinds}
    used = {k: 0 for k in kinds}
    out: list[tuple[tuple[str, ...], tuple[int, ...]]] = []
    seq: list[str] = []
    perm: list[int] = []

    def extend() -> None:  # recursion depth = len(names) <= MAX_LEGS_PER_SIDE
        if len(seq) == len(names):
            out.append((tuple(seq), tuple(perm)))
            return
        for k in kinds:
            if used[k] < len(legs_of[k]):
                seq.append(k)
                perm.append(legs_of[k][used[k]])
                used[k] += 1
                extend()
                used[k] -= 1
                seq.pop()
                perm.pop()

    extend()
    return out


def distinct_orderings(process) -> list[Ordering]:
    """Every distinct ordering of the legs of ``process`` (text or Process), canonical first."""
    incoming, outgoing = _sides(process)
    for side in (incoming, outgoing):
        if len(side) > MAX_LEGS_PER_SIDE:
            raise OrderingError(f"{len(side)} particles on one side; at most {MAX_LEGS_PER_SIDE} are supported")
    ins = _distinct_arrangements(incoming, 1)
    outs = _distinct_arrangements(outgoing, len(incoming) + 1)
    return [Ordering(" ".join(a) + " -> " + " ".join(b), pa + pb) for (a, pa), (b, pb) in itertools.product(ins, outs)]


def ordered_process(canonical_process: str, permutation) -> str:
    """The process text that a permutation of a canonical process names."""
    incoming, outgoing = _sides(canonical_process)
    legs = incoming + outgoing
    perm = tuple(permutation)
    if len(perm) != len(legs):
        raise OrderingError(f"permutation {permutation_text(perm)!r} has {len(perm)} legs, the process {len(legs)}")
    _check_permutation(perm)
    n_in = len(incoming)
    if sorted(perm[:n_in]) != list(range(1, n_in + 1)):
        raise OrderingError(f"permutation {permutation_text(perm)!r} moves a leg between incoming and outgoing")
    ordered = [legs[k - 1] for k in perm]
    return " ".join(ordered[:n_in]) + " -> " + " ".join(ordered[n_in:])


def leg_map(permutation) -> dict[int, int]:
    """Canonical leg -> ordered leg (the inverse of the permutation)."""
    return {canonical: position for position, canonical in enumerate(permutation, start=1)}


def inverse_permutation(permutation) -> tuple[int, ...]:
    """The permutation whose relabelling undoes ``permutation``'s (ordered legs back to canonical ones)."""
    back = [0] * len(permutation)
    for position, canonical in enumerate(permutation, start=1):
        back[canonical - 1] = position
    return tuple(back)


def rename_leg_symbol(name: str, legs: Mapping[int, int]) -> str:
    """``p_i`` and ``s_ij`` renamed by ``legs`` (old leg -> new leg; ``s_ij`` keeps i < j); any other name as it is."""
    m = MOMENTUM_RE.fullmatch(name)
    if m:
        return f"p_{_ordered_leg(int(m.group(1)), legs)}"
    m = DOT_PRODUCT_RE.fullmatch(name)
    if m:
        i, j = sorted((_ordered_leg(int(m.group(1)), legs), _ordered_leg(int(m.group(2)), legs)))
        return f"s_{i}{j}"
    return name


def _ordered_leg(leg: int, legs: Mapping[int, int]) -> int:
    if leg not in legs:
        raise OrderingError(f"leg {leg} named in the text, but the process has {len(legs)} legs")
    return legs[leg]


def _check_size(text: str) -> None:
    if not isinstance(text, str):
        raise OrderingError(f"expected text, got {type(text).__name__}")
    if len(text) > MAX_TEXT_CHARS:
        raise OrderingError(f"text of {len(text)} characters is over the {MAX_TEXT_CHARS} limit")


def relabel_squared(text: str, permutation) -> str:
    """A squared amplitude of the canonical process, as one of the ordered process.

    Only ``s_ij`` (and any ``p_i``) change; term order is kept, so the text stays
    the same size.  ``s_ij`` keeps i < j: under (3,1,2) ``s_13`` becomes ``s_12``.
    """
    _check_size(text)
    legs = leg_map(permutation)
    return NAME_RE.sub(lambda m: rename_leg_symbol(m.group(0), legs), text)


def _momentum_leg(node: Node) -> int | None:
    """Leg of a momentum term ``p_i``, ``-p_i``, ``2*p_i``; None for anything else."""
    if node.op == "neg":
        node = node.args[0]
    if node.op == "*" and len(node.args) == 2 and node.args[0].op == "num":
        node = node.args[1]
    if node.op == "name":
        m = MOMENTUM_RE.fullmatch(node.value)
        if m:
            return int(m.group(1))
    return None


def _scalar_key(node: Node, mass_rank: dict[str, int]) -> tuple | None:
    """Sort key of a term ``c*m_x^2`` or ``c*s_ij`` of a propagator denominator."""
    if node.op == "neg":
        node = node.args[0]
    if node.op == "*" and len(node.args) == 2 and node.args[0].op == "num":
        node = node.args[1]
    if node.op == "^" and node.args[0].op == "name" and MASS_SYMBOL_RE.fullmatch(node.args[0].value):
        return (0, mass_rank.get(node.args[0].value, len(mass_rank)), node.args[0].value)
    if node.op == "name":
        m = DOT_PRODUCT_RE.fullmatch(node.value)
        if m:
            return (1, int(m.group(1)), int(m.group(2)))
    return None


def _relabel_tree(node: Node, legs: Mapping[int, int], mass_rank: dict[str, int]) -> Node:
    """Rename legs; re-sort momentum sums by leg and denominators as the engine prints them.

    Iterative (post-order) so that deep amplitudes cannot exhaust Python's stack.
    """
    done: dict[int, Node] = {}
    stack: list[tuple[Node, bool]] = [(node, False)]
    while stack:
        n, expanded = stack.pop()
        if not expanded and n.args:
            stack.append((n, True))
            stack.extend((a, False) for a in n.args)
            continue
        if n.op == "name":
            done[id(n)] = Node("name", value=rename_leg_symbol(n.value, legs))
            continue
        if not n.args:
            done[id(n)] = n
            continue
        args = [done[id(a)] for a in n.args]
        if n.op == "+":
            args = _sorted_sum(args, mass_rank)
        done[id(n)] = Node(n.op, tuple(args), n.value)
    return done[id(node)]


def _sorted_sum(terms: list[Node], mass_rank: dict[str, int]) -> list[Node]:
    momentum = [_momentum_leg(t) for t in terms]
    if all(k is not None for k in momentum):
        order = sorted(range(len(terms)), key=lambda k: momentum[k])
        return [terms[k] for k in order]
    keys = [_scalar_key(t, mass_rank) for t in terms]
    if all(k is not None for k in keys):
        order = sorted(range(len(terms)), key=lambda k: keys[k])
        return [terms[k] for k in order]
    return terms


def _mass_rank(leg_masses) -> dict[str, int]:
    rank: dict[str, int] = {}
    for m in leg_masses:
        if m and m not in rank:
            rank[m] = len(rank)
    return rank


def relabel_amplitude(text: str, permutation, leg_masses=()) -> str:
    """An amplitude of the canonical process, as one of the ordered process, in canonical form.

    Momentum sums are re-sorted by leg and each propagator denominator lists
    masses (in the order of the ordered process's legs, ``leg_masses``) before
    the ``s_ij`` in index order, as the engine prints them; dummy indices are
    renumbered by :func:`canonicalize_indices`.
    """
    _check_size(text)
    tree = _relabel_tree(parse(text), leg_map(permutation), _mass_rank(leg_masses))
    return to_string(canonicalize_indices(tree))


def relabel_propagator(text: str, permutation) -> str:
    """``A(p_1+p_2)`` -> ``A(p_2+p_5)``: momentum renamed and sorted by leg, printed as the engine does."""
    m = _PROPAGATOR_RE.match(text)
    if not m:
        raise OrderingError(f"malformed propagator {text!r}: expected e.g. 'A(p_1+p_2)'")
    terms = _MOMENTUM_TERM_RE.findall(m.group(2))
    if "".join(f"{s}{c + '*' if c else ''}p_{k}" for s, c, k in terms) != m.group(2):
        raise OrderingError(f"malformed propagator momentum in {text!r}")
    legs = leg_map(permutation)
    coeffs: dict[int, int] = {}
    for sign, coef, leg in terms:
        coeffs[_ordered_leg(int(leg), legs)] = (-1 if sign == "-" else 1) * int(coef or 1)
    out = ""
    for leg in sorted(coeffs):
        c = coeffs[leg]
        out += ("-" if c < 0 else "+" if out else "") + (f"{abs(c)}*" if abs(c) != 1 else "") + f"p_{leg}"
    return f"{m.group(1)}({out})"


@dataclass(frozen=True)
class Relabelling:
    """A renumbering of a process's legs: ordered leg k holds canonical leg ``permutation[k - 1]``.

    Applied to text of the canonical process it gives that of the ordered one; ``inverse``
    maps the ordered legs back.  Incoming and outgoing legs are not told apart here:
    :func:`ordered_process` checks that a permutation keeps each side.
    """

    permutation: tuple[int, ...]

    def __post_init__(self):
        try:
            perm = tuple(int(x) for x in self.permutation)
        except (TypeError, ValueError):
            raise OrderingError(f"malformed permutation {self.permutation!r}: expected leg numbers") from None
        _check_permutation(perm)
        object.__setattr__(self, "permutation", perm)  # frozen: normalised once, here

    @classmethod
    def from_text(cls, text: str) -> Relabelling:
        """From the column form, e.g. ``"2,1,5,4,3"``."""
        return cls(parse_permutation(text))

    @classmethod
    def from_row(cls, row: Mapping) -> Relabelling:
        """The relabelling that made a dataset row from its ``canonical_process``: its ``permutation``
        column, or the identity on its process's legs where the row has none (imports, older shards)."""
        text = row.get("permutation")
        if text:
            return cls.from_text(text)
        incoming, outgoing = _sides(row.get("process") or "")
        return cls(tuple(range(1, len(incoming) + len(outgoing) + 1)))

    @property
    def text(self) -> str:
        return permutation_text(self.permutation)

    @property
    def is_identity(self) -> bool:
        return self.permutation == tuple(range(1, len(self.permutation) + 1))

    @property
    def legs(self) -> dict[int, int]:
        """Canonical leg -> ordered leg."""
        return leg_map(self.permutation)

    @property
    def inverse(self) -> Relabelling:
        """The relabelling from the ordered legs back to the canonical ones."""
        return Relabelling(inverse_permutation(self.permutation))

    def compose(self, then: Relabelling) -> Relabelling:
        """This relabelling followed by ``then``, as one."""
        if len(then.permutation) != len(self.permutation):
            raise OrderingError(
                f"cannot compose relabellings of {len(self.permutation)} and {len(then.permutation)} legs"
            )
        return Relabelling(tuple(self.permutation[k - 1] for k in then.permutation))

    def rename(self, name: str) -> str:
        """One symbol (``p_i``, ``s_ij``) renamed; any other name as it is."""
        return rename_leg_symbol(name, self.legs)

    def ordered_process(self, canonical_process: str) -> str:
        return ordered_process(canonical_process, self.permutation)

    def squared(self, text: str) -> str:
        """See :func:`relabel_squared`."""
        return relabel_squared(text, self.permutation)

    def amplitude(self, text: str, leg_masses=()) -> str:
        """See :func:`relabel_amplitude`; ``leg_masses`` of the process the text is renamed to."""
        return relabel_amplitude(text, self.permutation, leg_masses)

    def propagator(self, text: str) -> str:
        """See :func:`relabel_propagator`."""
        return relabel_propagator(text, self.permutation)


def relabel_result(result: ProcessResult, permutation) -> ProcessResult:
    """The result of an ordered process, derived from the canonical ``result`` without recomputing.

    Diagram indices stay those of the canonical computation.
    """
    perm = tuple(permutation)
    ordered = ordered_process(result.process, perm)
    leg_masses = parse_process(ordered, result.theory, check=False).leg_masses()
    diagrams = [
        DiagramResult(
            index=d.index,
            propagators=[relabel_propagator(p, perm) for p in d.propagators],
            amplitude=relabel_amplitude(d.amplitude, perm, leg_masses),
            squared_amplitude=relabel_squared(d.squared_amplitude, perm),
        )
        for d in result.diagrams
    ]
    return replace(
        result, process=ordered, diagrams=diagrams, squared_amplitude=relabel_squared(result.squared_amplitude, perm)
    )


def rows_for_orderings(
    result: ProcessResult,
    make_rows: Callable[[ProcessResult], list[dict]],
    orderings: str = "all",
) -> list[dict]:
    """Rows of every ordering of a canonical result (``orderings="all"``) or of it alone.

    ``make_rows`` turns one ProcessResult into row dicts (the workflow's
    ``process_rows``).  Each row gains ``canonical_process`` and ``permutation``.
    """
    if orderings not in ("canonical", "all"):
        raise OrderingError(f"unknown orderings {orderings!r}; choose 'canonical' or 'all'")
    chosen = distinct_orderings(result.process) if orderings == "all" else distinct_orderings(result.process)[:1]
    rows: list[dict] = []
    for ordering in chosen:
        identity = ordering.permutation == tuple(range(1, len(ordering.permutation) + 1))
        derived = result if identity else relabel_result(result, ordering.permutation)
        for row in make_rows(derived):
            row.update(canonical_process=result.process, permutation=permutation_text(ordering.permutation))
            rows.append(row)
    return rows
