"""Factorisation of squared amplitudes with FLINT, printed in one canonical text form.

SymPy's ``factor`` is nearly all the cost of simplifying QED 2->3 (FIELD-NOTES.md).
python-flint's ``fmpq_mpoly.factor()`` does the same work hundreds of times faster,
provided the polynomials are built straight from the text: going through SymPy
first costs more than the factorisation.  So this module reads the text itself
(FORM output and our squared-amplitude text: sums of products of rationals,
symbols and integer powers, divided by powers of sums), brings it over one
denominator that is kept as a product of irreducible factors, and factors the
numerator.

A factorisation over Q is unique up to order and constant units, so
:func:`canonical_factored_text` prints it the same way whichever engine
produced it; :func:`sympy_factor_text` is the SymPy route to the same string.
The text has exact rationals only (no floats) and parses back with
``symba.physics.expression_parser.parse_expression``.  Imported squares may still
hold the imaginary unit (``2*I*e^2*(I*e^2*...)``): it is read as a variable,
reduced with ``I^2 = -1`` and must leave a real result (else a one-line error).
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

import flint

from symba.physics.orderings import leg_map, rename_leg_symbol
from symba.physics.symbols import SYMBOL_NAME_PATTERN

MAX_INPUT_CHARS = 4_000_000  # 3->3 whole-process squares reach 1.2 MB
MAX_NESTING = 64  # parentheses; FORM output nests two or three deep
MAX_EXPONENT = 64  # |k| in x^k: bounds the size of expanded powers
_TOKEN_RE = re.compile(rf"\s*(?:(\d+)|({SYMBOL_NAME_PATTERN})|(\*\*|[-+*/^()]))")
_IMAGINARY = ("i", "I")  # both spellings of the imaginary unit; read as the variable IMAGINARY_UNIT
IMAGINARY_UNIT = "I"

# A polynomial is (symbol names, {exponent vector: coefficient}); a factor is (polynomial, k).
Polynomial = tuple[tuple[str, ...], dict[tuple[int, ...], Fraction | int]]
Factor = tuple[Polynomial, int]


class FactorError(ValueError):
    """An expression this module refuses; the message is one line."""


class FactorSyntaxError(FactorError):
    """Text outside the grammar this module reads."""


# ----------------------------------------------------------------- canonical form


def symbol_order(name: str) -> tuple:
    """Couplings, then masses, then dot products, then anything else; by name within each."""
    if name in ("e", "g_s"):
        group = 0
    elif name.startswith("m_"):
        group = 1
    elif name.startswith("s_"):
        group = 2
    else:
        group = 3
    return (group, name)


def _normalise(poly: Polynomial) -> tuple[Fraction, tuple[str, ...], list[tuple[tuple[int, ...], int]]]:
    """poly = unit * primitive integer polynomial whose first term (canonical order) is positive.

    Symbols are put in symbol order; terms go highest degree first, ties broken
    by the higher power of the earlier symbol.
    """
    names, coeffs = poly
    order = sorted(range(len(names)), key=lambda i: symbol_order(names[i]))
    used = [i for i in order if any(exps[i] for exps in coeffs)]
    rows = [(tuple(exps[i] for i in used), c) for exps, c in coeffs.items() if c != 0]
    if not rows:
        raise FactorError("zero factor")
    rows.sort(key=lambda row: (-sum(row[0]), tuple(-e for e in row[0])))
    lcm = 1
    for _, c in rows:
        lcm = math.lcm(lcm, c.denominator)
    ints = [c.numerator * (lcm // c.denominator) for _, c in rows]
    g = 0
    for v in ints:
        g = math.gcd(g, v)
    if ints[0] < 0:
        g = -g
    return Fraction(g, lcm), tuple(names[i] for i in used), [(e, v // g) for (e, _), v in zip(rows, ints)]


def _polynomial_text(names: tuple[str, ...], terms: list[tuple[tuple[int, ...], int]]) -> str:
    parts = []
    for exps, c in terms:
        mono = "*".join(n if e == 1 else f"{n}^{e}" for n, e in zip(names, exps) if e)
        mag = abs(c)
        body = str(mag) if not mono else (mono if mag == 1 else f"{mag}*{mono}")
        if parts:
            parts.append((" - " if c < 0 else " + ") + body)
        else:
            parts.append(("-" if c < 0 else "") + body)
    return "".join(parts)


def canonical_factored_text(content, factors) -> str:
    """The one printed form of ``content * prod(f ** k for f, k in factors)``.

    ``content`` is a rational; each factor is ``((names, {exponents: coefficient}), k)``
    with k an integer (negative: denominator).  Factors are made primitive with integer
    coefficients and a positive first term (terms highest degree first, ties by
    symbol order), equal factors are merged, and the text is
    ``[-]n*f1^k1*...*fm/(d*g1^j1*...)`` with factors sorted by their text.
    """
    content = Fraction(content)
    if content == 0:
        return "0"
    merged: dict[str, list] = {}
    for poly, k in factors:
        if k == 0:
            continue
        unit, names, terms = _normalise(poly)
        content *= unit**k
        if len(terms) == 1:  # a monomial (coefficient 1 now): one factor per symbol, so x*y and x, y print alike
            for name, e in zip(names, terms[0][0]):
                if e:
                    entry = merged.setdefault(name, [name, 0])
                    entry[1] += e * k
            continue
        text = _polynomial_text(names, terms)
        entry = merged.setdefault(text, [f"({text})", 0])
        entry[1] += k

    def order(item):  # symbols first, in symbol order; then sums, by text
        text = item[0]
        return (1, (), text) if text.startswith("(") else (0, symbol_order(text), "")

    ups = sorted(((t, k) for t, k in merged.values() if k > 0), key=order)
    downs = sorted(((t, -k) for t, k in merged.values() if k < 0), key=order)
    num = [t if k == 1 else f"{t}^{k}" for t, k in ups]
    den = [t if k == 1 else f"{t}^{k}" for t, k in downs]
    p, q = content.numerator, content.denominator
    head = ([str(abs(p))] if abs(p) != 1 or not num else []) + num
    text = ("-" if p < 0 else "") + "*".join(head)
    den = ([str(q)] if q != 1 else []) + den
    if den:
        text += "/" + (den[0] if len(den) == 1 else "(" + "*".join(den) + ")")
    return text


# ----------------------------------------------------------------- reading text


def tokenize_text(text: str) -> list[tuple[str, str, int]]:
    if not isinstance(text, str):
        raise FactorSyntaxError(f"expected text, got {type(text).__name__}")
    if len(text) > MAX_INPUT_CHARS:
        raise FactorSyntaxError(f"expression of {len(text)} characters is over the {MAX_INPUT_CHARS} limit")
    tokens = []
    pos = 0
    end = len(text.rstrip())
    while pos < end:
        m = _TOKEN_RE.match(text, pos)
        if m is None or m.end() == pos:
            while text[pos].isspace():
                pos += 1
            raise FactorSyntaxError(f"unexpected character {text[pos]!r} at position {pos}")
        kind = "int" if m.group(1) else "name" if m.group(2) else "op"
        val = m.group(m.lastindex)
        if kind == "name" and val in _IMAGINARY:
            val = IMAGINARY_UNIT
        tokens.append((kind, "^" if val == "**" else val, m.start(m.lastindex)))
        pos = m.end()
    if not tokens:
        raise FactorSyntaxError("empty expression")
    return tokens


class RationalValue:
    """num / prod(f^k): the denominator is kept as powers of irreducible factors, keyed by text."""

    __slots__ = ("den", "num")

    def __init__(self, num, den=None):
        self.num = num
        self.den = den or {}


def read_exponent(tokens: list[tuple[str, str, int]], i: int, end: int) -> tuple[int, int]:
    """(k, index after it) of the integer exponent after a ``^`` at ``tokens[i]``: signed, maybe
    bracketed, at most MAX_EXPONENT in size; ``end`` is the text's length (the end's position)."""

    def peek():
        return tokens[i] if i < len(tokens) else ("end", "", end)

    sign = 1
    paren = peek()[1] == "("
    if paren:
        i += 1
    while peek()[0] == "op" and peek()[1] in "+-":
        sign = -sign if peek()[1] == "-" else sign
        i += 1
    kind, val, pos = peek()
    if kind != "int":
        raise FactorSyntaxError(f"expected an integer exponent at position {pos}")
    i += 1
    if paren:
        kind, found, at = peek()
        if found != ")":
            found = "end of input" if kind == "end" else repr(found)
            raise FactorSyntaxError(f"expected ')' at position {at}, found {found}")
        i += 1
    k = sign * int(val)
    if abs(k) > MAX_EXPONENT:
        raise FactorSyntaxError(f"exponent {k} at position {pos} is over the limit of {MAX_EXPONENT}")
    return k, i


class ExpressionReader:
    def __init__(self, text: str):
        self.flint = flint
        self.text = text
        self.tokens = tokenize_text(text)
        names = sorted({v for k, v, _ in self.tokens if k == "name"}, key=symbol_order)
        self.names = names
        self.index = {n: i for i, n in enumerate(names)}
        self.ctx = flint.fmpq_mpoly_ctx.get(tuple(names) or ("_",), "lex")
        self.nvars = max(len(names), 1)
        self.i = 0
        self.depth = 0
        self.irreducibles: dict[str, tuple] = {}  # text of a base -> (content, [(key, poly, k)])

    # tokens
    def peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else ("end", "", len(self.text))

    def expect(self, val):
        tok = self.peek()
        if tok[1] != val:
            found = "end of input" if tok[0] == "end" else repr(tok[1])
            raise FactorSyntaxError(f"expected {val!r} at position {tok[2]}, found {found}")
        self.i += 1

    # polynomials
    def poly(self, terms: dict[tuple[int, ...], Fraction]):
        fmpq = self.flint.fmpq
        return self.ctx.from_dict({e: fmpq(c.numerator, c.denominator) for e, c in terms.items() if c != 0})

    def factor_into_den(self, poly, k: int, den: dict) -> object:
        """Put poly^k (k > 0) into den as irreducible powers; return the constant poly's content^k."""
        key = str(poly)
        if key not in self.irreducibles:
            if poly.is_zero():
                raise FactorError("division by zero")
            content, facs = poly.factor()
            self.irreducibles[key] = (content, [(str(f), f, e) for f, e in facs])
        content, facs = self.irreducibles[key]
        for fkey, f, e in facs:
            old = den.get(fkey)
            den[fkey] = (f, (old[1] if old else 0) + e * k)
        return content**k

    # rational arithmetic
    def add(self, a: RationalValue, b: RationalValue) -> RationalValue:
        keys = set(a.den) | set(b.den)
        den = {}
        na, nb = a.num, b.num
        for key in keys:
            fa, ka = a.den.get(key, (None, 0))
            fb, kb = b.den.get(key, (None, 0))
            f = fa if fa is not None else fb
            k = max(ka, kb)
            den[key] = (f, k)
            if k > ka:
                na = na * f ** (k - ka)
            if k > kb:
                nb = nb * f ** (k - kb)
        return RationalValue(na + nb, den)

    def mul(self, a: RationalValue, b: RationalValue) -> RationalValue:
        den = dict(a.den)
        for key, (f, k) in b.den.items():
            den[key] = (f, den.get(key, (f, 0))[1] + k)
        return RationalValue(a.num * b.num, den)

    def power(self, a: RationalValue, k: int) -> RationalValue:
        if k >= 0:
            return RationalValue(a.num**k, {key: (f, e * k) for key, (f, e) in a.den.items()})
        den: dict = {}
        content = self.factor_into_den(a.num, -k, den)
        num = self.ctx.from_dict({(0,) * self.nvars: 1})
        for f, e in a.den.values():
            num = num * f ** (e * -k)
        return RationalValue(num * (1 / self.flint.fmpq(content)), den)

    # grammar: expr := term (('+'|'-') term)*; term := unary (('*'|'/') unary)*;
    # unary := ('+'|'-') unary | power; power := atom ['^' signed-int]; atom := INT | NAME | '(' expr ')'
    def expr(self) -> RationalValue:
        flat: dict[tuple[int, ...], Fraction] = {}  # monomial terms are summed in a dict, cheaply
        rest: RationalValue | None = None
        first = True
        while True:
            sign = 1
            if not first:
                op = self.peek()
                if not (op[0] == "op" and op[1] in "+-"):
                    break
                self.i += 1
                sign = -1 if op[1] == "-" else 1
            first = False
            mono, other = self.term()
            if other is None and min(mono[1]) >= 0:
                coef, exps = mono
                flat[exps] = flat.get(exps, Fraction(0)) + sign * coef
                continue
            value = self.to_rational(mono, other)
            if sign < 0:
                value = RationalValue(-value.num, value.den)
            rest = value if rest is None else self.add(rest, value)
        total = RationalValue(self.poly(flat))
        return total if rest is None else self.add(total, rest)

    def to_rational(self, mono, other: RationalValue | None) -> RationalValue:
        value = other or RationalValue(self.ctx.from_dict({(0,) * self.nvars: 1}))
        if mono is None:
            return value
        coef, exps = mono
        pos = tuple(max(e, 0) for e in exps)
        factor = RationalValue(self.poly({pos: coef}))
        if any(e < 0 for e in exps):
            den: dict = {}
            for idx, e in enumerate(exps):
                if e < 0:
                    self.factor_into_den(self.ctx.gens()[idx], -e, den)
            factor.den = den
        return self.mul(value, factor)

    def term(self):
        """A product: (monomial part or None, rational part or None).

        The monomial part is (coefficient, exponent vector, negative exponents allowed).
        """
        coef = Fraction(1)
        exps = [0] * self.nvars
        is_mono = True
        other: RationalValue | None = None
        divide = False
        while True:
            kind, val, mono = self.unary()
            if kind == "mono":
                c, e = mono
                if divide:
                    if c == 0:
                        raise FactorError("division by zero")
                    coef /= c
                    exps = [a - b for a, b in zip(exps, e)]
                else:
                    coef *= c
                    exps = [a + b for a, b in zip(exps, e)]
            else:
                is_mono = False
                value = self.power(val, -1) if divide else val
                other = value if other is None else self.mul(other, value)
            op = self.peek()
            if op[0] == "op" and op[1] in "*/":
                self.i += 1
                divide = op[1] == "/"
                continue
            break
        mono = (coef, tuple(exps))
        if is_mono:
            return mono, None
        return mono, other

    def unary(self):
        sign = 1
        while self.peek()[0] == "op" and self.peek()[1] in "+-":
            if self.peek()[1] == "-":
                sign = -sign
            self.i += 1
        kind, val, mono = self.power_node()
        if sign < 0:
            if kind == "mono":
                mono = (-mono[0], mono[1])
            else:
                val = RationalValue(-val.num, val.den)
        return kind, val, mono

    def exponent(self) -> int:
        k, self.i = read_exponent(self.tokens, self.i, len(self.text))
        return k

    def power_node(self):
        kind, val, mono = self.atom()
        if self.peek()[0] == "op" and self.peek()[1] == "^":
            self.i += 1
            k = self.exponent()
            if kind == "mono":
                c, e = mono
                if k < 0 and c == 0:
                    raise FactorError("division by zero")
                return "mono", None, (c**k, tuple(x * k for x in e))
            return "rational", self.power(val, k), None
        return kind, val, mono

    def atom(self):
        kind, val, pos = self.peek()
        if kind == "int":
            self.i += 1
            return "mono", None, (Fraction(int(val)), (0,) * self.nvars)
        if kind == "name":
            self.i += 1
            e = [0] * self.nvars
            e[self.index[val]] = 1
            return "mono", None, (Fraction(1), tuple(e))
        if val == "(":
            self.i += 1
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise FactorSyntaxError(f"parentheses nested deeper than {MAX_NESTING} at position {pos}")
            value = self.expr()
            self.expect(")")
            self.depth -= 1
            return "rational", value, None
        found = "end of input" if kind == "end" else repr(val)
        raise FactorSyntaxError(f"unexpected {found} at position {pos}")

    def read(self) -> RationalValue:
        value = self.expr()
        if self.i != len(self.tokens):
            _, val, pos = self.tokens[self.i]
            raise FactorSyntaxError(f"unexpected {val!r} at position {pos}")
        return value


