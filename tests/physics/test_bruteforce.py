"""The engine's squared amplitudes against the numeric brute force, per diagram and per process.

The brute force (bruteforce.py) builds every diagram from explicit Dirac matrices,
spinors, polarisation vectors and SU(3) generators; the first tests here check those
building blocks, the rest compare with ``compute_process`` at random physical points.
"""

from __future__ import annotations

import numpy as np
import pytest

from symba.physics.kinematics import evaluate, random_point
from symba.physics.process import parse_process

from .bruteforce import (
    F_SU3,
    FEYNMAN_BASIS,
    FEYNMAN_WEIGHTS,
    GAMMA,
    METRIC,
    T_SU3,
    BruteForce,
    bar,
    kinematics_from_point,
    slash,
    spinors_u,
    spinors_v,
    transverse_polarisations,
)

RTOL = 1e-8


def _on_shell(p3, m):
    p3 = np.asarray(p3, dtype=float)
    return np.concatenate([[np.sqrt(m * m + p3 @ p3)], p3])


# ---------------------------------------------------------------- building blocks
def test_clifford_algebra():
    anti = np.einsum("mab,nbc->mnac", GAMMA, GAMMA) + np.einsum("nab,mbc->mnac", GAMMA, GAMMA)
    expected = 2 * np.einsum("mn,ac->mnac", np.linalg.inv(METRIC), np.eye(4))
    assert np.allclose(anti, expected)


@pytest.mark.parametrize("mass", [0.0, 0.7])
def test_spinor_sums_and_normalisation(mass):
    p = _on_shell([0.3, -0.4, 1.1], mass)
    u, v = spinors_u(p, mass), spinors_v(p, mass)
    # P&S eqs. (3.66)-(3.67): sum_s u ubar = pslash + m, sum_s v vbar = pslash - m
    assert np.allclose(u.T @ bar(u), slash(p) + mass * np.eye(4))
    assert np.allclose(v.T @ bar(v), slash(p) - mass * np.eye(4))
    assert np.allclose(bar(u) @ u.T, 2 * mass * np.eye(2))
    assert np.allclose(bar(v) @ v.T, -2 * mass * np.eye(2))
    # Dirac equation: (pslash - m) u = 0, (pslash + m) v = 0
    assert np.allclose((slash(p) - mass * np.eye(4)) @ u.T, 0)
    assert np.allclose((slash(p) + mass * np.eye(4)) @ v.T, 0)


def test_su3_generators():
    comm = np.einsum("aij,bjk->abik", T_SU3, T_SU3) - np.einsum("bij,ajk->abik", T_SU3, T_SU3)
    assert np.allclose(comm, 1j * np.einsum("abc,cik->abik", F_SU3, T_SU3))
    assert np.allclose(np.einsum("aij,bji->ab", T_SU3, T_SU3), np.eye(8) / 2)  # T_F = 1/2
    assert np.allclose(np.einsum("aij,ajk->ik", T_SU3, T_SU3), 4 / 3 * np.eye(3))  # C_F = 4/3
    assert np.allclose(np.einsum("acd,bcd->ab", F_SU3, F_SU3), 3 * np.eye(8))  # C_A = 3
    assert F_SU3[0, 1, 2] == pytest.approx(1.0)  # f^{123} = 1


def test_polarisation_vectors():
    k = _on_shell([0.2, 0.9, -0.5], 0.0)
    for reference in (None, _on_shell([-1.0, 0.3, 0.2], 0.0)):
        eps = transverse_polarisations(k, reference)
        assert np.allclose(eps @ METRIC @ k, 0)
        assert np.allclose(eps @ METRIC @ eps.T, -np.eye(2))
        if reference is not None:
            assert np.allclose(eps @ METRIC @ reference, 0)
    # The Feynman-gauge basis with weights -g_{ll} sums to -g^{mu nu}.
    assert np.allclose(np.einsum("l,lm,ln->mn", FEYNMAN_WEIGHTS, FEYNMAN_BASIS, FEYNMAN_BASIS), -np.linalg.inv(METRIC))


