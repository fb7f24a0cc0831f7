"""Gauge invariance of the whole-process amplitude, numerically.

Ward identity: replacing one external photon's or gluon's polarisation vector by its
momentum (all other vector bosons physical) makes the sum over diagrams vanish,
although single diagrams do not.  Checked on the brute force and on the engine's own
amplitude strings, contracted numerically; the engine's amplitude of every diagram
must also equal the brute force's, for every spin and colour, up to one phase per process.
The physical squared sum must not depend on the reference vector of the polarisations.
"""

from __future__ import annotations

import numpy as np
import pytest

from symba.physics.kinematics import random_point
from symba.physics.process import parse_process

from .bruteforce import AmplitudeEvaluator, BruteForce, kinematics_from_point, transverse_polarisations

WARD_TOL = 1e-10

PROCESSES = [
    ("e- a -> e- a", "qed"),
    ("e- e+ -> a a", "qed"),
    ("a a -> mu- mu+", "qed"),
    ("e- e+ -> mu- mu+ a", "qed"),
    ("e- e- -> e- e- a", "qed"),
    ("e- e+ -> a a a", "qed"),
    ("u u~ -> g g", "qcd"),
    ("u g -> u g", "qcd"),
    ("g g -> g g", "qcd"),
    ("t t~ -> g g", "qcd"),
    ("u u~ -> d d~ g", "qcd"),
    ("u g -> u g g", "qcd"),
    ("u u~ -> g g g", "qcd"),
]
IDS = [p[0] for p in PROCESSES]
# Engine results are cached per session (conftest.py), so these share test_bruteforce.py's engine calls.
ENGINE_PROCESSES = PROCESSES


def _setup(text, theory, seed):
    proc = parse_process(text, theory)
    point = random_point(proc.leg_masses(), proc.n_in, seed)
    assert point.physical
    return BruteForce(proc), kinematics_from_point(point, proc.n_in)


def _vector_legs(brute):
    return [k for k, sp in enumerate(brute.leg_species) if sp.kind != "fermion"]


def _momentum_as_polarisation(kin, leg):
    return kin.momenta[leg][None, :]  # one "polarisation": eps^mu = k^mu


@pytest.mark.parametrize("text, theory", PROCESSES, ids=IDS)
def test_ward_identity_bruteforce(text, theory):
    brute, kin = _setup(text, theory, seed=71)
    for leg in _vector_legs(brute):
        overrides = {leg: _momentum_as_polarisation(kin, leg)}
        diagrams = brute.diagram_amplitudes(kin, "physical", overrides)
        scale = max(np.max(np.abs(d)) for d in diagrams)
        total = sum(diagrams)
        assert scale > 0
        assert np.max(np.abs(total)) < WARD_TOL * scale, f"{text}: leg {leg + 1}"


def test_ward_check_has_teeth():
    # A single Compton diagram is not gauge invariant: the check above can fail.
    brute, kin = _setup("e- a -> e- a", "qed", seed=71)
    physical_scale = np.max(np.abs(brute.amplitude(kin)))
    diagrams = brute.diagram_amplitudes(kin, "physical", {1: _momentum_as_polarisation(kin, 1)})
    assert np.max(np.abs(diagrams[0])) > 1e-2 * physical_scale
    assert np.max(np.abs(diagrams[0] + diagrams[1])) < WARD_TOL * physical_scale


# Five gluons: the squared sum is cheap on the brute force (colour matrix), the dense amplitude is not.
@pytest.mark.parametrize("text, theory", PROCESSES + [("g g -> g g g", "qcd")], ids=IDS + ["g g -> g g g"])
def test_reference_vector_independence_bruteforce(text, theory):
    brute, kin = _setup(text, theory, seed=72)
    default = brute.squared_process(kin)
    rng = np.random.default_rng(5)
    for _ in range(2):
        overrides = {}
        for leg in _vector_legs(brute):
            q3 = rng.normal(size=3)
            reference = np.concatenate([[np.linalg.norm(q3)], q3])  # light-like reference vector
            overrides[leg] = transverse_polarisations(kin.momenta[leg], reference)
        assert brute.squared_process(kin, overrides) == pytest.approx(default, rel=1e-9)


@pytest.mark.parametrize("text, theory", ENGINE_PROCESSES, ids=[p[0] for p in ENGINE_PROCESSES])
def test_engine_amplitudes_match_bruteforce(text, theory, engine_result):
    brute, kin = _setup(text, theory, seed=73)
    result = engine_result(text, theory)
    evaluate = AmplitudeEvaluator(brute, kin)
    engine = [evaluate(d.amplitude) for d in result.diagrams]
    expected = brute.diagram_amplitudes(kin)
    assert len(engine) == len(expected)
    # One phase for the whole process: relative signs between diagrams must agree.
    biggest = max(range(len(expected)), key=lambda d: np.max(np.abs(expected[d])))
    k = np.argmax(np.abs(expected[biggest]))
    phase = engine[biggest].reshape(-1)[k] / expected[biggest].reshape(-1)[k]
    assert abs(phase) == pytest.approx(1, rel=1e-9)
    for d, (got, want) in enumerate(zip(engine, expected)):
        err = np.max(np.abs(got - phase * want)) / np.max(np.abs(want))
        assert err < 1e-9, f"{text} diagram {d} ({result.diagrams[d].propagators}): relative difference {err}"


@pytest.mark.parametrize("text, theory", ENGINE_PROCESSES, ids=[p[0] for p in ENGINE_PROCESSES])
def test_ward_identity_engine_amplitudes(text, theory, engine_result):
    brute, kin = _setup(text, theory, seed=74)
    result = engine_result(text, theory)
    for leg in _vector_legs(brute):
        evaluate = AmplitudeEvaluator(brute, kin, "physical", {leg: _momentum_as_polarisation(kin, leg)})
        diagrams = [evaluate(d.amplitude) for d in result.diagrams]
        scale = max(np.max(np.abs(d)) for d in diagrams)
        assert np.max(np.abs(sum(diagrams))) < WARD_TOL * scale, f"{text}: leg {leg + 1}"


def test_ward_identity_needs_the_three_gluon_vertex():
    # Without the s-channel three-gluon diagram the quark-exchange diagrams alone violate the Ward identity.
    brute, kin = _setup("u u~ -> g g", "qcd", seed=71)
    physical_scale = np.max(np.abs(brute.amplitude(kin)))
    diagrams = brute.diagram_amplitudes(kin, "physical", {2: _momentum_as_polarisation(kin, 2)})
    gluon_exchange = [
        d for d, topo in enumerate(brute.topologies) if any(l.name == "g" and l.leg is None for l in topo.lines)
    ]
    assert len(gluon_exchange) == 1
    quark_exchange = sum(a for d, a in enumerate(diagrams) if d not in gluon_exchange)
    assert np.max(np.abs(quark_exchange)) > 1e-2 * physical_scale
    assert np.max(np.abs(quark_exchange + diagrams[gluon_exchange[0]])) < WARD_TOL * physical_scale
