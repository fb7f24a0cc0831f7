"""Whole-process squares with several external gluons (symba.physics.gluon_sums).

Independent truth: the Parke-Taylor sum for five gluons, and the brute force
(bruteforce.py, physical polarisation vectors) for the QCD 2->3 processes with
two or more gluons.  The brute-force sample rotates with SYMBA_GLUON_SAMPLE_SEED
(fixed default), so that over many CI runs every process is seen.
"""

from __future__ import annotations

import os
import random
import re

import numpy as np
import pytest

from symba.physics.builtin import compute_builtin
from symba.physics.diagrams import build_diagrams
from symba.physics.kinematics import evaluate, random_point
from symba.physics.process import enumerate_processes, parse_process
from symba.physics.squaring import square

from .bruteforce import BruteForce, kinematics_from_point, transverse_polarisations
from .test_textbook import parke_taylor_sum

RTOL = 1e-9
SAMPLE_SEED = int(os.environ.get("SYMBA_GLUON_SAMPLE_SEED", "0"))
SAMPLE_SIZE = 2


# ---------------------------------------------------------------- a fast evaluator for large squares
_TOKEN = re.compile(r"\d+|[A-Za-z_][A-Za-z_0-9]*|[^\s]")


def polynomial_value(text: str, values: dict[str, object]) -> np.ndarray:
    """Value of a squared amplitude (numbers, names, + - * / ^ and parentheses) in floats.

    The project's evaluate() builds a SymPy tree first, which takes minutes for the
    200,000 terms of g g -> g g g; this reads the text once.  ``values`` may hold
    arrays, one entry per point, so several points cost one pass.  Sums are
    pairwise (numpy), which keeps the rounding error near that of single terms.
    """
    tokens = _TOKEN.findall(text)
    tokens.append("")
    pos = 0

    def atom():
        nonlocal pos
        tok = tokens[pos]
        pos += 1
        if tok[:1].isdigit():
            return float(tok)
        if tok[:1].isalpha() or tok[:1] == "_":
            return np.asarray(values[tok], dtype=float)
        if tok == "(":
            value = expression()
            if tokens[pos] != ")":
                raise ValueError("unbalanced parentheses")
            pos += 1
            return value
        if tok == "-":
            return -power()
        raise ValueError(f"unexpected token {tok!r}")

    def power():
        nonlocal pos
        base = atom()
        if tokens[pos] == "^":
            pos += 1
            return base ** int(atom())
        return base

    def product():
        nonlocal pos
        value = power()
        while tokens[pos] in ("*", "/"):
            op = tokens[pos]
            pos += 1
            value = value * power() if op == "*" else value / power()
        return value

    def expression():
        nonlocal pos
        terms = []
        sign = 1.0
        if tokens[pos] in ("+", "-"):
            sign = -1.0 if tokens[pos] == "-" else 1.0
            pos += 1
        terms.append(sign * product())
        while tokens[pos] in ("+", "-"):
            sign = -1.0 if tokens[pos] == "-" else 1.0
            pos += 1
            terms.append(sign * product())
        return np.sum(np.broadcast_arrays(*terms), axis=0) if len(terms) > 1 else terms[0]

    value = expression()
    if tokens[pos] != "":
        raise ValueError(f"trailing token {tokens[pos]!r}")
    return value


def _point_values(proc, seeds) -> dict[str, np.ndarray]:
    """Symbol values at several random physical points, one array entry per point."""
    points = [random_point(proc.leg_masses(), proc.n_in, seed) for seed in seeds]
    assert all(p.physical for p in points)
    names = points[0].values().keys()
    return {k: np.array([float(p.values()[k]) for p in points]) for k in names}


def test_polynomial_value_agrees_with_evaluate():
    text = "-2*(s_12 + 3/4*m_u^2)^-1*g_s^4*(s_13 - s_12^2*(s_23 - 1)) + 5/2"
    values = {"s_12": 1.3, "s_13": -0.4, "s_23": 2.2, "m_u": 0.7, "g_s": 1.1}
    assert polynomial_value(text, values) == pytest.approx(float(evaluate(text, values)), rel=1e-14)


# ---------------------------------------------------------------- only gluons: Parke-Taylor
@pytest.mark.parametrize(
    "text, average",
    [
        # spins 1/2 * 1/2, colours 1/8 * 1/8, two identical gluons 1/2!
        pytest.param("g g -> g g", 1 / (4 * 64 * 2), id="g g -> g g"),
        pytest.param("g g -> g g g", 1 / (4 * 64 * 6), marks=pytest.mark.slow, id="g g -> g g g"),
        pytest.param("g g g -> g g", 1 / (8 * 512 * 2), marks=pytest.mark.slow, id="g g g -> g g"),  # three incoming
    ],
)
def test_gluons_against_parke_taylor(text, average, engine_result):
    proc = parse_process(text, "qcd")
    result = engine_result(text, "qcd")
    seeds = (11, 12, 13)
    got = polynomial_value(result.squared_amplitude, _point_values(proc, seeds))
    for k, seed in enumerate(seeds):
        point = random_point(proc.leg_masses(), proc.n_in, seed)
        outgoing = [
            [-float(x) for x in p] if i < proc.n_in else [float(x) for x in p] for i, p in enumerate(point.momenta)
        ]
        want = average * parke_taylor_sum(outgoing, float(point.values()["g_s"]))
        assert got[k] == pytest.approx(want, rel=RTOL), f"{text} at seed {seed}: ratio {got[k] / want}"