@pytest.mark.parametrize(
    "text, theory, signs",
    [
        ("e- e- -> e- e-", "qed", {-1, 1}),  # t and u channel differ by the exchange of two fermions
        ("e- e+ -> e- e+", "qed", {-1, 1}),  # Bhabha: s and t channel
        ("e- e+ -> mu- mu+ a", "qed", {-1}),  # one fermion ordering for every diagram
    ],
)
def test_relative_fermion_signs(text, theory, signs):
    brute = BruteForce(text, theory)
    assert {t.sign for t in brute.topologies} == signs


# ---------------------------------------------------------------- engine against the brute force
QED = [
    ("e- e+ -> mu- mu+", ()),
    ("e- e- -> e- e-", ()),
    ("e- e+ -> e- e+", ()),
    ("e- a -> e- a", ()),
    ("e- e+ -> a a", ()),
    ("u u~ -> e- e+", ()),
    ("a a -> mu- mu+", ()),
    ("e- mu- -> e- mu-", ()),
]
QED_2TO3 = [
    ("e- e+ -> mu- mu+ a", ()),
    ("e- e- -> e- e- a", ()),
    ("e- e+ -> e- e+ a", ()),
]
QCD = [
    ("u u~ -> d d~", ()),
    ("u u -> u u", ()),
    ("u u~ -> g g", ()),
    ("u g -> u g", ()),
    ("g g -> g g", ()),
    ("t t~ -> g g", ()),
    ("u u~ -> u u~", ("m_u",)),
]
QCD_2TO3 = [
    ("u u~ -> d d~ g", ("m_u", "m_d")),
    ("u u -> u u g", ("m_u",)),
    ("u u~ -> g g g", ("m_u",)),
    ("u g -> u g g", ("m_u",)),
]


def compare_with_engine(engine_result, text, theory, zero_masses, seeds):
    proc = parse_process(text, theory)
    brute = BruteForce(proc)
    result = engine_result(text, theory)
    assert len(result.diagrams) == len(brute.topologies)
    for seed in seeds:
        point = random_point(proc.leg_masses(), proc.n_in, seed, zero_masses=zero_masses)
        assert point.physical
        values = point.values()
        kin = kinematics_from_point(point, proc.n_in)
        expected = brute.squared_per_diagram(kin)
        for index, diagram in enumerate(result.diagrams):
            got = float(evaluate(diagram.squared_amplitude, values))
            assert got == pytest.approx(expected[index], rel=RTOL), (
                f"{text} diagram {index} ({diagram.propagators}) at seed {seed}: ratio {got / expected[index]}"
            )
        got = float(evaluate(result.squared_amplitude, values))
        expected_total = brute.squared_process(kin)
        assert got == pytest.approx(expected_total, rel=RTOL), (
            f"{text} whole process at seed {seed}: ratio {got / expected_total}"
        )


@pytest.mark.parametrize("text, zero", QED, ids=[c[0] for c in QED])
def test_qed_2to2_against_bruteforce(text, zero, engine_result):
    compare_with_engine(engine_result, text, "qed", zero, seeds=(21, 22, 23))


@pytest.mark.parametrize("text, zero", QED_2TO3, ids=[c[0] for c in QED_2TO3])
def test_qed_2to3_against_bruteforce(text, zero, engine_result):
    compare_with_engine(engine_result, text, "qed", zero, seeds=(31, 32))


@pytest.mark.parametrize("text, zero", QCD, ids=[c[0] for c in QCD])
def test_qcd_2to2_against_bruteforce(text, zero, engine_result):
    compare_with_engine(engine_result, text, "qcd", zero, seeds=(41, 42, 43))


@pytest.mark.slow
@pytest.mark.parametrize("text, zero", QCD_2TO3, ids=[c[0] for c in QCD_2TO3])
def test_qcd_2to3_against_bruteforce(text, zero, engine_result):
    compare_with_engine(engine_result, text, "qcd", zero, seeds=(51, 52))
