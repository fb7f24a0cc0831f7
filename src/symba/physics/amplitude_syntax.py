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
    args: tuple["Node", ...] = ()
    value: object = None

    def __str__(self) -> str:
        return to_string(self)


def tokenize(text: str) -> list[tuple[str, str, int]]:
    out = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = _TOKEN_RE.match(text, pos)
        if m is None:  # only trailing whitespace is left
            break
        start = m.start(m.lastindex) if m.lastindex else pos
        if m.group(1):
            out.append(("int", m.group(1), start))
        elif m.group(2):
            out.append(("name", m.group(2), start))
        else:
            ch = m.group(3)
            if ch not in "+-*/^(),":
                raise AmplitudeSyntaxError(f"unexpected character {ch!r} at position {start}")
            out.append(("op", ch, start))
        pos = m.end()
    return out


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.toks = tokenize(text)
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else ("end", "", len(self.text))

    def take(self, value=None):
        tok = self.peek()
        if value is not None and tok[1] != value:
            found = "end of input" if tok[0] == "end" else repr(tok[1])
            raise AmplitudeSyntaxError(f"expected {value!r} at position {tok[2]}, found {found}")
        self.i += 1
        return tok

    def expr(self) -> Node:
        terms = []
        if self.peek()[1] == "-":
            self.take()
            terms.append(Node("neg", (self.term(),)))
        else:
            terms.append(self.term())
        while self.peek()[1] in ("+", "-"):
            op = self.take()[1]
            t = self.term()
            terms.append(t if op == "+" else Node("neg", (t,)))
        return terms[0] if len(terms) == 1 else Node("+", tuple(terms))

    def term(self) -> Node:
        node = self.power()
        factors = [node]
        while self.peek()[1] in ("*", "/"):
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
        if self.peek()[1] == "^":
            self.take()
            return Node("^", (base, self.atom()))
        return base

    def atom(self) -> Node:
        kind, val, pos = self.peek()
        if kind == "int":
            self.take()
            return Node("num", value=Fraction(int(val)))
        if kind == "name":
            self.take()
            if self.peek()[1] == "(":
                self.take("(")
                args = [self.expr()]
                while self.peek()[1] == ",":
                    self.take()
                    args.append(self.expr())
                self.take(")")
                if val in TENSOR_OBJECTS:
                    lo, hi = TENSOR_OBJECTS[val]
                    if not lo <= len(args) <= hi:
                        raise AmplitudeSyntaxError(f"{val}() at position {pos} takes {lo} to {hi} arguments, got {len(args)}")
                return Node("call", tuple(args), val)
            return Node("name", value=val)
        if val == "(":
            self.take()
            node = self.expr()
            self.take(")")
            return node
        found = "end of input" if kind == "end" else repr(val)
        raise AmplitudeSyntaxError(f"unexpected {found} at position {pos}")


def parse(text: str) -> Node:
    """Parse amplitude text into a tree; raises AmplitudeSyntaxError."""
    p = _Parser(text)
    if not p.toks:
        raise AmplitudeSyntaxError("empty amplitude")
    node = p.expr()
    if p.i != len(p.toks):
        kind, val, pos = p.peek()
        raise AmplitudeSyntaxError(f"unexpected {val!r} at position {pos}")
    return node


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
