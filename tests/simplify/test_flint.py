"""FLINT factorisation: the same canonical text as SymPy's factor, and the same value as the input."""

from __future__ import annotations

import re
import subprocess
import sys
from fractions import Fraction
from functools import lru_cache

import pytest

from symba.physics.engine import compute_process
from symba.physics.expression_parser import parse_expression
from symba.physics.kinematics import numerically_equal
from symba.physics.process import parse_process
from symba.simplify.flint import (
    MAX_EXPONENT,
    FactorError,
    FactorSyntaxError,
    canonical_factored_text,
    factor_text,
    flint_factor_text,
    rename_factored_text,
    sympy_factor_text,
)

compute = lru_cache(maxsize=None)(compute_process)

# (process, theory, include the whole-process square); 2->3 whole squares take SymPy minutes.
SAMPLE = [
    ("e- e+ -> mu- mu+", "qed", True),
    ("e- a -> e- a", "qed", True),
    ("e- e+ -> a a", "qed", True),
    ("e- e- -> e- e-", "qed", True),
    ("e- e+ -> u u~", "qed", True),
    ("a -> e- e+", "qed", True),
    ("e- e+ -> mu- mu+ a", "qed", False),
    ("e- a -> e- a a", "qed", False),
    ("u u~ -> g g", "qcd", True),
    ("u g -> u g", "qcd", True),
    ("u u~ -> d d~", "qcd", True),
]


def _expressions():
    for text, theory, whole in SAMPLE:
        result = compute(text, theory)
        for d in result.diagrams:
            yield text, theory, f"diagram {d.index}", d.squared_amplitude
        if whole:
            yield text, theory, "whole process", result.squared_amplitude


CASES = list(_expressions())


@pytest.mark.parametrize("text, theory, which, raw", CASES, ids=[f"{c[0]} {c[2]}" for c in CASES])
def test_flint_and_sympy_give_the_same_canonical_text_equal_to_the_input(text, theory, which, raw):
    flint_text = flint_factor_text(raw)
    assert flint_text == sympy_factor_text(raw)
    assert "." not in flint_text and "I" not in flint_text and "i" not in flint_text.replace("m_", "")
    proc = parse_process(text, theory)
    assert numerically_equal(flint_text, raw, proc.leg_masses(), proc.n_in, n_points=2)
    # canonical: a fixed point, and the same text from a rearranged input
    assert flint_factor_text(flint_text) == flint_text
    assert flint_factor_text(f"(3*({raw}))/3") == flint_text


@pytest.mark.parametrize("text, theory, which, raw", CASES[:12], ids=[f"{c[0]} {c[2]}" for c in CASES[:12]])
def test_renaming_a_factored_text_equals_factoring_the_renamed_text(text, theory, which, raw):
    swap = {"s_13": "s_24", "s_24": "s_13", "s_12": "s_34", "s_34": "s_12", "m_e": "m_t", "m_t": "m_e"}
    renamed_raw = re.sub(r"\b(s_\d\d|m_e|m_t)\b", lambda m: swap.get(m.group(1), m.group(1)), raw)
    assert rename_factored_text(flint_factor_text(raw), swap) == flint_factor_text(renamed_raw)


@pytest.mark.parametrize(
    "text, rename, message",
    [
        ("x + y", {}, "not a factored text"),
        ("x*y", {"x": "y"}, "maps two symbols"),
        ("(x/y + 1)", {}, "has a denominator"),
    ],
)
def test_renaming_refuses_unfactored_text_and_merges(text, rename, message):
    with pytest.raises(FactorError, match=message):
        rename_factored_text(text, rename)


def test_engine_choice():
    assert factor_text("s_12^2 - s_13^2", "sympy") == factor_text("s_12^2 - s_13^2") == "(s_12 + s_13)*(s_12 - s_13)"
    with pytest.raises(FactorError, match="unknown factor engine 'maple'"):
        factor_text("x", "maple")


