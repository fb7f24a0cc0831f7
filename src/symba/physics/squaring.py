"""Spin-, polarisation- and colour-summed squared amplitudes with FORM.

For a pair of diagrams (d, d') the fermion chains of M_d and of the
conjugate of M_d' are joined by the spin sums u ubar = pslash + m and
v vbar = pslash - m into closed Dirac traces, which FORM evaluates
(``trace4``).  Colour factors are exact rationals obtained by contracting
explicit SU(3) tensors numerically and rationalising (their denominators are
small powers of 2 and 3).  Everything runs in one FORM call per process,
plus one for the whole-process square with two or more external gluons
(``gluon_sums``).

Vector polarisation sums are -g_{mu nu}, except in the whole-process square
of a process with two or more external gluons, where every gluon x but the
last gets the physical sum -g + (k n + n k)/(k.n), with n the momentum of
another external gluon.  With all other gluons physical, the Ward identity
k.M = 0 holds for the last one, so -g is exact there: the result is gauge
invariant without ghosts.
"""

from __future__ import annotations

import itertools
import math
import os
import re
import shutil
import subprocess
import time
from collections import Counter
from fractions import Fraction
from functools import lru_cache

import numpy as np

from symba.workers import die_with_parent

from .diagrams import Chain, DiagramExpr, FermionPropagator, Gamma, chain_colour_atoms, denominator_text
from .models import ALL_MASSES

# FORM names of the mass symbols: "m_mu" -> "Mmu" (FORM symbols cannot contain "_").
FORM_MASS = {m: "M" + m.removeprefix("m_") for m in ALL_MASSES}
MASS_FROM_FORM = {v: k for k, v in FORM_MASS.items()}


class FormError(RuntimeError):
    """FORM failed; the message carries FORM's own output."""


class FormTimeout(FormError):
    """FORM ran past its time limit and was killed."""


# ---------------------------------------------------------------- colour


@lru_cache(maxsize=1)
def _su3():
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


def _colour_tensor(atoms: list[tuple], external: list[str]) -> np.ndarray:
    """Contract colour atoms over internal indices; axes ordered as ``external``."""
    T, f = _su3()
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


def _rational(x: float) -> Fraction:
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
            tensors[(diag.index, k)] = _colour_tensor(chain_atoms + comp.colour, external).ravel()
    out = {}
    for a, ta in tensors.items():
        for b, tb in tensors.items():
            val = np.vdot(tb, ta)  # sum ta * conj(tb)
            out[(a, b)] = (_rational(val.real), _rational(val.imag))
    return out


# ---------------------------------------------------------------- FORM text


def _form_momentum(k, index: str | None = None) -> str:
    terms = []
    for i, c in enumerate(k):
        if c:
            vec = f"p{i + 1}" + (f"({index})" if index else "")
            terms.append(("+" if c > 0 else "-") + (f"{abs(c)}*" if abs(c) != 1 else "") + vec)
    text = "".join(terms)
    return text[1:] if text.startswith("+") else text


def _mass(m: str | None) -> str | None:
    return FORM_MASS[m] if m else None


def _slash(line: int, k) -> str:
    return "+".join(f"{c}*g_({line},p{i + 1})" for i, c in enumerate(k) if c).replace("+-", "-")


def _element(line: int, el, tag: str) -> str:
    if isinstance(el, Gamma):
        return f"g_({line},{tag}{el.lorentz})"
    mass = f"+{_mass(el.mass)}*gi_({line})" if el.mass else ""
    return f"({_slash(line, el.momentum)}{mass})"


def _spin_sum(line: int, spinor) -> str:
    sign = "+" if spinor.kind in ("u", "ubar") else "-"
    mass = f"{sign}{_mass(spinor.mass)}*gi_({line})" if spinor.mass else ""
    return f"(g_({line},p{spinor.leg + 1}){mass})"


def _traces(da: DiagramExpr, db: DiagramExpr) -> tuple[list[str], int]:
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
            parts += [_element(line, el, "i") for el in chain.elements]
            parts.append(_spin_sum(line, chain.end))
            conj = b_by_end[chain.end.leg]
            parts += [_element(line, el, "j") for el in reversed(conj.elements)]
            parts.append(_spin_sum(line, conj.start))
            if conj.start.leg == first.start.leg:
                break
            chain = a_by_start[conj.start.leg]
        factors.append("*".join(parts))
    return factors, line


