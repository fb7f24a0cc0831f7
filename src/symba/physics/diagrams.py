"""Feynman rules applied to FeynGraph's tree diagrams.

Turns one FeynGraph diagram into a :class:`DiagramExpr`: a scalar prefactor,
fermion chains, vector-boson factors, colour tensors and propagator
denominators.  The same structure is printed as amplitude text
(``amplitude_syntax``) and squared by FORM (``squaring``).

Feynman rules (Feynman gauge), all momenta of a vertex incoming:

* fermion-photon ``-i e Q_f gamma^mu``; quark-gluon ``-i g_s T^a gamma^mu``
* fermion propagator ``i (kslash + m) / (k^2 - m^2)``, k along fermion flow
* photon / gluon propagator ``-i g_{mu nu} delta^{ab} / k^2``
* three-gluon ``-g_s f^{abc} [g^{mu nu}(k1-k2)^rho + g^{nu rho}(k2-k3)^mu + g^{rho mu}(k3-k1)^nu]``
* four-gluon ``-i g_s^2 [f^{abe}f^{cde}(g^{mu rho}g^{nu sigma} - g^{mu sigma}g^{nu rho}) + (b<->c) + (b<->d)]``

The relative sign of a diagram is the parity of the permutation that takes
the external fermions from leg order to the order in which the chains read
them (barred spinor, then unbarred spinor, chain after chain).  FeynGraph's
own ``sign()`` is recorded (``feyngraph_sign``) but not used: with chains
written this way it gives Bhabha's s- and t-channel the same sign, and varies
between diagrams of a single quark line, where no relative sign exists; the
textbook and brute-force tests pin down the convention used here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from .process import Process, ProcessError, feyngraph_guard, generate_feyngraph_diagrams
from .theories import Model

# Squaring is quadratic in the diagrams: beyond this many, refuse rather than run for days.
MAX_DIAGRAMS = 5000

Momentum = tuple[int, ...]  # coefficients of p_1..p_n (physical momenta)


@dataclass(frozen=True)
class Spinor:
    kind: str  # "u", "v", "ubar", "vbar"
    leg: int  # 0-based leg index
    label: str  # field label, e.g. "e"
    mass: str | None


@dataclass(frozen=True)
class Gamma:
    lorentz: str


@dataclass(frozen=True)
class FermionPropagator:
    momentum: Momentum  # along the fermion flow
    mass: str | None


@dataclass
class Chain:
    """bar(start) * elements... * end, read against the fermion flow."""

    start: Spinor
    elements: list  # Gamma | FermionPropagator, left to right
    end: Spinor
    colour_start: str | None = None  # colour index of the barred end (quarks in QCD)
    colour_end: str | None = None
    generators: list = field(default_factory=list)  # adjoint indices of the T's, left to right


@dataclass(frozen=True)
class ExternalVector:
    leg: int
    incoming: bool
    label: str  # "A" or "G"
    lorentz: str
    colour: str | None


# Lorentz atoms: ("metric", mu, nu) or ("mom", momentum, mu).  A LorentzSum is a
# list of (integer coefficient, [atoms]).  Colour atoms: ("T", a, i, j), ("f", a, b, c).


@dataclass
class Component:
    """One colour structure of a diagram times its Lorentz structure."""

    colour: list  # colour atoms beyond the T's carried by the chains
    lorentz: list  # list of LorentzSum factors (product of sums)


@dataclass
class DiagramExpr:
    index: int
    coef_re: Fraction  # the scalar prefactor is coef_re + i*coef_im (one of them zero)
    coef_im: Fraction
    coupling: str
    coupling_power: int
    chains: list[Chain]
    vectors: list[ExternalVector]
    components: list[Component]
    denominators: list[tuple[Momentum, str | None]]  # (k, m): factor 1/(k^2 - m^2)
    propagators: list[str]
    fermion_sign: int
    feyngraph_sign: int


def _mul_i(re: Fraction, im: Fraction, power: int) -> tuple[Fraction, Fraction]:
    for _ in range(power % 4):
        re, im = -im, re
    return re, im


class _Indices:
    def __init__(self):
        self.counts: dict[str, int] = {}

    def new(self, kind: str) -> str:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        return f"{kind}{self.counts[kind]}"


def _is_leg(line) -> bool:
    return type(line).__name__ == "Leg"


def permutation_parity(seq: list[int]) -> int:
    seq = list(seq)
    sign = 1
    for i in range(len(seq)):
        while seq[i] != i:
            j = seq[i]
            seq[i], seq[j] = seq[j], seq[i]
            sign = -sign
    return sign


def build_diagrams(proc: Process) -> list[DiagramExpr]:
    model = proc.model
    generated = generate_feyngraph_diagrams(proc)
    if len(generated) > MAX_DIAGRAMS:
        raise ProcessError(f"process '{proc}' has {len(generated)} tree diagrams; at most {MAX_DIAGRAMS} are supported")
    with feyngraph_guard(proc):
        return [_build(model, proc, i, d) for i, d in enumerate(generated)]


@dataclass
class _Prefactor:
    """The scalar prefactor being accumulated: (re + i im) * i^power_i * coupling^coupling_power."""

    re: Fraction = Fraction(1)
    im: Fraction = Fraction(0)
    power_i: int = 0
    coupling_power: int = 0

    def scale(self, factor) -> None:
        self.re, self.im = self.re * factor, self.im * factor


class _DiagramReader:
    """Lines, vertices and index names of one FeynGraph diagram.

    One Lorentz index (and adjoint colour index) per vector line, one colour
    index per quark line: propagators' metric and deltas are contracted away.
    Indices are named in the order first asked for, so callers keep a fixed order.
    """

    def __init__(self, model: Model, proc: Process, d):
        self.model, self.proc, self.n_in = model, proc, proc.n_in
        self.legs = {leg.id(): leg for leg in list(d.incoming()) + list(d.outgoing())}
        self.props = {p.id(): p for p in d.propagators()}
        self.vertices = {v.id(): v for v in d.vertices()}
        self.indices = _Indices()
        self._names: dict[tuple[str, str, int], str] = {}

    def _index(self, kind: str, line) -> str:
        key = (kind, "L" if _is_leg(line) else "P", line.id())
        if key not in self._names:
            self._names[key] = self.indices.new(kind)
        return self._names[key]

    def lorentz_of(self, line) -> str:
        return self._index("mu", line)

    def adj_of(self, line) -> str:
        return self._index("a", line)

    def fund_of(self, line) -> str:
        return self._index("c", line)

    def particle(self, line):
        return self.model.particle(line.particle().name())

    def momentum(self, line) -> Momentum:
        """Momentum in the diagram's own orientation (legs: physical p_i; propagators:
        vertices()[0] -> vertices()[1]).  Objects reached through a vertex report
        momenta oriented into that vertex, so always look the line up by id."""
        glob = self.legs[line.id()] if _is_leg(line) else self.props[line.id()]
        return tuple(int(x) for x in glob.momentum())

    def incoming_momentum(self, line, vertex_id: int) -> Momentum:
        """Momentum of a line flowing into the given vertex."""
        k = self.momentum(line)
        if _is_leg(line):
            return k if line.id() < self.n_in else _neg(k)
        _src, dst = (v.id() for v in self.props[line.id()].vertices())
        return k if dst == vertex_id else _neg(k)


def _neg(k: Momentum) -> Momentum:
    return tuple(-x for x in k)


def _build(model: Model, proc: Process, index: int, d) -> DiagramExpr:
    reader = _DiagramReader(model, proc, d)
    pre = _Prefactor()
    chains = _fermion_chains(reader, pre)
    fermion_order = [leg for chain in chains for leg in (chain.start.leg, chain.end.leg)]
    fermion_legs = sorted(fermion_order)
    fermion_sign = permutation_parity([fermion_legs.index(x) for x in fermion_order])
    pre.scale(fermion_sign)
    vectors = _external_vectors(reader)
    denominators, prop_names = _propagators(reader, pre)
    components = _gauge_vertices(reader, pre)
    re, im = _mul_i(pre.re, pre.im, pre.power_i)
    return DiagramExpr(
        index=index,
        coef_re=re,
        coef_im=im,
        coupling=model.coupling,
        coupling_power=pre.coupling_power,
        chains=chains,
        vectors=vectors,
        components=components,
        denominators=denominators,
        propagators=prop_names,
        fermion_sign=fermion_sign,
        feyngraph_sign=int(d.sign()),
    )


def _fermion_chains(reader: _DiagramReader, pre: _Prefactor) -> list[Chain]:
    """Every fermion line as a chain, started at the leg FeynGraph puts in a vertex's first slot."""
    chains: list[Chain] = []
    for leg_id in sorted(reader.legs):
        leg = reader.legs[leg_id]
        if not reader.particle(leg).fermion:
            continue
        slots = reader.vertices[leg.vertex().id()].propagators_ordered()
        if not (_is_leg(slots[0]) and slots[0].id() == leg_id):
            continue  # this leg is where a chain ends, not where it starts
        chains.append(_follow_chain(reader, leg, pre))
    return chains


