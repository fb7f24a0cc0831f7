"""Amplitudes in MARTY's own text (imported SYMBA data) <-> tokens, by lexemes.

Imported amplitudes are not in our amplitude syntax, and their meaning is not
converted.  They are split into lexemes from a closed list (MARTY's object and
field names, our scalar symbols, punctuation, digits), with dummy indices
renumbered per kind by order of first appearance, so the vocabulary stays
closed.  The sequence starts with the marker token ``MARTY``; detokenizing
gives back the canonical text: whitespace removed, indices renumbered.  A name
outside the closed list is an error naming it.
"""

from __future__ import annotations

import re

from symba.physics.symbols import DOT_PRODUCTS, IMAGINARY_UNIT, MOMENTA, REGULATOR

from .notations import DIGITS, INT_POS, MAX_TOKENS, TokenError, read_digits

MARKER = "MARTY"
IMPORTED_BACKEND = "symba-import"  # imported rows whose amplitude was translated into our syntax
IMPORTED_MARTY_BACKEND = "symba-import-marty"  # imported rows whose amplitude stayed MARTY text
IMPORTED_NONCANONICAL_BACKEND = "symba-import-noncanonical"  # translated, but not in the canonical form
# index kinds seen in MARTY output: Lorentz (%\sigma...), Dirac (%gam, %del...), colour, particle labels (i_3...)
INDEX_KINDS = (
    "%\\sigma", "%\\mu", "%\\nu", "%\\rho", "%\\lambda", "%\\tau", "%\\alpha", "%\\beta",
    "%gam", "%del", "%eps", "%eta", "%rho", "%a", "%b", "%c", "%d", "%A", "%B", "%C", "%D",
    "i", "j", "k", "l", "m", "n", "alpha", "beta",
)  # fmt: skip
INDEX_TOKEN_LIMIT = 32
OBJECT_NAMES = ("Prod", "Sum", "Pow", "gamma", "gamma5", "T", "f", "g", "delta", "epsilon", "P_L", "P_R")
FIELD_NAMES = ("e", "ee", "mu", "t", "tt", "ta", "tau", "u", "d", "s", "c", "b", "A", "G", "Z", "W", "H")
SCALAR_NAMES = (
    IMAGINARY_UNIT, "e", "g", "g_s", REGULATOR,
    "m_e", "m_mu", "m_t", "m_tt", "m_ta", "m_tau", "m_u", "m_d", "m_s", "m_c", "m_b",
    *DOT_PRODUCTS, *MOMENTA,
)  # fmt: skip
PUNCTUATION = ("_{", "{", "}", ",", "(", ")", "+", "-", "*", "/", "^", "^(*)", "_u", "_v", "|")

_NAMES = frozenset(OBJECT_NAMES) | frozenset(FIELD_NAMES) | frozenset(SCALAR_NAMES)
_KINDS = frozenset(INDEX_KINDS)
_LEXEME = re.compile(
    r"(?P<conj>\^\(\*\))"
    r"|(?P<num>[0-9]+)"
    r"|(?P<name>%?\\*[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*)"
    r"|(?P<suffix>_\{|_[uv](?![A-Za-z0-9]))"
    r"|(?P<punct>[{},()+\-*/^|])"
)
_INDEX = re.compile(r"^(.+)_([0-9]+)$")


def index_tokens(kind: str, number: int) -> list[str]:
    head = f"idx:{kind}"
    if number <= INDEX_TOKEN_LIMIT:
        return [head, f"#{number}"]
    return [head, *str(number)]


def marty_vocabulary() -> list[str]:
    """Every token a MARTY amplitude can produce, in a fixed order."""
    tokens = [MARKER, *PUNCTUATION, INT_POS, *DIGITS]
    tokens += [f"{n}" for n in OBJECT_NAMES + FIELD_NAMES + SCALAR_NAMES]
    tokens += [f"idx:{k}" for k in INDEX_KINDS] + [f"#{n}" for n in range(1, INDEX_TOKEN_LIMIT + 1)]
    return list(dict.fromkeys(tokens))


def _lexemes(text: str):
    pos, n = 0, len(text)
    while pos < n:
        if text[pos].isspace():
            pos += 1
            continue
        m = _LEXEME.match(text, pos)
        if m is None:
            raise ValueError(f"unexpected character {text[pos]!r} at position {pos} of the MARTY amplitude")
        yield m.lastgroup, m.group(), pos
        pos = m.end()


def tokenize_marty_amplitude(text: str) -> list[str]:
    out = [MARKER]
    numbering: dict[str, dict[str, int]] = {}
    for kind, lexeme, pos in _lexemes(text):
        if kind == "num":
            out += [INT_POS, *lexeme]
        elif kind == "name":
            if lexeme in _NAMES:
                out.append(lexeme)
                continue
            m = _INDEX.match(lexeme)
            if not m or m.group(1) not in _KINDS:
                raise ValueError(f"name {lexeme!r} at position {pos} is not in the MARTY amplitude vocabulary")
            table = numbering.setdefault(m.group(1), {})
            number = table.setdefault(lexeme, len(table) + 1)
            out += index_tokens(m.group(1), number)
        else:
            out.append(lexeme)
    return out


def detokenize_marty_amplitude(tokens) -> str:
    tokens = list(tokens)
    if len(tokens) > MAX_TOKENS:
        raise TokenError(f"sequence of {len(tokens):,} tokens is longer than the limit of {MAX_TOKENS:,}")
    if not tokens or tokens[0] != MARKER:
        raise TokenError(f"a MARTY amplitude starts with {MARKER!r} at position 0")
    parts = []
    pos = 1
    while pos < len(tokens):
        tok = tokens[pos]
        if tok == INT_POS:
            start, pos = pos, pos + 1
            digits, pos = read_digits(tokens, pos)
            if not digits:
                raise TokenError(f"integer at position {start} has no digits")
            parts.append("".join(digits))
            continue
        if tok.startswith("idx:") and tok[4:] in _KINDS:
            start, pos = pos, pos + 1
            if pos < len(tokens) and tokens[pos].startswith("#") and tokens[pos][1:].isdigit():
                number = tokens[pos][1:]
                pos += 1
            else:
                digits, pos = read_digits(tokens, pos)
                if not digits:
                    raise TokenError(f"index at position {start} has no number")
                number = "".join(digits)
            parts.append(f"{tok[4:]}_{number}")
            continue
        if tok in _NAMES or tok in PUNCTUATION:
            parts.append(tok)
            pos += 1
            continue
        raise TokenError(f"unknown token {tok!r} at position {pos} in a MARTY amplitude")
    return _join(parts)


def _join(parts: list[str]) -> str:
    # adjacent names or numbers need no separator in MARTY text except where they would merge
    out = []
    for p in parts:
        if out and _merges(out[-1], p):
            out.append(" ")
        out.append(p)
    return "".join(out)


def _merges(left: str, right: str) -> bool:
    """Whether ``left + right`` would lex as one lexeme (then they need a space)."""
    if not left[-1:].isalnum():
        return False
    return bool(re.match(r"[A-Za-z0-9%\\]|_[A-Za-z0-9]", right))
