"""Checks that a predicted squared amplitude is physics, made without knowing the answer.

A beam candidate is checked against the row's own amplitude and process only:

- ``parse``: it parses (the project's bounded parser, never ``sympify``) and uses only the
  process's symbols (its s_ij, the masses of its legs and amplitude, the couplings);
- ``coupling``: its power of each coupling is twice the amplitude's (e^4 for a 2->2 QED diagram);
- ``denominator``: every denominator factor is one of the amplitude's propagator denominators
  (up to a constant), at most squared (twice its power in one term of the amplitude);
- ``dimension``: mass dimension 2(4 - n) for n legs;
- ``finite_real_positive``: finite and real at random physical points, and positive where the
  spin sum is positive definite (whole-process rows, or no external vector bosons: per-diagram
  -g sums need not be);
- ``amplitude_square``: equal (relative ``RTOL``) to the amplitude's own spin-summed square,
  evaluated numerically at the same points (:mod:`symba.physics.numeric_square`).

A check that cannot be made (an amplitude our syntax cannot read, a process with no physical
phase space) is skipped, never failed: a skipped check rejects nothing.  Time is bounded by the
caller (the checks run in :class:`symba.model.numeric.NumericChecker`'s worker, killed at its
timeout) and by the parsers' size caps.  This module does not import torch.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from functools import lru_cache

import mpmath
import sympy

from symba.physics.amplitude_syntax import Node, parse
from symba.physics.expression_parser import parse_expression
from symba.physics.kinematics import KinematicsError, evaluate, random_point
from symba.physics.numeric_square import NumericSquareError, scalar_value, square_at_point
from symba.physics.process import parse_process
from symba.physics.symbols import ALL_COUPLINGS, ALL_MASSES, REGULATOR

CHECKS = ("parse", "coupling", "denominator", "dimension", "finite_real_positive", "amplitude_square")
RTOL = 1e-6  # the amplitude's square is float64 numpy; wrong answers differ at O(1)
SCALE = 1.7  # factor of the homogeneity tests (couplings, mass dimension)
MAX_AMPLITUDE_CHARS = 200_000  # longer amplitudes: the amplitude checks are skipped
AMPLITUDE_POINT_SEED = 9_001  # phase-space points of the checks (not those of the scoring check)


@dataclass
class Verdict:
    failed: list[str] = field(default_factory=list)  # checks that rejected the candidate, in CHECKS order
    skipped: list[str] = field(default_factory=list)  # checks that could not be made

    @property
    def passed(self) -> bool:
        return not self.failed


@dataclass
class AmplitudeFacts:
    """What the row's amplitude and process say about any correct square, computed once per row."""

    n_legs: int
    allowed_symbols: frozenset[str]
    coupling_powers: dict[str, int] | None  # power in the amplitude; None: unreadable
    propagators: list[tuple[object, int]] | None  # (denominator node, highest power in one term)
    points: list  # PhaseSpacePoints (physical)
    squares: list[float] | None  # the amplitude's own square at the points
    positive: bool  # whether the spin sum is positive definite
    why_skipped: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------- the amplitude's facts
def _coupling_power(node, symbol: str) -> int | None:
    """The power of ``symbol`` in every term of the amplitude; None if terms disagree."""
    op = node.op
    if op == "name":
        return int(node.value == symbol)
    if op in ("num", "call"):
        return 0
    if op == "neg":
        return _coupling_power(node.args[0], symbol)
    if op == "*":
        parts = [_coupling_power(a, symbol) for a in node.args]
        return None if None in parts else sum(parts)
    if op == "/":
        a, b = (_coupling_power(x, symbol) for x in node.args)
        return None if a is None or b is None else a - b
    if op == "^":
        base, exp = node.args
        power = _coupling_power(base, symbol)
        if power is None or exp.op != "num" or exp.value.denominator != 1:
            return None
        return power * int(exp.value)
    if op == "+":
        parts = {_coupling_power(a, symbol) for a in node.args}
        return parts.pop() if len(parts) == 1 else None
    return None


def _denominator_factors(node, power: int, out: dict) -> None:
    """Factors (node -> power) of a denominator expression; numbers are dropped."""
    if node.op == "*":
        for a in node.args:
            _denominator_factors(a, power, out)
    elif node.op == "^" and node.args[1].op == "num" and node.args[1].value.denominator == 1:
        _denominator_factors(node.args[0], power * int(node.args[1].value), out)
    elif node.op == "neg":
        _denominator_factors(node.args[0], power, out)
    elif node.op != "num":
        key = str(node)
        out[key] = (node, out.get(key, (node, 0))[1] + power)


def _term_denominators(node, out: dict) -> None:
    if node.op == "/":
        _term_denominators(node.args[0], out)
        _denominator_factors(node.args[1], 1, out)
    elif node.op in ("*", "neg"):
        for a in node.args:
            _term_denominators(a, out)


