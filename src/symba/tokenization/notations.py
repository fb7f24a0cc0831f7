"""Squared amplitudes <-> token sequences in three notations, with an exact round trip.

Notations (``NOTATIONS``):

``prefix``
    Every operator has a fixed arity: ``add``/``mul``/``pow`` take two operands,
    ``neg`` one; an n-ary sum becomes a right-nested chain ``add a add b c``.
``hybrid``
    ``add(`` and ``mul(`` take any number (>= 2) of operands and close with ``)``;
    ``pow`` and ``neg`` stay fixed-arity prefix.
``hybrid-short``
    ``hybrid`` plus shortening, each a closed list of tokens that stand for one
    SymPy structure (sizes for the 9 masses and the 15 ``s_ij`` of legs 1..6):

    - ``m_X^n`` (n in ``MASS_POWERS``, 36), ``e^n``/``g_s^n`` (``COUPLING_POWERS``, 8)
      and ``s_ij^n`` (n in ``DOT_POWERS``, -4..4, 105) for a power of a symbol;
    - inside a product, pairs of factors become one token (the first factor's place):
      ``m_X^n*s_ij`` (n in ``FUSED_POWERS``, 270), then ``s_ij*s_kl`` (105), then
      ``m_X^a*m_Y^b`` (a, b in ``FUSED_POWERS``, 144); a product that is exactly
      one such pair is that token alone;
    - ``c*`` (c in ``COEFFICIENTS``, +-2..+-9, 16) is a unary operator like ``neg``:
      the integer coefficient c times the rest of the product;
    - ``pow<n>`` (n in ``OPERATOR_POWERS``, -4..4, 7) is a unary operator: its
      operand to the power n (``pow-2 add( s_12 m_e^2 )``).

    So ``2*m_e^2*m_mu^2`` is ``2* m_e^2*m_mu^2`` and ``1/(s_12 + m_e^2)^2`` is
    ``pow-2 add( s_12 m_e^2 )``.

Numbers use a small closed vocabulary: a sign token and decimal digits
(``INT+ 1 2`` is 12, ``INT- 3`` is -3); a rational is ``rat`` followed by two
integers (``rat INT- 1 INT+ 2`` is -1/2).  ``neg x`` is SymPy's ``-x``
(``Mul(-1, x)``).

The tokens mirror SymPy's own expression tree (a fused token is a sub-product
that SymPy's Mul flattens back), and SymPy rebuilds a canonical expression
from the same arguments, so ``detokenize(tokenize(x), n) == x``
holds structurally, not only after simplification.
"""

from __future__ import annotations

from functools import cache

import sympy

from symba.physics.expression_parser import numbers_too_big, power_problem
from symba.physics.expression_parser import parse_expression as parse_engine_expression
from symba.physics.symbols import ALL_COUPLINGS as COUPLINGS
from symba.physics.symbols import ALL_MASSES, DOT_PRODUCTS, IMAGINARY_UNIT, REGULATOR

NOTATIONS = ("prefix", "hybrid", "hybrid-short")
DEFAULT_NOTATION = "hybrid-short"

# reg_prop: MARTY's propagator regulator, kept by ``symba import-symba --reg-prop keep``.
SYMBOL_TOKENS = (*COUPLINGS, *ALL_MASSES, *DOT_PRODUCTS, REGULATOR)

MASS_POWERS = (2, 4, 6, 8)  # m_X^n as one token in hybrid-short
FUSED_POWERS = (2, 4)  # m_X^n*s_ij and m_X^a*m_Y^b as one token in hybrid-short
COUPLING_POWERS = (2, 4, 6, 8)  # e^n, g_s^n as one token in hybrid-short
DOT_POWERS = (-4, -3, -2, -1, 2, 3, 4)  # s_ij^n as one token in hybrid-short
# c* is a unary operator like neg: c times the rest of a product (hybrid-short)
COEFFICIENTS = (*range(-9, -1), *range(2, 10))
# pow<n> is a unary operator: its operand to the power n (hybrid-short), e.g. pow-2 add( s_12 m_e^2 )
OPERATOR_POWERS = (-4, -3, -2, -1, 2, 3, 4)

