"""3->2 and 3->3 squares (averaging over three initial states) against the brute force."""

from __future__ import annotations

import pytest

from symba.physics import compute_process, parse_process
from symba.physics.kinematics import evaluate, random_point

from .bruteforce import BruteForce, kinematics_from_point


@pytest.mark.parametrize(
    "text, theory",
    [
        ("e- e+ a -> mu- mu+", "qed"),
        ("e- a a -> e- a", "qed"),
        ("u u~ g -> d d~", "qcd"),
        pytest.param("e- e+ a -> mu- mu+ a", "qed", marks=pytest.mark.slow),  # 2->3 with three incoming: ~10 s
    ],
)
def test_three_incoming_particles(text, theory):
    proc = parse_process(text, theory)
    result = compute_process(proc)
    brute = BruteForce(proc)
    point = random_point(proc.leg_masses(), proc.n_in, seed=3)
    assert point.physical
    kin, values = kinematics_from_point(point, proc.n_in), point.values()
    expected = brute.squared_per_diagram(kin)
    for i, diagram in enumerate(result.diagrams):
        assert float(evaluate(diagram.squared_amplitude, values)) == pytest.approx(expected[i], rel=1e-8)
    assert float(evaluate(result.squared_amplitude, values)) == pytest.approx(brute.squared_process(kin), rel=1e-8)