def _random_values(n_legs: int, rng: random.Random) -> dict:
    """Independent random values of every symbol (not a physical point): polynomial identities."""

    vals = {
        f"s_{i}{j}": mpmath.mpf(rng.uniform(0.5, 2.0)) for i in range(1, n_legs + 1) for j in range(i + 1, n_legs + 1)
    }
    vals.update({m: mpmath.mpf(rng.uniform(0.1, 1.0)) for m in ALL_MASSES})
    vals.update({c: mpmath.mpf(rng.uniform(0.3, 1.2)) for c in ALL_COUPLINGS})
    return vals


def _node_value(node, values: dict) -> complex:

    return scalar_value(node, {k: complex(v) for k, v in values.items()})


def _propagators(tree, n_legs: int) -> list[tuple[object, int]]:
    """Distinct propagator denominators (equal up to a constant merged), each with the highest
    power it has in one term (diagram) of the amplitude."""
    terms = tree.args if tree.op == "+" else (tree,)
    rng = random.Random(3)
    probes = [_random_values(n_legs, rng) for _ in range(2)]
    merged: list[tuple[object, int, list[complex]]] = []
    for term in terms:
        found: dict = {}
        _term_denominators(term.args[0] if term.op == "neg" else term, found)
        for node, power in found.values():
            vals = [_node_value(node, p) for p in probes]
            for k, (_, best, ref) in enumerate(merged):
                if _proportional(vals, ref):
                    merged[k] = (merged[k][0], max(best, power), ref)
                    break
            else:
                merged.append((node, power, vals))
    return [(node, power) for node, power, _ in merged]


def _proportional(a: list, b: list, rtol: float = 1e-9) -> bool:
    if any(x == 0 for x in b) or any(x == 0 for x in a):
        return all(x == 0 for x in a) and all(y == 0 for y in b)
    ratios = [complex(x) / complex(y) for x, y in zip(a, b)]
    return all(abs(r - ratios[0]) <= rtol * abs(ratios[0]) for r in ratios[1:])


@lru_cache(maxsize=64)
def amplitude_facts(
    amplitude: str, process: str, theory: str, diagram: int, massless: tuple = (), n_points: int = 3
) -> AmplitudeFacts:
    """The facts of one row (cached: the beams of one row share them)."""

    proc = parse_process(process, theory, check=False).with_massless(massless)
    n = len(proc.legs)
    leg_masses = proc.leg_masses()
    has_vectors = any(not proc.model.particle(p).fermion for p in proc.legs)
    physical_sums = diagram == -1
    allowed = {f"s_{i}{j}" for i in range(1, n + 1) for j in range(i + 1, n + 1)}
    allowed |= {m for m in leg_masses if m} | set(ALL_COUPLINGS) | {REGULATOR}  # imports may keep reg_prop
    points = [random_point(leg_masses, proc.n_in, seed=AMPLITUDE_POINT_SEED + k) for k in range(n_points)]
    points = [p for p in points if p.physical]
    facts = AmplitudeFacts(n, frozenset(allowed), None, None, points, None, physical_sums or not has_vectors)
    if not points:
        facts.why_skipped["finite_real_positive"] = facts.why_skipped["amplitude_square"] = "no physical phase space"
    tree = None
    if not amplitude or len(amplitude) > MAX_AMPLITUDE_CHARS:
        reason = "no amplitude" if not amplitude else "amplitude too long"
    else:
        try:
            tree = parse(amplitude)
            reason = ""
        except ValueError as exc:  # an amplitude kept in MARTY's syntax, or malformed
            reason = f"amplitude not in our syntax ({str(exc)[:80]})"
    if tree is None:
        for check in ("coupling", "denominator", "amplitude_square"):
            facts.why_skipped.setdefault(check, reason)
        return facts
    facts.allowed_symbols = frozenset(allowed | _mass_names(tree))
    facts.coupling_powers = {c: _coupling_power(tree, c) for c in ALL_COUPLINGS}
    if None in facts.coupling_powers.values():
        facts.coupling_powers = None
        facts.why_skipped["coupling"] = "amplitude terms with different coupling powers"
    try:
        facts.propagators = _propagators(tree, n)
        if physical_sums:  # transverse sums bring 1/(k_i.k_j) of vector legs (reference momenta)
            vectors = [k + 1 for k, p in enumerate(proc.legs) if not proc.model.particle(p).fermion]
            facts.propagators += [
                (Node("name", value=f"s_{i}{j}"), 2) for i in vectors for j in vectors if i < j and len(vectors) > 1
            ]
    except (NumericSquareError, ArithmeticError) as exc:
        facts.why_skipped["denominator"] = str(exc)
    if points:
        try:
            facts.squares = [square_at_point(tree, proc, p, physical_sums) for p in points]
        except (NumericSquareError, ArithmeticError, ValueError) as exc:
            facts.why_skipped["amplitude_square"] = str(exc)[:120]
    return facts


