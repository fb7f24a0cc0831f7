"""Parsing squared-amplitude text into SymPy: the one reader for expression text from outside.

Text from files, MARTY and the model is data, never code: this parser accepts
only the grammar below and never calls ``sympify``/``eval``.  It also avoids
the recursion limit of Python's own parser, which ``sympify`` goes through
and which fails on the tens of thousands of terms of a QCD 2->3 square: sums
and products are built from lists, so only parentheses and powers nest.

Grammar (the output of ``sympy.sstr``, FORM and MARTY)::

    expr   := term (('+' | '-') term)*
    term   := unary (('*' | '/') unary)*
    unary  := ('+' | '-')* power
    power  := atom [('^' | '**') unary]          (right-associative)
    atom   := INT | NAME | '(' expr ')'

Names are the known symbols (:func:`known_symbols`: the symbols of docs/physics.md,
named in :mod:`symba.physics.symbols`, and MARTY's ``reg_prop``); ``i`` is the
imaginary unit.  There are no functions.

Bounds, so that hostile text fails fast with one line instead of hanging:

* at most ``MAX_EXPRESSION_CHARS`` characters;
* at most ``MAX_NESTING`` open parentheses and powers at once;
* integers of at most ``MAX_NUMBER_DIGITS`` digits, also when computed
  (``9^64`` is folded, ``9^999999999`` is refused before SymPy computes it);
* exponents are integers with absolute value at most ``MAX_EXPONENT``;
* no division by zero (SymPy would make ``zoo``);
* SymPy distributes a number into a sum (``(a + b)*2`` is ``2*a + 2*b``):
  the terms so rebuilt may number at most ``WORK_PER_CHAR`` per character of
  text, so ``(a + b + ...)*(-1)*(-1)*...`` cannot take quadratic time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

import sympy

from .symbols import ALL_COUPLINGS, ALL_MASSES, DOT_PRODUCTS, IMAGINARY_UNIT, REGULATOR, SYMBOL_NAME_PATTERN

MAX_EXPRESSION_CHARS = 10_000_000  # a whole-process QCD 2->3 square is a few MB
MAX_NESTING = 100  # real squares nest about 10 deep; keeps well inside Python's recursion limit
MAX_EXPONENT = 64  # real squares have |powers| <= 8
MAX_NUMBER_DIGITS = 300  # real coefficients have fewer than 30 digits
_MAX_NUMBER_BITS = int(MAX_NUMBER_DIGITS * 3.33) + 1  # log2(10) ~ 3.32
WORK_PER_CHAR = 10  # real text distributes a number into each sum about once

_TOKEN = re.compile(rf"\s*(?:(\d+)|({SYMBOL_NAME_PATTERN})|(\*\*|[-+*/^()]))", re.ASCII)


class ExpressionSyntaxError(ValueError):
    """Text outside the grammar or its bounds; the message names the problem and its position."""


@lru_cache(maxsize=1)
def symbol_table() -> dict[str, sympy.Expr]:
    """The symbols of docs/physics.md, so that e.g. ``e`` and ``i`` mean our symbols, not E or I."""
    table: dict[str, sympy.Expr] = {n: sympy.Symbol(n) for n in (*ALL_COUPLINGS, *ALL_MASSES, *DOT_PRODUCTS)}
    table[IMAGINARY_UNIT] = sympy.I
    return table


@lru_cache(maxsize=1)
def known_symbols() -> dict[str, sympy.Expr]:
    """Name -> SymPy object for every name the parser accepts by default."""
    table = dict(symbol_table())
    table[REGULATOR] = sympy.Symbol(REGULATOR)
    return table


def _too_big(value: sympy.Rational) -> bool:
    return int(value.p).bit_length() > _MAX_NUMBER_BITS or int(value.q).bit_length() > _MAX_NUMBER_BITS


def power_problem(base: sympy.Expr, exponent: sympy.Expr) -> str | None:
    """Why ``base^exponent`` is outside the bounds (checked before SymPy folds it), or None."""
    if not exponent.is_Integer or abs(int(exponent)) > MAX_EXPONENT:
        if not exponent.is_Integer:
            shown = "not an integer"
        else:
            shown = str(exponent) if abs(int(exponent)) < 10**20 else "too large"
        return f"exponent must be an integer from -{MAX_EXPONENT} to {MAX_EXPONENT} ({shown})"
    n = int(exponent)
    if n < 0 and base == 0:
        return "division by zero (0 to a negative power)"
    if base.is_Rational:  # SymPy folds number^integer: refuse before computing a huge one
        if max(int(base.p).bit_length(), int(base.q).bit_length()) * abs(n) > _MAX_NUMBER_BITS:
            return f"a number would have more than {MAX_NUMBER_DIGITS} digits"
    return None


def numbers_too_big(expr: sympy.Expr) -> bool:
    """Whether a number SymPy just computed in ``expr`` exceeds ``MAX_NUMBER_DIGITS``.

    Numbers grow only where SymPy folds them: a coefficient of a product, or
    the coefficients of a sum a number was distributed into."""
    if expr.is_Rational:
        numbers = [expr]
    elif expr.is_Mul:
        numbers = [expr.args[0]] if expr.args[0].is_Rational else []
    elif expr.is_Add:
        numbers = [a.as_coeff_Mul()[0] for a in expr.args]
    else:
        numbers = []
    return any(_too_big(x) for x in numbers if x.is_Rational)


class _Parser:
    """Recursive descent over a lazy scanner; only '(' and '^' recurse, and both count toward MAX_NESTING."""

    def __init__(self, text: str, symbols: Mapping[str, sympy.Expr], rename: Mapping[str, str]):
        self.text = text
        self.symbols = symbols
        self.rename = rename
        self.depth = 0
        self.work_left = WORK_PER_CHAR * len(text) + 10_000
        self.scan = 0  # where the next token starts
        self.token: tuple[str, str, int] = ("end", "", 0)
        self.advance()

    def advance(self) -> None:
        text, pos = self.text, self.scan
        m = _TOKEN.match(text, pos)
        if m is None or m.lastindex is None:
            rest = pos
            while rest < len(text) and text[rest].isspace():
                rest += 1
            if rest >= len(text):
                self.token = ("end", "", len(text))
                return
            raise ExpressionSyntaxError(f"unexpected character {text[rest]!r} at position {rest}")
        kind = "int" if m.group(1) else "name" if m.group(2) else "op"
        value = m.group(m.lastindex)
        self.token = (kind, "^" if value == "**" else value, m.start(m.lastindex))
        self.scan = m.end()

    def is_op(self, ops: str) -> bool:
        return self.token[0] == "op" and self.token[1] in ops

    def nest(self, what: str) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise ExpressionSyntaxError(f"{what} at position {self.token[2]} nests deeper than {MAX_NESTING} levels")

    def expr(self) -> sympy.Expr:
        # A leading sign belongs to the first factor (unary() reads it), as in
        # Python, so that results equal sympify's structurally, not just in value.
        terms = [self.term()]
        while self.is_op("+-"):
            negative = self.token[1] == "-"
            self.advance()
            t = self.term()
            terms.append(-t if negative else t)
        return sympy.Add(*terms) if len(terms) > 1 else terms[0]

    def term(self) -> sympy.Expr:
        # Left to right, one factor at a time, as Python does: 2*(a + b)*c
        # distributes the 2 first, and the result must equal sympify's exactly.
        out = self.unary()
        while self.is_op("*/"):
            op, at = self.token[1], self.token[2]
            self.advance()
            rhs = self.unary()
            if op == "/" and rhs == 0:
                raise ExpressionSyntaxError(f"division by zero at position {at}")
            out = self.bounded(out * rhs if op == "*" else out / rhs, at, out, rhs)
        return out

    def unary(self) -> sympy.Expr:
        signs = []
        while self.is_op("+-"):
            signs.append(self.token[1])
            self.advance()
        out = self.power()
        for sign in reversed(signs):  # innermost first: -(-x), as Python nests them
            if sign == "-":
                out = -out
        return out

    def power(self) -> sympy.Expr:
        base = self.atom()
        if not self.is_op("^"):
            return base
        at = self.token[2]
        self.nest("power")
        self.advance()
        exponent = self.unary()
        self.depth -= 1
        problem = power_problem(base, exponent)
        if problem:
            raise ExpressionSyntaxError(f"power at position {at}: {problem}")
        return self.bounded(sympy.Pow(base, exponent), at)

    def atom(self) -> sympy.Expr:
        kind, val, at = self.token
        if kind == "int":
            if len(val) > MAX_NUMBER_DIGITS:
                raise ExpressionSyntaxError(f"integer at position {at} has more than {MAX_NUMBER_DIGITS} digits")
            self.advance()
            return sympy.Integer(int(val))
        if kind == "name":
            name = self.rename.get(val, val)
            if name not in self.symbols:
                raise ExpressionSyntaxError(f"unknown symbol {val!r} at position {at}")
            self.advance()
            return self.symbols[name]
        if val == "(":
            self.nest("parenthesis")
            self.advance()
            out = self.expr()
            if not self.is_op(")"):
                found = "end of input" if self.token[0] == "end" else repr(self.token[1])
                raise ExpressionSyntaxError(f"expected ')' at position {self.token[2]}, found {found}")
            self.depth -= 1
            self.advance()
            return out
        found = "end of input" if kind == "end" else repr(val)
        raise ExpressionSyntaxError(f"unexpected {found} at position {at}")

    def bounded(self, expr: sympy.Expr, at: int, *operands: sympy.Expr) -> sympy.Expr:
        """``expr`` if the numbers SymPy computed in it, and the work so far, are within the bounds.

        ``x*1`` is ``x`` itself: nothing new to check."""
        if any(expr is operand for operand in operands):
            return expr
        if expr.is_Add:  # a number was distributed into a sum: SymPy rebuilt every term
            self.work_left -= len(expr.args)
            if self.work_left < 0:
                raise ExpressionSyntaxError(
                    f"at position {at}: numbers multiplied into sums rebuild more than {WORK_PER_CHAR} terms per character of text"
                )
        if numbers_too_big(expr):
            raise ExpressionSyntaxError(f"number at position {at} would have more than {MAX_NUMBER_DIGITS} digits")
        return expr


def parse_expression(
    text: str,
    symbols: Mapping[str, sympy.Expr] | None = None,
    rename: Mapping[str, str] | None = None,
) -> sympy.Expr:
    """Parse a squared amplitude (any rational expression in the grammar) exactly.

    ``symbols`` maps each accepted name to its SymPy value (default:
    :func:`known_symbols`); ``rename`` maps names as written to those names
    first (MARTY's ``g`` -> ``g_s``).  Raises :class:`ExpressionSyntaxError`.
    """
    if not isinstance(text, str):
        raise ExpressionSyntaxError(f"expected text, got {type(text).__name__}")
    if len(text) > MAX_EXPRESSION_CHARS:
        raise ExpressionSyntaxError(
            f"expression of {len(text):,} characters is longer than the limit of {MAX_EXPRESSION_CHARS:,}"
        )
    text = text.strip()
    parser = _Parser(text, known_symbols() if symbols is None else symbols, rename or {})
    if parser.token[0] == "end":
        raise ExpressionSyntaxError("empty expression")
    out = parser.expr()
    if parser.token[0] != "end":
        raise ExpressionSyntaxError(f"unexpected {parser.token[1]!r} at position {parser.token[2]}")
    return out
