"""One canonical text per amplitude, whatever wrote it (docs/physics.md, section 7).

:func:`canonical_amplitude` is the one door every amplitude passes on its way in: the
engine's own output, the MARTY backend, imported SYMBA files, tokenization and ``symba
predict``.  Two texts of one diagram give one string:

* one numeric prefactor in front (``-1/2*i*e^2*...``), couplings as one power;
* fermion chains in flow order (barred spinor, Dirac matrices, spinor), chains by the barred
  spinor's leg, polarisations by leg, contracted ``mom*gamma`` as ``slash``;
* colour: generators ``T`` along each chain's colour flow, chain by chain; the indices of each
  ``f`` in order of first appearance (its antisymmetry moves the sign into the prefactor);
* dummy indices renumbered per kind by first appearance;
* with a process: each propagator denominator as the engine prints k^2 - m^2 (MARTY's
  ``(m_e^2 + s_12)`` and ``1/2`` become ``(2*m_e^2 + 2*s_12)``), and a text that is still not
  one of the engine's diagrams (MARTY applies the Dirac equation to external spinors, writes
  colour its own way) is compared by value with the engine's diagrams of the process
  (:mod:`.amplitude_values`): if it equals one of them, up to sign, at random points, the
  engine's text is its canonical form ("the engine's form restored").  Every rewrite with a
  process is checked so: a text that is not already the engine's is compared by value;
* per diagram (``signed=False``) no leading minus sign: the square does not see it.  A
  whole-process text (a sum of diagrams) keeps its relative signs, its first term positive.

Text that cannot be brought to this form raises :class:`CanonicalFormError`;
:func:`canonicalise` then keeps it as written and says so, never rewriting it into
something else.  The engine's own output is a fixed point (tests/physics/test_canonical.py).
"""

from __future__ import annotations

from fractions import Fraction
from functools import lru_cache

from .amplitude_layout import (
    MAX_CANONICAL_CHARS,
    CanonicalFormError,
    check_length,
    each_diagram,
    flip,
    laid_out_diagram,
    layout,
    negated,
    without_sign,
)
from .amplitude_printing import amplitude_text
from .amplitude_syntax import Node, canonicalize_indices, parse, to_string
from .amplitude_values import AmplitudeValueError, amplitude_value, same_up_to_sign, value_points
from .diagrams import build_diagrams, denominator_text
from .expression_parser import ExpressionSyntaxError, parse_expression
from .kinematics import KinematicsError, evaluate, random_point
from .process import Process, ProcessError, parse_process
from .reference_diagrams import reference_diagrams

# Re-exported: the public names of the canonical form live here for every caller.
__all__ = [
    "MAX_CANONICAL_CHARS",
    "CanonicalFormError",
    "canonical_amplitude",
    "canonicalise",
    "engine_amplitudes",
    "engine_layout",
    "flip",
    "negated",
    "without_sign",
]

# MARTY's denominators are these multiples of the engine's.
_RATIOS = tuple(sorted({Fraction(s * n, d) for s in (1, -1) for n in (1, 2, 4) for d in (1, 2, 4)}))


def canonical_amplitude(
    text: str, process: Process | str | None = None, theory: str | None = None, *, signed=False
) -> str:
    """The canonical text of one amplitude (see the module docstring).

    ``process``: the process the text belongs to (legs numbered as in the text); without it,
    denominators keep their written form and no value comparison is made.  ``theory``: of a
    process named by text (None: QCD if the text has ``g_s``, else QED).  ``signed``: keep
    the overall sign (the engine's ``DiagramResult.amplitude``, whose signs interfere).
    Raises AmplitudeSyntaxError (bad syntax) or CanonicalFormError (a ValueError each).
    """
    check_length(text)
    proc = _process(process, theory or ("qcd" if "g_s" in text else "qed"))
    node = parse(text)
    if proc is None:
        return each_diagram(node, laid_out_diagram, signed)
    return each_diagram(node, lambda diagram, keep_sign: _diagram(diagram, proc, keep_sign), signed)