def _lorentz_text(lsum, tag: str) -> str:
    terms = []
    for coef, atoms in lsum:
        parts = []
        for atom in atoms:
            if atom[0] == "metric":
                parts.append(f"d_({tag}{atom[1]},{tag}{atom[2]})")
            else:
                parts.append(f"({_form_momentum(atom[1], tag + atom[2])})")
        terms.append(f"{'+' if coef > 0 else '-'}{abs(coef)}*" + "*".join(parts))
    return "(" + "".join(terms) + ")"


def _polarisation_sums(da: DiagramExpr, db: DiagramExpr, references: dict[int, int]) -> list[str]:
    b_vec = {v.leg: v for v in db.vectors}
    out = []
    for va in da.vectors:
        mu, nu = f"i{va.lorentz}", f"j{b_vec[va.leg].lorentz}"
        if va.leg in references:
            x, r = va.leg + 1, references[va.leg] + 1
            out.append(f"(-d_({mu},{nu})+(p{x}({mu})*p{r}({nu})+p{r}({mu})*p{x}({nu}))*ikn{x})")
        else:
            out.append(f"(-d_({mu},{nu}))")
    return out


def _pair_numerator(da: DiagramExpr, db: DiagramExpr, colour: dict | None, references: dict[int, int]):
    """FORM text of Re(coef_a conj(coef_b) C_kk') summed over components, times the traces.

    The Dirac traces are real (no gamma5), so only the real part of the complex
    prefactor survives once (a, b) and (b, a) are added.  None if it vanishes.
    """
    pre_re = da.coef_re * db.coef_re + da.coef_im * db.coef_im
    pre_im = da.coef_im * db.coef_re - da.coef_re * db.coef_im
    traces, nlines = _traces(da, db)
    pols = _polarisation_sums(da, db, references)
    comp_terms = []
    for ka, ca in enumerate(da.components):
        for kb, cb in enumerate(db.components):
            c_re, c_im = (Fraction(1), Fraction(0)) if colour is None else colour[((da.index, ka), (db.index, kb))]
            c = pre_re * c_re - pre_im * c_im
            if c == 0:
                continue
            lor = [_lorentz_text(s, "i") for s in ca.lorentz] + [_lorentz_text(s, "j") for s in cb.lorentz]
            comp_terms.append(f"({c.numerator}/{c.denominator})" + "".join("*" + x for x in lor))
    if not comp_terms:
        return None, nlines
    body = "(" + "+".join(comp_terms) + ")"
    return "*".join([body] + traces + pols), nlines


def _index_names(diagrams: list[DiagramExpr]) -> list[str]:
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


FORM_DEFAULTS_NEED = 4 << 30  # FORM's default buffers reserve about 2.1 GB at once; tform threads more


def form_setup(workers: int = 1) -> tuple[str, int]:
    """(``#:`` setup lines, threads) that fit FORM in this process's address-space cap, which
    FORM inherits (the worker's ``--memory-mb``).  Under about 4 GB FORM's defaults cannot even
    allocate their sort buffers, so they are sized from the cap: half of it in all, one thread
    (tform's threads each reserve buffers of their own).  No cap, or a large one: the defaults."""
    import resource

    cap = resource.getrlimit(resource.RLIMIT_AS)[0]
    if cap == resource.RLIM_INFINITY or cap >= FORM_DEFAULTS_NEED:
        return "", workers
    budget = cap // 2
    sizes = {
        "LargeSize": budget // 8,
        "SmallSize": budget // 32,
        "SmallExtension": budget // 16,
        "ScratchSize": budget // 32,
        "HideSize": budget // 32,
        "WorkSpace": cap // 512,  # in 4-byte words; too small a WorkSpace makes FORM hang, not fail
    }
    return "".join(f"#: {key} {value}\n" for key, value in sizes.items()), 1