def _follow_chain(reader: _DiagramReader, leg, pre: _Prefactor) -> Chain:
    """Walk one fermion line from its barred end, vertex by vertex, against the fermion flow."""
    model, proc, coloured = reader.model, reader.proc, reader.model.coloured
    particle = reader.particle(leg)
    start_kind = "vbar" if leg.id() < reader.n_in else "ubar"
    start = Spinor(start_kind, leg.id(), particle.label, proc.mass_of(particle.name))
    elements: list = []
    generators: list[str] = []
    colour_start = reader.fund_of(leg) if coloured else None
    v = reader.vertices[leg.vertex().id()]
    while True:
        rule = model.vertex_by_name[v.interaction().name()]
        slots = v.propagators_ordered()
        vec = slots[2]
        elements.append(Gamma(reader.lorentz_of(vec)))
        pre.scale(rule.factor)
        pre.power_i += 3  # -i
        pre.coupling_power += 1
        if coloured:
            generators.append(reader.adj_of(vec))
        nxt = slots[1]
        if _is_leg(nxt):
            end_particle = reader.particle(nxt)
            end_kind = "u" if nxt.id() < reader.n_in else "v"
            end = Spinor(end_kind, nxt.id(), end_particle.label, proc.mass_of(end_particle.name))
            colour_end = reader.fund_of(nxt) if coloured else None
            return Chain(start, elements, end, colour_start, colour_end, generators)
        src, dst = (x.id() for x in reader.props[nxt.id()].vertices())
        k = reader.momentum(nxt)
        if dst != v.id():  # FeynGraph's momentum runs src -> dst; we need it along the flow into v
            k = _neg(k)
            src, dst = dst, src
        elements.append(FermionPropagator(k, proc.mass_of(reader.particle(nxt).name)))
        pre.power_i += 1  # i
        v = reader.vertices[src]