INT_POS, INT_NEG, RATIONAL = "INT+", "INT-", "rat"
DIGITS = tuple(str(d) for d in range(10))
NEG, POW = "neg", "pow"
ADD2, MUL2 = "add", "mul"  # prefix: binary
ADDN, MULN, CLOSE = "add(", "mul(", ")"  # hybrid: n-ary, closed by CLOSE

_SYMBOLS = {name: sympy.Symbol(name) for name in SYMBOL_TOKENS}
_MASS_SET = frozenset(ALL_MASSES)
_DOT_SET = frozenset(DOT_PRODUCTS)


def mass_power_token(mass: str, power: int) -> str:
    return f"{mass}^{power}"


def fused_token(mass: str, power: int, dot: str) -> str:
    return f"{mass}^{power}*{dot}"


def coefficient_token(value: int) -> str:
    return f"{value}*"


def power_operator_token(power: int) -> str:
    return f"pow{power}"


def dot_pair_token(first: str, second: str) -> str:
    return f"{first}*{second}"


def mass_pair_token(first: str, first_power: int, second: str, second_power: int) -> str:
    return f"{first}^{first_power}*{second}^{second_power}"


# token -> (mass, power) / (mass, power, dot): the shortened tokens and what they stand for
_MASS_POWER_TOKENS = {mass_power_token(m, n): (m, n) for m in ALL_MASSES for n in MASS_POWERS}
_MASS_POWER_TOKENS.update({mass_power_token(g, n): (g, n) for g in COUPLINGS for n in COUPLING_POWERS})
_MASS_POWER_TOKENS.update({mass_power_token(s, n): (s, n) for s in DOT_PRODUCTS for n in DOT_POWERS})
_FUSED_TOKENS = {fused_token(m, n, s): (m, n, s) for m in ALL_MASSES for n in FUSED_POWERS for s in DOT_PRODUCTS}
# products of two different factors, named in the fixed order of DOT_PRODUCTS / ALL_MASSES
_DOT_PAIR_TOKENS = {dot_pair_token(a, b): (a, b) for k, a in enumerate(DOT_PRODUCTS) for b in DOT_PRODUCTS[k + 1 :]}
_MASS_PAIR_TOKENS = {
    mass_pair_token(a, p, b, q): (a, p, b, q)
    for k, a in enumerate(ALL_MASSES)
    for b in ALL_MASSES[k + 1 :]
    for p in FUSED_POWERS
    for q in FUSED_POWERS
}
_COEFFICIENT_TOKENS = {coefficient_token(c): sympy.Integer(c) for c in COEFFICIENTS}
_POWER_OPERATOR_TOKENS = {power_operator_token(n): sympy.Integer(n) for n in OPERATOR_POWERS}
_DOT_ORDER = {name: k for k, name in enumerate(DOT_PRODUCTS)}
_MASS_ORDER = {name: k for k, name in enumerate(ALL_MASSES)}


def notation_tokens(notation: str) -> list[str]:
    """Every token the squared-amplitude side of ``notation`` can produce, in a fixed order."""
    check_notation(notation)
    ops = [NEG, POW] + ([ADD2, MUL2] if notation == "prefix" else [ADDN, MULN, CLOSE])
    tokens = ops + [INT_POS, INT_NEG, RATIONAL, *DIGITS, IMAGINARY_UNIT, *SYMBOL_TOKENS]
    if notation == "hybrid-short":
        tokens += (
            list(_COEFFICIENT_TOKENS)
            + list(_POWER_OPERATOR_TOKENS)
            + list(_MASS_POWER_TOKENS)
            + list(_FUSED_TOKENS)
            + list(_DOT_PAIR_TOKENS)
            + list(_MASS_PAIR_TOKENS)
        )
    return tokens


def check_notation(notation: str) -> None:
    if notation not in NOTATIONS:
        raise ValueError(f"unknown notation {notation!r}; choose one of {', '.join(NOTATIONS)}")