def run_form(program: str, timeout: float, workers: int = 1) -> dict[str, str]:
    """Run a FORM program in a private temporary directory; return printed expressions.

    ``workers`` > 1 runs tform with that many threads."""
    from form_bin import form_command

    from .tempdirs import make_owned_dir

    setup, workers = form_setup(workers)
    tmp = make_owned_dir("symba-form-")
    try:
        path = os.path.join(tmp, "square.frm")
        with open(path, "w") as fh:
            fh.write(setup + program)
        threads = ["-w" + str(workers)] if workers > 1 else []
        cmd = [form_command[0], *threads, "-q", "-t", tmp, "-ts", tmp, path]
        try:
            res = subprocess.run(
                cmd, cwd=tmp, capture_output=True, text=True, timeout=timeout, preexec_fn=die_with_parent
            )
        except subprocess.TimeoutExpired:
            raise FormTimeout(f"FORM timed out after {timeout:g} s") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = res.stdout
    if res.returncode != 0:
        lines = [ln.strip() for ln in (out + res.stderr).splitlines() if ln.strip()]
        raise FormError("FORM failed: " + " | ".join(lines[-6:]))
    exprs: dict[str, str] = {}
    for m in re.finditer(r"^\s*([A-Za-z]\w*)\s*=(.*?);", out, flags=re.S | re.M):
        exprs[m.group(1)] = re.sub(r"\s+", "", m.group(2)).lstrip("+")
    return exprs


def _to_symba(form_expr: str, names: dict[str, str]) -> str:
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


# ---------------------------------------------------------------- driver


def square(
    proc,
    diagrams: list[DiagramExpr],
    timeout: float = 600.0,
    physical_references: dict[int, int] | None = None,
    whole_process_route: str = "gluon_sums",
) -> tuple[list[str], str]:
    """Per-diagram |M_d|^2 (-g sums) and whole-process |sum M_d|^2 as SymPy-parseable text.

    FORM collects each result over the distinct propagator denominators
    (symbols D1, D2, ... raised to negative powers, bracketed), which are
    written back as (k^2 - m^2) at the end.

    With physical gluon sums the whole-process square comes from
    ``gluon_sums`` in a FORM run of its own; ``whole_process_route="pairs"``
    keeps the former route (all pairs in this program), for comparison.
    """
    model = proc.model
    legs = [model.particle(n) for n in proc.legs]
    leg_masses = proc.leg_masses()
    n = len(legs)
    colour_legs = [i for i, p in enumerate(legs) if p.colour != 1] if model.coloured else []
    colour = colour_factors(diagrams, colour_legs) if model.coloured else None

    gluons = [i for i, p in enumerate(legs) if p.colour == 8]
    if physical_references is None:
        physical_references = {}
        if len(gluons) >= 2:
            # Once all other gluons are physical, k.M = 0 for the last one, so -g suffices there.
            physical_references = {g: gluons[k + 1] for k, g in enumerate(gluons[:-1])}

    norm = _normalisation(proc, legs)
    den_symbol: dict[str, str] = {}

    def dens(d: DiagramExpr) -> str:
        out = ""
        for k, m in d.denominators:
            text = denominator_text(k, m, leg_masses)
            den_symbol.setdefault(text, f"D{len(den_symbol) + 1}")
            out += f"*{den_symbol[text]}^(-1)"
        return out

    coupling = "cpl"
    max_lines = 1
    per_diagram_text: list[str] = []
    for d in diagrams:  # per diagram, -g sums
        num, lines = _pair_numerator(d, d, colour, {})
        max_lines = max(max_lines, lines)
        per_diagram_text.append(
            f"{_frac(norm)}*{coupling}^{2 * d.coupling_power}*{num}{dens(d)}{dens(d)}" if num else "0"
        )
    total_parts: list[str] = []
    total = None
    if whole_process_route not in ("gluon_sums", "pairs"):
        raise ValueError(f"unknown whole-process route {whole_process_route!r}; choose gluon_sums or pairs")
    if physical_references and whole_process_route == "gluon_sums":
        from .gluon_sums import whole_process_square

        started = time.monotonic()
        total = whole_process_square(
            diagrams,
            colour,
            norm,
            leg_masses,
            gluons,
            physical_references,
            _propagator_masses(diagrams),
            timeout,
            proc.n_in,
        )
        timeout = max(1.0, timeout - (time.monotonic() - started))  # one budget for both FORM runs
    for a, b in itertools.combinations_with_replacement(range(len(diagrams)), 2):
        if total is not None:
            break
        if a == b and not physical_references:
            total_parts.append(per_diagram_text[a])
            continue
        da, db = diagrams[a], diagrams[b]
        num, lines = _pair_numerator(da, db, colour, physical_references)
        max_lines = max(max_lines, lines)
        if num:
            power = da.coupling_power + db.coupling_power
            total_parts.append(f"{_frac(norm * (2 if a != b else 1))}*{coupling}^{power}*{num}{dens(da)}{dens(db)}")

    masses = sorted({FORM_MASS[m] for m in leg_masses if m} | _propagator_masses(diagrams))
    s_syms = [f"s{i + 1}{j + 1}" for i in range(n) for j in range(i + 1, n)]
    ikn = [f"ikn{g + 1}" for g in physical_references]
    indices = [f"{t}{x}" for x in _index_names(diagrams) for t in "ij"]
    out = ["#-", "Off Statistics;", "Format nospaces;", "Format 255;"]
    out.append("Symbols " + ",".join(s_syms + masses + ikn + list(den_symbol.values()) + [coupling]) + ";")
    out.append("Vectors " + ",".join(f"p{i + 1}" for i in range(n)) + ";")
    if indices:
        out.append("Indices " + ",".join(indices) + ";")
    for d, text in enumerate(per_diagram_text):
        out.append(f"Local E{d} = {text};")
    out.append(f"Local T = {'+'.join(total_parts) or '0'};")
    # Sorting before the traces merges the many expanded terms that share one
    # gamma string, so each distinct trace is taken once.
    out.append(".sort")
    out += [f"trace4,{ln};" for ln in range(1, max_lines + 1)]
    for i in range(n):
        m = leg_masses[i]
        out.append(f"id p{i + 1}.p{i + 1} = {FORM_MASS[m] + '^2' if m else '0'};")
        for j in range(i + 1, n):
            out.append(f"id p{i + 1}.p{j + 1} = s{i + 1}{j + 1};")
    for g, r in physical_references.items():
        lo, hi = sorted((g, r))
        out.append(f"id ikn{g + 1} = s{lo + 1}{hi + 1}^(-1);")
    out.append("Bracket " + ",".join(list(den_symbol.values()) + [coupling]) + ";")
    out += ["Print;", ".end", ""]
    results = run_form("\n".join(out), timeout)
    _check_form_results(proc, results, [f"E{d}" for d in range(len(diagrams))] + ([] if total is not None else ["T"]))

    back = {sym: f"({text})" for text, sym in den_symbol.items()}
    back[coupling] = diagrams[0].coupling if diagrams else "e"
    per_diagram = [_to_symba(results[f"E{d}"], back) for d in range(len(diagrams))]
    return per_diagram, total if total is not None else _to_symba(results["T"], back)


