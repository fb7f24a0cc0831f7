"""simplify_expressions with method factor: FLINT and SymPy engines agree, in worker processes."""

from __future__ import annotations

import pytest

from symba.physics.engine import compute_process
from symba.physics.expression_parser import parse_expression
from symba.physics.kinematics import numerically_equal
from symba.simplify import SimplifyOptions, simplify_expressions
from symba.simplify.simplifier import cache_key

SAMPLE = [("e- e+ -> mu- mu+", "qed"), ("e- a -> e- a", "qed"), ("u u~ -> g g", "qcd")]


def _sample_texts():
    texts = []
    for process, theory in SAMPLE:
        result = compute_process(process, theory)
        texts += [d.squared_amplitude for d in result.diagrams] + [result.squared_amplitude]
    return texts


def test_both_engines_give_the_same_canonical_expression():
    texts = _sample_texts()
    by_flint, stats_flint = simplify_expressions(texts, SimplifyOptions(engine="flint", timeout=60))
    by_sympy, stats_sympy = simplify_expressions(texts, SimplifyOptions(engine="sympy", timeout=60))
    assert stats_flint.ok == stats_sympy.ok == len(set(texts))
    assert [o.text for o in by_flint] == [o.text for o in by_sympy]
    for outcome, raw in zip(by_flint, texts):
        parse_expression(outcome.text)  # the tokenizer's reader takes it back


@pytest.mark.parametrize("engine", ["flint", "sympy"])
def test_imaginary_unit_of_imported_squares_is_removed(engine):
    raw = "2*I*e^2*(I*e^2*(s_12 + m_e^2))/(i*s_13)*i"
    (outcome,), _ = simplify_expressions([raw], SimplifyOptions(engine=engine))
    assert outcome.status == "ok", outcome.message
    assert "I" not in outcome.text and "i" not in outcome.text.replace("m_", "")
    # by hand: I*I = -1 and I/I = 1, so the value is -2*e^4*(s_12 + m_e^2)/s_13
    assert numerically_equal(outcome.text, "-2*e^4*(s_12 + m_e^2)/s_13", ["m_e", "m_e", "m_e", "m_e"], n_in=2)


@pytest.mark.parametrize("engine", ["flint", "sympy"])
def test_an_imaginary_result_is_kept_raw_with_status_error(engine):
    (outcome,), _ = simplify_expressions(["2*I*e^2*s_12"], SimplifyOptions(engine=engine, retries=0))
    assert outcome.status == "error" and outcome.text == "2*I*e^2*s_12" and "not real" in outcome.message


def test_cache_key_names_the_engine():
    assert cache_key("s_12", "factor", "flint") != cache_key("s_12", "factor", "sympy")
    with pytest.raises(ValueError, match="unknown simplification engine 'maple'"):
        SimplifyOptions(engine="maple")