def parse_squared(text: str) -> sympy.Expr:
    """Parse a squared amplitude written with ``^`` or ``**`` in the symbols of docs/physics.md.

    Uses the engine's recursion-free parser: ``sympify`` fails on sums of a few
    thousand terms, which QCD 2->3 squares exceed.
    """
    try:
        return parse_engine_expression(text)
    except ValueError as exc:
        raise ValueError(f"cannot parse expression {text[:60]!r}: {exc}") from None


# ---------------------------------------------------------------- tokenize


def integer_tokens(n: int) -> list[str]:
    return [INT_NEG if n < 0 else INT_POS, *str(abs(n))]


def number_tokens(value: sympy.Rational) -> list[str]:
    if value.q == 1:
        return integer_tokens(int(value.p))
    return [RATIONAL, *integer_tokens(int(value.p)), *integer_tokens(int(value.q))]


def tokenize(expr, notation: str = DEFAULT_NOTATION) -> list[str]:
    """Tokens of a squared amplitude (SymPy expression, or text parsed with our symbols)."""
    check_notation(notation)
    if isinstance(expr, str):
        expr = parse_squared(expr)
    elif isinstance(expr, int):
        expr = sympy.Integer(expr)
    elif not isinstance(expr, sympy.Basic):  # never sympify: it evals strings
        raise TypeError(f"expected a SymPy expression or text, got {type(expr).__name__}")
    return emit_prefix(expr, lambda item: _expand(item, notation))


def emit_prefix(root, expand) -> list[str]:
    """Tokens of a tree in prefix order, shared by expressions and amplitudes.

    ``expand(node) -> (tokens, children)``; children may mix nodes and literal
    tokens (such as a closing ``)``).  An explicit stack, not recursion: long
    sums make deep prefix chains.
    """
    out: list[str] = []
    stack: list[object] = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            out.append(item)
            continue
        emitted, children = expand(item)
        out.extend(emitted)
        stack.extend(reversed(children))
    return out


class _Chain:
    """Operands of a sum or product still to be emitted (never rebuilt into SymPy here)."""

    def __init__(self, kind: str, operands):
        self.kind = kind  # "add" or "mul"
        self.operands = tuple(operands)


def _expand(x, notation: str) -> tuple[list[str], list[object]]:
    """Tokens emitted for node ``x`` now, and the items (expressions or tokens) that follow."""
    if isinstance(x, _Chain):
        if len(x.operands) == 1:
            return [], [x.operands[0]]
        return _nary(x.kind, list(x.operands), notation)
    if x.is_Rational:
        return number_tokens(x), []
    if x.is_Symbol:
        if x.name not in _SYMBOLS:
            raise ValueError(f"symbol {x.name!r} is not in the vocabulary (allowed: {', '.join(SYMBOL_TOKENS)})")
        return [x.name], []
    if x is sympy.I:
        return [IMAGINARY_UNIT], []
    if x.is_Number:
        raise ValueError(f"number {x} is not an exact rational; floating-point numbers are not allowed")
    if x.is_Pow:
        base, exp = x.args
        if notation == "hybrid-short" and base.is_Symbol and exp.is_Integer:
            token = mass_power_token(base.name, int(exp))
            if token in _MASS_POWER_TOKENS:  # m_X^n, e^n, g_s^n with n in the closed lists
                return [token], []
        if notation == "hybrid-short" and exp.is_Integer and int(exp) in OPERATOR_POWERS:
            return [power_operator_token(int(exp))], [base]
        return [POW], [base, exp]
    if x.is_Mul:
        args = list(x.args)
        if args[0] == sympy.S.NegativeOne:  # SymPy's -y is Mul(-1, y)
            return [NEG], [_Chain("mul", args[1:])]
        if notation == "hybrid-short" and args[0].is_Integer and int(args[0]) in COEFFICIENTS:
            return [coefficient_token(int(args[0]))], [_Chain("mul", args[1:])]
        return _nary("mul", args, notation)
    if x.is_Add:
        return _nary("add", list(x.args), notation)
    raise ValueError(f"unsupported operation {type(x).__name__} in {str(x)[:60]!r}")


