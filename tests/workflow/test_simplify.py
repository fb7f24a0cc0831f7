import time

import sympy

from symba.physics.expression_parser import symbol_table
from symba.physics.kinematics import numerically_equal
from symba.simplify import SimplifyOptions, simplify_expressions

# docs/physics.md worked example (e- e+ -> mu- mu+), written unsimplified as an engine would.
RAW = (
    "(1/4)*e^4*(64*m_e^2*m_mu^2+32*s_34*m_e^2+32*s_14*s_23+32*s_13*s_24+32*s_12*m_mu^2)"
    "/((2*m_e^2 + 2*s_12)*(2*m_e^2 + 2*s_12))"
)
FACTORED = "2*e^4*(s_13*s_24 + s_14*s_23 + m_mu^2*s_12 + m_e^2*s_34 + 2*m_e^2*m_mu^2) / (m_e^2 + s_12)^2"
# Expanding this takes SymPy far longer than the tiny timeouts below.
# factor must expand the power before it can factor the sum: minutes of SymPy work
SLOW = "(s_12 + s_13 + s_14 + s_23 + s_24 + m_e + m_mu)^40 + 1"


def parse(text):
    return sympy.sympify(text, locals=symbol_table())


def test_factor_gives_the_known_form_and_parses_back():
    (outcome,), stats = simplify_expressions([RAW], SimplifyOptions())
    assert outcome.status == "ok"
    assert parse(outcome.text) == parse(FACTORED)  # structural equality after re-parsing
    assert sympy.Symbol("e") in parse(outcome.text).free_symbols  # e is the coupling, not Euler's number
    assert numerically_equal(outcome.text, RAW, ["m_e", "m_e", "m_mu", "m_mu"], n_in=2)
    assert stats.ok == 1 and stats.timeout == stats.error == 0


def test_duplicates_are_simplified_once_and_keep_input_order():
    other = "s_12^2 - s_13^2"
    outcomes, stats = simplify_expressions([RAW, other, RAW, RAW, other], SimplifyOptions())
    assert stats.expressions == 5 and stats.distinct == 2 and stats.computed == 2
    factored, difference = parse(FACTORED), parse("(s_12 - s_13)*(s_12 + s_13)")
    assert [parse(o.text) for o in outcomes] == [factored, difference, factored, factored, difference]


def test_malformed_expression_is_kept_with_status_error():
    outcomes, stats = simplify_expressions(["1/(s_12", RAW], SimplifyOptions(retries=0))
    assert outcomes[0].status == "error" and outcomes[0].text == "1/(s_12"
    assert "expected ')' at position 7" in outcomes[0].message
    assert outcomes[1].status == "ok"


def test_timeout_kills_the_worker_keeps_raw_and_retries_once():
    start = time.monotonic()
    outcomes, stats = simplify_expressions(
        [SLOW, RAW], SimplifyOptions(timeout=3.0, retries=1, workers=2, engine="sympy")
    )
    elapsed = time.monotonic() - start
    assert outcomes[0].status == "timeout" and outcomes[0].text == SLOW
    assert outcomes[1].status == "ok"
    assert stats.retried == 1 and stats.timeout == 1
    # Two 3-s attempts plus worker start-ups; far below what the expansion would take.
    assert elapsed < 30


def test_cache_reuses_results_across_calls(tmp_path):
    options = SimplifyOptions(cache_dir=str(tmp_path), timeout=1.0, retries=0, engine="sympy")
    first, stats1 = simplify_expressions([RAW, SLOW], options)
    assert stats1.computed == 2 and stats1.cached == 0
    second, stats2 = simplify_expressions([RAW, SLOW], options)
    assert stats2.cached == 2 and stats2.computed == 0
    assert second == first
    # A longer timeout deserves a new attempt at the expression that timed out.
    _, stats3 = simplify_expressions(
        [RAW, SLOW], SimplifyOptions(cache_dir=str(tmp_path), timeout=1.5, retries=0, engine="sympy")
    )
    assert stats3.cached == 1 and stats3.computed == 1


def test_method_none_keeps_expressions_raw():
    (outcome,), stats = simplify_expressions([RAW], SimplifyOptions(method="none"))
    assert outcome.status == "raw" and outcome.text == RAW and stats.computed == 0


def test_bad_options_are_refused():
    import pytest

    with pytest.raises(ValueError, match="unknown simplification method 'expand'"):
        SimplifyOptions(method="expand")
    with pytest.raises(ValueError, match="timeout must be > 0"):
        SimplifyOptions(timeout=0)
