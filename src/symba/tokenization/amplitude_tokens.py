"""Amplitude text (``symba.physics.amplitude_syntax``) <-> tokens, with a round trip to the canonical string.

The text is first brought to canonical form (dummy indices renumbered per kind
by order of first appearance), so an index is ``mu1``, ``d3``...  Indices up to
``INDEX_TOKEN_LIMIT`` are single tokens; larger numbers are written as a kind
token plus digits (``idx:d 4 0``), so no index number ever grows the vocabulary.

The tree is written in the same notations as squared amplitudes:

``prefix``        ``add``/``mul`` binary, calls with a fixed arity in the token (``u:4``)
``hybrid``        ``add(``/``mul(``/calls ``u(`` take any number of operands, closed by ``)``
``hybrid-short``  ``hybrid`` plus one token for ``m_X^n`` and ``e^n`` / ``g_s^n``

``div``, ``pow`` and ``neg`` are fixed-arity in every notation; numbers use the
digit vocabulary of :mod:`symba.tokenization.notations`.
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import sympy

from symba.physics.amplitude_syntax import (
    INDEX_RE,
    TENSOR_OBJECTS,
    Node,
    canonical,
    parse,
    to_string,
)
from symba.physics.canonical import canonicalise
from symba.physics.symbols import ALL_MASSES, IMAGINARY_UNIT, MOMENTA
from symba.physics.theories import MODELS

from .marty_tokens import (
    IMPORTED_MARTY_BACKEND,
    detokenize_marty_amplitude,
    tokenize_marty_amplitude,
)
from .marty_tokens import MARKER as MARTY_MARKER
from .notations import (
    ADD2,
    ADDN,
    CLOSE,
    COUPLING_POWERS,
    COUPLINGS,
    DEFAULT_NOTATION,
    DIGITS,
    INT_NEG,
    INT_POS,
    MASS_POWERS,
    MUL2,
    MULN,
    NEG,
    POW,
    RATIONAL,
    SYMBOL_TOKENS,
    TokenError,
    check_notation,
    emit_prefix,
    mass_power_token,
    number_tokens,
    parse_prefix,
    read_digits,
    read_number,
)

DIV = "div"
INDEX_KINDS = ("mu", "d", "c", "a")
INDEX_TOKEN_LIMIT = 24
FIELD_LABELS = tuple(sorted({f.label for m in MODELS.values() for f in m.fields}))
CALL_NAMES = tuple(TENSOR_OBJECTS)

_SCALARS = (IMAGINARY_UNIT, *SYMBOL_TOKENS, *MOMENTA)
_NAMES = frozenset(_SCALARS) | frozenset(FIELD_LABELS)
_SHORT_POWERS = {mass_power_token(m, n): (m, n) for m in ALL_MASSES for n in MASS_POWERS}
_SHORT_POWERS.update({mass_power_token(g, n): (g, n) for g in COUPLINGS for n in COUPLING_POWERS})


def index_token(kind: str) -> str:
    """The token that starts a large index of ``kind``, followed by its digits."""
    return f"idx:{kind}"


def call_token(name: str, n_args: int, notation: str) -> str:
    return f"{name}:{n_args}" if notation == "prefix" else f"{name}("


def amplitude_vocabulary(notation: str) -> list[str]:
    """Every token an amplitude can produce in ``notation``, in a fixed order."""
    check_notation(notation)
    tokens = [NEG, POW, DIV] + ([ADD2, MUL2] if notation == "prefix" else [ADDN, MULN, CLOSE])
    tokens += [INT_POS, INT_NEG, RATIONAL, *DIGITS]
    for name, (lo, hi) in TENSOR_OBJECTS.items():
        if notation == "prefix":
            tokens += [call_token(name, k, notation) for k in range(lo, hi + 1)]
        else:
            tokens.append(call_token(name, 0, notation))
    tokens += list(_SCALARS) + [f for f in FIELD_LABELS if f not in _SCALARS]
    for kind in INDEX_KINDS:
        tokens += [f"{kind}{k}" for k in range(1, INDEX_TOKEN_LIMIT + 1)] + [index_token(kind)]
    if notation == "hybrid-short":
        tokens += list(_SHORT_POWERS)
    return tokens


# ---------------------------------------------------------------- tokenize


AMPLITUDE_SYNTAXES = ("symba", "marty")


def amplitude_syntax_of(backend: str) -> str:
    """Which syntax a dataset row's amplitude is in, from its backend."""
    return "marty" if backend == IMPORTED_MARTY_BACKEND else "symba"


