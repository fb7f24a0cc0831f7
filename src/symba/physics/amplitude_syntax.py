r"""The text syntax of tree-level amplitudes, and its parser.

An amplitude is a product of a scalar prefactor, tensor objects and
propagator denominators, for example (e- e+ -> mu- mu+)::

    -i*e^2*vbar(e,p_2,d1)*gamma(mu1,d1,d2)*u(e,p_1,d2)*ubar(mu,p_3,d3)*gamma(mu1,d3,d4)*v(mu,p_4,d4)/(2*m_e^2 + 2*s_12)

Grammar (whitespace is insignificant)::

    expr   := ['-'] term (('+' | '-') term)*
    term   := power (('*' | '/') power)*
    power  := atom ['^' atom]
    atom   := INT | NAME | NAME '(' expr (',' expr)* ')' | '(' expr ')'
    INT    := [0-9]+
    NAME   := [A-Za-z][A-Za-z0-9_]*

Names of scalars: ``i`` (imaginary unit), couplings ``e`` and ``g_s``,
masses ``m_e`` ..., dot products ``s_ij``, momenta ``p_1`` ... ``p_6``.

Tensor objects (calls):

==========================  =====================================================
``u(f,p,d[,c])``            incoming fermion spinor u(p) of field label ``f``
``v(f,p,d[,c])``            outgoing antifermion spinor v(p)
``ubar(f,p,d[,c])``         outgoing fermion spinor ubar(p)
``vbar(f,p,d[,c])``         incoming antifermion spinor vbar(p)
``eps(V,p,mu[,a])``         polarisation of an incoming vector boson (V = A or G)
``epsc(V,p,mu[,a])``        conjugate polarisation of an outgoing vector boson
``gamma(mu,d1,d2)``         Dirac matrix (gamma^mu)_{d1 d2}
``slash(k,d1,d2)``          (k-slash)_{d1 d2}, k a signed sum of momenta
``one(d1,d2)``              Dirac identity
``metric(mu1,mu2)``         g^{mu1 mu2}
``mom(k,mu)``               k^mu, k a signed sum of momenta
``T(a,c1,c2)``              SU(3) generator (T^a)_{c1 c2}
``f(a1,a2,a3)``             SU(3) structure constant
==========================  =====================================================

Index names are ``mu<n>`` (Lorentz), ``d<n>`` (Dirac), ``c<n>`` (colour
triplet) and ``a<n>`` (colour octet).  Every index is a dummy index summed
over, and :func:`canonicalize_indices` renumbers each kind by order of first
appearance, so one diagram always prints the same string.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

TENSOR_OBJECTS = {
    "u": (3, 4),
    "v": (3, 4),
    "ubar": (3, 4),
    "vbar": (3, 4),
    "eps": (3, 4),
    "epsc": (3, 4),
    "gamma": (3, 3),
    "slash": (3, 3),
    "one": (2, 2),
    "metric": (2, 2),
    "mom": (2, 2),
    "T": (3, 3),
    "f": (3, 3),
}
INDEX_RE = re.compile(r"^(mu|d|c|a)([0-9]+)$")
_TOKEN_RE = re.compile(r"\s*(?:([0-9]+)|([A-Za-z][A-Za-z0-9_]*)|(.))")


class AmplitudeSyntaxError(ValueError):
    """Malformed amplitude text; the message names the position."""


@dataclass(frozen=True)
class Node:
    """A parse-tree node.

    op is one of: "num" (value: Fraction), "name" (value: str), "call"
    (value: object name, args: arguments), "+", "*", "/", "^", "neg".
    """

    op: str
    args: tuple[Node, ...] = ()
    value: object = None

    def __str__(self) -> str:
        return to_string(self)


MAX_AMPLITUDE_CHARS = 10_000_000
MAX_AMPLITUDE_NESTING = 40  # parentheses and calls open at once: up to 5 tree levels each, printed recursively

Token = tuple  # (kind, value, position): kind "int", "name", "op", or a subclass's own kinds


def lex(text: str, pattern: re.Pattern, token_of, fail) -> list[Token]:
    """Tokens of ``text`` by repeated matches of ``pattern`` (whitespace between them is skipped).

    ``token_of(match) -> (kind, value)``; ``fail(position)`` returns the error for
    text no token matches.  Shared by our amplitude syntax and MARTY's.
    """
    if len(text) > MAX_AMPLITUDE_CHARS:
        raise fail(0, f"amplitude of {len(text):,} characters is longer than the limit of {MAX_AMPLITUDE_CHARS:,}")
    out, pos, end = [], 0, len(text.rstrip())
    while True:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos >= end:
            return out
        m = pattern.match(text, pos)
        if m is None or m.end() == pos:
            raise fail(pos, None)
        kind, value = token_of(m, pos)
        out.append((kind, value, pos))
        pos = m.end()


class ProductParser:
    """Recursive descent for a sum of products of powers, shared by our amplitude syntax and MARTY's::

        expr  := [signs] term (('+' | '-') [signs] term)*
        term  := power (('*' | '/') power)*       ('/' takes everything to its left)
        power := atom ['^' atom]

    Subclasses give the tokens, ``atom`` and ``fail``; operators are ``("op", char, pos)``
    tokens.  ``signed_terms``: MARTY writes signs before any term (``a + -b``), our
    syntax one ``-`` before the first only.  Nesting is capped at ``MAX_AMPLITUDE_NESTING``.
    """

    signed_terms = False

    def __init__(self, text: str, tokens: list[Token]):
        self.text, self.toks, self.i, self.depth = text, tokens, 0, 0

    def fail(self, message: str, pos: int) -> Exception:
        """The error to raise for ``message`` about the token at ``pos``."""
        return AmplitudeSyntaxError(f"{message} at position {pos}")

    def peek(self) -> Token:
        return self.toks[self.i] if self.i < len(self.toks) else ("end", "", len(self.text))

    def at(self, *ops: str) -> bool:
        kind, value, _ = self.peek()
        return kind == "op" and value in ops

    def take(self, value: str | None = None) -> Token:
        tok = self.peek()
        if value is not None and not self.at(value):
            found = "end of input" if tok[0] == "end" else repr(tok[1])
            raise self.fail(f"expected {value!r}, found {found}", tok[2])
        self.i += 1
        return tok

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_AMPLITUDE_NESTING:
            raise self.fail(f"nesting deeper than {MAX_AMPLITUDE_NESTING} levels", self.peek()[2])

    def leave(self) -> None:
        self.depth -= 1

    def parse(self) -> Node:
        if not self.toks:
            raise self.fail("empty amplitude", 0)
        node = self.expr()
        if self.i != len(self.toks):
            raise self.fail(f"unexpected {self.peek()[1]!r}", self.peek()[2])
        return node

    def expr(self) -> Node:
        terms = [self.signed_term(first=True)]
        while self.at("+", "-"):
            op = self.take()[1]
            t = self.signed_term(first=False)
            terms.append(t if op == "+" else Node("neg", (t,)))
        return terms[0] if len(terms) == 1 else Node("+", tuple(terms))

    def signed_term(self, first: bool) -> Node:
        if not (first or self.signed_terms):
            return self.term()
        negative = False
        while self.at("-"):  # a loop, not recursion: "- - - x" is x with one sign
            self.take()
            negative = not negative
            if not self.signed_terms:
                break
        node = self.term()
        return Node("neg", (node,)) if negative else node

    def term(self) -> Node:
        factors = [self.power()]
        while self.at("*", "/"):
            op = self.take()[1]
            rhs = self.power()
            if op == "*":
                factors.append(rhs)
            else:
                left = factors[0] if len(factors) == 1 else Node("*", tuple(factors))
                factors = [Node("/", (left, rhs))]
        return factors[0] if len(factors) == 1 else Node("*", tuple(factors))

    def power(self) -> Node:
        base = self.atom()
        if self.at("^"):
            self.take()
            return Node("^", (base, self.atom()))
        return base

    def parenthesized(self) -> Node:
        """``'(' expr ')'``, the current token being the ``(``."""
        self.enter()
        self.take("(")
        node = self.expr()
        self.take(")")
        self.leave()
        return node

    def atom(self) -> Node:
        raise NotImplementedError


def _token_of(m: re.Match, pos: int) -> tuple[str, str]:
    if m.group(1):
        return "int", m.group(1)
    if m.group(2):
        return "name", m.group(2)
    ch = m.group(3)
    if ch not in "+-*/^(),":
        raise AmplitudeSyntaxError(f"unexpected character {ch!r} at position {pos}")
    return "op", ch


def tokenize(text: str) -> list[Token]:
    return lex(text, _TOKEN_RE, _token_of, lambda pos, why: AmplitudeSyntaxError(why or f"cannot read position {pos}"))


class _Parser(ProductParser):
    """Our amplitude syntax: atoms are numbers, names, calls and parentheses."""

    def __init__(self, text: str):
        super().__init__(text, tokenize(text))

    def atom(self) -> Node:
        kind, val, pos = self.peek()
        if kind == "int":
            self.take()
            return Node("num", value=Fraction(int(val)))
        if kind == "name":
            self.take()
            if not self.at("("):
                return Node("name", value=val)
            self.enter()
            self.take("(")
            args = [self.expr()]
            while self.at(","):
                self.take()
                args.append(self.expr())
            self.take(")")
            self.leave()
            if val in TENSOR_OBJECTS:
                lo, hi = TENSOR_OBJECTS[val]
                if not lo <= len(args) <= hi:
                    raise AmplitudeSyntaxError(
                        f"{val}() at position {pos} takes {lo} to {hi} arguments, got {len(args)}"
                    )
            return Node("call", tuple(args), val)
        if self.at("("):
            return self.parenthesized()
        found = "end of input" if kind == "end" else repr(val)
        raise self.fail(f"unexpected {found}", pos)


def parse(text: str) -> Node:
    """Parse amplitude text into a tree; raises AmplitudeSyntaxError."""
    return _Parser(text).parse()


_PREC = {"+": 1, "neg": 1, "*": 2, "/": 2, "^": 4, "num": 5, "name": 5, "call": 5}


def to_string(node: Node) -> str:
    """Print a tree in the canonical form that :func:`parse` reads back."""
    op = node.op
    if op == "num":
        v = node.value
        return str(v.numerator) if v.denominator == 1 else f"{v.numerator}/{v.denominator}"
    if op == "name":
        return node.value
    if op == "call":
        return f"{node.value}(" + ",".join(to_string(a) for a in node.args) + ")"
    if op == "+":
        parts = [to_string(node.args[0])]
        for a in node.args[1:]:
            if a.op == "neg":
                parts.append(" - " + _wrap(a.args[0], 2))
            else:
                parts.append(" + " + to_string(a))
        return "".join(parts)
    if op == "neg":
        return "-" + _wrap(node.args[0], 2)
    if op == "*":
        return "*".join(_wrap(a, 2) for a in node.args)
    if op == "/":
        return _wrap(node.args[0], 2) + "/" + _wrap(node.args[1], 3)
    if op == "^":
        return _wrap(node.args[0], 5) + "^" + _wrap(node.args[1], 5)
    raise ValueError(f"unknown node {op}")


def _wrap(node: Node, prec: int) -> str:
    s = to_string(node)
    if node.op == "num" and node.value.denominator != 1 and prec > 2:
        return f"({s})"
    return f"({s})" if _PREC[node.op] < prec else s


def canonicalize_indices(node: Node) -> Node:
    """Renumber dummy indices of each kind by order of first appearance."""
    maps: dict[str, dict[str, str]] = {}

    def walk(n: Node) -> Node:
        if n.op == "name":
            m = INDEX_RE.match(n.value)
            if m:
                kind = m.group(1)
                table = maps.setdefault(kind, {})
                if n.value not in table:
                    table[n.value] = f"{kind}{len(table) + 1}"
                return Node("name", value=table[n.value])
            return n
        if n.args:
            return Node(n.op, tuple(walk(a) for a in n.args), n.value)
        return n

    return walk(node)


def canonical(text: str) -> str:
    return to_string(canonicalize_indices(parse(text)))
