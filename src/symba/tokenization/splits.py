"""Train/valid/test splits that are stable, leakage-free and need no global pass.

Every row gets a group key; a hash of the key alone decides its side, so
re-running, or adding data, never moves an existing group, and a group is
never on two sides.

``random``    the key is the (amplitude, squared amplitude) pair itself (the
              squared amplitude as SymPy prints it, both in the canonical leg
              labelling), so duplicates and the orderings of one row always
              land together.  Sides: train, valid, test.
``template``  the key is the template of the squared amplitude: its structure
              after masses are replaced by placeholders per leg position
              (flavours), numeric coefficients (charges, colour factors) are
              dropped, and legs are relabelled within the incoming and within
              the outgoing side to the smallest form (leg orderings).
              ``e- e+ -> mu- mu+``, ``e- e+ -> u u~`` and ``e+ e- -> mu+ mu-``
              share one template.  Templates go to train, valid or
              ``test_templates`` (never seen in training); within the training
              templates a second hash, of the process itself (flavours and leg
              order), holds some processes out as ``test_orderings``: known
              templates under a new flavour or leg assignment, what SYMBA's
              random split measures.

The ``fractions`` (train, valid, test) are template shares; the test share also
sets the share of training-template processes held out as ``test_orderings``.
"""

from __future__ import annotations

import hashlib
import itertools

import sympy

from symba.physics.symbols import ALL_MASSES

SPLIT_KINDS = ("random", "template")
DEFAULT_SPLIT = "template"
TEST_ORDERINGS, TEST_TEMPLATES = "test_orderings", "test_templates"
TEST_RANDOM = "test"  # the random split's test side (and every test row of shards made before the two sides)
SIDES_OF_SPLIT = {
    "random": ("train", "valid", TEST_RANDOM),
    "template": ("train", "valid", TEST_ORDERINGS, TEST_TEMPLATES),
}
SIDES = ("train", "valid", TEST_RANDOM, TEST_ORDERINGS, TEST_TEMPLATES)
TEST_SIDES = (TEST_ORDERINGS, TEST_TEMPLATES, TEST_RANDOM)
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)
MAX_RELABELLINGS = 36  # 3! x 3!: every multiplicity up to 3 -> 3; beyond, the written order is kept

_MASSES = frozenset(ALL_MASSES)


def check_fractions(fractions) -> tuple[float, float, float]:
    fr = tuple(float(f) for f in fractions)
    if len(fr) != 3 or any(f < 0 for f in fr) or abs(sum(fr) - 1.0) > 1e-9:
        raise ValueError(f"split fractions must be three non-negative numbers summing to 1, got {fractions!r}")
    return fr


def check_split_kind(kind: str) -> None:
    if kind not in SPLIT_KINDS:
        raise ValueError(f"unknown split {kind!r}; choose one of {', '.join(SPLIT_KINDS)}")


def group_id(key: str, seed: int = 0) -> str:
    """A stable 128-bit hex digest of a group key (the seed selects another assignment)."""
    return hashlib.blake2b(f"{seed}\x00{key}".encode(), digest_size=16).hexdigest()


def _uniform(group: str) -> float:
    return int(group[:16], 16) / 2.0**64


def side_of(group: str, fractions=DEFAULT_FRACTIONS) -> str:
    """The split side of a group id (random split): its hash read as a uniform number in [0, 1)."""
    fr = check_fractions(fractions)
    u = _uniform(group)
    if u < fr[0]:
        return "train"
    if u < fr[0] + fr[1]:
        return "valid"
    return TEST_RANDOM


def template_side(template_group: str, process_group: str, fractions=DEFAULT_FRACTIONS) -> str:
    """The side of a row of the template split, from its template's and its process's group ids.

    Only the template decides between training templates, valid and test_templates, so a
    template is never both trained on and in test_templates; the process hash only moves
    rows of training templates to test_orderings."""
    fr = check_fractions(fractions)
    u = _uniform(template_group)
    if u >= fr[0] + fr[1]:
        return TEST_TEMPLATES
    if u >= fr[0]:
        return "valid"
    return TEST_ORDERINGS if _uniform(process_group) < fr[2] else "train"


def random_key(amplitude: str, squared: str) -> str:
    return f"pair\x00{amplitude}\x00{squared}"


def process_key(process: str, theory: str = "") -> str:
    """The finer key of the template split: the process as written (flavours and leg order)."""
    return f"process\x00{theory}\x00{' '.join(process.split())}"