def test_numeric_check_has_teeth():
    raw = compute("e- e+ -> mu- mu+", "qed").diagrams[0].squared_amplitude
    wrong = flint_factor_text(raw.replace("s_13", "s_14", 1))
    assert not numerically_equal(wrong, raw, ["m_e", "m_e", "m_mu", "m_mu"], 2, n_points=2)


@pytest.mark.parametrize(
    "raw, expected",
    [
        # factored by hand
        ("(2*s_13^2-2*s_14^2)/(3*s_13*(s_13+s_14)^2)", "2*(s_13 - s_14)/(3*s_13*(s_13 + s_14))"),
        ("(2*m_e^2 + 2*s_12)^-2*e^4*(4*m_e^2 + 4*s_12)", "e^4/(m_e^2 + s_12)"),
        ("-(s_13 - m_e^2)^3", "(m_e^2 - s_13)^3"),
        ("s_13^-2*s_14", "s_14/s_13^2"),
        ("1/(2*s_13)/(3*s_14)", "1/(6*s_13*s_14)"),
        ("s_12**2 - s_12^2", "0"),
        ("-3/2", "-3/2"),
        ("(s_13+s_14)^(-1)*(s_13+s_14)", "1"),
        ("6*g_s^2*e + 0*s_13", "6*e*g_s^2"),
    ],
)
def test_small_expressions_print_as_factored_by_hand(raw, expected):
    assert flint_factor_text(raw) == expected
    assert sympy_factor_text(raw) == expected


def test_printer_ignores_units_order_and_split_monomials():
    x_plus_y = (("x", "y"), {(1, 0): Fraction(1), (0, 1): Fraction(1)})
    minus_half = (("y", "x"), {(1, 0): Fraction(-1, 2), (0, 1): Fraction(-1, 2)})  # -(x + y)/2, other symbol order
    xy = (("x", "y"), {(1, 1): Fraction(3)})
    x = (("x",), {(1,): Fraction(1)})
    a = canonical_factored_text(Fraction(2), [(x_plus_y, 2), (xy, 1)])
    assert a == "6*x*y*(x + y)^2"
    assert canonical_factored_text(Fraction(8), [(minus_half, 2), (xy, 1)]) == a  # 8 * 1/4 * 3
    assert canonical_factored_text(Fraction(1, 6), [(xy, 1), (minus_half, 2), (x, 0)]) == "x*y*(x + y)^2/8"
    assert canonical_factored_text(Fraction(1), [(x, 2), (xy, -1)]) == "x/(3*y)"


def test_flint_route_does_not_import_sympy():
    code = (
        "import sys; sys.modules['sympy'] = None\n"
        "from symba.simplify.flint import flint_factor_text\n"
        "print(flint_factor_text('(2*s_12)^-2*g_s^4*(32/9*m_u^4-16/9*s_23*m_u^2)'))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "4*g_s^4*m_u^2*(2*m_u^2 - s_23)/(9*s_12^2)"
    assert parse_expression(out.stdout) is not None


@pytest.mark.parametrize(
    "raw, error, message",
    [
        ("1.5*x", FactorSyntaxError, "unexpected character '.'"),
        ("2*I*e^2", FactorError, "not real"),
        ("i*e^2*s_12/(1 + I)", FactorError, "not real"),
        ("x^y", FactorSyntaxError, "integer exponent"),
        (f"x^{MAX_EXPONENT + 1}", FactorSyntaxError, "over the limit"),
        ("(x + y", FactorSyntaxError, r"expected '\)'"),
        ("x + ", FactorSyntaxError, "unexpected end of input"),
        ("", FactorSyntaxError, "empty expression"),
        ("sin(x)", FactorSyntaxError, "unexpected"),
        ("1/(x - x)", FactorError, "division by zero"),
        ("(" * 100 + "x" + ")" * 100, FactorSyntaxError, "nested deeper"),
        ("x" * 5_000_000, FactorSyntaxError, "over the"),
    ],
)
def test_refuses_unexpected_input_with_a_one_line_error(raw, error, message):
    with pytest.raises(error, match=message) as info:
        flint_factor_text(raw)
    assert isinstance(info.value, ValueError)
    assert "\n" not in str(info.value)
