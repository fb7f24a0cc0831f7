"""Public entry point of the engine: one process in, typed results out."""

from __future__ import annotations

from .process import Process, parse_process
from .results import DiagramResult, ProcessResult  # noqa: F401  (re-exported)

BACKENDS = ("builtin", "marty")
# Bump when a change alters the engine's output; the workflow keys its caches on it.
ENGINE_VERSION = "1"


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
