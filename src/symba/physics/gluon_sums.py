"""Whole-process squares of processes with two or more external gluons, in FORM.

Every gluon but one gets the physical polarisation sum -g + (k n + n k)/(k.n),
with n the momentum of another external gluon; with the others physical,
k.M = 0 for the remaining gluon, so -g is exact there.  Per-diagram squares
(-g sums, the SYMBA convention) are not made here.

Two routes, both measured in benchmarks/qcd_gluons.py:

* With quarks (Dirac traces): the sums are multiplied in before the traces,
  but every propagator or vertex momentum that is not a single p_i stays one
  FORM vector (q1, q2, ...), so a gamma string stays one term instead of a
  product of sums.  The q's are written out one at a time after the traces.
* Gluons only: each diagram is first contracted with polarisation vectors
  e_x (its conjugate with f_x) and expanded on its own, where it is small.
  There e_x.k_x = e_x.n_x = 0 (the physical sum is orthogonal to both; for
  the -g gluon e.k drops because k.M = 0), and momentum conservation removes
  one more e_x.p_j.  Only then are pairs of diagrams multiplied, and the sums
  applied one gluon at a time, dropping again after each.
"""

from __future__ import annotations

import itertools
import os
from fractions import Fraction

from .diagrams import Chain, DiagramExpr, Gamma, denominator_text
from .squaring import FORM_MASS, _frac, _index_names, _polarisation_sums, _to_symba, run_form

Momentum = tuple[int, ...]


class _Vectors:
    """FORM text of momenta: p_i for a single leg; other sums either as one named
    vector each (q1, q2, ..., replaced after the traces) or written out."""

    def __init__(self, composite: bool):
        self.use_composite = composite
        self.composite: dict[Momentum, str] = {}

    def signed(self, k: Momentum) -> tuple[int, str]:
        """(sign, vector name) with k = sign * vector; a sum's sign is fixed by its first term."""
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
        if not self.use_composite:
            terms = "".join(
                f"{'+' if c > 0 else '-'}{abs(c)}*p{i + 1}" + (f"({index})" if index else "")
                for i, c in enumerate(k)
                if c
            )
            return "(" + terms.lstrip("+") + ")"
        sign, name = self.signed(k)
        return ("-" if sign < 0 else "") + name + (f"({index})" if index else "")

    def slash(self, line: int, k: Momentum) -> str:
        if not self.use_composite:
            return (
                "("
                + "".join(f"{'+' if c > 0 else '-'}{abs(c)}*g_({line},p{i + 1})" for i, c in enumerate(k) if c).lstrip(
                    "+"
                )
                + ")"
            )
        sign, name = self.signed(k)
        return f"{'-' if sign < 0 else ''}g_({line},{name})"

    def definitions(self) -> list[str]:
        """One ``id q = sum of p_i`` per composite vector, shortest sums first."""
        out = []
        for k, name in sorted(self.composite.items(), key=lambda kv: (sum(map(abs, kv[0])), kv[1])):
            terms = "".join(f"{'+' if c > 0 else '-'}{abs(c)}*p{i + 1}" for i, c in enumerate(k) if c)
            out.append(f"id {name} = {terms.lstrip('+')};")
        return out


def _mass(m: str | None) -> str | None:

    return FORM_MASS[m] if m else None


def _element(vectors: _Vectors, line: int, el, tag: str) -> str:
    if isinstance(el, Gamma):
        return f"g_({line},{tag}{el.lorentz})"
    slash = vectors.slash(line, el.momentum)
    return f"({slash}+{_mass(el.mass)}*gi_({line}))" if el.mass else slash


def _spin_sum(line: int, spinor) -> str:
    sign = "+" if spinor.kind in ("u", "ubar") else "-"
    mass = f"{sign}{_mass(spinor.mass)}*gi_({line})" if spinor.mass else ""
    return f"(g_({line},p{spinor.leg + 1}){mass})"


def _traces(vectors: _Vectors, da: DiagramExpr, db: DiagramExpr) -> tuple[list[str], int]:
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
            parts += [_element(vectors, line, el, "i") for el in chain.elements]
            parts.append(_spin_sum(line, chain.end))
            conj = b_by_end[chain.end.leg]
            parts += [_element(vectors, line, el, "j") for el in reversed(conj.elements)]
            parts.append(_spin_sum(line, conj.start))
            if conj.start.leg == first.start.leg:
                break
            chain = a_by_start[conj.start.leg]
        factors.append("*".join(parts))
    return factors, line