# ---------------------------------------------------------------- QCD 2->3 with two or more gluons
def _many_gluon_processes() -> list[str]:
    procs = [str(p) for p in enumerate_processes("qcd", ["2->3"]) if p.legs.count("g") >= 2]
    return [p for p in procs if p != "g g -> g g g"]  # against Parke-Taylor above


def _sample() -> list[str]:
    procs = _many_gluon_processes()
    chosen = random.Random(SAMPLE_SEED).sample(procs, SAMPLE_SIZE)
    return sorted(set(chosen) | {"u g -> u g g"})


def test_sample_covers_the_processes_with_two_or_more_gluons():
    procs = _many_gluon_processes()
    assert len(procs) == 24 and "g g -> t t~ g" in procs and "u~ g -> u~ g g" in procs
    # Different seeds pick different processes.
    picks = {tuple(random.Random(seed).sample(procs, SAMPLE_SIZE)) for seed in range(5)}
    assert len(picks) > 1


@pytest.mark.slow
@pytest.mark.parametrize("text", _sample())
def test_qcd_2to3_with_gluons_against_bruteforce(text, engine_result):
    proc = parse_process(text, "qcd")
    brute = BruteForce(proc)
    result = engine_result(text, "qcd")
    seeds = (61, 62)
    got = polynomial_value(result.squared_amplitude, _point_values(proc, seeds))
    for k, seed in enumerate(seeds):
        point = random_point(proc.leg_masses(), proc.n_in, seed)
        want = brute.squared_process(kinematics_from_point(point, proc.n_in))
        assert got[k] == pytest.approx(want, rel=RTOL), f"{text} at seed {seed}: ratio {got[k] / want}"


# ---------------------------------------------------------------- same answer as the former route
# g -> g g and g g -> g have no phase space: compared at random s_ij, the polynomials must agree.
@pytest.mark.parametrize(
    "text",
    ["g g -> g g", "u u~ -> g g", "u g -> u g", "t t~ -> g g", "g -> g g", "g g -> g"],
)
def test_gluon_sums_equal_the_pairs_route(text):
    proc = parse_process(text, "qcd")
    diagrams = build_diagrams(proc)
    per_new, total_new = square(proc, diagrams)
    per_old, total_old = square(proc, diagrams, whole_process_route="pairs")
    assert per_new == per_old  # per-diagram squares do not depend on the route
    for seed in (1, 2):
        values = random_point(proc.leg_masses(), proc.n_in, seed).values()
        new, old = evaluate(total_new, values), evaluate(total_old, values)
        assert abs(new - old) < 1e-30 * abs(old)


def test_unknown_route_is_refused():
    proc = parse_process("g g -> g g", "qcd")
    with pytest.raises(ValueError, match="unknown whole-process route 'x'"):
        square(proc, build_diagrams(proc), whole_process_route="x")


def test_gluon_square_without_a_timeout():
    # One budget for both FORM runs: without a bound there is nothing to share.
    proc = parse_process("u u~ -> g g", "qcd")
    per_diagram, total = square(proc, build_diagrams(proc), timeout=None)
    assert len(per_diagram) == 3 and "g_s" in total


# ---------------------------------------------------------------- gauge invariance
@pytest.mark.slow
@pytest.mark.parametrize(
    "text, references",
    [
        (
            "u g -> u g g",
            {3: 1, 4: 1},
        ),  # physical sums on legs 4 and 5, both with gluon 2 as reference
        ("u g -> u g g", {1: 4, 4: 3}),  # the -g sum on leg 4 instead of leg 5
        (
            "g g -> g g g",
            {1: 0, 2: 0, 3: 0, 4: 0},
        ),  # reference: gluon 1; -g sum on gluon 1
    ],
    ids=["u g -> u g g, -g on 2", "u g -> u g g, -g on 4", "g g -> g g g, -g on 1"],
)
def test_square_does_not_depend_on_the_reference_vectors(text, references, engine_result):
    proc = parse_process(text, "qcd")
    default = engine_result(text, "qcd").squared_amplitude
    other = compute_builtin(proc, physical_references=references).squared_amplitude
    values = _point_values(proc, (81, 82))
    assert polynomial_value(other, values) == pytest.approx(polynomial_value(default, values), rel=RTOL)


@pytest.mark.slow
def test_ward_identity_five_gluons_bruteforce():
    # Polarisation of one gluon -> its momentum, the others physical: the sum over diagrams vanishes.
    proc = parse_process("g g -> g g g", "qcd")
    brute = BruteForce(proc)
    point = random_point(proc.leg_masses(), proc.n_in, 71)
    kin = kinematics_from_point(point, proc.n_in)
    for leg in (0, 3):
        overrides = {k: transverse_polarisations(kin.momenta[k]) for k in range(5)}
        overrides[leg] = kin.momenta[leg][None, :]
        diagrams = brute.diagram_amplitudes(kin, "physical", overrides)
        scale = max(np.max(np.abs(d)) for d in diagrams)
        assert scale > 0
        assert np.max(np.abs(sum(diagrams))) < 1e-10 * scale