def canonicalise(
    text: str, process: Process | str | None = None, theory: str | None = None, signed=False
) -> tuple[str, bool]:
    """(canonical text, True), or (the text as written, False) when it cannot be canonicalised."""
    try:
        return canonical_amplitude(text, process, theory, signed=signed), True
    except ValueError:  # AmplitudeSyntaxError, CanonicalFormError, an unreadable process
        return text, False


def _process(process, theory: str) -> Process | None:
    if process is None or isinstance(process, Process):
        return process
    if not process:
        return None
    return _parsed_process(process, theory)


@lru_cache(maxsize=4096)
def _parsed_process(process: str, theory: str) -> Process:
    try:
        return parse_process(process, theory)
    except ProcessError as exc:
        raise CanonicalFormError(f"process {process!r}: {exc}") from None


def engine_layout(node: Node, proc: Process) -> str | None:
    """The canonical layout of a product amplitude with the process's propagators as the engine prints them."""
    return layout(node, lambda denominator: _builtin_denominator(denominator, proc))


def _diagram(node: Node, proc: Process, signed: bool) -> str:
    """One diagram of ``proc``: laid out, and where that rewrote it, checked by value against the engine's."""
    laid = engine_layout(canonicalize_indices(node), proc)
    try:
        engine = engine_amplitudes(proc)
    except ValueError as exc:  # ProcessError: the engine has no diagrams to compare with
        raise CanonicalFormError(f"process '{proc}': {exc}") from None
    untouched = laid is not None and laid == to_string(canonicalize_indices(node))
    if not (untouched and (laid in engine or flip(laid) in engine)):  # a rewrite: checked by value
        restored = _restored(node, proc, engine)
        if laid is not None and laid != restored and (laid in engine or flip(laid) in engine):
            raise CanonicalFormError("the layout would change the amplitude's value; kept as written")
        laid = restored
    return laid if signed else without_sign(laid)


@lru_cache(maxsize=512)
def engine_amplitudes(proc: Process) -> tuple[str, ...]:
    """The engine's (signed) amplitude text of every diagram of a process, without squaring anything."""
    masses = proc.leg_masses()
    return tuple(amplitude_text(d, masses) for d in build_diagrams(proc))


@lru_cache(maxsize=512)
def _engine_values(proc: Process) -> tuple:
    points = value_points(proc)
    return points, tuple(tuple(amplitude_value(parse(t), p) for p in points) for t in engine_amplitudes(proc))


def _restored(node: Node, proc: Process, engine: tuple[str, ...]) -> str:
    """The engine's text of the diagram the amplitude equals by value (up to sign); raises otherwise."""
    points, values = _engine_values(proc)
    try:
        mine = [amplitude_value(node, p) for p in points]
    except (AmplitudeValueError, ValueError, ZeroDivisionError, OverflowError) as exc:
        raise CanonicalFormError(f"cannot evaluate the amplitude: {exc}") from None
    for text, theirs in zip(engine, values):
        sign = same_up_to_sign(mine, list(theirs))
        if sign:
            return text if sign == 1 else flip(text)
    raise CanonicalFormError(f"equal to none of the {len(engine)} diagrams of '{proc}' (up to sign)")


@lru_cache(maxsize=256)
def _reference_propagators(proc: Process):
    """(builtin denominator text, its values at two random points) per distinct FeynGraph propagator."""
    masses = proc.leg_masses()
    points = [random_point(masses, proc.n_in, seed=seed).values() for seed in (7, 8)]
    out = {}
    for ref in reference_diagrams(proc):
        for k, mass in zip(ref.momenta, ref.masses):
            text = denominator_text(k, mass, masses)
            if text not in out:
                expr = parse_expression(text)
                out[text] = [evaluate(expr, p) for p in points]
    return points, out


def _builtin_denominator(node, proc: Process) -> tuple[Fraction, str] | None:
    """(MARTY's / ours, our text) for one propagator denominator, matched by value at two random points."""
    points, references = _reference_propagators(proc)
    try:
        expr = parse_expression(to_string(node))
        got = [evaluate(expr, p) for p in points]
    except (ExpressionSyntaxError, KinematicsError, ValueError, ZeroDivisionError):
        return None
    for text, want in references.items():
        for ratio in _RATIOS:
            if all(w != 0 and abs(g - ratio * w) <= 1e-20 * abs(g) for g, w in zip(got, want)):
                return ratio, text
    return None