def mass_placeholders(expr: sympy.Expr, leg_masses=None) -> dict[sympy.Symbol, sympy.Symbol]:
    """Mass symbol -> placeholder ``M<k>``, k the first leg with that mass.

    Masses on no leg (or all masses, when the legs are unknown) get ``X<n>`` in
    order of name, which is still independent of which flavour they are.
    """
    present = sorted((s for s in expr.free_symbols if s.name in _MASSES), key=lambda s: s.name)
    mapping: dict[sympy.Symbol, sympy.Symbol] = {}
    for leg, mass in enumerate(leg_masses or (), start=1):
        sym = sympy.Symbol(mass) if mass else None
        if sym is not None and sym in present and sym not in mapping:
            mapping[sym] = sympy.Symbol(f"M{leg}")
    extra = [s for s in present if s not in mapping]
    for n, sym in enumerate(extra, start=1):
        mapping[sym] = sympy.Symbol(f"X{n}")
    return mapping


def relabellings(n_in: int, n_legs: int) -> list[tuple[int, ...]]:
    """Leg maps (old leg k -> new leg map[k-1]) that permute incoming and outgoing legs among themselves."""
    ins = itertools.permutations(range(1, n_in + 1))
    outs = list(itertools.permutations(range(n_in + 1, n_legs + 1)))
    maps = [a + b for a, b in itertools.product(ins, outs)]
    return maps if len(maps) <= MAX_RELABELLINGS else maps[:1]


def _renames(symbols, legs: tuple[int, ...], leg_masses) -> dict:
    """Symbol renames of one relabelling: ``s_ij``/``p_i`` follow the legs, masses become
    placeholders of the legs they sit on after it."""
    moved = [None] * len(legs)
    for old, new in enumerate(legs):
        moved[new - 1] = leg_masses[old]
    renames = {}
    for s in symbols:
        name = s.name
        if len(name) == 4 and name.startswith("s_") and name[2:].isdigit():
            i, j = int(name[2]), int(name[3])
            if 1 <= i <= len(legs) and 1 <= j <= len(legs):
                a, b = sorted((legs[i - 1], legs[j - 1]))
                renames[s] = sympy.Symbol(f"s_{a}{b}")
        elif len(name) == 3 and name.startswith("p_") and name[2].isdigit() and 1 <= int(name[2]) <= len(legs):
            renames[s] = sympy.Symbol(f"p_{legs[int(name[2]) - 1]}")
    masses = [s for s in symbols if s.name in _MASSES]
    if masses:
        renames.update(mass_placeholders(sympy.Mul(*masses), moved))
    return renames


_BIG_SUM = 8  # terms; such factors are left out of the cheap first comparison


def template_key(expr: sympy.Expr, leg_masses=None, theory: str = "", n_in: int | None = None) -> str:
    """The template of a squared amplitude: masses per leg, coefficients dropped, legs in their
    smallest order (over relabellings within each side; needs ``leg_masses`` and ``n_in``).

    Relabellings are first compared cheaply (the small top-level factors and the symbols);
    full shapes are built only for those that tie, which is the same minimum."""
    legs = list(leg_masses) if leg_masses is not None else None
    if legs is None or n_in is None or not 0 < n_in < len(legs):
        return f"template\x00{theory}\x00{_shape(expr.xreplace(mass_placeholders(expr, leg_masses)))}"
    symbols = expr.free_symbols
    factors = expr.args if expr.is_Mul else (expr,)
    small = [f for f in factors if not (f.is_Add and len(f.args) > _BIG_SUM)]
    ranked = []
    for new_leg in relabellings(n_in, len(legs)):
        renames = _renames(symbols, new_leg, legs)
        cheap = (sorted(_shape(f.xreplace(renames)) for f in small), sorted(renames.get(s, s).name for s in symbols))
        ranked.append((cheap, renames))
    least = min(cheap for cheap, _ in ranked)
    shapes = [_shape(expr.xreplace(renames)) for cheap, renames in ranked if cheap == least]
    return f"template\x00{theory}\x00{min(shapes)}"


def _shape(x: sympy.Basic) -> str:
    if x.is_Rational:
        return "C"
    if x.is_Symbol:
        return x.name
    if x.is_Pow:
        base, exp = x.args
        return f"({_shape(base)})^{exp if exp.is_Rational else _shape(exp)}"
    if x.is_Mul:
        factors = [a for a in x.args if not a.is_Rational]
        if len(factors) == 1:
            return _shape(factors[0])
        return "mul(" + ",".join(sorted(_shape(a) for a in factors)) + ")"
    if x.is_Add:
        return "add(" + ",".join(sorted(_shape(a) for a in x.args)) + ")"
    return f"{type(x).__name__}(" + ",".join(_shape(a) for a in x.args) + ")"
