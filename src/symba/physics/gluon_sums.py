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
from fractions import Fraction

from .diagrams import DiagramExpr
from .form.dirac import NamedMomenta, WrittenMomenta, lorentz_text
from .form.pairs import interference_coefficient, pair_numerator, pair_term
from .form.polarisation import conservation_id
from .form.program import FormProgram, form_masses, fraction_text, tagged_indices, to_symba
from .form.runner import check_form_results, form_workers, run_form


def whole_process_program(
    diagrams: list[DiagramExpr],
    colour: dict | None,
    norm: Fraction,
    leg_masses: list[str | None],
    references: dict[int, int],
) -> tuple[str, dict[str, str]]:
    """FORM program printing ``T`` = |sum_d M_d|^2, and FORM symbol -> our text for its denominators.

    Propagator and vertex momenta stay single vectors q through the traces and
    are written out one at a time afterwards, sorting in between.
    """
    program = FormProgram(leg_masses, references)
    momenta = NamedMomenta()
    max_lines = 0
    parts: list[str] = []
    for a, b in itertools.combinations_with_replacement(range(len(diagrams)), 2):
        da, db = diagrams[a], diagrams[b]
        num, lines = pair_numerator(momenta, da, db, colour, references)
        max_lines = max(max_lines, lines)
        if num:
            parts.append(pair_term(program, norm * (2 if a != b else 1), da, db, num))

    out = program.declarations(form_masses(leg_masses, diagrams), tagged_indices(diagrams), momenta.vector_names())
    out.append(f"Local T = {'+'.join(parts) or '0'};")
    # Sorting before the traces merges the terms that share one gamma string.
    out.append(".sort")
    out += [f"trace4,{ln};" for ln in range(1, max_lines + 1)]
    invariants = program.invariants()
    out += momenta.written_out(invariants)
    out += invariants + program.reference_invariants() + program.ending()
    return "\n".join(out), program.translation(diagrams[0].coupling if diagrams else "g_s")


def pure_gauge_program(
    diagrams: list[DiagramExpr],
    colour: dict,
    norm: Fraction,
    n: int,
    references: dict[int, int],
    feynman_leg: int,
    n_in: int,
) -> tuple[str, dict[str, str]]:
    """FORM program for a process of external gluons only, contracted at amplitude level.

    Each diagram component is first written with polarisation vectors e_x
    (its conjugate with f_x) and expanded on its own, dropping e_x.k_x and
    e_x.n_x there, where it is small; only then are pairs multiplied.
    """
    program = FormProgram([None] * n, references)
    momenta = WrittenMomenta()
    amp_defs: list[str] = []
    for d in diagrams:
        for k, comp in enumerate(d.components):
            for tag, pol in (("i", "e"), ("j", "f")):
                lor = [lorentz_text(momenta, s, tag) for s in comp.lorentz]
                pols = [f"{pol}{v.leg + 1}({tag}{v.lorentz})" for v in d.vectors]
                amp_defs.append(f"Local {pol.upper()}{d.index}x{k} = " + "*".join(lor + pols) + ";")
    parts: list[str] = []
    for a, b in itertools.combinations_with_replacement(range(len(diagrams)), 2):
        da, db = diagrams[a], diagrams[b]
        terms = []
        for ka in range(len(da.components)):
            for kb in range(len(db.components)):
                c = interference_coefficient(da, db, colour, ka, kb)
                if c:
                    terms.append(f"{fraction_text(c)}*E{da.index}x{ka}*F{db.index}x{kb}")
        if terms:
            parts.append(pair_term(program, norm * (2 if a != b else 1), da, db, f"({'+'.join(terms)})"))

    # The -g gluon first: its sum adds no terms.
    summed = [feynman_leg] + sorted(references)
    pol = [f"{t}{x + 1}" for x in summed for t in "ef"]

    def drops(gluons) -> list[str]:
        lines = []
        for x in gluons:
            for t in "ef":
                lines.append(f"id {t}{x + 1}.p{x + 1} = 0;")
                if x in references:
                    lines.append(f"id {t}{x + 1}.p{references[x] + 1} = 0;")
                lines.append(conservation_id(t, x, references.get(x, x), n, n_in))
        return lines

    invariants = program.invariants() + program.reference_invariants()
    out = program.declarations([], tagged_indices(diagrams), pol + ["v1", "v2"])
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
    out += program.reference_invariants() + program.ending("T")
    return "\n".join(out), program.translation(diagrams[0].coupling if diagrams else "g_s")


def whole_process_square(
    proc,
    diagrams: list[DiagramExpr],
    colour: dict | None,
    norm: Fraction,
    references: dict[int, int],
    timeout: float | None,
) -> str:
    """|sum_d M_d|^2 with physical sums on the gluons in ``references``, as SymPy-parseable text."""
    leg_masses = proc.leg_masses()
    gluon_legs = [i for i, name in enumerate(proc.legs) if proc.model.particle(name).colour == 8]
    feynman = [g for g in gluon_legs if g not in references]
    # The amplitude-level route uses k.M = 0 and momentum conservation, so it
    # needs on-shell phase space: not g -> g g or g g -> g (their squares are
    # compared at random values of s_ij, where the written-out sums differ).
    pure_gauge = (
        proc.n_in >= 2
        and len(leg_masses) - proc.n_in >= 2
        and colour is not None
        and len(gluon_legs) == len(leg_masses)
        and len(feynman) == 1
        and all(r in gluon_legs for r in references.values())
        and not any(d.chains for d in diagrams)
    )
    if pure_gauge:
        program, back = pure_gauge_program(diagrams, colour, norm, len(leg_masses), references, feynman[0], proc.n_in)
    else:
        program, back = whole_process_program(diagrams, colour, norm, leg_masses, references)
    results = run_form(program, timeout, workers=form_workers())
    check_form_results(proc, results, ["T"])
    return to_symba(results["T"], back)
