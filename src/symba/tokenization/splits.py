"""Train/valid/test splits that are stable, leakage-free and need no global pass.

Every row gets a group key; a hash of the key alone decides its side, so
re-running, or adding data, never moves an existing group, and a group is
never on two sides.

``random``    the key is the (amplitude, squared amplitude) pair itself (the
              squared amplitude as SymPy prints it), so duplicates always
              land together.
``template``  the key is the structure of the squared amplitude after masses
              are replaced by placeholders per leg position (flavours), and
              numeric coefficients (charges, colour factors) are dropped.
              ``e- e+ -> mu- mu+`` and ``e- e+ -> u u~`` share one template.
"""

from __future__ import annotations

import hashlib

import sympy

from symba.physics.kinematics import ALL_MASSES

SPLIT_KINDS = ("random", "template")
DEFAULT_SPLIT = "template"
SIDES = ("train", "valid", "test")
DEFAULT_FRACTIONS = (0.8, 0.1, 0.1)

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


def side_of(group: str, fractions=DEFAULT_FRACTIONS) -> str:
    """The split side of a group id: its hash read as a uniform number in [0, 1)."""
    fr = check_fractions(fractions)
    u = int(group[:16], 16) / 2.0**64
    if u < fr[0]:
        return SIDES[0]
    if u < fr[0] + fr[1]:
        return SIDES[1]
    return SIDES[2]


def random_key(amplitude: str, squared: str) -> str:
    return f"pair\x00{amplitude}\x00{squared}"


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


def template_key(expr: sympy.Expr, leg_masses=None, theory: str = "") -> str:
    """The template of a squared amplitude: masses per leg, coefficients dropped."""
    abstract = expr.xreplace(mass_placeholders(expr, leg_masses))
    return f"template\x00{theory}\x00{_shape(abstract)}"


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
