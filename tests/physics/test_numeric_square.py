"""The library's numeric spin-summed square of an amplitude's text (symba.physics.numeric_square),
against textbook formulas and the tests' independent brute force (its own Dirac basis, diagrams
and colour algebra).  The amplitude texts are the engine's printer output (no FORM involved);
the squares compared with are never the engine's."""

from __future__ import annotations

import math

import numpy as np
import pytest

from symba.physics.amplitude_printing import amplitude_text
from symba.physics.amplitude_syntax import parse
from symba.physics.diagrams import build_diagrams
from symba.physics.kinematics import random_point
from symba.physics.numeric_square import (
    F_SU3,
    GAMMA,
    METRIC,
    T_SU3,
    NumericSquareError,
    bar,
    slash,
    spinors_u,
    spinors_v,
    square_at_point,
    transverse_polarisations,
)
from symba.physics.process import parse_process

from .bruteforce import BruteForce, kinematics_from_point

RTOL = 1e-7


def _on_shell(p3, m):
    return np.array([math.sqrt(m * m + sum(x * x for x in p3))] + list(p3))


def test_dirac_algebra_and_spin_sums():
    g = np.linalg.inv(METRIC)
    for mu in range(4):
        for nu in range(4):
            anti = GAMMA[mu] @ GAMMA[nu] + GAMMA[nu] @ GAMMA[mu]
            assert np.allclose(anti, 2 * g[mu, nu] * np.eye(4))
    p, m = _on_shell([0.3, -0.7, 0.4], 0.6), 0.6
    u, v = spinors_u(p, m), spinors_v(p, m)
    assert np.allclose(np.einsum("sa,sb->ab", u, bar(u)), slash(p) + m * np.eye(4))  # P&S (3.66)
    assert np.allclose(np.einsum("sa,sb->ab", v, bar(v)), slash(p) - m * np.eye(4))  # P&S (3.67)
    assert np.allclose(bar(u) @ u.T, 2 * m * np.eye(2))


def test_su3_and_polarisations():
    assert np.allclose(np.einsum("aij,bji->ab", T_SU3, T_SU3), np.eye(8) / 2)  # T_F = 1/2
    assert np.allclose(np.einsum("acd,bcd->ab", F_SU3, F_SU3), 3 * np.eye(8))  # C_A = 3
    assert F_SU3[0, 1, 2] == pytest.approx(1.0)
    k = _on_shell([0.2, 0.9, -0.5], 0.0)
    eps = transverse_polarisations(k)
    assert np.allclose(eps @ METRIC @ k, 0)
    assert np.allclose(eps @ METRIC @ eps.T, -np.eye(2))


def test_textbook_ee_to_mumu():
    """docs/physics.md section 4: e- e+ -> mu- mu+, masses kept."""
    amp = (
        "-i*e^2*vbar(e,p_2,d1)*gamma(mu1,d1,d2)*u(e,p_1,d2)*ubar(mu,p_3,d3)*gamma(mu1,d3,d4)*v(mu,p_4,d4)"
        "/(2*m_e^2 + 2*s_12)"
    )
    proc = parse_process("e- e+ -> mu- mu+", "qed")
    for seed in range(3):
        point = random_point(proc.leg_masses(), proc.n_in, seed=seed)
        v = {k: float(x) for k, x in point.values().items()}
        me, mm = v["m_e"], v["m_mu"]
        expected = (
            2
            * v["e"] ** 4
            * (
                v["s_13"] * v["s_24"]
                + v["s_14"] * v["s_23"]
                + mm**2 * v["s_12"]
                + me**2 * v["s_34"]
                + 2 * me**2 * mm**2
            )
            / (me**2 + v["s_12"]) ** 2
        )
        assert square_at_point(parse(amp), proc, point, physical=False) == pytest.approx(expected, rel=RTOL)


def test_textbook_annihilation_to_photons():
    """e- e+ -> a a, massless, the t-channel diagram alone: e^4 s_14 s_24 / s_13^2 (docs section 4),
    and the whole process against Peskin & Schroeder (5.105) at m = 0: 2 e^4 (u/t + t/u)."""
    proc = parse_process("e- e+ -> a a", "qed")
    legs = proc.leg_masses()
    diagrams = build_diagrams(proc)
    texts = [amplitude_text(d, legs) for d in diagrams]
    whole = " + ".join(f"({t})" for t in texts)
    for seed in range(3):
        point = random_point(legs, proc.n_in, seed=seed, zero_masses=("m_e",))
        v = {k: float(x) for k, x in point.values().items()}
        t_channel = [t for t in texts if "p_1 - p_3" in t or "-p_3 + p_1" in t]
        assert len(t_channel) == 1
        got = square_at_point(parse(t_channel[0]), proc, point, physical=False)
        assert got == pytest.approx(v["e"] ** 4 * v["s_14"] * v["s_24"] / v["s_13"] ** 2, rel=RTOL)
        t, u = -2 * v["s_13"], -2 * v["s_14"]
        expected = 2 * v["e"] ** 4 * (u / t + t / u) / 2  # 1/2: two identical photons
        assert square_at_point(parse(whole), proc, point, physical=True) == pytest.approx(expected, rel=RTOL)


CASES = [
    ("e- e+ -> e- e+", "qed", ()),
    ("e- a -> e- a", "qed", ()),
    ("u u~ -> d d~", "qcd", ()),
    ("u u~ -> g g", "qcd", ()),
    ("u g -> u g", "qcd", ()),
    ("g g -> g g", "qcd", ()),
    ("e- e+ -> mu- mu+ a", "qed", ()),
    ("u u~ -> d d~ g", "qcd", ("m_u", "m_d")),
]


@pytest.mark.parametrize("text, theory, zero", CASES)
def test_against_bruteforce(text, theory, zero):
    """Per diagram with -g sums and the whole process with physical sums, as the brute force."""
    proc = parse_process(text, theory)
    brute = BruteForce(proc)
    legs = proc.leg_masses()
    texts = [amplitude_text(d, legs) for d in build_diagrams(proc)]
    assert len(texts) == len(brute.topologies)
    whole = parse(" + ".join(f"({t})" for t in texts))
    for seed in (1, 2):
        point = random_point(legs, proc.n_in, seed=seed, zero_masses=zero)
        kin = kinematics_from_point(point, proc.n_in)
        expected = brute.squared_per_diagram(kin)
        for index, amp in enumerate(texts):
            got = square_at_point(parse(amp), proc, point, physical=False)
            assert got == pytest.approx(expected[index], rel=RTOL), f"{text} diagram {index}"
        assert square_at_point(whole, proc, point, physical=True) == pytest.approx(brute.squared_process(kin), rel=RTOL)


@pytest.mark.parametrize(
    "amp, problem",
    [
        ("e^2*u(e,p_1,d1)*gamma(mu1,d1,d2)", "no external state for leg"),
        ("e^2*u(e,p_1,d1)*v(e,p_2,d1)*ubar(mu,p_3,d2)*v(mu,p_4,d3)", "free indices"),
        ("e^2*frob(p_1,d1)", "unknown object"),
        ("e^2*u(e,p_9,d1)", "p_9"),
        ("x*u(e,p_1,d1)", "no value for symbol"),
    ],
)
def test_unreadable_amplitudes_are_named_errors(amp, problem):
    proc = parse_process("e- e+ -> mu- mu+", "qed")
    point = random_point(proc.leg_masses(), proc.n_in, seed=1)
    with pytest.raises(NumericSquareError, match=problem):
        square_at_point(parse(amp), proc, point, physical=False)
