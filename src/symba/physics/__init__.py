"""The physics engine: models, processes, diagrams, amplitudes, squared amplitudes."""

from .engine import compute_process
from .process import Process, ProcessError, enumerate_processes, parse_process
from .results import DiagramResult, ProcessResult

__all__ = [
    "DiagramResult",
    "Process",
    "ProcessError",
    "ProcessResult",
    "compute_process",
    "enumerate_processes",
    "parse_process",
]
