"""Particle models, each defined once as data.

A model is a list of fields (a particle and its antiparticle) plus a list of
vertex rules.  Adding a third theory means writing one more ``Model(...)``
literal below and registering it in ``MODELS``: the diagram generator, the
process parser and the FORM squarer read everything they need from it.

Charges are those of the particle (the antiparticle carries the opposite one).
``colour`` is the SU(3) representation of the particle: 1, 3 (quark) or 8.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from functools import cached_property

import feyngraph

from .symbols import ALL_COUPLINGS, ALL_MASSES, MASS_SYMBOL_RE


@dataclass(frozen=True)
class Field:
    """A particle species together with its antiparticle."""

    name: str  # particle name as written in processes, e.g. "e-"
    anti: str  # antiparticle name, e.g. "e+" (equal to name when self-conjugate)
    label: str  # short name used in amplitude strings, e.g. "e"
    spin2: int  # twice the spin: 1 for fermions, 2 for vector bosons
    colour: int = 1  # 1, 3 or 8
    charge: Fraction = Fraction(0)  # electric charge of the particle in units of e
    mass: str | None = None  # mass symbol, e.g. "m_e"; None when massless
    lepton_flavour: str | None = None  # "e", "mu", "ta" for leptons
    baryon: Fraction = Fraction(0)
    pdg: int = 0

    def __post_init__(self):
        if self.mass is not None and not MASS_SYMBOL_RE.fullmatch(self.mass):
            raise ValueError(f"field {self.name}: mass symbol {self.mass!r} is not of the form m_<letters/digits>")
        if self.colour not in (1, 3, 8):
            raise ValueError(f"field {self.name}: colour must be 1, 3 or 8, not {self.colour}")

    @property
    def fermion(self) -> bool:
        return self.spin2 % 2 == 1

    @property
    def self_conjugate(self) -> bool:
        return self.name == self.anti


@dataclass(frozen=True)
class Particle:
    """One external state: a field, or its antiparticle."""

    name: str
    field: Field
    is_anti: bool

    @property
    def fermion(self) -> bool:
        return self.field.fermion

    @property
    def charge(self) -> Fraction:
        return -self.field.charge if self.is_anti else self.field.charge

    @property
    def baryon(self) -> Fraction:
        return -self.field.baryon if self.is_anti else self.field.baryon

    @property
    def lepton_number(self) -> int:
        if self.field.lepton_flavour is None:
            return 0
        return -1 if self.is_anti else 1

    @property
    def colour(self) -> int:
        """Colour representation: 1, 3, -3 (anti-triplet) or 8."""
        c = self.field.colour
        return -c if (self.is_anti and c == 3) else c

    @property
    def mass(self) -> str | None:
        return self.field.mass

    @property
    def label(self) -> str:
        return self.field.label


@dataclass(frozen=True)
class VertexRule:
    """A vertex, written with all particles incoming.

    kind: "ffv" (fermion current, particles = [anti-fermion, fermion, vector]),
    "vvv" (three-gluon) or "vvvv" (four-gluon).
    ``factor`` is the rational charge factor multiplying the coupling.
    """

    name: str
    kind: str
    particles: tuple[str, ...]
    coupling: str
    factor: Fraction = Fraction(1)


@dataclass(frozen=True)
class Model:
    name: str
    fields: tuple[Field, ...]
    vertices: tuple[VertexRule, ...]
    coupling: str  # coupling symbol: "e" or "g_s"
    order_name: str  # coupling-order name given to FeynGraph

    @cached_property
    def particles(self) -> dict[str, Particle]:
        out: dict[str, Particle] = {}
        for f in self.fields:
            out[f.name] = Particle(f.name, f, False)
            if not f.self_conjugate:
                out[f.anti] = Particle(f.anti, f, True)
        return out

    def particle(self, name: str) -> Particle:
        return self.particles[name]

    def anti(self, name: str) -> str:
        p = self.particles[name]
        return p.field.name if p.is_anti else p.field.anti

    @cached_property
    def particle_order(self) -> dict[str, int]:
        """Canonical order of particle names, used to sort processes."""
        return {name: i for i, name in enumerate(self.particles)}

    @cached_property
    def feyngraph_model(self):
        fg = feyngraph.Model.empty()
        for f in self.fields:
            fg.add_particle(
                name=f.name,
                anti_name=f.anti,
                spin=f.spin2 + 1,
                color=f.colour,
                pdg_code=f.pdg,
                texname=f.name,
                antitexname=f.anti,
                linestyle="straight" if f.fermion else ("curly" if f.colour == 8 else "wavy"),
                fermi=f.fermion,
            )
        for v in self.vertices:
            fg.add_vertex(
                v.name, list(v.particles), list(range(len(v.particles))), {self.order_name: len(v.particles) - 2}
            )
        return fg

    @cached_property
    def vertex_by_name(self) -> dict[str, VertexRule]:
        return {v.name: v for v in self.vertices}

    @cached_property
    def mass_symbols(self) -> tuple[str, ...]:
        """Mass symbols of the model's fields, each once, in field order."""
        return tuple(dict.fromkeys(f.mass for f in self.fields if f.mass))

    @cached_property
    def coloured(self) -> bool:
        """Whether any field carries SU(3) colour (then amplitudes carry colour indices)."""
        return any(f.colour != 1 for f in self.fields)


