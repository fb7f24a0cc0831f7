"""The expression parser agrees with sympify on the grammar, handles huge sums, and refuses the rest."""

from __future__ import annotations

import pytest
import sympy

from symba.physics import expression_parser as expressions
from symba.physics.expression_parser import ExpressionSyntaxError, parse_expression, symbol_table


@pytest.mark.parametrize(
    "text",
    [
        "2*e^4*(s_13*s_24 + s_14*s_23 + m_mu^2*s_12)/(m_e^2 + s_12)^2",
        "-1/3*g_s^4*s_12^-1*(2*m_u^2 - 2*s_13)^-2",
        "e**2*(-s_12 + 3/4*m_e**2) - -2",
        "i*e^2*(1 - 2*i)",
        "(2*m_e^2 + 2*s_12)^-2*e^4*(16*m_e^2*m_mu^2+8*s_34*m_e^2)",
        "e^2^3",
        "s_12^-2^2",
        "(2*e)^4*(-2)^3",
        "e**(-2)*2**-1",
        "- - -s_12 + -(-e)",
        "reg_prop*m_e^2",
        "-(e + g_s)*(e + m_e)",
        "2*(e + g_s)*(e + m_e)",
        "s_12/2/(m_e + s_13)*3",
        "-2*s_12^2/m_e - -s_13",
    ],
)
def test_agrees_with_sympify(text):
    names = dict(symbol_table(), reg_prop=sympy.Symbol("reg_prop"))
    assert parse_expression(text) == sympy.sympify(text, locals=names)


def test_huge_flat_sum_parses():
    # sympify recurses once per "+" and fails at about 3,000 terms
    text = "+".join(f"{k}*s_12^{k % 20 + 1}*s_13^{k // 20 % 20 + 1}*s_14^{k // 400 + 1}*m_e^2" for k in range(1, 5001))
    expr = parse_expression(text)
    assert isinstance(expr, sympy.Add) and len(expr.args) == 5000


@pytest.mark.parametrize(
    "bad, where", [("s_12 +* 2", "position 6"), ("(s_12", "expected ')'"), ("s_12 $ 2", "'$'"), ("", "empty")]
)
def test_errors_name_the_position(bad, where):
    with pytest.raises(ExpressionSyntaxError, match=where.replace("(", r"\(").replace(")", r"\)").replace("$", r"\$")):
        parse_expression(bad)


@pytest.mark.parametrize(
    "bad, message",
    [
        ("9^999999999", "power at position 1: exponent must be an integer from -64 to 64"),
        ("2^2^2^2^2^2", "power at position 3: exponent must be an integer from -64 to 64 (65536)"),
        ("s_12^65", "from -64 to 64 (65)"),
        ("s_12^(1/2)", "not an integer"),
        ("e^s_12", "not an integer"),
        ("9^64^1*9^64*9^64*9^64*9^64*9^64", "more than 300 digits"),
        ("(16*e)^64*(16*e)^64*(16*e)^64*(16*e)^64*(16*e)^64", "more than 300 digits"),
        ("1" * 301, "more than 300 digits"),
        ("3*(" * 101 + "e" + ")" * 101, "nests deeper than 100"),
        ("e" + "^1" * 101, "nests deeper than 100"),
        ("s_12/0", "division by zero at position 4"),
        ("0^-1", "division by zero"),
        ("s_12/(e - e)", "division by zero"),
        ("x + 1", "unknown symbol 'x' at position 0"),
        ("__import__('os').system('echo PWNED')", "unknown symbol '__import__'"),
        ("sqrt(s_12)", "unknown symbol 'sqrt'"),
        ("e(s_12)", "unexpected '('"),
        ("1.5*e", "unexpected character '.'"),
        ("e; e", "unexpected character ';'"),
        ("\u0663*e", "unexpected character"),  # a non-ASCII digit is not a digit here
    ],
)
def test_outside_the_grammar_or_its_bounds_is_one_clear_error(bad, message):
    with pytest.raises(ExpressionSyntaxError) as info:
        parse_expression(bad)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_text_longer_than_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(expressions, "MAX_EXPRESSION_CHARS", 10)
    with pytest.raises(ExpressionSyntaxError, match="longer than the limit of 10"):
        parse_expression("s_12 + s_13 + s_14")


def test_distributing_numbers_into_a_sum_again_and_again_is_refused():
    terms = "+".join(f"s_12^{a}*s_13^{b}" for a in range(1, 21) for b in range(1, 21))  # 400 terms
    assert len(parse_expression(f"({terms})*(-1)*2").args) == 400  # twice is fine
    with pytest.raises(ExpressionSyntaxError, match="rebuild more than 10 terms per character"):
        parse_expression(f"({terms})" + "*(-1)" * 2000)


def test_bounds_allow_the_largest_real_values():
    assert parse_expression("s_12^-64*9^64") == sympy.Symbol("s_12") ** -64 * sympy.Integer(9) ** 64
    assert parse_expression("1" * 300) == sympy.Integer("1" * 300)
    nested = "(" * 99 + "e" + ")" * 99
    assert parse_expression(nested) == sympy.Symbol("e")


def test_rename_and_symbols():
    g_s, m_t = sympy.Symbol("g_s"), sympy.Symbol("m_t")
    assert parse_expression("g^2*m_tt", rename={"g": "g_s", "m_tt": "m_t"}) == g_s**2 * m_t
    assert parse_expression(
        "s_12 + reg_prop", symbols={"s_12": sympy.Symbol("s_12"), "reg_prop": sympy.Integer(0)}
    ) == sympy.Symbol("s_12")