# What FORM prints for a polynomial in our symbols: names, numbers, + - * / ^ and brackets.
_FORM_RESULT_RE = re.compile(r"[A-Za-z0-9_+\-*/^().]+")


def _check_form_results(proc, results: dict[str, str], expected: list[str]) -> None:
    """Every expression FORM was asked for is there and well formed: never a silent zero."""
    missing = [name for name in expected if name not in results]
    if missing:
        raise FormError(
            f"FORM output for process '{proc}' lacks expression(s) {', '.join(missing[:5])}"
            + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        )
    for name in expected:
        if not _FORM_RESULT_RE.fullmatch(results[name]):
            raise FormError(
                f"FORM output for process '{proc}' has a malformed expression {name}: {results[name][:80]!r}"
            )


def _normalisation(proc, legs) -> Fraction:
    """Average over initial spins/colours, 1/k! for k identical final-state particles."""
    norm = Fraction(1)
    for p in legs[: proc.n_in]:
        norm /= 2
        if p.colour in (3, -3):
            norm /= 3
        elif p.colour == 8:
            norm /= 8
    for k in Counter(proc.outgoing).values():
        norm /= math.factorial(k)
    return norm


def _frac(x: Fraction) -> str:
    return f"({x.numerator}/{x.denominator})" if x.denominator != 1 else f"({x.numerator})"


def _propagator_masses(diagrams) -> set[str]:
    out = set()
    for d in diagrams:
        for chain in d.chains:
            for el in chain.elements:
                if isinstance(el, FermionPropagator) and el.mass:
                    out.add(FORM_MASS[el.mass])
    return out
