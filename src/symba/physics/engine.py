"""Public entry point of the engine: one process in, typed results out."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .process import Process, parse_process

BACKENDS = ("builtin", "marty")
# Bump when a change alters the engine's output; the workflow keys its caches on it.
ENGINE_VERSION = "1"


@dataclass
class DiagramResult:
    index: int
    propagators: list[str]  # e.g. ["A(p_1+p_2)"]: field label and momentum of each internal line
    amplitude: str  # amplitude_syntax text
    squared_amplitude: str  # |M_d|^2, SymPy-parseable, symbols of PHYSICS.md


@dataclass
class ProcessResult:
    process: str
    theory: str
    backend: str
    diagrams: list[DiagramResult] = field(default_factory=list)
    squared_amplitude: str = "0"  # |sum_d M_d|^2 with interference
    # Who computed squared_amplitude; differs from backend only for MARTY with >= 2 external gluons.
    whole_process_backend: str = ""

    def __post_init__(self):
        if not self.whole_process_backend:
            self.whole_process_backend = self.backend

    def to_json(self) -> dict:
        """The documented keys; ``whole_process_backend`` only where it differs from ``backend``."""
        out = {
            "process": self.process,
            "theory": self.theory,
            "backend": self.backend,
            "diagrams": [asdict(d) for d in self.diagrams],
            "squared_amplitude": self.squared_amplitude,
        }
        if self.whole_process_backend != self.backend:
            out["whole_process_backend"] = self.whole_process_backend
        return out


def compute_process(
    process: str | Process,
    theory: str = "qed",
    backend: str = "builtin",
    timeout: float = 600.0,
    massless=(),
) -> ProcessResult:
    """Diagrams, amplitudes and squared amplitudes of one process.

    ``massless`` names mass symbols set to zero (e.g. ``["m_e"]``); all masses
    are symbolic otherwise.  Raises ProcessError (a ValueError) for a process
    that cannot be computed.
    """
    proc = process if isinstance(process, Process) else parse_process(process, theory)
    if massless:
        proc = proc.with_massless(set(massless) | proc.massless)
    if backend == "builtin":
        from .builtin import compute_builtin

        return compute_builtin(proc, timeout=timeout)
    if backend == "marty":
        if proc.massless:
            raise ValueError("the marty backend keeps every mass symbolic; drop the massless option")
        from .marty import compute_marty

        return compute_marty(proc, timeout=timeout)
    raise ValueError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
