"""What the engine returns: typed results of one process, shared by every backend."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from .amplitude_layout import negated, without_sign

# Diagram number of the whole-process row (sum of all diagrams, squared with interference).
WHOLE_PROCESS = -1


@dataclass
class DiagramResult:
    index: int
    propagators: list[str]  # e.g. ["A(p_1+p_2)"]: field label and momentum of each internal line
    amplitude: str  # amplitude_syntax text
    squared_amplitude: str  # |M_d|^2, SymPy-parseable, symbols of docs/physics.md


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

    @property
    def whole_amplitude(self) -> str:
        """Sum of the diagram amplitudes, each parenthesised when there are several."""
        amplitudes = [d.amplitude for d in self.diagrams]
        return amplitudes[0] if len(amplitudes) == 1 else " + ".join(f"({a})" for a in amplitudes)

    def rows(self) -> list[tuple[int, str, str]]:
        """(diagram, amplitude, squared amplitude): each diagram, then the whole process.

        A diagram's row has no overall sign (its square does not see it; docs/physics.md
        section 6); the whole-process row keeps the diagrams' relative signs."""
        out = [(d.index, without_sign(d.amplitude), d.squared_amplitude) for d in self.diagrams]
        whole = self.whole_amplitude
        if self.diagrams and self.diagrams[0].amplitude.startswith("-"):  # the first term positive
            whole = ProcessResult(self.process, self.theory, self.backend, [
                DiagramResult(d.index, d.propagators, negated(d.amplitude), d.squared_amplitude) for d in self.diagrams
            ]).whole_amplitude  # fmt: skip
        out.append((WHOLE_PROCESS, whole, self.squared_amplitude))
        return out

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

    @classmethod
    def from_json(cls, obj: dict) -> ProcessResult:
        return cls(
            process=obj["process"],
            theory=obj["theory"],
            backend=obj["backend"],
            diagrams=[DiagramResult(**d) for d in obj["diagrams"]],
            squared_amplitude=obj["squared_amplitude"],
            whole_process_backend=obj.get("whole_process_backend", ""),
        )
