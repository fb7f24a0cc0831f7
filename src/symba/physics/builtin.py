"""The builtin backend: FeynGraph diagrams, our Feynman rules, FORM traces."""

from __future__ import annotations

from .diagrams import amplitude_text, build_diagrams
from .results import DiagramResult, ProcessResult
from .process import Process
from .squaring import square


def compute_builtin(proc: Process, timeout: float = 600.0, physical_references: dict[int, int] | None = None) -> ProcessResult:
    diagrams = build_diagrams(proc)
    leg_masses = proc.leg_masses()
    per_diagram, total = square(proc, diagrams, timeout=timeout, physical_references=physical_references)
    results = [
        DiagramResult(
            index=d.index,
            propagators=d.propagators,
            amplitude=amplitude_text(d, leg_masses),
            squared_amplitude=sq,
        )
        for d, sq in zip(diagrams, per_diagram)
    ]
    return ProcessResult(str(proc), proc.theory, "builtin", results, total)
