"""symba.physics.symbols is the one owner of the symbol names: everyone else reads them from it."""

from __future__ import annotations

import pytest

from symba.physics import symbols
from symba.physics.expression_parser import ExpressionSyntaxError, known_symbols, parse_expression, symbol_table
from symba.physics.process import ProcessError, check_size
from symba.physics.theories import MODELS
from symba.tokenization import marty_tokens, notations
from symba.tokenization.amplitude_tokens import MOMENTA


def test_every_model_symbol_is_named_in_symbols():
    masses = {m for model in MODELS.values() for m in model.mass_symbols}
    assert masses == set(symbols.ALL_MASSES)
    assert {model.coupling for model in MODELS.values()} == set(symbols.ALL_COUPLINGS)


def test_the_leg_limit_is_one_number_for_processes_parser_and_tokens():
    n = symbols.MAX_LEGS
    assert len(symbols.DOT_PRODUCTS) == n * (n - 1) // 2 and MOMENTA == symbols.MOMENTA
    assert symbols.DOT_PRODUCTS[-1] == f"s_{n - 1}{n}" and MOMENTA[-1] == f"p_{n}"
    assert set(symbols.DOT_PRODUCTS) <= set(symbol_table()) and set(symbols.DOT_PRODUCTS) <= set(
        notations.SYMBOL_TOKENS
    )
    assert set(MOMENTA) <= set(marty_tokens.SCALAR_NAMES)
    check_size(["e-"] * 3, ["e-"] * (n - 3))  # the largest process is accepted...
    with pytest.raises(ProcessError, match=f"at most {n} are supported"):
        check_size(["e-"] * 3, ["e-"] * (n - 2))
    with pytest.raises(ExpressionSyntaxError, match="unknown symbol 's_17'"):  # ...and nothing past it is named
        parse_expression(f"s_12 + s_1{n + 1}")


def test_the_regulator_and_imaginary_unit_have_one_name():
    assert symbols.REGULATOR in known_symbols() and symbols.REGULATOR not in symbol_table()
    assert symbols.REGULATOR in notations.SYMBOL_TOKENS and symbols.REGULATOR in marty_tokens.SCALAR_NAMES
    assert str(parse_expression(symbols.IMAGINARY_UNIT)) == "I"


def test_symbol_names_match_the_pattern():
    for name in (*symbols.ALL_COUPLINGS, *symbols.ALL_MASSES, *symbols.DOT_PRODUCTS, symbols.REGULATOR):
        assert symbols.SYMBOL_NAME_RE.fullmatch(name)
    assert all(symbols.MASS_SYMBOL_RE.fullmatch(m) for m in symbols.ALL_MASSES)
