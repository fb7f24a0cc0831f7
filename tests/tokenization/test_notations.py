"""Squared amplitudes <-> tokens: exact structural round trip, token forms, malformed input."""

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symba.physics.kinematics import ALL_MASSES, symbol_table
from symba.tokenization.notations import (
    DOT_PRODUCTS,
    NOTATIONS,
    TokenError,
    detokenize,
    parse_expression,
    tokenize,
)
from symba.tokenization.vocab import build_vocabulary

SYMBOLS = [sympy.Symbol(n) for n in ("e", "g_s", *ALL_MASSES, *DOT_PRODUCTS)]

# PHYSICS.md worked examples and other hand-written physical squared amplitudes
PHYSICAL = [
    "2*e^4*(s_13*s_24 + s_14*s_23 + m_mu^2*s_12 + m_e^2*s_34 + 2*m_e^2*m_mu^2) / (m_e^2 + s_12)^2",
    "4/9*2*e^4*(s_13*s_24 + s_14*s_23 + m_u^2*s_12 + m_e^2*s_34 + 2*m_e^2*m_u^2) / (m_e^2 + s_12)^2",
    "e^4*s_14*s_24/s_13^2",
    "-4*e^2*(2*m_mu^2 - s_12)",
    "-16*e^2*(2*m_t^2 - s_12)/9",
    "8/3*g_s^4*(m_c^4 - 2*m_c^2*s_13 + s_12*s_23)/(m_c^2 - s_13)^2",
    "1/2*e^6*(m_e^2*s_34*s_45 - 3*m_mu^4*s_12*s_35 + s_12*s_34*s_45)/((s_12 + m_e^2)*(s_34 - m_mu^2)^2)",
]


def _round_trip(expr):
    for notation in NOTATIONS:
        tokens = tokenize(expr, notation)
        back = detokenize(tokens, notation)
        assert back == expr, (notation, expr, tokens, back)
        assert all(t in build_vocabulary(notation) for t in tokens)


@pytest.mark.parametrize("text", PHYSICAL)
def test_physical_examples_round_trip_exactly(text):
    _round_trip(parse_expression(text))


def test_engine_generated_squared_amplitudes_round_trip():
    # Fails (never skips) when the engine cannot compute these processes.
    from symba.physics.engine import compute_process

    seen = 0
    for process in ("e- e+ -> mu- mu+", "e- e+ -> a a", "e- a -> e- a", "e- e- -> e- e-", "e- e+ -> u u~", "mu- e+ -> mu- e+"):
        result = compute_process(process, theory="qed")
        texts = [d.squared_amplitude for d in result.diagrams] + [result.squared_amplitude]
        for text in texts:
            _round_trip(parse_expression(text))
            seen += 1
    for process in ("u u~ -> g g", "u g -> u g"):
        result = compute_process(process, theory="qcd")
        for text in [d.squared_amplitude for d in result.diagrams] + [result.squared_amplitude]:
            _round_trip(parse_expression(text))
            seen += 1
    assert seen >= 18


def _leaves():
    ints = st.integers(min_value=-40, max_value=40).map(sympy.Integer)
    rationals = st.tuples(st.integers(-30, 30), st.integers(2, 30)).map(lambda pq: sympy.Rational(*pq))
    return st.one_of(st.sampled_from(SYMBOLS), ints, rationals)


def _extend(children):
    small_lists = st.lists(children, min_size=2, max_size=4)
    exponents = st.integers(-6, 8).filter(lambda k: k not in (0, 1))
    return st.one_of(
        small_lists.map(lambda xs: sympy.Add(*xs)),
        small_lists.map(lambda xs: sympy.Mul(*xs)),
        st.tuples(children, exponents).map(lambda be: sympy.Pow(be[0], be[1])),
        children.map(lambda x: -x),
    )


# division by a zero that SymPy folded gives zoo/nan: not an expression any engine writes
expressions = st.recursive(_leaves(), _extend, max_leaves=14).filter(
    lambda x: not x.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo)
)


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_random_expressions_round_trip_exactly(expr):
    _round_trip(expr)