def flint_polynomial(poly, names: tuple[str, ...]) -> Polynomial:
    # FLINT's factors have integer coefficients; plain ints are much cheaper than Fractions
    coeffs = {
        exps: int(c.p) if c.q == 1 else Fraction(int(c.p), int(c.q)) for exps, c in zip(poly.monoms(), poly.coeffs())
    }
    return names, coeffs


def sum_polynomial(text: str) -> Polynomial:
    """A sum without a denominator (``a*b - c^2``, no enclosing parentheses) as a polynomial over its symbols."""
    reader = ExpressionReader(text)
    value = reader.read()
    if value.den:
        raise FactorSyntaxError(f"factor {'(' + text + ')'!r} has a denominator")
    return flint_polynomial(value.num, tuple(reader.names) or ("_",))


def _split_imaginary(reader: ExpressionReader, poly) -> tuple:
    """poly(I) = A + I*B with A, B free of I, using I^2 = -1."""
    at = reader.index[IMAGINARY_UNIT]
    parts: tuple[dict, dict] = ({}, {})
    for exps, c in poly.to_dict().items():
        k = exps[at] % 4
        key = exps[:at] + (0,) + exps[at + 1 :]
        part = parts[k % 2]
        part[key] = part.get(key, 0) + (c if k < 2 else -c)
    return tuple(reader.ctx.from_dict({e: c for e, c in part.items() if c != 0}) for part in parts)


