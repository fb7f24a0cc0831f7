"""FeynGraph's diagrams of a process as plain data: the reference both backends are matched to.

The MARTY backend orders its diagrams by them and the canonical form prints MARTY's
propagators as the engine does; neither needs MARTY itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from .diagrams import momentum_text
from .process import Process, generate_feyngraph_diagrams


@dataclass(frozen=True)
class ReferenceDiagram:
    """What FeynGraph says about one diagram: its place and its internal lines."""

    index: int
    labels: tuple[str, ...]  # field label per propagator, e.g. ("A",)
    momenta: tuple[tuple[int, ...], ...]  # physical momentum per propagator, coefficients of p_1..p_n
    masses: tuple[str | None, ...]

    @property
    def propagators(self) -> list[str]:
        return [f"{lab}({momentum_text(k)})" for lab, k in zip(self.labels, self.momenta)]


def reference_diagrams(proc: Process) -> list[ReferenceDiagram]:
    """FeynGraph's diagrams of a process, in its order, with their propagators."""
    model = proc.model
    out = []
    for index, d in enumerate(generate_feyngraph_diagrams(proc)):
        props = sorted(d.propagators(), key=lambda p: p.id())
        particles = [model.particle(p.particle().name()) for p in props]
        out.append(
            ReferenceDiagram(
                index,
                tuple(p.label for p in particles),
                tuple(tuple(int(x) for x in p.momentum()) for p in props),
                tuple(p.mass for p in particles),
            )
        )
    return out
