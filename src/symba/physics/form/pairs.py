"""FORM text of one diagram pair: M_a conj(M_b) after spin, polarisation and colour sums."""

from __future__ import annotations

from fractions import Fraction

from ..diagrams import DiagramExpr
from .dirac import WrittenMomenta, lorentz_text, traces
from .polarisation import polarisation_sums
from .program import COUPLING, FormProgram, fraction_text


def interference_coefficient(da: DiagramExpr, db: DiagramExpr, colour: dict | None, ka: int, kb: int) -> Fraction:
    """Re(coef_a conj(coef_b) C_{ka kb}) of components ka of M_a and kb of M_b (C = 1 without colour).

    The Dirac traces are real (no gamma5), so only the real part of the complex
    prefactor survives once (a, b) and (b, a) are added."""
    pre_re = da.coef_re * db.coef_re + da.coef_im * db.coef_im
    pre_im = da.coef_im * db.coef_re - da.coef_re * db.coef_im
    c_re, c_im = (Fraction(1), Fraction(0)) if colour is None else colour[((da.index, ka), (db.index, kb))]
    return pre_re * c_re - pre_im * c_im


def pair_numerator(
    momenta: WrittenMomenta, da: DiagramExpr, db: DiagramExpr, colour: dict | None, references: dict[int, int]
) -> tuple[str | None, int]:
    """(FORM text of the components' Lorentz structures times traces and polarisation sums,
    Dirac line count); the text is None if every coefficient vanishes."""
    comp_terms = []
    for ka, ca in enumerate(da.components):
        for kb, cb in enumerate(db.components):
            c = interference_coefficient(da, db, colour, ka, kb)
            if c == 0:
                continue
            lor = [lorentz_text(momenta, s, "i") for s in ca.lorentz] + [
                lorentz_text(momenta, s, "j") for s in cb.lorentz
            ]
            comp_terms.append(f"({c.numerator}/{c.denominator})" + "".join("*" + x for x in lor))
    # Traces after the Lorentz structures: NamedMomenta names its q's in this order.
    factors, nlines = traces(momenta, da, db)
    if not comp_terms:
        return None, nlines
    body = "(" + "+".join(comp_terms) + ")"
    return "*".join([body] + factors + polarisation_sums(da, db, references)), nlines


def pair_term(program: FormProgram, factor: Fraction, da: DiagramExpr, db: DiagramExpr, numerator: str) -> str:
    """factor * coupling^power * numerator / denominators of both diagrams."""
    power = da.coupling_power + db.coupling_power
    return f"{fraction_text(factor)}*{COUPLING}^{power}*{numerator}{program.denominators(da)}{program.denominators(db)}"
