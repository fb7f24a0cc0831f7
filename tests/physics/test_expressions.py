"""The recursion-free expression parser agrees with sympify and handles huge sums."""

from __future__ import annotations

import pytest
import sympy

from symba.physics.expressions import ExpressionSyntaxError, parse_expression
from symba.physics.kinematics import symbol_table


@pytest.mark.parametrize(
    "text",
    [
        "2*e^4*(s_13*s_24 + s_14*s_23 + m_mu^2*s_12)/(m_e^2 + s_12)^2",
        "-1/3*g_s^4*s_12^-1*(2*m_u^2 - 2*s_13)^-2",
        "e**2*(-s_12 + 3/4*m_e**2) - -2",
        "i*e^2*(1 - 2*i)",
        "(2*m_e^2 + 2*s_12)^-2*e^4*(16*m_e^2*m_mu^2+8*s_34*m_e^2)",
        "a^b^c",
        "-(e + g_s)*(e + m_e)",
        "2*(e + g_s)*(e + m_e)",
        "s_12/2/(m_e + s_13)*3",
        "-2*s_12^2/m_e - -s_13",
    ],
)
def test_agrees_with_sympify(text):
    assert parse_expression(text) == sympy.sympify(text, locals=symbol_table())


def test_huge_flat_sum_parses():
    # sympify recurses once per "+" and fails at about 3,000 terms
    text = "+".join(f"{k}*s_12^{k}*m_e^2" for k in range(1, 5001))
    expr = parse_expression(text)
    assert isinstance(expr, sympy.Add) and len(expr.args) == 5000


@pytest.mark.parametrize("bad, where", [("s_12 +* 2", "position 6"), ("(s_12", "expected ')'"), ("s_12 $ 2", "'$'"), ("", "empty")])
def test_errors_name_the_position(bad, where):
    with pytest.raises(ExpressionSyntaxError, match=where.replace("(", r"\(").replace(")", r"\)").replace("$", r"\$")):
        parse_expression(bad)