def _lorentz_text(vectors: _Vectors, lsum, tag: str) -> str:
    terms = []
    for coef, atoms in lsum:
        parts = []
        for atom in atoms:
            if atom[0] == "metric":
                parts.append(f"d_({tag}{atom[1]},{tag}{atom[2]})")
            else:
                parts.append(vectors.text(atom[1], tag + atom[2]))
        terms.append(f"{'+' if coef > 0 else '-'}{abs(coef)}*" + "*".join(parts))
    return "(" + "".join(terms) + ")"


def _pair(
    vectors: _Vectors,
    da: DiagramExpr,
    db: DiagramExpr,
    colour: dict | None,
    references: dict[int, int],
):
    """FORM text of Re(coef_a conj(coef_b) C_kk') summed over components, times traces and sums."""
    pre_re = da.coef_re * db.coef_re + da.coef_im * db.coef_im
    pre_im = da.coef_im * db.coef_re - da.coef_re * db.coef_im
    comp_terms = []
    for ka, ca in enumerate(da.components):
        for kb, cb in enumerate(db.components):
            c_re, c_im = (Fraction(1), Fraction(0)) if colour is None else colour[((da.index, ka), (db.index, kb))]
            c = pre_re * c_re - pre_im * c_im
            if c == 0:
                continue
            lor = [_lorentz_text(vectors, s, "i") for s in ca.lorentz] + [
                _lorentz_text(vectors, s, "j") for s in cb.lorentz
            ]
            comp_terms.append(f"({c.numerator}/{c.denominator})" + "".join("*" + x for x in lor))
    traces, nlines = _traces(vectors, da, db)
    if not comp_terms:
        return None, nlines
    body = "(" + "+".join(comp_terms) + ")"
    return "*".join([body] + traces + _polarisation_sums(da, db, references)), nlines


def default_references(gluon_legs: list[int]) -> dict[int, int]:
    """Each gluon but the last: reference vector = momentum of the next gluon."""
    return {g: gluon_legs[k + 1] for k, g in enumerate(gluon_legs[:-1])}


def whole_process_program(
    diagrams: list[DiagramExpr],
    colour: dict | None,
    norm: Fraction,
    leg_masses: list[str | None],
    references: dict[int, int],
    extra_masses: set[str],
) -> tuple[str, dict[str, str]]:
    """FORM program printing ``T`` = |sum_d M_d|^2, and FORM symbol -> our text for its denominators.

    Propagator and vertex momenta stay single vectors q through the traces and
    are written out one at a time afterwards, sorting in between.
    """

    n = len(leg_masses)
    vectors = _Vectors(True)
    den_symbol: dict[str, str] = {}

    def dens(d: DiagramExpr) -> str:
        out = ""
        for k, m in d.denominators:
            text = denominator_text(k, m, leg_masses)
            den_symbol.setdefault(text, f"D{len(den_symbol) + 1}")
            out += f"*{den_symbol[text]}^(-1)"
        return out

    coupling = "cpl"
    max_lines = 0
    parts: list[str] = []
    for a, b in itertools.combinations_with_replacement(range(len(diagrams)), 2):
        da, db = diagrams[a], diagrams[b]
        num, lines = _pair(vectors, da, db, colour, references)
        max_lines = max(max_lines, lines)
        if num:
            power = da.coupling_power + db.coupling_power
            parts.append(f"{_frac(norm * (2 if a != b else 1))}*{coupling}^{power}*{num}{dens(da)}{dens(db)}")

    masses = sorted({FORM_MASS[m] for m in leg_masses if m} | extra_masses)
    s_syms = [f"s{i + 1}{j + 1}" for i in range(n) for j in range(i + 1, n)]
    ikn = [f"ikn{g + 1}" for g in references]
    indices = [f"{t}{x}" for x in _index_names(diagrams) for t in "ij"]
    out = ["#-", "Off Statistics;", "Format nospaces;", "Format 255;"]
    out.append("Symbols " + ",".join(s_syms + masses + ikn + list(den_symbol.values()) + [coupling]) + ";")
    out.append("Vectors " + ",".join([f"p{i + 1}" for i in range(n)] + list(vectors.composite.values())) + ";")
    if indices:
        out.append("Indices " + ",".join(indices) + ";")
    out.append(f"Local T = {'+'.join(parts) or '0'};")
    # Sorting before the traces merges the terms that share one gamma string.
    out.append(".sort")
    if max_lines:
        out += [f"trace4,{ln};" for ln in range(1, max_lines + 1)]
        out.append(".sort")
    invariants = []
    for i in range(n):
        m = leg_masses[i]
        invariants.append(f"id p{i + 1}.p{i + 1} = {FORM_MASS[m] + '^2' if m else '0'};")
        for j in range(i + 1, n):
            invariants.append(f"id p{i + 1}.p{j + 1} = s{i + 1}{j + 1};")
    # Invariants after each step: p_i.p_i = 0 kills terms early, and s_ij merge with the rest.
    # Four q's per module, shortest first: measured fastest for u g -> u g g (2.2 s against 3.6 s one by one).
    definitions = vectors.definitions()
    for k in range(0, len(definitions), 4):
        out += definitions[k : k + 4] + invariants + [".sort"]
    out += invariants
    for g, r in references.items():
        lo, hi = sorted((g, r))
        out.append(f"id ikn{g + 1} = s{lo + 1}{hi + 1}^(-1);")
    out.append("Bracket " + ",".join(list(den_symbol.values()) + [coupling]) + ";")
    out += ["Print;", ".end", ""]
    back = {sym: f"({text})" for text, sym in den_symbol.items()}
    back[coupling] = diagrams[0].coupling if diagrams else "g_s"
    return "\n".join(out), back


