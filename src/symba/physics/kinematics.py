"""Random physical phase-space points and numeric equivalence of expressions.

A point has random masses, on-shell momenta and conserved momentum, computed
in mpmath at high precision so that gauge cancellations in large expressions
do not eat the 1e-9 tolerance.  ``s_ij`` is ``p_i . p_j`` with metric
(+,-,-,-), legs numbered as in the process.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from functools import lru_cache

import mpmath
import sympy

from .expression_parser import parse_expression
from .symbols import ALL_COUPLINGS

PRECISION_DIGITS = 50
# Test values of the couplings in tenths: e = 0.3, g_s = 1.1, then further ones 0.8 apart.
_COUPLING_TENTHS = {c: 3 + 8 * k for k, c in enumerate(ALL_COUPLINGS)}


class KinematicsError(ValueError):
    pass


@dataclass
class PhaseSpacePoint:
    momenta: list[list]  # n x 4, mpmath mpf, legs in process order
    masses: dict[str, object]  # mass symbol -> mpf
    physical: bool  # False when the process has no on-shell phase space

    def dot(self, i: int, j: int):
        a, b = self.momenta[i], self.momenta[j]
        return a[0] * b[0] - a[1] * b[1] - a[2] * b[2] - a[3] * b[3]

    def values(self, couplings: dict[str, float] | None = None) -> dict[str, object]:
        """Numeric values of every symbol an expression may contain."""
        n = len(self.momenta)
        vals: dict[str, object] = {}
        for i in range(n):
            for j in range(i + 1, n):
                vals[f"s_{i + 1}{j + 1}"] = self.dot(i, j)
        vals.update(self.masses)
        vals.update({c: mpmath.mpf(tenths) / 10 for c, tenths in _COUPLING_TENTHS.items()})
        if couplings:
            vals.update({k: mpmath.mpf(v) for k, v in couplings.items()})
        return vals


def _mp(x) -> mpmath.mpf:
    return mpmath.mpf(x)


def _two_body(M, m1, m2, rng):
    """Momenta of a two-body decay at rest, random direction."""
    p = mpmath.sqrt((M**2 - (m1 + m2) ** 2) * (M**2 - (m1 - m2) ** 2)) / (2 * M)
    cos_t = _mp(rng.uniform(-1, 1))
    phi = _mp(rng.uniform(0, 2 * 3.141592653589793))
    sin_t = mpmath.sqrt(1 - cos_t**2)
    d = [sin_t * mpmath.cos(phi), sin_t * mpmath.sin(phi), cos_t]
    e1, e2 = mpmath.sqrt(p**2 + m1**2), mpmath.sqrt(p**2 + m2**2)
    return [e1] + [p * x for x in d], [e2] + [-p * x for x in d]


def _boost(k, P):
    """Boost k from the rest frame of P to the frame where P has its momentum."""
    M = mpmath.sqrt(P[0] ** 2 - P[1] ** 2 - P[2] ** 2 - P[3] ** 2)
    b = [P[1] / P[0], P[2] / P[0], P[3] / P[0]]
    b2 = sum(x * x for x in b)
    if b2 == 0:
        return list(k)
    g = P[0] / M
    bp = sum(bi * ki for bi, ki in zip(b, k[1:]))
    coef = (g - 1) * bp / b2 + g * k[0]
    return [g * (k[0] + bp)] + [ki + coef * bi for ki, bi in zip(k[1:], b)]


def _decay(P, masses, rng):
    """Split four-momentum P into on-shell momenta with the given masses."""
    if len(masses) == 1:
        return [list(P)]
    M = mpmath.sqrt(P[0] ** 2 - P[1] ** 2 - P[2] ** 2 - P[3] ** 2)
    rest_min = sum(masses[1:])
    # invariant mass of the remaining system, between its threshold and M - m_0
    hi = M - masses[0]
    m_rest = rest_min + (hi - rest_min) * _mp(rng.uniform(0.05, 0.95)) if len(masses) > 2 else masses[1]
    k0, krest = _two_body(M, masses[0], m_rest, rng)
    k0, krest = _boost(k0, P), _boost(krest, P)
    return [k0] + _decay(krest, masses[1:], rng)


def random_masses(mass_symbols, rng, zero_masses=()) -> dict[str, object]:
    out = {}
    for m in sorted(set(x for x in mass_symbols if x)):
        out[m] = _mp(0) if m in zero_masses else _mp(rng.uniform(0.1, 1.0))
    return out


def random_point(leg_masses: list[str | None], n_in: int, seed: int = 0, zero_masses=()) -> PhaseSpacePoint:
    """A random physical point for legs with the given mass symbols (None: massless).

    When the process has no on-shell phase space (e.g. every QED 1->2),
    the returned point has ``physical=False`` and its s_ij are random numbers.
    """
    rng = random.Random(seed)
    mpmath.mp.dps = PRECISION_DIGITS
    masses = random_masses(leg_masses, rng, zero_masses)
    mvals = [masses[m] if m else _mp(0) for m in leg_masses]
    min_in, m_out = mvals[:n_in], mvals[n_in:]
    if n_in == 1 and min_in[0] <= sum(m_out):
        return _unphysical_point(len(leg_masses), masses, rng)
    for _ in range(100):
        if n_in == 1:
            P = [min_in[0], _mp(0), _mp(0), _mp(0)]
            incoming = [P]
        else:
            incoming = []
            for m in min_in:
                p3 = [_mp(rng.uniform(-2, 2)) for _ in range(3)]
                incoming.append([mpmath.sqrt(m**2 + sum(x * x for x in p3))] + p3)
            P = [sum(k[mu] for k in incoming) for mu in range(4)]
        W2 = P[0] ** 2 - P[1] ** 2 - P[2] ** 2 - P[3] ** 2
        if W2 > 0 and mpmath.sqrt(W2) > sum(m_out) * _mp("1.05") + _mp("0.01"):
            outgoing = _decay(P, m_out, rng) if len(m_out) > 1 else [list(P)]
            if len(m_out) == 1 and abs(W2 - m_out[0] ** 2) > _mp(10) ** (-30):
                break  # 2->1 is on shell only at one point: no phase space
            return PhaseSpacePoint(incoming + outgoing, masses, True)
    return _unphysical_point(len(leg_masses), masses, rng)


def _unphysical_point(n, masses, rng) -> PhaseSpacePoint:
    # Random momenta: the s_ij are then independent random numbers.
    moms = [[_mp(rng.uniform(0.5, 2))] + [_mp(rng.uniform(-1, 1)) for _ in range(3)] for _ in range(n)]
    return PhaseSpacePoint(moms, masses, False)


@lru_cache(maxsize=256)
def _parsed(expr_text: str) -> sympy.Expr:
    return parse_expression(expr_text)


def _numeric(expr: sympy.Expr, values: dict):
    """Evaluate a SymPy tree in mpmath; recursion depth is the tree's depth, not its size."""
    if expr.is_Symbol:
        return values[expr.name]
    if expr.is_Integer:
        return mpmath.mpf(int(expr))
    if expr.is_Rational:
        return mpmath.mpf(int(expr.p)) / int(expr.q)
    if expr is sympy.I:
        return mpmath.mpc(0, 1)
    if expr.is_Add:
        return mpmath.fsum(_numeric(a, values) for a in expr.args)
    if expr.is_Mul:
        out = mpmath.mpf(1)
        for a in expr.args:
            out *= _numeric(a, values)
        return out
    if expr.is_Pow:
        base, exp = expr.args
        if exp.is_Integer:
            return _numeric(base, values) ** int(exp)
        return _numeric(base, values) ** _numeric(exp, values)
    raise KinematicsError(f"cannot evaluate {type(expr).__name__} numerically")


def evaluate(expr, values: dict[str, object]):
    """Evaluate a squared amplitude (text or SymPy) at numeric symbol values."""
    tree = _parsed(expr) if isinstance(expr, str) else expr
    missing = sorted(s.name for s in tree.free_symbols if s.name not in values)
    if missing:
        raise KinematicsError(f"no value for symbol(s) {', '.join(missing)}")
    mpmath.mp.dps = PRECISION_DIGITS
    return _numeric(tree, values)


def numerically_equal(a, b, leg_masses, n_in: int, n_points: int = 4, rtol: float = 1e-9, seed: int = 1) -> bool:
    """Whether two expressions of one process agree at several random points."""
    for k in range(n_points):
        point = random_point(leg_masses, n_in, seed=seed + k)
        vals = point.values()
        try:
            va, vb = evaluate(a, vals), evaluate(b, vals)
        except (ZeroDivisionError, KinematicsError, TypeError, ValueError):
            return False
        scale = max(abs(va), abs(vb))
        if scale == 0:
            continue
        if abs(va - vb) > rtol * scale:
            return False
    return True
