"""Spin-, polarisation- and colour-summed squared amplitudes with FORM.

For a pair of diagrams (d, d') the fermion chains of M_d and of the
conjugate of M_d' are joined by the spin sums u ubar = pslash + m and
v vbar = pslash - m into closed Dirac traces, which FORM evaluates
(``trace4``).  Colour factors are exact rationals (``form.colour``).
Everything runs in one FORM call per process, plus one for the whole-process
square with two or more external gluons (``gluon_sums``).  The FORM text
itself is written by the ``form`` package.

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
import time
from collections import Counter
from fractions import Fraction

from .diagrams import DiagramExpr
from .form.colour import colour_factors
from .form.dirac import NamedMomenta
from .form.pairs import pair_numerator, pair_term
from .form.polarisation import default_references
from .form.program import FormProgram, form_masses, tagged_indices, to_symba
from .form.runner import check_form_results, run_form
from .gluon_sums import whole_process_square

WHOLE_PROCESS_ROUTES = ("gluon_sums", "pairs")


def square(
    proc,
    diagrams: list[DiagramExpr],
    timeout: float | None = 600.0,
    physical_references: dict[int, int] | None = None,
    whole_process_route: str = "gluon_sums",
) -> tuple[list[str], str]:
    """Per-diagram |M_d|^2 (-g sums) and whole-process |sum M_d|^2 as SymPy-parseable text.

    FORM collects each result over the distinct propagator denominators
    (symbols D1, D2, ... raised to negative powers, bracketed), which are
    written back as (k^2 - m^2) at the end.  ``timeout`` None: no bound.

    With physical gluon sums the whole-process square comes from
    ``gluon_sums`` in a FORM run of its own; ``whole_process_route="pairs"``
    keeps the former route (all pairs in this program), for comparison.
    """
    if whole_process_route not in WHOLE_PROCESS_ROUTES:
        raise ValueError(f"unknown whole-process route {whole_process_route!r}; choose gluon_sums or pairs")
    model = proc.model
    legs = [model.particle(n) for n in proc.legs]
    leg_masses = proc.leg_masses()
    colour_legs = [i for i, p in enumerate(legs) if p.colour != 1] if model.coloured else []
    colour = colour_factors(diagrams, colour_legs) if model.coloured else None

    gluons = [i for i, p in enumerate(legs) if p.colour == 8]
    if physical_references is None:
        physical_references = default_references(gluons) if len(gluons) >= 2 else {}

    norm = normalisation(proc, legs)
    program = FormProgram(leg_masses, physical_references)
    momenta = NamedMomenta()
    max_lines = 1
    per_diagram_text: list[str] = []
    for d in diagrams:  # per diagram, -g sums
        num, lines = pair_numerator(momenta, d, d, colour, {})
        max_lines = max(max_lines, lines)
        per_diagram_text.append(pair_term(program, norm, d, d, num) if num else "0")
    total_parts: list[str] = []
    total = None
    if physical_references and whole_process_route == "gluon_sums":
        started = time.monotonic()
        total = whole_process_square(proc, diagrams, colour, norm, physical_references, timeout)
        if timeout is not None:  # one budget for both FORM runs
            timeout = max(1.0, timeout - (time.monotonic() - started))
    for a, b in itertools.combinations_with_replacement(range(len(diagrams)), 2):
        if total is not None:
            break
        if a == b and not physical_references:
            total_parts.append(per_diagram_text[a])
            continue
        da, db = diagrams[a], diagrams[b]
        num, lines = pair_numerator(momenta, da, db, colour, physical_references)
        max_lines = max(max_lines, lines)
        if num:
            total_parts.append(pair_term(program, norm * (2 if a != b else 1), da, db, num))

    out = program.declarations(form_masses(leg_masses, diagrams), tagged_indices(diagrams), momenta.vector_names())
    for d, text in enumerate(per_diagram_text):
        out.append(f"Local E{d} = {text};")
    out.append(f"Local T = {'+'.join(total_parts) or '0'};")
    # Sorting before the traces merges the many expanded terms that share one
    # gamma string, so each distinct trace is taken once.
    out.append(".sort")
    out += [f"trace4,{ln};" for ln in range(1, max_lines + 1)]
    out += momenta.written_out(program.invariants())  # propagator momenta stay one vector q through the traces
    out += program.invariants() + program.reference_invariants() + program.ending()
    results = run_form("\n".join(out), timeout)
    check_form_results(proc, results, [f"E{d}" for d in range(len(diagrams))] + ([] if total is not None else ["T"]))

    back = program.translation(diagrams[0].coupling if diagrams else "e")
    per_diagram = [to_symba(results[f"E{d}"], back) for d in range(len(diagrams))]
    return per_diagram, total if total is not None else to_symba(results["T"], back)


def normalisation(proc, legs) -> Fraction:
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
