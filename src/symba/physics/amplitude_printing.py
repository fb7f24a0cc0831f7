"""Amplitude text of a diagram, in the grammar of :mod:`symba.physics.amplitude_syntax`.

The printer of :class:`~symba.physics.diagrams.DiagramExpr`; the reader is ``amplitude_syntax``.
"""

from __future__ import annotations

from .amplitude_layout import canonical_layout, coefficient_text
from .amplitude_syntax import canonicalize_indices, parse, to_string
from .diagrams import DiagramExpr, Gamma, chain_colour_atoms, denominator_text, momentum_text


def _lorentz_sum_text(lsum) -> str:
    terms = []
    for coef, atoms in lsum:
        parts = []
        for atom in atoms:
            if atom[0] == "metric":
                parts.append(f"metric({atom[1]},{atom[2]})")
            else:
                parts.append(f"mom({momentum_text(atom[1])},{atom[2]})")
        text = "*".join(parts)
        terms.append(("- " if coef < 0 else "+ ") + (f"{abs(coef)}*" if abs(coef) != 1 else "") + text)
    out = " ".join(terms)
    return "(" + (out[2:] if out.startswith("+ ") else "-" + out[2:]) + ")"


def _colour_text(atoms) -> list[str]:
    return [f"{a[0]}({','.join(a[1:])})" for a in atoms]


def amplitude_text(diag: DiagramExpr, leg_masses: list[str | None]) -> str:
    """The diagram's amplitude in the syntax of ``amplitude_syntax`` (canonical indices)."""
    counter = {"d": 0, "c": 1000}

    def fresh(kind: str) -> str:
        counter[kind] += 1
        return f"{kind}{counter[kind]}"

    factors = [coefficient_text(diag.coef_re, diag.coef_im, diag.coupling, diag.coupling_power)]
    colour_atoms: list[tuple] = []
    for chain in diag.chains:
        d_left = fresh("d")
        col = f",{chain.colour_start}" if chain.colour_start else ""
        factors.append(f"{chain.start.kind}({chain.start.label},p_{chain.start.leg + 1},{d_left}{col})")
        for el in chain.elements:
            d_right = fresh("d")
            if isinstance(el, Gamma):
                factors.append(f"gamma({el.lorentz},{d_left},{d_right})")
            else:
                mass = f" + {el.mass}*one({d_left},{d_right})" if el.mass else ""
                factors.append(f"(slash({momentum_text(el.momentum)},{d_left},{d_right}){mass})")
            d_left = d_right
        col = f",{chain.colour_end}" if chain.colour_end else ""
        factors.append(f"{chain.end.kind}({chain.end.label},p_{chain.end.leg + 1},{d_left}{col})")
        colour_atoms += chain_colour_atoms(chain, fresh)
    for vec in diag.vectors:
        col = f",{vec.colour}" if vec.colour else ""
        factors.append(f"{'eps' if vec.incoming else 'epsc'}({vec.label},p_{vec.leg + 1},{vec.lorentz}{col})")
    factors += _colour_text(colour_atoms)
    comp_texts = []
    for comp in diag.components:
        parts = _colour_text(comp.colour) + [_lorentz_sum_text(s) for s in comp.lorentz]
        comp_texts.append("*".join(parts))
    comp_texts = [c for c in comp_texts if c]
    if len(comp_texts) == 1:
        factors.append(comp_texts[0])
    elif comp_texts:
        factors.append("(" + " + ".join(comp_texts) + ")")
    text = "*".join(factors)
    if diag.denominators:
        dens = [f"({denominator_text(k, m, leg_masses)})" for k, m in diag.denominators]
        text += "/" + (dens[0] if len(dens) == 1 else "(" + "*".join(dens) + ")")
    return canonical_layout(text, signed=True)  # the engine's text is a fixed point of the canonical form


def without_overall_sign(text: str) -> str:
    """The canonical amplitude with a leading minus sign dropped.

    Backends differ in the overall sign of a diagram (the order in which fermion
    chains are read); a per-diagram row pairs the amplitude with its own square,
    which does not see that sign.  Compare amplitudes of two backends in this form.
    """
    node = canonicalize_indices(parse(text))
    return to_string(node.args[0] if node.op == "neg" else node)