def _external_vectors(reader: _DiagramReader) -> list[ExternalVector]:
    vectors: list[ExternalVector] = []
    for leg_id in sorted(reader.legs):
        leg = reader.legs[leg_id]
        particle = reader.particle(leg)
        if particle.fermion:
            continue
        lorentz = reader.lorentz_of(leg)
        colour = reader.adj_of(leg) if particle.colour == 8 else None
        vectors.append(ExternalVector(leg_id, leg_id < reader.n_in, particle.label, lorentz, colour))
    return vectors


def _propagators(reader: _DiagramReader, pre: _Prefactor) -> tuple[list[tuple[Momentum, str | None]], list[str]]:
    """Denominators (k, m) and printed names of the internal lines; -i g_{mu nu} of vector ones."""
    denominators: list[tuple[Momentum, str | None]] = []
    names: list[str] = []
    for pid in sorted(reader.props):
        p = reader.props[pid]
        particle = reader.particle(p)
        k = reader.momentum(p)
        denominators.append((k, reader.proc.mass_of(particle.name)))
        names.append(f"{particle.label}({momentum_text(k)})")
        if not particle.fermion:
            pre.power_i += 3  # -i g_{mu nu}
    return denominators, names


def _gauge_vertices(reader: _DiagramReader, pre: _Prefactor) -> list[Component]:
    """Colour and Lorentz structure of the three- and four-gluon vertices, one Component per colour term."""
    components = [Component([], [])]
    for vid in sorted(reader.vertices):
        v = reader.vertices[vid]
        rule = reader.model.vertex_by_name[v.interaction().name()]
        slots = v.propagators_ordered()
        if rule.kind == "vvv":
            pre.coupling_power += 1
            pre.scale(-1)  # -g_s
            colour, lorentz = _three_vector_vertex(reader, vid, slots)
            for comp in components:
                comp.colour.append(colour)
                comp.lorentz.append(lorentz)
        elif rule.kind == "vvvv":
            pre.coupling_power += 2
            pre.power_i += 3  # -i g_s^2
            terms = _four_vector_vertex(reader, slots)
            components = [
                Component(comp.colour + col, comp.lorentz + [lor]) for comp in components for col, lor in terms
            ]
    return components