def _nary(kind: str, args: list, notation: str) -> tuple[list[str], list[object]]:
    if notation == "hybrid-short" and kind == "mul":
        args = _fuse_factors(args)
        if len(args) == 1:  # the whole product is one fused token
            return [args[0]], []
    if notation == "prefix":
        # right-nested chain: a*b*c -> mul a mul b c
        return [MUL2 if kind == "mul" else ADD2], [args[0], _Chain(kind, args[1:])]
    return [MULN if kind == "mul" else ADDN], [*args, CLOSE]


def _is_dot(a) -> bool:
    return not isinstance(a, str) and a.is_Symbol and a.name in _DOT_SET


def _fusable_mass(a) -> bool:
    return (
        not isinstance(a, str)
        and a.is_Pow
        and a.base.is_Symbol
        and a.base.name in _MASS_SET
        and a.exp.is_Integer
        and int(a.exp) in FUSED_POWERS
    )


def _fuse_factors(args: list) -> list:
    """Factors of a product with fusable pairs replaced by one token each (a str).

    Pairs, in this order: ``m_X^n`` with ``s_ij``, then two ``s_ij``, then two
    ``m_X^n``.  A fused token takes the place of its first factor, so a numeric
    coefficient stays first.  SymPy's Mul flattens the fused factors back into
    the same canonical product, which keeps the round trip exact.
    """
    out = list(args)

    def fuse(first_ok, second_ok, name):
        while True:
            i = next((k for k, a in enumerate(out) if first_ok(a)), None)
            if i is None:
                return
            j = next((k for k, a in enumerate(out) if k != i and second_ok(out[i], a)), None)
            if j is None:
                return
            i, j = min(i, j), max(i, j)
            out[i] = name(out[i], out[j])
            del out[j]

    def mass_dot(x, y):
        m, d = (x, y) if _fusable_mass(x) else (y, x)
        return fused_token(m.base.name, int(m.exp), d.name)

    def dot_pair(x, y):
        a, b = sorted((x.name, y.name), key=_DOT_ORDER.__getitem__)
        return dot_pair_token(a, b)

    def mass_pair(x, y):
        a, b = sorted((x, y), key=lambda m: _MASS_ORDER[m.base.name])
        return mass_pair_token(a.base.name, int(a.exp), b.base.name, int(b.exp))

    # distinct symbols only: an unevaluated x*x or m^2*m^4 has no token (SymPy would combine them)
    fuse(_fusable_mass, lambda first, a: _is_dot(a), mass_dot)
    fuse(_is_dot, lambda first, a: _is_dot(a) and a != first, dot_pair)
    fuse(_fusable_mass, lambda first, a: _fusable_mass(a) and a.base != first.base, mass_pair)
    return out


# ---------------------------------------------------------------- detokenize


# Bounds, so that a hostile or broken sequence (model output) fails fast with one line.
MAX_TOKENS = 5_000_000  # a whole-process QCD 2->3 square is under a million tokens
MAX_TOKEN_NESTING = 200  # operators open at once (an amplitude nests up to 5 per parenthesis); a chain counts once
MAX_NUMBER_DIGITS = 300  # as symba.physics.expression_parser: also for numbers SymPy folds


class TokenError(ValueError):
    """A malformed token sequence; the message names the position (0-based token index)."""