def _real_part(reader: ExpressionReader, value: RationalValue) -> RationalValue:
    """The expression without the imaginary unit; FactorError if it is not real."""
    one = reader.ctx.from_dict({(0,) * reader.nvars: 1})
    den = one
    for f, k in value.den.values():
        den = den * f**k
    num_re, num_im = _split_imaginary(reader, value.num)
    den_re, den_im = _split_imaginary(reader, den)
    if den_im.is_zero():
        real, imaginary, denominator = num_re, num_im, den_re
    else:  # multiply by the conjugate of the denominator
        real = num_re * den_re + num_im * den_im
        imaginary = num_im * den_re - num_re * den_im
        denominator = den_re * den_re + den_im * den_im
    if not imaginary.is_zero():
        raise FactorError("the expression is not real: its part proportional to the imaginary unit is not zero")
    if denominator.is_zero():
        raise FactorError("division by zero")
    new_den: dict = {}
    content = reader.factor_into_den(denominator, 1, new_den)
    return RationalValue(real * (1 / reader.flint.fmpq(content)), new_den)


def flint_factor(text: str) -> tuple[Fraction, list[Factor]]:
    """Content and irreducible factors (negative exponents: denominator) of an expression.

    Raises FactorSyntaxError for text outside the grammar and FactorError for a
    zero denominator (both ValueError).
    """
    reader = ExpressionReader(text)
    value = reader.read()
    if IMAGINARY_UNIT in reader.index:
        value = _real_part(reader, value)
    names = tuple(reader.names) or ("_",)
    if value.num.is_zero():
        return Fraction(0), []
    content, facs = value.num.factor()
    content = Fraction(int(content.p), int(content.q))
    factors: list[Factor] = []
    den = {key: [f, k] for key, (f, k) in value.den.items() if k}
    for f, k in facs:
        key = str(f)
        if key in den:  # cancel against the denominator
            common = min(k, den[key][1])
            k -= common
            den[key][1] -= common
        if k:
            factors.append((flint_polynomial(f, names), k))
    for f, k in den.values():
        if k:
            factors.append((flint_polynomial(f, names), -k))
    return content, factors