@settings(max_examples=60, deadline=None)
@given(expressions)
def test_text_round_trip_through_str(expr):
    # what the engine writes (text) and what detokenize gives back agree structurally
    text = sympy.sstr(expr)
    assert detokenize(tokenize(text, "hybrid-short"), "hybrid-short") == sympy.sympify(text, locals=dict(symbol_table()))


def test_token_forms_written_by_hand():
    assert tokenize("120", "prefix") == ["INT+", "1", "2", "0"]
    assert tokenize("-7", "hybrid") == ["INT-", "7"]
    assert tokenize("-1/2", "hybrid-short") == ["rat", "INT-", "1", "INT+", "2"]
    assert tokenize("-s_12", "hybrid") == ["neg", "s_12"]
    assert tokenize("s_12 + s_13 + s_14", "prefix") == ["add", "s_12", "add", "s_13", "s_14"]
    assert tokenize("s_12 + s_13 + s_14", "hybrid") == ["add(", "s_12", "s_13", "s_14", ")"]
    assert tokenize("m_e^2", "hybrid") == ["pow", "m_e", "INT+", "2"]
    assert tokenize("m_e^2", "hybrid-short") == ["m_e^2"]
    assert tokenize("m_mu^2*s_12", "hybrid-short") == ["m_mu^2*s_12"]
    assert tokenize("m_mu^2*s_12", "prefix") == ["mul", "s_12", "pow", "m_mu", "INT+", "2"]
    assert tokenize("e^4", "hybrid-short") == ["e^4"]
    assert tokenize("m_tau^3", "hybrid-short") == ["pow", "m_tau", "INT+", "3"]


def test_e_is_the_coupling_and_i_the_imaginary_unit():
    assert detokenize(["e"], "prefix") == sympy.Symbol("e")
    assert detokenize(["e"], "prefix") != sympy.E
    assert detokenize(["mul(", "INT+", "2", "i", ")"], "hybrid") == 2 * sympy.I


def test_hybrid_short_is_shorter_than_prefix_on_the_worked_example():
    expr = parse_expression(PHYSICAL[0])
    assert len(tokenize(expr, "hybrid-short")) < len(tokenize(expr, "hybrid"))
    assert len(tokenize(expr, "hybrid-short")) < len(tokenize(expr, "prefix"))


@pytest.mark.parametrize(
    "tokens, notation, position",
    [
        ("mul( INT+ 2", "hybrid", "position 3"),
        ("add( s_12 )", "hybrid", "position 0"),
        ("INT+ 0 1", "prefix", "position 0"),
        ("pow s_12", "prefix", "position 2"),
        ("s_12 s_13", "hybrid", "position 1"),
        ("add s_12 bogus", "prefix", "position 2"),
        ("add( s_12 s_13 ) )", "hybrid", "position 4"),
        ("mul s_12 )", "prefix", "position 2"),
        ("rat INT+ 1 INT+ 1", "hybrid", "position 3"),
        ("INT+", "hybrid", "position 0"),
        ("7", "hybrid", "position 0"),
        ("m_e^2", "hybrid", "position 0"),
        ("add( s_12 s_13 )", "prefix", "position 0"),
    ],
)
def test_malformed_tokens_name_the_position(tokens, notation, position):
    with pytest.raises(TokenError, match=position):
        detokenize(tokens, notation)


def test_empty_sequence_and_unknown_symbols_are_errors():
    with pytest.raises(ValueError, match="empty"):
        detokenize([], "hybrid")
    with pytest.raises(ValueError, match="'x'"):
        tokenize("x + s_12", "hybrid")
    with pytest.raises(ValueError, match="floating-point"):
        tokenize(sympy.Float(0.5) * sympy.Symbol("s_12"), "hybrid")
    with pytest.raises(ValueError, match="notation"):
        tokenize("s_12", "infix")
