"""The builtin backend: FeynGraph diagrams, our Feynman rules, FORM traces."""

from __future__ import annotations

import time

from .amplitude_printing import amplitude_text
from .diagrams import build_diagrams
from .form.runner import FormTimeout
from .process import Process
from .results import DiagramResult, ProcessResult
from .squaring import square


def compute_builtin(
    proc: Process, timeout: float | None = 600.0, physical_references: dict[int, int] | None = None
) -> ProcessResult:
    """``timeout`` bounds diagram building and FORM together (None: no bound); FORM gets what is left."""
    started = time.monotonic()
    diagrams = build_diagrams(proc)
    leg_masses = proc.leg_masses()
    amplitudes = [amplitude_text(d, leg_masses) for d in diagrams]
    form_timeout = None
    if timeout is not None:
        form_timeout = timeout - (time.monotonic() - started)
        if form_timeout <= 0:
            raise FormTimeout(f"no time left for FORM after building the diagrams of '{proc}' ({timeout:g} s)")
    per_diagram, total = square(proc, diagrams, timeout=form_timeout, physical_references=physical_references)
    results = [
        DiagramResult(index=d.index, propagators=d.propagators, amplitude=amp, squared_amplitude=sq)
        for d, amp, sq in zip(diagrams, amplitudes, per_diagram)
    ]
    return ProcessResult(str(proc), proc.theory, "builtin", results, total)