def detokenize(tokens, notation: str = DEFAULT_NOTATION) -> sympy.Expr:
    """Rebuild the SymPy expression from tokens (a list, or one space-separated string)."""
    check_notation(notation)
    if isinstance(tokens, str):
        tokens = tokens.split()
    tokens = list(tokens)
    if not tokens:
        raise TokenError("empty token sequence")
    fixed = {NEG: 1, POW: 2}
    if notation == "hybrid-short":
        fixed.update(dict.fromkeys(_COEFFICIENT_TOKENS, 1))
        fixed.update(dict.fromkeys(_POWER_OPERATOR_TOKENS, 1))
    if notation == "prefix":
        fixed.update({ADD2: 2, MUL2: 2})
        nary = {}
    else:
        nary = {ADDN: sympy.Add, MULN: sympy.Mul}
    leaves = _leaf_table(notation)

    def read_operand(tokens, pos):
        tok = tokens[pos]
        if tok in (INT_POS, INT_NEG, RATIONAL):
            return read_number(tokens, pos)
        if tok in leaves:
            return leaves[tok], pos + 1
        if tok in DIGITS:
            raise TokenError(f"digit {tok!r} at position {pos} outside a number")
        raise TokenError(f"unknown token {tok!r} at position {pos} for notation {notation}")

    def build_nary(op, at, close_at, operands):
        if len(operands) < 2:
            raise TokenError(
                f"{op!r} at position {at} closed at position {close_at} with {len(operands)} operand(s); needs at least 2"
            )
        return _bounded_numbers(nary[op](*operands)) if op == MULN else nary[op](*operands)

    return parse_prefix(tokens, fixed, nary, read_operand, _build_fixed, build_nary)


def parse_prefix(tokens: list[str], fixed: dict, nary, read_operand, build_fixed, build_nary):
    """The stack machine shared by every prefix-style notation.

    ``fixed`` maps operator tokens to their arity; tokens in ``nary`` collect
    operands until ``)``; ``read_operand(tokens, pos) -> (value, next_pos)``
    reads anything else.  A binary ``add``/``mul`` chain reaches
    ``build_fixed`` as one operator with all its operands.  Errors name the position.  Sequences longer than
    ``MAX_TOKENS`` or nesting deeper than ``MAX_TOKEN_NESTING`` are refused:
    the trees built here are printed and evaluated recursively later.
    """
    if len(tokens) > MAX_TOKENS:
        raise TokenError(f"sequence of {len(tokens):,} tokens is longer than the limit of {MAX_TOKENS:,}")
    # frames: [operator token, position, operands, nesting level, operands still wanted]
    stack: list[list] = []
    pos, n = 0, len(tokens)
    while True:
        if pos >= n:
            if stack:
                op, at = stack[-1][:2]
                raise TokenError(
                    f"unexpected end of tokens at position {n}: {op!r} opened at position {at} is incomplete"
                )
            raise TokenError(f"unexpected end of tokens at position {n}")
        tok = tokens[pos]
        if tok in (ADD2, MUL2) and stack and stack[-1][0] == tok and stack[-1][4] == 1:
            # the tail of a binary chain "add a add b c" joins its head: one flat sum,
            # built once (rebuilding a nested sum at every link takes quadratic time)
            stack[-1][4] = fixed[tok]
            pos += 1
            continue
        if tok in fixed or tok in nary:
            level = stack[-1][3] + 1 if stack else 1
            if level > MAX_TOKEN_NESTING:
                raise TokenError(f"{tok!r} at position {pos} nests deeper than {MAX_TOKEN_NESTING} levels")
            stack.append([tok, pos, [], level, fixed.get(tok, -1)])
            pos += 1
            continue
        if tok == CLOSE:
            if not stack or stack[-1][0] not in nary:
                raise TokenError(f"unexpected {CLOSE!r} at position {pos}")
            op, at, operands = stack.pop()[:3]
            value = build_nary(op, at, pos, operands)
            pos += 1
        else:
            value, pos = read_operand(tokens, pos)
        while True:  # hand the finished operand to the enclosing operators
            if not stack:
                if pos != n:
                    raise TokenError(f"extra tokens from position {pos}: {' '.join(tokens[pos : pos + 5])!r}")
                return value
            frame = stack[-1]
            frame[2].append(value)
            frame[4] -= 1
            if frame[4] == 0:
                stack.pop()
                try:
                    value = build_fixed(frame[0], frame[2])
                except TokenError as exc:  # a bound: name the operator's place
                    raise TokenError(f"{frame[0]!r} at position {frame[1]}: {exc}") from None
                continue
            break


