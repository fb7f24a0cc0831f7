"""Parsing squared-amplitude text into SymPy without recursion limits.

``sympy.sympify`` goes through Python's own parser, which recurses once per
``+`` of a flat sum and fails on the tens of thousands of terms of a QCD 2->3
squared amplitude.  This parser builds ``Add``/``Mul`` from lists, so only
parentheses nest.  It reads the grammar of ``sympy.sstr`` and FORM output:
integers, names, ``+ - * /``, powers ``^`` or ``**`` (right-associative),
parentheses, unary signs.  Names are the symbols of PHYSICS.md; ``i`` is
the imaginary unit.
"""

from __future__ import annotations

import re

import sympy

_TOKEN = re.compile(r"\s*(?:(\d+)|([A-Za-z_][A-Za-z0-9_]*)|(\*\*|[-+*/^()]))")


class ExpressionSyntaxError(ValueError):
    pass


def _symbol(name: str, cache: dict) -> sympy.Expr:
    if name not in cache:
        cache[name] = sympy.I if name == "i" else sympy.Symbol(name)
    return cache[name]


def parse_expression(text: str) -> sympy.Expr:
    """Parse a squared amplitude (or any polynomial/rational expression) exactly."""
    tokens: list[tuple[str, str, int]] = []
    pos = 0
    text = text.strip()
    while pos < len(text):
        while text[pos].isspace():
            pos += 1
        m = _TOKEN.match(text, pos)
        if not m or m.end() == pos:
            raise ExpressionSyntaxError(f"unexpected character {text[pos]!r} at position {pos}")
        kind = "int" if m.group(1) else "name" if m.group(2) else "op"
        val = m.group(1) or m.group(2) or ("^" if m.group(3) == "**" else m.group(3))
        tokens.append((kind, val, m.start(m.lastindex)))
        pos = m.end()
    if not tokens:
        raise ExpressionSyntaxError("empty expression")
    cache: dict = {}
    i = 0

    def peek():
        return tokens[i] if i < len(tokens) else ("end", "", len(text))

    def expect(val):
        nonlocal i
        tok = peek()
        if tok[1] != val:
            raise ExpressionSyntaxError(f"expected {val!r} at position {tok[2]}")
        i += 1

    def expr():
        nonlocal i
        # A leading sign belongs to the first factor (unary() reads it), as in
        # Python, so that results equal sympify's structurally, not just in value.
        terms = [term()]
        while peek()[0] == "op" and peek()[1] in "+-":
            op = peek()[1]
            i += 1
            t = term()
            terms.append(-t if op == "-" else t)
        return sympy.Add(*terms) if len(terms) > 1 else terms[0]

    def term():
        # Left to right, one factor at a time, as Python does: 2*(a + b)*c
        # distributes the 2 first, and the result must equal sympify's exactly.
        nonlocal i
        out = unary()
        while peek()[0] == "op" and peek()[1] in "*/":
            op = peek()[1]
            i += 1
            rhs = unary()
            out = out * rhs if op == "*" else out / rhs
        return out

    def unary():
        nonlocal i
        if peek()[0] == "op" and peek()[1] in "+-":
            op = peek()[1]
            i += 1
            val = unary()
            return -val if op == "-" else val
        return power()

    def power():
        nonlocal i
        base = atom()
        if peek()[0] == "op" and peek()[1] == "^":
            i += 1
            return sympy.Pow(base, unary())  # right-associative, allows x^-2
        return base

    def atom():
        nonlocal i
        kind, val, p = peek()
        if kind == "int":
            i += 1
            return sympy.Integer(int(val))
        if kind == "name":
            i += 1
            return _symbol(val, cache)
        if val == "(":
            i += 1
            out = expr()
            expect(")")
            return out
        found = "end of input" if kind == "end" else repr(val)
        raise ExpressionSyntaxError(f"unexpected {found} at position {p}")

    out = expr()
    if i != len(tokens):
        raise ExpressionSyntaxError(f"unexpected {tokens[i][1]!r} at position {tokens[i][2]}")
    return out