def _is_sum(tokens, start: int) -> bool:
    """Whether the parenthesis opened at ``start`` holds a sum (a binary + or - at its top level)."""
    depth = 0
    for k in range(start + 1, len(tokens)):
        val = tokens[k][1]
        if val == "(":
            depth += 1
        elif val == ")":
            if depth == 0:
                return False
            depth -= 1
        elif depth == 0 and val in "+-" and tokens[k - 1][1] not in ("(", "*", "/", "^"):
            return True
    return False


def _read_product(reader: ExpressionReader) -> tuple[Fraction, list[Factor]]:
    """A factored text, item by item, without multiplying anything out."""
    content = Fraction(1)
    factors: list[Factor] = []
    divide = False
    while True:
        sign = 1
        while reader.peek()[1] in ("-", "+") and reader.peek()[0] == "op":
            sign = -sign if reader.peek()[1] == "-" else sign
            reader.i += 1
        kind, val, pos = reader.peek()
        if kind == "int":
            reader.i += 1
            item_content, item_factors = Fraction(int(val)), []
        elif kind == "name":
            reader.i += 1
            item_content, item_factors = Fraction(1), [(((val,), {(1,): 1}), 1)]
        elif val == "(" and _is_sum(reader.tokens, reader.i):
            reader.i += 1
            value = reader.expr()
            reader.expect(")")
            if value.den:
                raise FactorSyntaxError(f"the sum at position {pos} has a denominator: not a factored text")
            item_content, item_factors = Fraction(1), [(flint_polynomial(value.num, tuple(reader.names)), 1)]
        elif val == "(":
            reader.i += 1
            reader.depth += 1
            if reader.depth > MAX_NESTING:
                raise FactorSyntaxError(f"parentheses nested deeper than {MAX_NESTING} at position {pos}")
            item_content, item_factors = _read_product(reader)
            reader.expect(")")
            reader.depth -= 1
        else:
            found = "end of input" if kind == "end" else repr(val)
            raise FactorSyntaxError(f"unexpected {found} at position {pos}")
        k = 1
        if reader.peek()[1] == "^":
            reader.i += 1
            k = reader.exponent()
        if divide:
            k = -k
        if item_content == 0 and k < 0:
            raise FactorError("division by zero")
        content *= sign * Fraction(item_content) ** k  # -x^2 is -(x^2), as in Python
        factors += [(poly, e * k) for poly, e in item_factors]
        op = reader.peek()
        if op[0] == "op" and op[1] in "*/":
            reader.i += 1
            divide = op[1] == "/"
            continue
        return content, factors