def form_workers() -> int:
    """tform threads: two when this process may use two cores, else one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return 2 if cores >= 2 else 1


def _conserve(pol: str, x: int, ref: int, n: int, n_in: int) -> str:
    """e_x.p_j for the last leg j other than x and its reference, by momentum conservation."""
    sign = [1 if i < n_in else -1 for i in range(n)]  # sum_i sign_i p_i = 0
    j = max(i for i in range(n) if i not in (x, ref))
    rest = "".join(
        f"{'+' if -sign[j] * sign[i] > 0 else '-'}{pol}{x + 1}.p{i + 1}" for i in range(n) if i not in (x, ref, j)
    )
    return f"id {pol}{x + 1}.p{j + 1} = {rest.lstrip('+')};"


def pure_gauge_program(
    diagrams: list[DiagramExpr],
    colour: dict,
    norm: Fraction,
    n: int,
    references: dict[int, int],
    feynman_leg: int,
    n_in: int,
    conservation: bool = True,
) -> tuple[str, dict[str, str]]:
    """FORM program for a process of external gluons only, contracted at amplitude level.

    Each diagram component is first written with polarisation vectors e_x
    (its conjugate with f_x) and expanded on its own, dropping e_x.k_x and
    e_x.n_x there, where it is small; only then are pairs multiplied.
    """

    den_symbol: dict[str, str] = {}
    leg_masses = [None] * n

    def dens(d: DiagramExpr) -> str:
        out = ""
        for k, m in d.denominators:
            text = denominator_text(k, m, leg_masses)
            den_symbol.setdefault(text, f"D{len(den_symbol) + 1}")
            out += f"*{den_symbol[text]}^(-1)"
        return out

    vectors = _Vectors(False)
    amp_defs: list[str] = []
    for d in diagrams:
        for k, comp in enumerate(d.components):
            for tag, pol in (("i", "e"), ("j", "f")):
                lor = [_lorentz_text(vectors, s, tag) for s in comp.lorentz]
                pols = [f"{pol}{v.leg + 1}({tag}{v.lorentz})" for v in d.vectors]
                amp_defs.append(f"Local {pol.upper()}{d.index}x{k} = " + "*".join(lor + pols) + ";")
    coupling = "cpl"
    parts: list[str] = []
    for a, b in itertools.combinations_with_replacement(range(len(diagrams)), 2):
        da, db = diagrams[a], diagrams[b]
        pre_re = da.coef_re * db.coef_re + da.coef_im * db.coef_im
        pre_im = da.coef_im * db.coef_re - da.coef_re * db.coef_im
        terms = []
        for ka in range(len(da.components)):
            for kb in range(len(db.components)):
                c_re, c_im = colour[((da.index, ka), (db.index, kb))]
                c = pre_re * c_re - pre_im * c_im
                if c:
                    terms.append(f"{_frac(c)}*E{da.index}x{ka}*F{db.index}x{kb}")
        if terms:
            power = da.coupling_power + db.coupling_power
            parts.append(
                f"{_frac(norm * (2 if a != b else 1))}*{coupling}^{power}*({'+'.join(terms)}){dens(da)}{dens(db)}"
            )

    # The -g gluon first: its sum adds no terms.
    summed = [feynman_leg] + sorted(references)
    s_syms = [f"s{i + 1}{j + 1}" for i in range(n) for j in range(i + 1, n)]
    ikn = [f"ikn{g + 1}" for g in references]
    pol = [f"{t}{x + 1}" for x in summed for t in "ef"]
    names = set()
    for d in diagrams:
        names.update(v.lorentz for v in d.vectors)
        for comp in d.components:
            for lsum in comp.lorentz:
                for _c, atoms in lsum:
                    for atom in atoms:
                        names.update(x for x in atom[1:] if isinstance(x, str))

    def drops(gluons) -> list[str]:
        lines = []
        for x in gluons:
            for t in "ef":
                lines.append(f"id {t}{x + 1}.p{x + 1} = 0;")
                if x in references:
                    lines.append(f"id {t}{x + 1}.p{references[x] + 1} = 0;")
                if conservation:
                    lines.append(_conserve(t, x, references.get(x, x), n, n_in))
        return lines

    invariants = [f"id p{i + 1}.p{i + 1} = 0;" for i in range(n)]
    invariants += [f"id p{i + 1}.p{j + 1} = s{i + 1}{j + 1};" for i in range(n) for j in range(i + 1, n)]
    invariants += [f"id ikn{g + 1} = s{min(g, r) + 1}{max(g, r) + 1}^(-1);" for g, r in references.items()]
    out = ["#-", "Off Statistics;", "Format nospaces;", "Format 255;"]
    out.append("Symbols " + ",".join(s_syms + ikn + list(den_symbol.values()) + [coupling]) + ";")
    out.append("Vectors " + ",".join([f"p{i + 1}" for i in range(n)] + pol + ["v1", "v2"]) + ";")
    out.append("Indices " + ",".join(f"{t}{x}" for x in sorted(names) for t in "ij") + ";")
    out += amp_defs
    out += drops(summed)
    out.append(".sort")
    out.append(f"Local T = {'+'.join(parts) or '0'};")
    out.append(".sort")
    out.append("Drop " + ",".join(line.split()[1] for line in amp_defs) + ";")
    out.append(".sort")
    for step, x in enumerate(summed):
        e, f, k = f"e{x + 1}", f"f{x + 1}", f"p{x + 1}"
        if x in references:
            r = f"p{references[x] + 1}"
            out.append(f"id {e}.{f} = -2;")
            out.append(f"id {e}.v1?*{f}.v2? = -v1.v2+(v1.{k}*v2.{r}+v1.{r}*v2.{k})*ikn{x + 1};")
        else:
            out.append(f"id {e}.{f} = -4;")
            out.append(f"id {e}.v1?*{f}.v2? = -v1.v2;")
        # The sum just applied brings in k_x and n_x, which the later gluons may be orthogonal to.
        out += drops(summed[step + 1 :]) + invariants
        out.append(".sort")
    for g, r in references.items():
        lo, hi = sorted((g, r))
        out.append(f"id ikn{g + 1} = s{lo + 1}{hi + 1}^(-1);")
    out.append("Bracket " + ",".join(list(den_symbol.values()) + [coupling]) + ";")
    out += ["Print T;", ".end", ""]
    back = {sym: f"({text})" for text, sym in den_symbol.items()}
    back[coupling] = diagrams[0].coupling if diagrams else "g_s"
    return "\n".join(out), back


def whole_process_square(
    diagrams: list[DiagramExpr],
    colour: dict | None,
    norm: Fraction,
    leg_masses: list[str | None],
    gluon_legs: list[int],
    references: dict[int, int],
    extra_masses: set[str],
    timeout: float,
    n_in: int,
) -> str:
    """|sum_d M_d|^2 with physical sums on the gluons in ``references``, as SymPy-parseable text."""

    feynman = [g for g in gluon_legs if g not in references]
    # The amplitude-level route uses k.M = 0 and momentum conservation, so it
    # needs on-shell phase space: not g -> g g or g g -> g (their squares are
    # compared at random values of s_ij, where the written-out sums differ).
    pure_gauge = (
        n_in >= 2
        and len(leg_masses) - n_in >= 2
        and colour is not None
        and len(gluon_legs) == len(leg_masses)
        and len(feynman) == 1
        and all(r in gluon_legs for r in references.values())
        and not any(d.chains for d in diagrams)
    )
    if pure_gauge:
        program, back = pure_gauge_program(diagrams, colour, norm, len(leg_masses), references, feynman[0], n_in)
    else:
        program, back = whole_process_program(diagrams, colour, norm, leg_masses, references, extra_masses)
    results = run_form(program, timeout, workers=form_workers())
    return _to_symba(results.get("T", "0"), back)
