"""Exact SU(3) colour factors of diagram pairs.

Colour factors are exact rationals obtained by contracting explicit SU(3)
tensors numerically and rationalising (their denominators are small powers of
2 and 3).
"""

from __future__ import annotations

import itertools
import math
from fractions import Fraction
from functools import lru_cache

import numpy as np

from ..diagrams import DiagramExpr, chain_colour_atoms


@lru_cache(maxsize=1)
def su3_generators() -> tuple[np.ndarray, np.ndarray]:
    """The generators T^a = lambda^a / 2 and the structure constants f^{abc}."""
    lam = np.zeros((8, 3, 3), dtype=complex)
    lam[0][0, 1] = lam[0][1, 0] = 1
    lam[1][0, 1], lam[1][1, 0] = -1j, 1j
    lam[2][0, 0], lam[2][1, 1] = 1, -1
    lam[3][0, 2] = lam[3][2, 0] = 1
    lam[4][0, 2], lam[4][2, 0] = -1j, 1j
    lam[5][1, 2] = lam[5][2, 1] = 1
    lam[6][1, 2], lam[6][2, 1] = -1j, 1j
    lam[7] = np.diag([1, 1, -2]) / math.sqrt(3)
    T = lam / 2
    # f^{abc} = -2 i Tr([T^a, T^b] T^c)
    comm = np.einsum("aij,bjk->abik", T, T) - np.einsum("bij,ajk->abik", T, T)
    f = (-2j * np.einsum("abij,cji->abc", comm, T)).real
    return T, f


def colour_tensor(atoms: list[tuple], external: list[str]) -> np.ndarray:
    """Contract colour atoms over internal indices; axes ordered as ``external``."""
    T, f = su3_generators()
    letters: dict[str, str] = {}

    def letter(name: str) -> str:
        if name not in letters:
            letters[name] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"[len(letters)]
        return letters[name]

    operands, subs = [], []
    for atom in atoms:
        operands.append(T if atom[0] == "T" else f)
        subs.append("".join(letter(x) for x in atom[1:]))
    out = "".join(letter(x) for x in external)
    if not operands:
        return np.ones(())
    return np.einsum(",".join(subs) + "->" + out, *operands, optimize=True)


def small_rational(x: float) -> Fraction:
    frac = Fraction(x).limit_denominator(100000)
    if abs(float(frac) - x) > 1e-9 * max(1.0, abs(x)):
        raise ArithmeticError(f"colour factor {x!r} is not a small rational")
    return frac


def colour_factors(diagrams: list[DiagramExpr], colour_legs: list[int]) -> dict:
    """C[(d, k), (d', k')] = sum over external colours of C_dk * conj(C_d'k')."""
    tensors = {}
    for diag in diagrams:
        ext = {}
        for chain in diag.chains:
            if chain.colour_start:
                ext[chain.start.leg] = chain.colour_start
                ext[chain.end.leg] = chain.colour_end
        for vec in diag.vectors:
            if vec.colour:
                ext[vec.leg] = vec.colour
        counter = itertools.count()
        chain_atoms = []
        for chain in diag.chains:
            chain_atoms += chain_colour_atoms(chain, lambda kind: f"{kind}x{next(counter)}")
        external = [ext[leg] for leg in colour_legs]
        for k, comp in enumerate(diag.components):
            tensors[(diag.index, k)] = colour_tensor(chain_atoms + comp.colour, external).ravel()
    out = {}
    for a, ta in tensors.items():
        for b, tb in tensors.items():
            val = np.vdot(tb, ta)  # sum ta * conj(tb)
            out[(a, b)] = (small_rational(val.real), small_rational(val.imag))
    return out
