"""The numeric-equivalence metric: rewritten truths pass, wrong ones fail."""

import time

import sympy

from symba.model.numeric import NumericChecker, numerically_equivalent
from symba.physics.expression_parser import symbol_table

PROCESS = "e- e+ -> mu- mu+"
# docs/physics.md worked example (one s-channel photon, masses kept)
TRUTH = "2*e^4*(s_13*s_24 + s_14*s_23 + m_mu^2*s_12 + m_e^2*s_34 + 2*m_e^2*m_mu^2) / (m_e^2 + s_12)^2"


def test_expanded_truth_is_equivalent():
    expanded = sympy.sstr(sympy.expand(sympy.sympify(TRUTH.replace("^", "**"), locals=symbol_table())))
    assert expanded.replace(" ", "") != TRUTH.replace(" ", "")
    assert numerically_equivalent(expanded, TRUTH, PROCESS, "qed")


def test_momentum_conservation_rewrite_is_equivalent():
    # (p1 + p2)^2 = (p3 + p4)^2  =>  s_12 = s_34 + m_mu^2 - m_e^2; true only on physical points
    rewritten = TRUTH.replace("s_12", "(s_34 + m_mu^2 - m_e^2)")
    assert numerically_equivalent(rewritten, TRUTH, PROCESS, "qed")


def test_wrong_expressions_are_rejected():
    assert not numerically_equivalent(TRUTH.replace("s_14*s_23", "s_13*s_23"), TRUTH, PROCESS, "qed")
    assert not numerically_equivalent(TRUTH.replace("2*e^4", "3*e^4"), TRUTH, PROCESS, "qed")
    assert not numerically_equivalent(TRUTH + " + m_tau^2", TRUTH, PROCESS, "qed")  # a symbol it lacks


def test_unparseable_prediction_is_wrong():
    assert not numerically_equivalent("2*e^4*(s_13 +", TRUTH, PROCESS, "qed")
    assert not numerically_equivalent("", TRUTH, PROCESS, "qed")


def test_checker_times_out_in_a_process_and_recovers():
    # within the parser's bounds, but long: SymPy takes many seconds to build it
    huge = "+".join(f"{k}*s_13^{k % 40 + 1}*s_14^{k // 40 % 40 + 1}*s_23^{k // 1600 + 1}" for k in range(1, 40001))
    with NumericChecker(timeout_s=2.0, n_points=2) as checker:
        assert checker.check(TRUTH, TRUTH, PROCESS, "qed")  # warm: worker started
        t0 = time.monotonic()
        assert not checker.check(huge, TRUTH, PROCESS, "qed")
        assert time.monotonic() - t0 < 15
        assert checker.timeouts == 1
        assert checker.check(TRUTH.replace("s_12", "(s_34 + m_mu^2 - m_e^2)"), TRUTH, PROCESS, "qed")