def rename_factored_text(text: str, rename: dict[str, str]) -> str:
    """A factored text with its symbols renamed, printed canonically again; nothing is re-factored.

    Renaming symbols one-to-one maps irreducible factors to irreducible factors,
    so the result equals :func:`flint_factor_text` of the renamed expression.
    This is how a factorisation computed once is mapped to a relabelled process
    (``s_13`` -> ``s_24``, ...).  Refuses text that is not a product of factors
    and a renaming that merges two symbols.
    """
    reader = ExpressionReader(text)
    content, factors = _read_product(reader)
    if reader.i != len(reader.tokens):
        _, val, pos = reader.tokens[reader.i]
        raise FactorSyntaxError(f"unexpected {val!r} at position {pos}: not a factored text")
    present = set(reader.names)
    targets = [rename.get(n, n) for n in present]
    if len(set(targets)) != len(targets):
        raise FactorError("the renaming maps two symbols of the text to one")
    renamed = [((tuple(rename.get(n, n) for n in names), coeffs), k) for (names, coeffs), k in factors]
    return canonical_factored_text(content, renamed)


def flint_factor_text(text: str) -> str:
    """The canonical factored text of an expression, computed with FLINT."""
    content, factors = flint_factor(text)
    return canonical_factored_text(content, factors)


