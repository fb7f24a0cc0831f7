"""Squared amplitudes <-> tokens: exact structural round trip, token forms, malformed input."""

import pytest
import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from symba.physics.expression_parser import MAX_EXPONENT, symbol_table
from symba.physics.symbols import ALL_MASSES
from symba.tokenization.notations import (
    DOT_PRODUCTS,
    NOTATIONS,
    TokenError,
    detokenize,
    notation_tokens,
    parse_squared,
    tokenize,
)
from symba.tokenization.vocab import build_vocabulary

SYMBOLS = [sympy.Symbol(n) for n in ("e", "g_s", *ALL_MASSES, *DOT_PRODUCTS)]

# docs/physics.md worked examples and other hand-written physical squared amplitudes
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
    _round_trip(parse_squared(text))


def test_engine_generated_squared_amplitudes_round_trip():
    # Fails (never skips) when the engine cannot compute these processes.
    from symba.physics.engine import compute_process

    seen = 0
    for process in (
        "e- e+ -> mu- mu+",
        "e- e+ -> a a",
        "e- a -> e- a",
        "e- e- -> e- e-",
        "e- e+ -> u u~",
        "mu- e+ -> mu- e+",
    ):
        result = compute_process(process, theory="qed")
        texts = [d.squared_amplitude for d in result.diagrams] + [result.squared_amplitude]
        for text in texts:
            _round_trip(parse_squared(text))
            seen += 1
    for process in ("u u~ -> g g", "u g -> u g"):
        result = compute_process(process, theory="qcd")
        for text in [d.squared_amplitude for d in result.diagrams] + [result.squared_amplitude]:
            _round_trip(parse_squared(text))
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


def _within_bounds(x) -> bool:
    """Division by a zero that SymPy folded gives zoo/nan, and nested powers fold past the parser's
    exponent cap: neither is an expression any engine writes."""
    if x.has(sympy.zoo, sympy.nan, sympy.oo, -sympy.oo):
        return False
    return all(abs(p.exp) <= MAX_EXPONENT for p in x.atoms(sympy.Pow) if p.exp.is_Integer)


expressions = st.recursive(_leaves(), _extend, max_leaves=14).filter(_within_bounds)


@settings(max_examples=300, deadline=None)
@given(expressions)
def test_random_expressions_round_trip_exactly(expr):
    _round_trip(expr)


@settings(max_examples=60, deadline=None)
@given(expressions)
def test_text_round_trip_through_str(expr):
    # what the engine writes (text) and what detokenize gives back agree structurally
    text = sympy.sstr(expr)
    assert detokenize(tokenize(text, "hybrid-short"), "hybrid-short") == sympy.sympify(
        text, locals=dict(symbol_table())
    )


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
    assert tokenize("m_tau^3", "hybrid-short") == ["pow3", "m_tau"]
    assert tokenize("m_tau^5", "hybrid-short") == ["pow", "m_tau", "INT+", "5"]


# The brief's worked example (QED e- e+ -> mu- mu+ after sympy.factor), hybrid-short before
# this shortening: mul( INT+ 2 e^4 pow add( s_12 m_e^2 ) INT- 2 add( m_mu^2*s_12 mul( s_13 s_24 )
# mul( s_14 s_23 ) m_e^2*s_34 mul( INT+ 2 m_e^2 m_mu^2 ) ) ), 30 tokens against 52 in prefix.
WORKED_FACTORED = "2*e^4*(2*m_e^2*m_mu^2 + m_e^2*s_34 + m_mu^2*s_12 + s_13*s_24 + s_14*s_23)/(m_e^2 + s_12)^2"


def test_worked_example_uses_pair_coefficient_and_power_tokens():
    tokens = tokenize(WORKED_FACTORED, "hybrid-short")
    assert (
        tokens
        == (
            "2* mul( e^4 pow-2 add( s_12 m_e^2 ) add( m_mu^2*s_12 s_13*s_24 s_14*s_23 m_e^2*s_34 2* m_e^2*m_mu^2 ) )"
        ).split()
    )
    assert len(tokenize(WORKED_FACTORED, "prefix")) == 52
    assert 2 * len(tokens) <= 52