def tokenize_amplitude(text: str, notation: str = DEFAULT_NOTATION, syntax: str = "symba") -> list[str]:
    """Tokens of an amplitude, from its canonical form.

    ``syntax="marty"``: MARTY's text from imported SYMBA data, tokenized by
    lexemes (the same in every notation; see :mod:`.marty_tokens`).
    """
    check_notation(notation)
    if syntax == "marty":
        return tokenize_marty_amplitude(text)
    if syntax != "symba":
        raise ValueError(f"unknown amplitude syntax {syntax!r}; choose one of {', '.join(AMPLITUDE_SYNTAXES)}")
    return tokenize_amplitude_tree(canonical_amplitude_tree(text), notation)


def canonical_amplitude_tree(text: str) -> Node:
    """The parsed canonical form of an amplitude in our syntax, the same for every notation."""
    text = canonicalise(text, signed=True)[0]  # the canonical form where it applies (the row's sign kept)
    return parse(canonical(text))  # reparsed: the canonical string parses to a flat tree


def tokenize_amplitude_tree(tree: Node, notation: str) -> list[str]:
    """Tokens of a tree from :func:`canonical_amplitude_tree`: one parse serves several notations."""
    return emit_prefix(tree, lambda item: _expand(item, notation))


def _expand(node: Node, notation: str) -> tuple[list[str], list[object]]:
    op = node.op
    if op == "num":
        v: Fraction = node.value
        return number_tokens(sympy.Rational(v.numerator, v.denominator)), []
    if op == "name":
        return _name_tokens(node.value), []
    if op == "neg":
        return [NEG], [node.args[0]]
    if op == "/":
        return [DIV], list(node.args)
    if op == "^":
        base, exp = node.args
        if notation == "hybrid-short" and base.op == "name" and exp.op == "num" and exp.value.denominator == 1:
            token = mass_power_token(base.value, exp.value.numerator)
            if token in _SHORT_POWERS:
                return [token], []
        return [POW], [base, exp]
    if op == "call":
        if node.value not in TENSOR_OBJECTS:
            raise ValueError(f"object {node.value!r} is not in the vocabulary (allowed: {', '.join(CALL_NAMES)})")
        if notation == "prefix":
            return [call_token(node.value, len(node.args), notation)], list(node.args)
        return [call_token(node.value, 0, notation)], [*node.args, CLOSE]
    if op in ("+", "*"):
        args = list(node.args)
        if notation == "prefix":
            # right-nested chain a*b*c -> mul a mul b c; the detokenizer flattens it back
            rest = args[1] if len(args) == 2 else Node(op, tuple(args[1:]))
            return [ADD2 if op == "+" else MUL2], [args[0], rest]
        return [ADDN if op == "+" else MULN], [*args, CLOSE]
    raise ValueError(f"unknown amplitude node {op!r}")


def _name_tokens(name: str) -> list[str]:
    m = INDEX_RE.match(name)
    if m:
        kind, number = m.group(1), int(m.group(2))
        if 1 <= number <= INDEX_TOKEN_LIMIT:
            return [name]
        return [index_token(kind), *str(number)]
    if name not in _NAMES:
        raise ValueError(f"name {name!r} is not in the amplitude vocabulary")
    return [name]


# ---------------------------------------------------------------- detokenize


def detokenize_amplitude(tokens, notation: str = DEFAULT_NOTATION) -> str:
    """The canonical amplitude string from tokens (a list, or one space-separated string).

    A sequence that starts with the ``MARTY`` marker gives back MARTY text.
    """
    if isinstance(tokens, str):
        tokens = tokens.split()
    tokens = list(tokens)
    if tokens and tokens[0] == MARTY_MARKER:
        return detokenize_marty_amplitude(tokens)
    return to_string(detokenize_amplitude_tree(tokens, notation))


