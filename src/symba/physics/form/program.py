"""The parts every FORM program shares: names, declarations, invariants, printing, translation back.

FORM symbols cannot contain "_", so our names change on the way in (``m_mu`` ->
``Mmu``, ``s_12`` -> ``s12``, each distinct propagator denominator -> ``D1``,
``D2``, ...) and change back in :func:`to_symba`.
"""

from __future__ import annotations

import re
from fractions import Fraction

from ..diagrams import DiagramExpr, FermionPropagator, Gamma, denominator_text
from ..symbols import ALL_MASSES

FORM_MASS = {m: "M" + m.removeprefix("m_") for m in ALL_MASSES}
MASS_FROM_FORM = {v: k for k, v in FORM_MASS.items()}
COUPLING = "cpl"  # the coupling constant's FORM symbol; its name comes back from the diagrams


def form_mass(mass: str | None) -> str | None:
    return FORM_MASS[mass] if mass else None


def fraction_text(x: Fraction) -> str:
    return f"({x.numerator}/{x.denominator})" if x.denominator != 1 else f"({x.numerator})"


def form_masses(leg_masses: list[str | None], diagrams: list[DiagramExpr]) -> list[str]:
    """FORM names of the external and fermion-propagator masses, sorted."""
    names = {FORM_MASS[m] for m in leg_masses if m}
    for d in diagrams:
        for chain in d.chains:
            names.update(FORM_MASS[el.mass] for el in chain.elements if isinstance(el, FermionPropagator) and el.mass)
    return sorted(names)


def index_names(diagrams: list[DiagramExpr]) -> list[str]:
    """Lorentz index names of the diagrams (without the i/j tag of amplitude and conjugate), sorted."""
    names = set()
    for d in diagrams:
        for chain in d.chains:
            names.update(el.lorentz for el in chain.elements if isinstance(el, Gamma))
        names.update(v.lorentz for v in d.vectors)
        for comp in d.components:
            for lsum in comp.lorentz:
                for _c, atoms in lsum:
                    for atom in atoms:
                        names.update(x for x in atom[1:] if isinstance(x, str))
    return sorted(names)


def tagged_indices(diagrams: list[DiagramExpr]) -> list[str]:
    """FORM indices: each index name tagged i (amplitude) and j (conjugate)."""
    return [f"{tag}{name}" for name in index_names(diagrams) for tag in "ij"]


class FormProgram:
    """What a squared-amplitude program of one process declares, replaces and prints.

    ``references`` maps each gluon leg with a physical polarisation sum to the leg
    of its reference momentum; its 1/(k.n) is the symbol ``ikn<leg>``."""

    def __init__(self, leg_masses: list[str | None], references: dict[int, int]):
        self.leg_masses = leg_masses
        self.n = len(leg_masses)
        self.references = references
        self.denominator_symbols: dict[str, str] = {}  # our denominator text -> D1, D2, ...

    def denominators(self, d: DiagramExpr) -> str:
        """``*D1^(-1)*D2^(-1)...`` for the propagators of one diagram, naming new denominators."""
        out = ""
        for k, m in d.denominators:
            text = denominator_text(k, m, self.leg_masses)
            self.denominator_symbols.setdefault(text, f"D{len(self.denominator_symbols) + 1}")
            out += f"*{self.denominator_symbols[text]}^(-1)"
        return out

    def declarations(self, masses: list[str], indices: list[str], vectors: list[str] = ()) -> list[str]:
        """Preamble and declarations; call once every term is written (denominators named)."""
        n = self.n
        s_symbols = [f"s{i + 1}{j + 1}" for i in range(n) for j in range(i + 1, n)]
        ikn = [f"ikn{g + 1}" for g in self.references]
        symbols = s_symbols + masses + ikn + list(self.denominator_symbols.values()) + [COUPLING]
        out = ["#-", "Off Statistics;", "Format nospaces;", "Format 255;"]
        out.append("Symbols " + ",".join(symbols) + ";")
        out.append("Vectors " + ",".join([f"p{i + 1}" for i in range(n)] + list(vectors)) + ";")
        if indices:
            out.append("Indices " + ",".join(indices) + ";")
        return out

    def invariants(self) -> list[str]:
        """p_i.p_i = m_i^2 and p_i.p_j = s_ij."""
        out = []
        for i, m in enumerate(self.leg_masses):
            out.append(f"id p{i + 1}.p{i + 1} = {FORM_MASS[m] + '^2' if m else '0'};")
            out += [f"id p{i + 1}.p{j + 1} = s{i + 1}{j + 1};" for j in range(i + 1, self.n)]
        return out

    def reference_invariants(self) -> list[str]:
        """1/(k.n) = 1/s_kn for each physical sum."""
        out = []
        for g, r in self.references.items():
            lo, hi = sorted((g, r))
            out.append(f"id ikn{g + 1} = s{lo + 1}{hi + 1}^(-1);")
        return out

    def ending(self, printed: str = "") -> list[str]:
        """Bracket over denominators and coupling, print (all, or the named expression), end."""
        brackets = list(self.denominator_symbols.values()) + [COUPLING]
        return ["Bracket " + ",".join(brackets) + ";", f"Print{' ' + printed if printed else ''};", ".end", ""]

    def translation(self, coupling: str) -> dict[str, str]:
        """FORM symbol -> our text, for :func:`to_symba`: the denominators and the coupling."""
        back = {sym: f"({text})" for text, sym in self.denominator_symbols.items()}
        back[COUPLING] = coupling
        return back


def to_symba(form_expr: str, names: dict[str, str]) -> str:
    """FORM's names back to ours: masses, s_ij, and the given symbol replacements."""

    def sub(m):
        name = m.group(0)
        if name in names:
            return names[name]
        if name in MASS_FROM_FORM:
            return MASS_FROM_FORM[name]
        if name[0] == "s" and name[1:].isdigit():
            return f"s_{name[1:]}"
        return name

    return re.sub(r"[A-Za-z][A-Za-z0-9]*", sub, form_expr)