@pytest.mark.parametrize(
    "text, tokens",
    [
        ("s_13*s_24", ["s_13*s_24"]),
        ("s_24*s_13", ["s_13*s_24"]),  # named in the fixed order of DOT_PRODUCTS
        ("m_mu^2*m_e^2", ["m_e^2*m_mu^2"]),  # named in the fixed order of ALL_MASSES
        ("m_e^4*m_tau^2", ["m_e^4*m_tau^2"]),
        ("s_12^-2", ["s_12^-2"]),
        ("s_56^4", ["s_56^4"]),
        ("s_12^5", ["pow", "s_12", "INT+", "5"]),
        ("1/(s_12 + s_13)", ["pow-1", "add(", "s_12", "s_13", ")"]),
        ("(s_12 + s_13)^5", ["pow", "add(", "s_12", "s_13", ")", "INT+", "5"]),
        ("2*m_e^2*m_mu^2", ["2*", "m_e^2*m_mu^2"]),
        ("-9*s_12", ["-9*", "s_12"]),
        ("10*s_12", ["mul(", "INT+", "1", "0", "s_12", ")"]),
        ("-s_13*s_24", ["neg", "s_13*s_24"]),
        ("s_12*s_13*s_14", ["mul(", "s_12*s_13", "s_14", ")"]),
        ("s_12*s_13*s_14*s_15", ["mul(", "s_12*s_13", "s_14*s_15", ")"]),
        ("m_e^2*m_mu^2*s_12*s_34", ["mul(", "m_e^2*s_12", "m_mu^2*s_34", ")"]),
        ("m_e^6*m_mu^2", ["mul(", "m_e^6", "m_mu^2", ")"]),  # 6 is not in FUSED_POWERS
        ("-4*e^2*s_12^2*s_34", ["-4*", "mul(", "s_34", "e^2", "s_12^2", ")"]),  # SymPy's factor order
    ],
)
def test_new_hybrid_short_tokens_written_by_hand(text, tokens):
    assert tokenize(text, "hybrid-short") == tokens
    assert detokenize(tokens, "hybrid-short") == parse_squared(text)


def test_hybrid_short_vocabulary_sizes_and_names():
    vocab = build_vocabulary("hybrid-short")
    squared = notation_tokens("hybrid-short")
    assert len(squared) == len(set(squared))
    families = {
        "s_ij*s_kl": [t for t in squared if t.count("s_") == 2],
        "m_X^a*m_Y^b": [t for t in squared if t.count("m_") == 2],
        "s_ij^n": [t for t in squared if t.startswith("s_") and "^" in t and "*" not in t],
        "c*": [t for t in squared if t.endswith("*")],
        "pow<n>": [t for t in squared if t.startswith("pow") and t != "pow"],
    }
    # 15 s_ij (legs 1..6): C(15, 2) pairs; 9 masses: C(9, 2) pairs times 2x2 powers;
    # 7 powers -4..4 of each s_ij; coefficients +-2..+-9; pow-4..pow4 without 0, 1
    assert {k: len(v) for k, v in families.items()} == {
        "s_ij*s_kl": 105, "m_X^a*m_Y^b": 144, "s_ij^n": 105, "c*": 16, "pow<n>": 7,
    }  # fmt: skip
    for token in ("s_13*s_24", "s_56*s_12", "m_e^2*m_mu^2", "m_b^4*m_t^2", "s_12^-2", "2*", "-9*", "pow-2", "pow4"):
        assert (token in vocab) == (token not in ("s_56*s_12",)), token
    hybrid = build_vocabulary("hybrid")
    assert not any(t in hybrid for t in ("s_13*s_24", "m_e^2*m_mu^2", "s_12^-2", "2*", "pow-2"))


# products and powers with the structures that hybrid-short fuses
_DOTS = st.sampled_from([sympy.Symbol(n) for n in DOT_PRODUCTS])
_MASS_POWERS = st.tuples(st.sampled_from(ALL_MASSES), st.sampled_from([2, 4, 6])).map(
    lambda mp: sympy.Symbol(mp[0]) ** mp[1]
)
_MONOMIALS = st.tuples(
    st.integers(-12, 12).filter(lambda c: c != 0),
    st.lists(_DOTS, max_size=4),
    st.lists(_MASS_POWERS, max_size=3),
    st.lists(st.tuples(_DOTS, st.integers(-5, 5)), max_size=2),
).map(lambda t: sympy.Mul(t[0], *t[1], *t[2], *(d**n for d, n in t[3])))
_FUSABLE = (
    st.lists(_MONOMIALS, min_size=1, max_size=5)
    .flatmap(lambda terms: st.integers(-5, 5).map(lambda n: sympy.Add(*terms) ** n * terms[0]))
    .filter(_within_bounds)
)  # a one-term sum to a power folds into exponents past the parser's cap


@settings(max_examples=200, deadline=None)
@given(_FUSABLE)
def test_products_and_powers_of_dots_and_masses_round_trip_exactly(expr):
    _round_trip(expr)


def test_e_is_the_coupling_and_i_the_imaginary_unit():
    assert detokenize(["e"], "prefix") == sympy.Symbol("e")
    assert detokenize(["e"], "prefix") != sympy.E
    assert detokenize(["mul(", "INT+", "2", "i", ")"], "hybrid") == 2 * sympy.I


def test_hybrid_short_is_shorter_than_prefix_on_the_worked_example():
    expr = parse_squared(PHYSICAL[0])
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
        ("s_13*s_24", "hybrid", "position 0"),
        ("2* s_12", "hybrid", "position 0"),
        ("add( s_12 pow-2 )", "hybrid-short", "position 3"),
        ("mul( 2* s_12 )", "hybrid-short", "position 3"),
        ("pow-2", "hybrid-short", "position 1"),
        ("-2* s_12 s_13", "hybrid-short", "position 2"),
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
