"""Amplitudes of the public SYMBA/MARTY files -> our amplitude syntax, in the canonical form.

The translator is the MARTY backend's (:func:`symba.physics.marty.translate_amplitude`),
then every amplitude passes :func:`symba.physics.canonical.canonical_amplitude` (per-diagram
rows: no overall sign): an imported amplitude and the one either backend computes for the
same diagram become the same string when the row names a process we can compute.  A
translated text that cannot be brought to the canonical form is kept as translated, with
backend ``IMPORTED_NONCANONICAL_BACKEND`` (counted by the importer as ``noncanonical_amplitude``).
Only the names differ from the bridge's: in SYMBA's QED files ``t`` is the tau and
``tt`` the top, and masses follow (``m_t`` -> ``m_tau``, ``m_tt`` -> ``m_t``).

A text the translator cannot read (the older prefix format ``Prod,-1,Prod,i,...``,
a tensor we do not know) keeps MARTY's text: :func:`imported_amplitude` says so
by the row's backend, ``IMPORTED_MARTY_BACKEND``, which tokenization reads by lexemes.
"""

from __future__ import annotations

from functools import lru_cache

from symba.physics.canonical import canonicalise
from symba.physics.marty import MARTY_TO_OURS, MartyFailure, translate_amplitude
from symba.physics.process import Process, ProcessError, parse_process
from symba.physics.theories import MODELS
from symba.tokenization.marty_tokens import IMPORTED_BACKEND, IMPORTED_MARTY_BACKEND, IMPORTED_NONCANONICAL_BACKEND

# SYMBA file names -> ours, per theory (the squares' masses are renamed alike in symba_text)
AMPLITUDE_RENAMES = {
    "qed": {"t": "ta", "tau": "ta", "tt": "t", "m_t": "m_tau", "m_ta": "m_tau", "m_tt": "m_t"},
    "qcd": dict(MARTY_TO_OURS),
}


class UntranslatableAmplitude(ValueError):
    """An imported amplitude the MARTY translator cannot read; the message says why."""


@lru_cache(maxsize=4096)
def _computable_process(process: str, theory: str) -> Process | None:
    """Our process, if the row names one the engine computes (then the builtin layout applies)."""
    if not process:
        return None
    try:
        return parse_process(process, theory)
    except (ProcessError, ValueError):
        return None


def _fermion_labels(theory: str) -> frozenset[str]:
    model = MODELS[theory]
    return frozenset(model.particle(n).label for n in model.particles if model.particle(n).fermion)


def translate_imported_amplitude(text: str, process: str, theory: str, signed: bool = True) -> str:
    """One imported amplitude in our syntax (``process``: the row's process in our names, or ""),
    canonical where it can be (``signed=False``: without the overall sign, as a per-diagram row)."""
    return _imported(text, process, theory, signed)[0]


def _imported(text: str, process: str, theory: str, signed: bool) -> tuple[str, bool]:
    if theory not in AMPLITUDE_RENAMES:
        raise ValueError(f"unknown theory {theory!r}; choose one of {', '.join(AMPLITUDE_RENAMES)}")
    try:
        ours = translate_amplitude(text, _fermion_labels(theory), rename=AMPLITUDE_RENAMES[theory])
    except MartyFailure as exc:
        raise UntranslatableAmplitude(str(exc)) from None
    return canonicalise(ours, _computable_process(process, theory), theory, signed=signed)


def imported_amplitude(text: str, process: str, theory: str) -> tuple[str, str]:
    """(amplitude, backend) of an imported per-diagram row: canonical and ``IMPORTED_BACKEND``;
    translated but not canonical and ``IMPORTED_NONCANONICAL_BACKEND``; or, when it cannot be
    translated, MARTY's text as it is and ``IMPORTED_MARTY_BACKEND`` (never dropped)."""
    try:
        ours, canonical = _imported(text, process, theory, signed=False)
    except UntranslatableAmplitude:
        return text, IMPORTED_MARTY_BACKEND
    return ours, IMPORTED_BACKEND if canonical else IMPORTED_NONCANONICAL_BACKEND