def _build_fixed(op: str, operands: list) -> sympy.Expr:
    if op == NEG:
        return -operands[0]
    if op == POW:
        return _bounded_power(*operands)
    if op in _POWER_OPERATOR_TOKENS:
        return _bounded_power(operands[0], _POWER_OPERATOR_TOKENS[op])
    if op in _COEFFICIENT_TOKENS:
        return _bounded_numbers(sympy.Mul(_COEFFICIENT_TOKENS[op], operands[0]))
    if op == ADD2:
        return sympy.Add(*operands)
    return _bounded_numbers(sympy.Mul(*operands))


def _bounded_power(base, exponent) -> sympy.Expr:
    """``base^exponent`` within the bounds of :mod:`symba.physics.expression_parser` (raises TokenError)."""
    problem = power_problem(base, exponent)
    if problem:
        raise TokenError(problem)
    return _bounded_numbers(sympy.Pow(base, exponent))


def _bounded_numbers(expr) -> sympy.Expr:
    if numbers_too_big(expr):
        raise TokenError(f"a number would have more than {MAX_NUMBER_DIGITS} digits")
    return expr


def read_digits(tokens, pos) -> tuple[list[str], int]:
    """The digit tokens from ``pos`` on, and the position after them."""
    end = pos
    while end < len(tokens) and tokens[end] in DIGITS:
        end += 1
    return list(tokens[pos:end]), end


def _read_integer(tokens, pos) -> tuple[int, int]:
    sign_at = pos
    sign = tokens[pos]
    if sign not in (INT_POS, INT_NEG):
        raise TokenError(f"expected {INT_POS!r} or {INT_NEG!r} at position {pos}, found {sign!r}")
    pos += 1
    digits, pos = read_digits(tokens, pos)
    if not digits:
        raise TokenError(f"integer at position {sign_at} has no digits")
    if len(digits) > MAX_NUMBER_DIGITS:
        raise TokenError(f"integer at position {sign_at} has more than {MAX_NUMBER_DIGITS} digits")
    if len(digits) > 1 and digits[0] == "0":
        raise TokenError(f"integer at position {sign_at} has a leading zero")
    value = int("".join(digits))
    if sign == INT_NEG and value == 0:
        raise TokenError(f"negative zero at position {sign_at}")
    return (-value if sign == INT_NEG else value), pos


def read_number(tokens, pos) -> tuple[sympy.Rational, int]:
    if tokens[pos] != RATIONAL:
        value, pos = _read_integer(tokens, pos)
        return sympy.Integer(value), pos
    at = pos
    if pos + 1 >= len(tokens):
        raise TokenError(
            f"unexpected end of tokens at position {pos + 1}: {RATIONAL!r} at position {at} needs two integers"
        )
    num, pos = _read_integer(tokens, pos + 1)
    if pos >= len(tokens):
        raise TokenError(
            f"unexpected end of tokens at position {pos}: {RATIONAL!r} at position {at} needs a denominator"
        )
    den_at = pos
    den, pos = _read_integer(tokens, pos)
    if den <= 1:
        raise TokenError(f"denominator at position {den_at} must be an integer > 1, got {den}")
    return sympy.Rational(num, den), pos


@cache
def _leaf_table(notation: str) -> dict[str, sympy.Expr]:
    table: dict[str, sympy.Expr] = dict(_SYMBOLS)
    table[IMAGINARY_UNIT] = sympy.I
    if notation == "hybrid-short":
        for tok, (m, p) in _MASS_POWER_TOKENS.items():
            table[tok] = _SYMBOLS[m] ** p
        for tok, (m, p, s) in _FUSED_TOKENS.items():
            table[tok] = _SYMBOLS[m] ** p * _SYMBOLS[s]
        for tok, (a, b) in _DOT_PAIR_TOKENS.items():
            table[tok] = _SYMBOLS[a] * _SYMBOLS[b]
        for tok, (a, p, b, q) in _MASS_PAIR_TOKENS.items():
            table[tok] = _SYMBOLS[a] ** p * _SYMBOLS[b] ** q
    return table