F = Fraction
_LEPTONS = [
    # name, anti, label, mass, flavour, pdg
    ("e-", "e+", "e", "m_e", "e", 11),
    ("mu-", "mu+", "mu", "m_mu", "mu", 13),
    ("ta-", "ta+", "ta", "m_tau", "ta", 15),
]
_QUARKS = [
    # name, anti, mass, charge, pdg
    ("u", "u~", "m_u", F(2, 3), 2),
    ("d", "d~", "m_d", F(-1, 3), 1),
    ("s", "s~", "m_s", F(-1, 3), 3),
    ("c", "c~", "m_c", F(2, 3), 4),
    ("b", "b~", "m_b", F(-1, 3), 5),
    ("t", "t~", "m_t", F(2, 3), 6),
]


def _qed() -> Model:
    fields = [Field(n, a, lab, 1, 1, F(-1), m, fl, F(0), pdg) for n, a, lab, m, fl, pdg in _LEPTONS] + [
        # In QED the quarks carry electric charge and no colour, as in the SYMBA datasets.
        Field(n, a, n, 1, 1, q, m, None, F(1, 3), pdg)
        for n, a, m, q, pdg in _QUARKS
    ]
    photon = Field("a", "a", "A", 2, 1, pdg=22)
    vertices = tuple(VertexRule(f"ffa_{f.label}", "ffv", (f.anti, f.name, "a"), "e", f.charge) for f in fields)
    return Model("qed", tuple(fields) + (photon,), vertices, "e", "QED")


def _qcd() -> Model:
    fields = [Field(n, a, n, 1, 3, F(0), m, None, F(1, 3), pdg) for n, a, m, _q, pdg in _QUARKS]
    gluon = Field("g", "g", "G", 2, 8, pdg=21)
    vertices = tuple(VertexRule(f"ffg_{f.label}", "ffv", (f.anti, f.name, "g"), "g_s") for f in fields)
    vertices += (
        VertexRule("ggg", "vvv", ("g", "g", "g"), "g_s"),
        VertexRule("gggg", "vvvv", ("g", "g", "g", "g"), "g_s"),
    )
    return Model("qcd", tuple(fields) + (gluon,), vertices, "g_s", "QCD")


MODELS: dict[str, Model] = {"qed": _qed(), "qcd": _qcd()}


def check_symbols(models) -> None:
    """Every mass and coupling of a model is one of symbols.py (the vocabularies hold those only)."""
    for model in models:
        unknown = [m for m in (*model.mass_symbols, model.coupling) if m not in ALL_MASSES + ALL_COUPLINGS]
        if unknown:
            raise ValueError(f"model {model.name}: symbol {unknown[0]!r} is not in symba.physics.symbols")


check_symbols(MODELS.values())


def get_model(theory: str) -> Model:
    try:
        return MODELS[theory.lower()]
    except KeyError:
        raise ValueError(f"unknown theory {theory!r}; choose one of {', '.join(MODELS)}") from None
