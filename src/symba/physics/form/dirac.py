"""Momenta, Lorentz structures and closed Dirac traces in FORM text.

A momentum is a sum of external momenta p_i.  :class:`WrittenMomenta` writes
every sum out; :class:`NamedMomenta` keeps each sum that is not a single p_i
as one FORM vector (q1, q2, ...), so a gamma string stays one term through the
traces, and :meth:`NamedMomenta.definitions` writes the q's out afterwards.
Both routes take the same writer interface.
"""

from __future__ import annotations

from ..diagrams import Chain, DiagramExpr, Gamma
from .program import form_mass

Momentum = tuple[int, ...]


def _signed_terms(k: Momentum, vector) -> str:
    """``c1*v1-c2*v2...`` with every coefficient written, the leading + dropped."""
    return "".join(f"{'+' if c > 0 else '-'}{abs(c)}*{vector(i)}" for i, c in enumerate(k) if c).lstrip("+")


class WrittenMomenta:
    """Every momentum as its sum of p_i."""

    def text(self, k: Momentum, index: str | None = None) -> str:
        """The momentum (with a Lorentz index, or as a vector), as one bracketed factor."""
        terms = []
        for i, c in enumerate(k):
            if c:
                vec = f"p{i + 1}" + (f"({index})" if index else "")
                terms.append(("+" if c > 0 else "-") + (f"{abs(c)}*" if abs(c) != 1 else "") + vec)
        return "(" + "".join(terms).removeprefix("+") + ")"

    def propagator(self, line: int, k: Momentum, mass: str | None) -> str:
        """kslash + m on Dirac line ``line``."""
        mass_term = f"+{form_mass(mass)}*gi_({line})" if mass else ""
        return f"({_signed_terms(k, lambda i: f'g_({line},p{i + 1})')}{mass_term})"

    def vector_names(self) -> list[str]:
        return []

    def definitions(self) -> list[str]:
        return []


class NamedMomenta(WrittenMomenta):
    """p_i for a single leg; any other sum as one named vector q (its sign fixed by its first term)."""

    def __init__(self):
        self.composite: dict[Momentum, str] = {}

    def signed(self, k: Momentum) -> tuple[int, str]:
        """(sign, vector name) with k = sign * vector, naming a new q for a new sum."""
        nonzero = [(i, c) for i, c in enumerate(k) if c]
        if len(nonzero) == 1 and abs(nonzero[0][1]) == 1:
            i, c = nonzero[0]
            return c, f"p{i + 1}"
        sign = 1 if nonzero[0][1] > 0 else -1
        key = tuple(sign * c for c in k)
        if key not in self.composite:
            self.composite[key] = f"q{len(self.composite) + 1}"
        return sign, self.composite[key]

    def text(self, k: Momentum, index: str | None = None) -> str:
        sign, name = self.signed(k)
        return ("-" if sign < 0 else "") + name + (f"({index})" if index else "")

    def propagator(self, line: int, k: Momentum, mass: str | None) -> str:
        sign, name = self.signed(k)
        slash = f"{'-' if sign < 0 else ''}g_({line},{name})"
        return f"({slash}+{form_mass(mass)}*gi_({line}))" if mass else slash

    def vector_names(self) -> list[str]:
        return list(self.composite.values())

    def definitions(self) -> list[str]:
        """One ``id q = sum of p_i`` per composite vector, shortest sums first."""
        by_length = sorted(self.composite.items(), key=lambda kv: (sum(map(abs, kv[0])), kv[1]))
        return [f"id {name} = {_signed_terms(k, lambda i: f'p{i + 1}')};" for k, name in by_length]

    def written_out(self, invariants: list[str]) -> list[str]:
        """FORM statements, after the traces, that write every q out as its p_i.

        Invariants after each step: p_i.p_i = m^2 and s_ij merge terms early.  Four q's per module,
        shortest first: measured fastest for u g -> u g g (2.2 s against 3.6 s one by one)."""
        definitions = self.definitions()
        if not definitions:
            return []
        out = [".sort"]
        for k in range(0, len(definitions), 4):
            out += definitions[k : k + 4] + invariants + [".sort"]
        return out


def lorentz_text(momenta: WrittenMomenta, lsum, tag: str) -> str:
    """One Lorentz structure (a sum of metric and momentum products); indices tagged ``tag``."""
    terms = []
    for coef, atoms in lsum:
        parts = []
        for atom in atoms:
            if atom[0] == "metric":
                parts.append(f"d_({tag}{atom[1]},{tag}{atom[2]})")
            else:
                parts.append(momenta.text(atom[1], tag + atom[2]))
        terms.append(f"{'+' if coef > 0 else '-'}{abs(coef)}*" + "*".join(parts))
    return "(" + "".join(terms) + ")"


def _element(momenta: WrittenMomenta, line: int, el, tag: str) -> str:
    if isinstance(el, Gamma):
        return f"g_({line},{tag}{el.lorentz})"
    return momenta.propagator(line, el.momentum, el.mass)


def _spin_sum(line: int, spinor) -> str:
    """u ubar = pslash + m, v vbar = pslash - m."""
    sign = "+" if spinor.kind in ("u", "ubar") else "-"
    mass = f"{sign}{form_mass(spinor.mass)}*gi_({line})" if spinor.mass else ""
    return f"(g_({line},p{spinor.leg + 1}){mass})"


def traces(momenta: WrittenMomenta, da: DiagramExpr, db: DiagramExpr) -> tuple[list[str], int]:
    """Closed Dirac traces of M_a * conj(M_b) after spin sums; returns factors and line count."""
    a_by_start = {c.start.leg: c for c in da.chains}
    b_by_end = {c.end.leg: c for c in db.chains}
    done: set[int] = set()
    factors: list[str] = []
    line = 0
    for first in da.chains:
        if first.start.leg in done:
            continue
        line += 1
        parts: list[str] = []
        chain: Chain = first
        while True:
            done.add(chain.start.leg)
            parts += [_element(momenta, line, el, "i") for el in chain.elements]
            parts.append(_spin_sum(line, chain.end))
            conj = b_by_end[chain.end.leg]
            parts += [_element(momenta, line, el, "j") for el in reversed(conj.elements)]
            parts.append(_spin_sum(line, conj.start))
            if conj.start.leg == first.start.leg:
                break
            chain = a_by_start[conj.start.leg]
        factors.append("*".join(parts))
    return factors, line