def _mass_names(tree) -> set[str]:
    """Mass symbols written in the amplitude (internal propagator masses)."""
    out: set[str] = set()
    stack = [tree]
    while stack:
        node = stack.pop()
        if node.op == "name" and isinstance(node.value, str) and node.value.startswith("m_"):
            out.add(node.value)
        stack.extend(node.args)
    return out


# ---------------------------------------------------------------- the candidate's checks
def _value(expr, values):

    return evaluate(expr, {**values, REGULATOR: mpmath.mpf(0)})  # MARTY's regulator is zero


def _homogeneous(expr, values: dict, scaled: dict, degree: float) -> bool:
    """f(scaled) == SCALE**degree * f(values) (both zero passes: nothing to tell)."""
    a, b = _value(expr, values), _value(expr, scaled)
    expected = a * SCALE**degree
    return abs(b - expected) <= 1e-9 * max(abs(b), abs(expected)) or (a == 0 and b == 0)


def _check_denominators(expr, facts: AmplitudeFacts) -> bool:

    rng = random.Random(3)
    probes = [_random_values(facts.n_legs, rng) for _ in range(2)]
    props = [([_node_value(node, p) for p in probes], power) for node, power in facts.propagators]
    for node in sympy.preorder_traversal(expr):
        if not (node.is_Pow and node.exp.is_Integer and node.exp < 0) or node.base.is_number:
            continue
        vals = [complex(_value(node.base, p)) for p in probes]
        if not any(_proportional(vals, ref) and -int(node.exp) <= 2 * power for ref, power in props):
            return False
    return True


def verify(candidate: str, facts: AmplitudeFacts) -> Verdict:
    """Run every check on one candidate; the verdict lists those that fail and those skipped."""

    verdict = Verdict(skipped=[c for c in CHECKS if c in facts.why_skipped])
    try:
        expr = parse_expression(candidate)
        names = {s.name for s in expr.free_symbols}
    except (ValueError, ArithmeticError, TypeError, RecursionError):
        verdict.failed.append("parse")
        return verdict
    if not names <= facts.allowed_symbols:
        verdict.failed.append("parse")
        return verdict
    errors = (ZeroDivisionError, KinematicsError, ValueError, TypeError, ArithmeticError)

    def run(check: str, test) -> None:
        if check in verdict.skipped:
            return
        try:
            ok = test()
        except errors:
            ok = False
        if not ok:
            verdict.failed.append(check)

    base = _random_values(facts.n_legs, random.Random(11))

    def couplings_ok() -> bool:
        for coupling, power in (facts.coupling_powers or {}).items():
            scaled = dict(base, **{coupling: base[coupling] * SCALE})
            if not _homogeneous(expr, base, scaled, 2 * power):
                return False
        return True

    def dimension_ok() -> bool:
        scaled = {
            k: v * SCALE**2 if k.startswith("s_") else v * SCALE if k.startswith("m_") else v for k, v in base.items()
        }
        return _homogeneous(expr, base, scaled, 2 * (4 - facts.n_legs))

    values = []

    def finite_real_positive() -> bool:
        for point in facts.points:
            v = mpmath.mpc(_value(expr, point.values()))
            if not (mpmath.isfinite(v.real) and mpmath.isfinite(v.imag)) or abs(v.imag) > 1e-20 * max(1, abs(v)):
                return False
            if facts.positive and v.real < 0:
                return False
            values.append(float(v.real))
        return True

    def square_ok() -> bool:
        if len(values) != len(facts.points):  # the candidate could not be evaluated at every point
            values[:] = [float(mpmath.re(_value(expr, p.values()))) for p in facts.points]
        for mine, theirs in zip(values, facts.squares):
            if not (math.isfinite(mine) and abs(mine - theirs) <= RTOL * max(abs(mine), abs(theirs), 1e-300)):
                return False
        return True

    if facts.coupling_powers is not None:
        run("coupling", couplings_ok)
    if facts.propagators is not None:
        run("denominator", lambda: _check_denominators(expr, facts))
    run("dimension", dimension_ok)
    run("finite_real_positive", finite_real_positive)
    if facts.squares is not None:
        run("amplitude_square", square_ok)
    return verdict


def verify_candidate(
    candidate: str, amplitude: str, process: str, theory: str, diagram: int, massless=(), n_points: int = 3
) -> Verdict:
    """:func:`verify` against the facts of one row's amplitude (cached per row)."""
    try:
        facts = amplitude_facts(amplitude or "", process, theory, int(diagram), tuple(sorted(massless)), n_points)
    except ValueError:  # a process we cannot read: nothing can be checked
        return Verdict(skipped=list(CHECKS))
    return verify(candidate, facts)