def _three_vector_vertex(reader: _DiagramReader, vid: int, slots):
    """f^{abc} and g^{mu nu}(k1-k2)^rho + cyclic, momenta into the vertex."""
    (a, b, c) = (reader.adj_of(x) for x in slots)
    (m1, m2, m3) = (reader.lorentz_of(x) for x in slots)
    (k1, k2, k3) = (reader.incoming_momentum(x, vid) for x in slots)
    lsum = [
        (1, [("metric", m1, m2), ("mom", _sub(k1, k2), m3)]),
        (1, [("metric", m2, m3), ("mom", _sub(k2, k3), m1)]),
        (1, [("metric", m3, m1), ("mom", _sub(k3, k1), m2)]),
    ]
    return ("f", a, b, c), lsum


def _four_vector_vertex(reader: _DiagramReader, slots):
    """The three (colour, Lorentz) terms of the four-gluon vertex."""
    (a, b, c, dd) = (reader.adj_of(x) for x in slots)
    (m1, m2, m3, m4) = (reader.lorentz_of(x) for x in slots)
    e_idx = reader.indices.new("a")
    return [
        (
            [("f", a, b, e_idx), ("f", c, dd, e_idx)],
            [(1, [("metric", m1, m3), ("metric", m2, m4)]), (-1, [("metric", m1, m4), ("metric", m2, m3)])],
        ),
        (
            [("f", a, c, e_idx), ("f", b, dd, e_idx)],
            [(1, [("metric", m1, m2), ("metric", m3, m4)]), (-1, [("metric", m1, m4), ("metric", m2, m3)])],
        ),
        (
            [("f", a, dd, e_idx), ("f", b, c, e_idx)],
            [(1, [("metric", m1, m2), ("metric", m3, m4)]), (-1, [("metric", m1, m3), ("metric", m2, m4)])],
        ),
    ]


def _sub(a: Momentum, b: Momentum) -> Momentum:
    return tuple(x - y for x, y in zip(a, b))


def momentum_text(k: Momentum) -> str:
    out = ""
    for i, c in enumerate(k):
        if c == 0:
            continue
        sign = "-" if c < 0 else ("+" if out else "")
        mag = "" if abs(c) == 1 else f"{abs(c)}*"
        out += f"{sign}{mag}p_{i + 1}"
    return out or "0"


def momentum_square_terms(k: Momentum, leg_masses: list[str | None]) -> list[tuple[Fraction, str]]:
    """k^2 in terms of masses and s_ij (on-shell legs; no momentum conservation used)."""
    terms: list[tuple[Fraction, str]] = []
    for i, ci in enumerate(k):
        if ci and leg_masses[i]:
            terms.append((Fraction(ci * ci), f"{leg_masses[i]}^2"))
    for i in range(len(k)):
        for j in range(i + 1, len(k)):
            if k[i] and k[j]:
                terms.append((Fraction(2 * k[i] * k[j]), f"s_{i + 1}{j + 1}"))
    return terms


def linear_text(terms: list[tuple[Fraction, str]]) -> str:
    """Print sum(c * x) with exact coefficients, merging equal x."""
    merged: dict[str, Fraction] = {}
    for c, x in terms:
        merged[x] = merged.get(x, Fraction(0)) + c
    out = ""
    for x, c in merged.items():
        if c == 0:
            continue
        mag = abs(c)
        coef = (
            "" if mag == 1 else (f"{mag.numerator}*" if mag.denominator == 1 else f"{mag.numerator}/{mag.denominator}*")
        )
        if out:
            out += (" - " if c < 0 else " + ") + coef + x
        else:
            out = ("-" if c < 0 else "") + coef + x
    return out or "0"


def denominator_text(k: Momentum, mass: str | None, leg_masses: list[str | None]) -> str:
    """k^2 - m^2 of a propagator."""
    terms = momentum_square_terms(k, leg_masses)
    if mass:
        terms.append((Fraction(-1), f"{mass}^2"))
    return linear_text(terms)


def chain_colour_atoms(chain: Chain, fresh) -> list[tuple]:
    """T-matrix string of a quark chain, with fresh internal triplet indices."""
    if chain.colour_start is None:
        return []
    atoms = []
    left = chain.colour_start
    for k, a in enumerate(chain.generators):
        right = chain.colour_end if k == len(chain.generators) - 1 else fresh("c")
        atoms.append(("T", a, left, right))
        left = right
    return atoms
