"""The physics engine: models, processes, diagrams, amplitudes, squared amplitudes."""

from .engine import DiagramResult, ProcessResult, compute_process
from .process import Process, ProcessError, enumerate_processes, parse_process

__all__ = [
    "DiagramResult",
    "Process",
    "ProcessError",
    "ProcessResult",
    "compute_process",
    "enumerate_processes",
    "parse_process",
]