def sympy_real_part(expr):
    """``expr`` without the imaginary unit (SymPy route); FactorError if it is not real."""
    import sympy  # lazy: SymPy costs 0.3 s and the FLINT route must not import it

    if not expr.has(sympy.I):
        return expr
    u = sympy.Dummy("u")
    num, den = sympy.fraction(sympy.together(expr.xreplace({sympy.I: u})))
    unit_circle = sympy.Poly(u**2 + 1, u)
    parts = []
    for part in (num, den):
        rem = sympy.Poly(sympy.expand(part), u).rem(unit_circle)
        parts.append((rem.coeff_monomial(1), rem.coeff_monomial(u)))
    (a, b), (c, d) = parts
    real = sympy.expand(a * c + b * d)
    if sympy.expand(b * c - a * d) != 0:
        raise FactorError("the expression is not real: its part proportional to the imaginary unit is not zero")
    denominator = sympy.expand(c * c + d * d)
    if denominator == 0:
        raise FactorError("division by zero")
    return real / denominator


def sympy_factor_text(text_or_expr) -> str:
    """The same canonical text, computed with ``sympy.factor`` (the reference route)."""
    import sympy  # lazy, both: SymPy costs 0.3 s and the FLINT route must not import it

    from symba.physics.expression_parser import parse_expression

    expr = parse_expression(text_or_expr, rename={"I": "i"}) if isinstance(text_or_expr, str) else text_or_expr
    expr = sympy_real_part(expr)
    factored = sympy.factor(expr)
    num, den = sympy.fraction(factored)
    content = Fraction(1)
    factors: list[Factor] = []
    for part, sign in ((num, 1), (den, -1)):
        coeff, facs = sympy.factor_list(part)
        coeff = Fraction(int(coeff.p), int(coeff.q))
        content *= coeff if sign > 0 else 1 / coeff
        for f, k in facs:
            gens = sorted(f.free_symbols, key=lambda g: symbol_order(g.name))
            terms = {exps: Fraction(int(c.p), int(c.q)) for exps, c in sympy.Poly(f, *gens).terms()}
            factors.append(((tuple(g.name for g in gens), terms), sign * int(k)))
    return canonical_factored_text(content, factors)


ENGINES = ("flint", "sympy")


def factor_text(text: str, engine: str = "flint") -> str:
    """The canonical factored text of ``text`` by either engine (the same string from both)."""
    if engine == "flint":
        return flint_factor_text(text)
    if engine == "sympy":
        if len(text) > MAX_INPUT_CHARS:
            raise FactorSyntaxError(f"expression of {len(text)} characters is over the {MAX_INPUT_CHARS} limit")
        return sympy_factor_text(text)
    raise FactorError(f"unknown factor engine {engine!r}; choose one of {', '.join(ENGINES)}")


def relabel_factored(text: str, permutation) -> str:
    """A canonical factored squared amplitude (:func:`flint_factor_text`) of the canonical process,
    as the canonical factored text of the ordered process: factor once, map to every ordering."""
    legs = leg_map(permutation)
    n = len(legs)
    rename = {}
    for i in range(1, n + 1):
        for j in range(i + 1, n + 1):
            rename[f"s_{i}{j}"] = rename_leg_symbol(f"s_{i}{j}", legs)
    return rename_factored_text(text, rename)
