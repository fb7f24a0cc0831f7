"""Flavour renaming: the exact symmetry between fermions that a theory treats alike.

Two fermion fields with the same spin, colour and electric charge enter a tree-level
amplitude only through their names and their mass symbols (QCD: every quark; QED: e, mu and
ta; u, c and t; d, s and b).  So renaming them, in the process, the amplitude and the
squared amplitude at once, maps one correct pair to another.  Decoding uses it as it uses
leg relabelling (:mod:`.leg_relabelling`): an amplitude is renamed to canonical flavours (the
flavours take the first places of their classes in the model's field order, in the order that
makes the smallest canonical process), and the predicted square is renamed back.

A renaming is a bijection of each class onto itself, so its inverse renames every mass
symbol a model may write, even one the process lacks.  Its column form lists the mass
symbols it moves: ``m_c>m_u,m_u>m_c``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .symbols import MASS_SYMBOL_RE
from .theories import get_model

MAX_RENAMING_CHARS = 400  # a renaming of every fermion of a theory is under 150 characters

_IDENTIFIER_RE = re.compile(r"(?<![A-Za-z0-9_])[A-Za-z_][A-Za-z0-9_]*")
# An external spinor and its field label: the label is renamed with the flavour.
_SPINOR_LABEL_RE = re.compile(r"(?<![A-Za-z0-9_])(ubar|vbar|u|v)\(\s*([A-Za-z][A-Za-z0-9_~]*)\s*,")


class FlavourError(ValueError):
    """A renaming text that is not a renaming of mass symbols."""


def _classes(theory: str) -> list[list]:
    """The theory's fermion fields grouped by what the vertices see (spin, colour, charge), in model order."""
    groups: dict[tuple, list] = {}
    for field in get_model(theory).fields:
        if field.fermion and not field.self_conjugate and field.mass:
            groups.setdefault((field.spin2, field.colour, field.charge), []).append(field)
    return [fields for fields in groups.values() if len(fields) > 1]


@dataclass(frozen=True)
class FlavourRenaming:
    """Mass symbol -> mass symbol (a permutation of each class; identity where absent), and the
    same map on field labels (for amplitudes) and particle names (for processes)."""

    masses: tuple[tuple[str, str], ...]  # (from, to), only the symbols that move
    labels: tuple[tuple[str, str], ...] = ()
    particles: tuple[tuple[str, str], ...] = ()

    @property
    def is_identity(self) -> bool:
        return not self.masses

    @property
    def text(self) -> str:
        return ",".join(f"{a}>{b}" for a, b in self.masses)

    @classmethod
    def from_text(cls, text: str) -> FlavourRenaming:
        """The renaming of mass symbols in its column form (labels and particles are not needed to
        rename a squared amplitude).  Raises FlavourError unless it is a permutation of mass symbols."""
        if not isinstance(text, str) or len(text) > MAX_RENAMING_CHARS:
            raise FlavourError("malformed flavour renaming: expected e.g. 'm_c>m_u,m_u>m_c'")
        pairs = []
        for item in filter(None, text.split(",")):
            parts = item.split(">")
            if len(parts) != 2 or not all(MASS_SYMBOL_RE.fullmatch(p) for p in parts):
                raise FlavourError(f"malformed flavour renaming {item!r}: expected e.g. 'm_c>m_u'")
            pairs.append((parts[0], parts[1]))
        sources, targets = [a for a, _ in pairs], [b for _, b in pairs]
        if len(set(sources)) != len(sources) or set(sources) != set(targets):
            raise FlavourError(f"flavour renaming {text!r} is not a permutation of mass symbols")
        return cls(tuple(pairs))

    @property
    def inverse(self) -> FlavourRenaming:
        swap = lambda pairs: tuple((b, a) for a, b in pairs)  # noqa: E731
        return FlavourRenaming(swap(self.masses), swap(self.labels), swap(self.particles))

    def squared(self, text: str) -> str:
        """Every mass symbol renamed at once; nothing else changes."""
        masses = dict(self.masses)
        return _IDENTIFIER_RE.sub(lambda m: masses.get(m.group(0), m.group(0)), text) if masses else text

    def amplitude(self, text: str) -> str:
        """Mass symbols and the field labels of external spinors renamed at once (the text's layout
        is kept: callers reprint it, e.g. :meth:`.orderings.Relabelling.amplitude`)."""
        if not self.masses:
            return text
        labels = dict(self.labels)
        text = _SPINOR_LABEL_RE.sub(lambda m: f"{m.group(1)}({labels.get(m.group(2), m.group(2))},", text)
        return self.squared(text)


def flavoured_fields(legs: tuple[str, ...], theory: str) -> tuple:
    """The distinct fields of ``legs`` (particle names) that a renaming can move, in order of first
    appearance.  Raises KeyError for a particle the theory lacks."""
    particles = get_model(theory).particles
    movable = {field for members in _classes(theory) for field in members}
    out: list = []
    for name in legs:
        field = particles[name].field
        if field in movable and field not in out:
            out.append(field)
    return tuple(out)


def renaming_in_order(fields: tuple, theory: str) -> FlavourRenaming:
    """The renaming that gives ``fields`` (distinct, e.g. from :func:`flavoured_fields`) the first
    places of their classes, in this order; every other field of a class takes the next place."""
    return _renaming_in_order(tuple(fields), theory)


@lru_cache(maxsize=4096)
def _renaming_in_order(fields: tuple, theory: str) -> FlavourRenaming:
    masses, labels, names = [], [], []
    for members in _classes(theory):
        order = [f for f in fields if f in members]
        order += [f for f in members if f not in order]
        for source, target in zip(order, members):
            if source != target:
                masses.append((source.mass, target.mass))
                labels.append((source.label, target.label))
                names += [(source.name, target.name), (source.anti, target.anti)]
    return FlavourRenaming(tuple(masses), tuple(labels), tuple(names))
