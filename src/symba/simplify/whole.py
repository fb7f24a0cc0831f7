"""Whole-process squares in a short form: a sum over denominator groups, each group factored.

The engine writes |sum_d M_d|^2 as FORM prints it, bracketed over the propagator
denominators: ``D1^-2*D2^-1*e^6*(polynomial) + ...``.  Factoring the whole sum puts it
over one common denominator and expands the numerator, 78x longer than the raw text
for QED 2->3 and out of reach for 3->3 (benchmarks/RESULTS-datasets.md, section e2).
:func:`grouped_factored_text` keeps the sum: the terms that share one product of
irreducible denominator factors are added up, that numerator is factored with FLINT
(and cancelled against its denominator), and each group is printed with
:func:`symba.simplify.flint.canonical_factored_text`; groups are sorted by their text,
so the result does not depend on the order FORM wrote the terms in.

:func:`check_same_value` compares two texts at random points in exact modular
arithmetic (Schwartz-Zippel); the simplify worker accepts a form only if it passes.
"""

from __future__ import annotations

import hashlib
import random
from fractions import Fraction

from symba.simplify.flint import (
    IMAGINARY_UNIT,
    MAX_NESTING,
    ExpressionReader,
    FactorError,
    FactorSyntaxError,
    RationalValue,
    canonical_factored_text,
    factor_text,
    flint_polynomial,
    read_exponent,
    tokenize_text,
)

# Points of the equality check are taken modulo this prime (2^61 - 1): a nonzero difference of
# degree d vanishes at a random point with probability at most d / PRIME.
PRIME = (1 << 61) - 1
CHECK_POINTS = 3


class FormMismatch(FactorError):
    """A rewritten form whose value differs from the raw text's."""


def _groups(reader: ExpressionReader) -> dict[tuple, RationalValue]:
    """The top-level terms of the text, added up per product of irreducible denominator factors."""
    groups: dict[tuple, RationalValue] = {}
    first = True
    while reader.i < len(reader.tokens):
        sign = 1
        if not first:
            kind, op, pos = reader.peek()
            if not (kind == "op" and op in "+-"):
                raise FactorSyntaxError(f"unexpected {op!r} at position {pos}")
            reader.i += 1
            sign = -1 if op == "-" else 1
        first = False
        mono, other = reader.term()
        value = reader.to_rational(mono, other)
        key = tuple(sorted((name, k) for name, (_, k) in value.den.items() if k))
        num = value.num if sign > 0 else -value.num
        if key in groups:
            groups[key].num = groups[key].num + num
        else:
            groups[key] = RationalValue(num, {name: (f, k) for name, (f, k) in value.den.items() if k})
    return groups


def _group_text(group: RationalValue, names: tuple[str, ...], engine: str) -> str | None:
    """One group factored and cancelled against its denominator; None if it adds up to zero."""
    if group.num.is_zero():
        return None
    if engine != "flint":  # the reference route: the same canonical text (factorisations are unique)
        den = "*".join(f"({f})^{k}" for f, k in group.den.values()) or "1"
        return factor_text(f"({group.num})/({den})", engine)
    content, facs = group.num.factor()
    den = {name: [f, k] for name, (f, k) in group.den.items()}
    factors = []
    for f, k in facs:
        name = str(f)
        if name in den:
            common = min(k, den[name][1])
            k -= common
            den[name][1] -= common
        if k:
            factors.append((flint_polynomial(f, names), k))
    factors += [(flint_polynomial(f, names), -k) for f, k in den.values() if k]
    return canonical_factored_text(Fraction(int(content.p), int(content.q)), factors)


def grouped_factored_text(text: str, engine: str = "flint") -> str:
    """The whole-process square as a sum of factored denominator groups, in one canonical text."""
    reader = ExpressionReader(text)
    if IMAGINARY_UNIT in reader.index:
        raise FactorError("the grouped form is for real FORM output; this text holds the imaginary unit")
    names = tuple(reader.names) or ("_",)
    pieces = [t for t in (_group_text(g, names, engine) for g in _groups(reader).values()) if t is not None]
    if not pieces:
        return "0"
    pieces.sort(key=lambda t: (t.lstrip("-"), t))
    out = pieces[0]
    for piece in pieces[1:]:
        out += " - " + piece[1:] if piece.startswith("-") else " + " + piece
    return out


# ----------------------------------------------------------------- equality at random points


