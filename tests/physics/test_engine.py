"""Engine output: symbols, exactness, determinism, gauge-reference independence, FORM errors."""

from __future__ import annotations

import pytest
import sympy

from symba.physics import compute_process, parse_process
from symba.physics.amplitude_syntax import canonical, parse
from symba.physics.builtin import compute_builtin
from symba.physics.expression_parser import parse_expression, symbol_table
from symba.physics.form.runner import FormError, run_form
from symba.physics.kinematics import evaluate, numerically_equal, random_point

ALLOWED = set(symbol_table()) - {"i"}


@pytest.mark.parametrize(
    "text, theory",
    [("e- e+ -> mu- mu+", "qed"), ("e- a -> e- a", "qed"), ("u u~ -> g g", "qcd"), ("g g -> g g", "qcd")],
)
def test_squared_amplitudes_use_only_physics_symbols_and_exact_rationals(text, theory):
    result = compute_process(text, theory)
    for expr_text in [d.squared_amplitude for d in result.diagrams] + [result.squared_amplitude]:
        assert "." not in expr_text, "no floating-point numbers"
        expr = parse_expression(expr_text)
        assert {s.name for s in expr.free_symbols} <= ALLOWED
        assert not expr.has(sympy.I)
        assert all(isinstance(a, sympy.Rational) for a in expr.atoms(sympy.Number))
    # small results also go straight through sympify
    small = result.diagrams[0].squared_amplitude
    assert sympy.sympify(small, locals=symbol_table()) == parse_expression(small)


def test_amplitudes_are_deterministic_canonical_and_parse():
    a = compute_process("e- e+ -> mu- mu+ a", "qed")
    b = compute_process("e- e+ -> mu- mu+ a", "qed")
    assert [d.amplitude for d in a.diagrams] == [d.amplitude for d in b.diagrams]
    for d in a.diagrams:
        assert canonical(d.amplitude) == d.amplitude
        tree = parse(d.amplitude)
        assert tree.op in ("*", "/", "neg")
    assert a.diagrams[0].amplitude.startswith("i*e^3*vbar(e,p_2,d1)*gamma(mu1,d1,d2)*u(e,p_1,d2)")


def test_worked_examples_of_physics_md():
    r = compute_process("e- e+ -> mu- mu+", "qed")
    ref = "2*e^4*(s_13*s_24 + s_14*s_23 + m_mu^2*s_12 + m_e^2*s_34 + 2*m_e^2*m_mu^2) / (m_e^2 + s_12)^2"
    masses = ["m_e", "m_e", "m_mu", "m_mu"]
    assert numerically_equal(r.diagrams[0].squared_amplitude, ref, masses, 2)
    r = compute_process("e- e+ -> u u~", "qed")
    assert numerically_equal(
        r.diagrams[0].squared_amplitude, "4/9*" + ref.replace("m_mu", "m_u"), ["m_e", "m_e", "m_u", "m_u"], 2
    )
    r = compute_process("e- e+ -> a a", "qed")
    (t_channel,) = [d for d in r.diagrams if d.propagators == ["e(p_1-p_3)"]]
    proc = parse_process("e- e+ -> a a", "qed")
    for seed in range(3):
        point = random_point(proc.leg_masses(), 2, seed=seed, zero_masses=("m_e",))
        v = point.values()
        v["m_e"] = 0
        got = evaluate(t_channel.squared_amplitude, v)
        want = v["e"] ** 4 * v["s_14"] * v["s_24"] / v["s_13"] ** 2
        assert abs(got - want) < 1e-20 * abs(want) + 1e-30


@pytest.mark.parametrize(
    "text, alternatives",
    [
        ("u u~ -> g g", [{3: 2}, {2: 3, 3: 2}, {2: 0, 3: 0}]),
        ("u g -> u g", [{3: 1}, {1: 3, 3: 1}]),
        ("g g -> g g", [{1: 0, 2: 0, 3: 0}, {0: 3, 1: 3, 2: 3}, {0: 2, 1: 2, 3: 0}]),
    ],
)
def test_whole_process_square_does_not_depend_on_the_polarisation_reference(text, alternatives):
    proc = parse_process(text, "qcd")
    base = compute_builtin(proc)
    for refs in alternatives:
        other = compute_builtin(proc, physical_references=refs)
        for seed in range(2):
            point = random_point(proc.leg_masses(), proc.n_in, seed=seed, zero_masses=("m_u",))
            v = point.values()
            a, b = evaluate(base.squared_amplitude, v), evaluate(other.squared_amplitude, v)
            assert abs(a - b) < 1e-20 * abs(a), (refs, float(a), float(b))
    # while the Feynman-gauge sum alone is not physical for two or more gluons
    feynman = compute_builtin(proc, physical_references={})
    point = random_point(proc.leg_masses(), proc.n_in, seed=7, zero_masses=("m_u",))
    v = point.values()
    assert abs(evaluate(feynman.squared_amplitude, v) / evaluate(base.squared_amplitude, v) - 1) > 1e-3


def test_form_errors_carry_forms_message():
    with pytest.raises(FormError, match="FORM failed: .*"):
        run_form("#-\nLocal E = undeclared_thing(;\n.end\n", timeout=30)


def test_form_timeout_is_reported():
    prog = "#-\n#do i=1,2000000000\n#enddo\n.end\n"  # the preprocessor spins
    with pytest.raises(FormError, match="timed out"):
        run_form(prog, timeout=0.5)


def test_physical_squares_are_positive():
    for text, theory in [("e- e+ -> mu- mu+ a", "qed"), ("u u~ -> d d~ g", "qcd"), ("g g -> g g", "qcd")]:
        proc = parse_process(text, theory)
        r = compute_process(proc)
        point = random_point(proc.leg_masses(), proc.n_in, seed=3)
        assert point.physical
        assert evaluate(r.squared_amplitude, point.values()) > 0


def test_masses_can_be_set_to_zero():
    # Peskin & Schroeder (5.10) in the massless limit, per diagram = whole process here
    r = compute_process("e- e+ -> mu- mu+", "qed", massless=["m_e", "m_mu"])
    assert "m_" not in r.squared_amplitude and "m_" not in r.diagrams[0].amplitude
    proc = parse_process("e- e+ -> mu- mu+", "qed").with_massless({"m_e", "m_mu"})
    assert proc.leg_masses() == [None] * 4
    assert numerically_equal(r.squared_amplitude, "2*e^4*(s_13*s_24 + s_14*s_23)/s_12^2", proc.leg_masses(), 2)
    # only the named masses vanish
    r = compute_process("e- e+ -> mu- mu+", "qed", massless=["m_e"])
    assert "m_mu" in r.squared_amplitude and "m_e" not in r.squared_amplitude


def test_unknown_massless_symbol_is_refused():
    with pytest.raises(ValueError, match="unknown mass symbol 'm_x'"):
        compute_process("e- e+ -> mu- mu+", "qed", massless=["m_x"])