def detokenize_amplitude_tree(tokens, notation: str = DEFAULT_NOTATION) -> Node:
    check_notation(notation)
    if isinstance(tokens, str):
        tokens = tokens.split()
    tokens = list(tokens)
    if not tokens:
        raise TokenError("empty token sequence")
    fixed, nary, leaves = _grammar(notation)

    def read_operand(tokens, pos):
        tok = tokens[pos]
        if tok in (INT_POS, INT_NEG, RATIONAL):
            return _read_number_node(tokens, pos)
        if tok in leaves:
            return leaves[tok], pos + 1
        if tok.startswith("idx:") and tok[4:] in INDEX_KINDS:
            return _read_index(tokens, pos)
        if tok in DIGITS:
            raise TokenError(f"digit {tok!r} at position {pos} outside a number")
        raise TokenError(f"unknown token {tok!r} at position {pos} for amplitude notation {notation}")

    return parse_prefix(
        tokens,
        {tok: arity for tok, (_kind, arity) in fixed.items()},
        nary,
        read_operand,
        lambda op, operands: _build_fixed(fixed[op][0], operands),
        lambda op, at, close_at, operands: _build_nary(op, at, close_at, operands, nary[op]),
    )


@cache
def _grammar(notation: str):
    """(fixed-arity operators: token -> (node kind, arity), n-ary: token -> node kind, leaves)."""
    fixed = {NEG: ("neg", 1), POW: ("^", 2), DIV: ("/", 2)}
    nary: dict[str, tuple] = {}
    if notation == "prefix":
        fixed.update({ADD2: ("+", 2), MUL2: ("*", 2)})
        for name, (lo, hi) in TENSOR_OBJECTS.items():
            for k in range(lo, hi + 1):
                fixed[call_token(name, k, notation)] = (("call", name), k)
    else:
        nary.update({ADDN: ("+", 2), MULN: ("*", 2)})
        for name, (lo, _hi) in TENSOR_OBJECTS.items():
            nary[call_token(name, 0, notation)] = (("call", name), lo)
    leaves = {name: Node("name", value=name) for name in _NAMES}
    for kind in INDEX_KINDS:
        for k in range(1, INDEX_TOKEN_LIMIT + 1):
            leaves[f"{kind}{k}"] = Node("name", value=f"{kind}{k}")
    if notation == "hybrid-short":
        for tok, (base, power) in _SHORT_POWERS.items():
            leaves[tok] = Node("^", (Node("name", value=base), Node("num", value=Fraction(power))))
    return fixed, nary, leaves


def _build_fixed(kind, operands: list) -> Node:
    if isinstance(kind, tuple):  # ("call", name)
        return Node("call", tuple(operands), kind[1])
    return Node(kind, tuple(operands))  # a prefix add/mul chain arrives whole: op(a, b, c)


def _build_nary(op: str, at: int, close_at: int, operands: list, spec) -> Node:
    kind, minimum = spec
    if isinstance(kind, tuple):
        lo, hi = TENSOR_OBJECTS[kind[1]]
        if not lo <= len(operands) <= hi:
            raise TokenError(
                f"{op!r} at position {at} closed at position {close_at} with {len(operands)} argument(s); takes {lo} to {hi}"
            )
        return Node("call", tuple(operands), kind[1])
    if len(operands) < minimum:
        raise TokenError(
            f"{op!r} at position {at} closed at position {close_at} with {len(operands)} operand(s); needs at least {minimum}"
        )
    return Node(kind, tuple(operands))


def _read_number_node(tokens, pos) -> tuple[Node, int]:
    value, pos = read_number(tokens, pos)
    if value < 0:
        # the amplitude grammar has no negative literals: a sign is a neg node
        return Node("neg", (Node("num", value=Fraction(int(-value.p), int(value.q))),)), pos
    return Node("num", value=Fraction(int(value.p), int(value.q))), pos


def _read_index(tokens, pos) -> tuple[Node, int]:
    kind = tokens[pos][4:]
    start = pos
    pos += 1
    digits, pos = read_digits(tokens, pos)
    if not digits:
        raise TokenError(f"index at position {start} has no digits")
    number = int("".join(digits))
    if number <= INDEX_TOKEN_LIMIT or digits[0] == "0":
        raise TokenError(f"index at position {start} must be written as the single token {kind}{number}")
    return Node("name", value=f"{kind}{number}"), pos