class _Evaluator:
    """Evaluates a text at several points at once, modulo PRIME (same grammar as the FLINT reader)."""

    def __init__(self, text: str, points: list[dict[str, int]]):
        self.tokens = tokenize_text(text)
        self.points = points
        self.n = len(points)
        self.i = 0
        self.depth = 0

    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "", -1)

    def value(self) -> list[int]:
        out = self.expr()
        if self.i != len(self.tokens):
            _, val, pos = self.tokens[self.i]
            raise FactorSyntaxError(f"unexpected {val!r} at position {pos}")
        return out

    def expr(self) -> list[int]:
        total = self.term()
        while True:
            kind, op, _ = self.peek()
            if not (kind == "op" and op in "+-"):
                return total
            self.i += 1
            rhs = self.term()
            total = (
                [(a + b) % PRIME for a, b in zip(total, rhs)]
                if op == "+"
                else [(a - b) % PRIME for a, b in zip(total, rhs)]
            )

    def term(self) -> list[int]:
        out = self.unary()
        while True:
            kind, op, pos = self.peek()
            if not (kind == "op" and op in "*/"):
                return out
            self.i += 1
            rhs = self.unary()
            if op == "/":
                rhs = [_inverse(b, pos) for b in rhs]
            out = [a * b % PRIME for a, b in zip(out, rhs)]

    def unary(self) -> list[int]:
        sign = 1
        while self.peek()[0] == "op" and self.peek()[1] in "+-":
            if self.peek()[1] == "-":
                sign = -sign
            self.i += 1
        out = self.power()
        return out if sign > 0 else [(-a) % PRIME for a in out]

    def power(self) -> list[int]:
        base = self.atom()
        if not (self.peek()[0] == "op" and self.peek()[1] == "^"):
            return base
        pos = self.peek()[2]
        k, self.i = read_exponent(self.tokens, self.i + 1, -1)
        if k < 0:
            base = [_inverse(b, pos) for b in base]
        return [pow(b, abs(k), PRIME) for b in base]

    def atom(self) -> list[int]:
        kind, val, pos = self.peek()
        self.i += 1
        if kind == "int":
            return [int(val) % PRIME] * self.n
        if kind == "name":
            return [point[val] for point in self.points]
        if val == "(":
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise FactorSyntaxError(f"parentheses nested deeper than {MAX_NESTING} at position {pos}")
            out = self.expr()
            if self.peek()[1] != ")":
                raise FactorSyntaxError(f"expected ')' at position {self.peek()[2]}")
            self.i += 1
            self.depth -= 1
            return out
        raise FactorSyntaxError(f"unexpected {'end of input' if kind == 'end' else repr(val)} at position {pos}")


class _PoleHit(Exception):
    """A random point landed on a zero of a denominator: draw another."""


def _inverse(value: int, pos: int) -> int:
    if value == 0:
        raise _PoleHit(pos)
    return pow(value, -1, PRIME)


def _symbols(text: str) -> list[str]:
    return sorted({val for kind, val, _ in tokenize_text(text) if kind == "name"})


def check_same_value(raw: str, form: str, points: int = CHECK_POINTS) -> None:
    """Raise FormMismatch unless ``form`` equals ``raw`` at ``points`` random points (exact, mod PRIME).

    The points are drawn from a generator seeded by the two texts, so a check is reproducible.
    The imaginary unit is a variable here, so texts holding it are compared as polynomials in it.
    """
    names = sorted(set(_symbols(raw)) | set(_symbols(form)))
    seed = hashlib.blake2b(f"{raw}\0{form}".encode(), digest_size=8).digest()
    rng = random.Random(seed)
    for _ in range(8):  # a pole is hit with probability ~ degree / PRIME: one redraw is plenty
        chosen = [{name: rng.randrange(1, PRIME) for name in names} for _ in range(points)]
        try:
            left = _Evaluator(raw, chosen).value()
            right = _Evaluator(form, chosen).value()
        except _PoleHit:
            continue
        for k, (a, b) in enumerate(zip(left, right)):
            if a != b:
                raise FormMismatch(f"the rewritten form differs from the raw text at random point {k + 1} of {points}")
        return
    raise FormMismatch("every random point landed on a pole of the expression")


def whole_process_text(text: str, engine: str = "flint") -> str:
    """The grouped factored form of a whole-process square, checked equal to ``text``.

    Text holding the imaginary unit (imported squares) gets the factored text of the whole, as
    before: its real part is not a sum of the written terms.
    """
    if any(kind == "name" and val == IMAGINARY_UNIT for kind, val, _ in tokenize_text(text)):
        return factor_text(text, engine)
    form = grouped_factored_text(text, engine)
    check_same_value(text, form)
    return form
