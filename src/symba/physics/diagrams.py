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

from .models import Model
from .process import Process, generate_feyngraph_diagrams

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
    return [_build(model, proc, i, d) for i, d in enumerate(generate_feyngraph_diagrams(proc))]


def _build(model: Model, proc: Process, index: int, d) -> DiagramExpr:
    n_in = proc.n_in
    idx = _Indices()
    qcd = model.coloured

    legs = {leg.id(): leg for leg in list(d.incoming()) + list(d.outgoing())}
    props = {p.id(): p for p in d.propagators()}
    vertices = {v.id(): v for v in d.vertices()}

    # One Lorentz index (and adjoint colour index) per vector line, one colour
    # index per quark line: propagators' metric and deltas are contracted away.
    line_lorentz: dict[tuple[str, int], str] = {}
    line_adj: dict[tuple[str, int], str] = {}
    line_fund: dict[tuple[str, int], str] = {}

    def key(line) -> tuple[str, int]:
        return ("L" if _is_leg(line) else "P", line.id())

    def lorentz_of(line) -> str:
        k = key(line)
        if k not in line_lorentz:
            line_lorentz[k] = idx.new("mu")
        return line_lorentz[k]

    def adj_of(line) -> str:
        k = key(line)
        if k not in line_adj:
            line_adj[k] = idx.new("a")
        return line_adj[k]

    def fund_of(line) -> str:
        k = key(line)
        if k not in line_fund:
            line_fund[k] = idx.new("c")
        return line_fund[k]

    def momentum(line) -> Momentum:
        """Momentum in the diagram's own orientation (legs: physical p_i; propagators:
        vertices()[0] -> vertices()[1]).  Objects reached through a vertex report
        momenta oriented into that vertex, so always look the line up by id."""
        glob = legs[line.id()] if _is_leg(line) else props[line.id()]
        return tuple(int(x) for x in glob.momentum())

    def incoming_momentum(line, vertex_id: int) -> Momentum:
        """Momentum of a line flowing into the given vertex."""
        if _is_leg(line):
            k = momentum(line)
            return k if line.id() < n_in else tuple(-x for x in k)
        k = momentum(line)
        src, dst = (v.id() for v in props[line.id()].vertices())
        return k if dst == vertex_id else tuple(-x for x in k)

    re, im = Fraction(1), Fraction(0)
    power_i = 0
    coupling_power = 0

    # Fermion chains.
    chains: list[Chain] = []
    fermion_order: list[int] = []
    for leg_id in sorted(legs):
        leg = legs[leg_id]
        particle = model.particle(leg.particle().name())
        if not particle.fermion:
            continue
        v = vertices[leg.vertex().id()]
        slots = v.propagators_ordered()
        if not (_is_leg(slots[0]) and slots[0].id() == leg_id):
            continue  # this leg is where a chain ends, not where it starts
        incoming = leg_id < n_in
        start = Spinor("vbar" if incoming else "ubar", leg_id, particle.label, proc.mass_of(particle.name))
        elements: list = []
        gens: list[str] = []
        colour_start = fund_of(leg) if qcd else None
        while True:
            rule = model.vertex_by_name[v.interaction().name()]
            slots = v.propagators_ordered()
            vec = slots[2]
            mu = lorentz_of(vec)
            elements.append(Gamma(mu))
            re, im = re * rule.factor, im * rule.factor
            power_i += 3  # -i
            coupling_power += 1
            if qcd:
                gens.append(adj_of(vec))
            nxt = slots[1]
            if _is_leg(nxt):
                end_particle = model.particle(nxt.particle().name())
                end_kind = "u" if nxt.id() < n_in else "v"
                end = Spinor(end_kind, nxt.id(), end_particle.label, proc.mass_of(end_particle.name))
                colour_end = fund_of(nxt) if qcd else None
                break
            src, dst = (x.id() for x in props[nxt.id()].vertices())
            k = momentum(nxt)
            if dst != v.id():  # FeynGraph's momentum runs src -> dst; we need it along the flow into v
                k = tuple(-x for x in k)
                src, dst = dst, src
            prop_particle = model.particle(nxt.particle().name())
            elements.append(FermionPropagator(k, proc.mass_of(prop_particle.name)))
            power_i += 1  # i
            v = vertices[src]
        chains.append(Chain(start, elements, end, colour_start, colour_end, gens))
        fermion_order += [start.leg, end.leg]

    fermion_legs = sorted(fermion_order)
    fermion_sign = permutation_parity([fermion_legs.index(x) for x in fermion_order])
    re, im = re * fermion_sign, im * fermion_sign

    # External vector bosons.
    vectors: list[ExternalVector] = []
    for leg_id in sorted(legs):
        leg = legs[leg_id]
        particle = model.particle(leg.particle().name())
        if particle.fermion:
            continue
        vectors.append(
            ExternalVector(
                leg_id, leg_id < n_in, particle.label, lorentz_of(leg), adj_of(leg) if particle.colour == 8 else None
            )
        )

    # Vector propagators and pure-gauge vertices.
    denominators: list[tuple[Momentum, str | None]] = []
    prop_names: list[str] = []
    for pid in sorted(props):
        p = props[pid]
        particle = model.particle(p.particle().name())
        k = momentum(p)
        denominators.append((k, proc.mass_of(particle.name)))
        prop_names.append(f"{particle.label}({momentum_text(k)})")
        if not particle.fermion:
            power_i += 3  # -i g_{mu nu}

    components = [Component([], [])]
    for vid in sorted(vertices):
        v = vertices[vid]
        rule = model.vertex_by_name[v.interaction().name()]
        slots = v.propagators_ordered()
        if rule.kind == "vvv":
            coupling_power += 1
            re, im = -re, -im  # -g_s
            (a, b, c) = (adj_of(x) for x in slots)
            (m1, m2, m3) = (lorentz_of(x) for x in slots)
            (k1, k2, k3) = (incoming_momentum(x, vid) for x in slots)
            lsum = [
                (1, [("metric", m1, m2), ("mom", _sub(k1, k2), m3)]),
                (1, [("metric", m2, m3), ("mom", _sub(k2, k3), m1)]),
                (1, [("metric", m3, m1), ("mom", _sub(k3, k1), m2)]),
            ]
            for comp in components:
                comp.colour.append(("f", a, b, c))
                comp.lorentz.append(lsum)
        elif rule.kind == "vvvv":
            coupling_power += 2
            power_i += 3  # -i g_s^2
            (a, b, c, dd) = (adj_of(x) for x in slots)
            (m1, m2, m3, m4) = (lorentz_of(x) for x in slots)
            e_idx = idx.new("a")
            terms = [
                ([("f", a, b, e_idx), ("f", c, dd, e_idx)], [(1, [("metric", m1, m3), ("metric", m2, m4)]), (-1, [("metric", m1, m4), ("metric", m2, m3)])]),
                ([("f", a, c, e_idx), ("f", b, dd, e_idx)], [(1, [("metric", m1, m2), ("metric", m3, m4)]), (-1, [("metric", m1, m4), ("metric", m2, m3)])]),
                ([("f", a, dd, e_idx), ("f", b, c, e_idx)], [(1, [("metric", m1, m2), ("metric", m3, m4)]), (-1, [("metric", m1, m3), ("metric", m2, m4)])]),
            ]
            components = [
                Component(comp.colour + col, comp.lorentz + [lor]) for comp in components for col, lor in terms
            ]

    re, im = _mul_i(re, im, power_i)
    return DiagramExpr(
        index=index,
        coef_re=re,
        coef_im=im,
        coupling=model.coupling,
        coupling_power=coupling_power,
        chains=chains,
        vectors=vectors,
        components=components,
        denominators=denominators,
        propagators=prop_names,
        fermion_sign=fermion_sign,
        feyngraph_sign=int(d.sign()),
    )


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
        coef = "" if mag == 1 else (f"{mag.numerator}*" if mag.denominator == 1 else f"{mag.numerator}/{mag.denominator}*")
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


def coefficient_text(re: Fraction, im: Fraction, coupling: str, power: int) -> str:
    """Scalar prefactor, e.g. ``-2/3*i*e^3``; exactly one of re, im is non-zero."""
    value, unit = (re, "") if im == 0 else (im, "i*")
    sign = "-" if value < 0 else ""
    mag = abs(value)
    num = "" if mag == 1 else (f"{mag.numerator}*" if mag.denominator == 1 else f"{mag.numerator}/{mag.denominator}*")
    cpl = coupling if power == 1 else f"{coupling}^{power}"
    return f"{sign}{num}{unit}{cpl}"


def _lorentz_sum_text(lsum) -> str:
    terms = []
    for coef, atoms in lsum:
        parts = []
        for atom in atoms:
            if atom[0] == "metric":
                parts.append(f"metric({atom[1]},{atom[2]})")
            else:
                parts.append(f"mom({momentum_text(atom[1])},{atom[2]})")
        text = "*".join(parts)
        terms.append(("- " if coef < 0 else "+ ") + (f"{abs(coef)}*" if abs(coef) != 1 else "") + text)
    out = " ".join(terms)
    return "(" + (out[2:] if out.startswith("+ ") else "-" + out[2:]) + ")"


def _colour_text(atoms) -> list[str]:
    return [f"{a[0]}({','.join(a[1:])})" for a in atoms]


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


def amplitude_text(diag: DiagramExpr, leg_masses: list[str | None]) -> str:
    """The diagram's amplitude in the syntax of ``amplitude_syntax`` (canonical indices)."""
    from .amplitude_syntax import canonical

    counter = {"d": 0, "c": 1000}

    def fresh(kind: str) -> str:
        counter[kind] += 1
        return f"{kind}{counter[kind]}"

    factors = [coefficient_text(diag.coef_re, diag.coef_im, diag.coupling, diag.coupling_power)]
    colour_atoms: list[tuple] = []
    for chain in diag.chains:
        d_left = fresh("d")
        col = f",{chain.colour_start}" if chain.colour_start else ""
        factors.append(f"{chain.start.kind}({chain.start.label},p_{chain.start.leg + 1},{d_left}{col})")
        for el in chain.elements:
            d_right = fresh("d")
            if isinstance(el, Gamma):
                factors.append(f"gamma({el.lorentz},{d_left},{d_right})")
            else:
                mass = f" + {el.mass}*one({d_left},{d_right})" if el.mass else ""
                factors.append(f"(slash({momentum_text(el.momentum)},{d_left},{d_right}){mass})")
            d_left = d_right
        col = f",{chain.colour_end}" if chain.colour_end else ""
        factors.append(f"{chain.end.kind}({chain.end.label},p_{chain.end.leg + 1},{d_left}{col})")
        colour_atoms += chain_colour_atoms(chain, fresh)
    for vec in diag.vectors:
        col = f",{vec.colour}" if vec.colour else ""
        factors.append(f"{'eps' if vec.incoming else 'epsc'}({vec.label},p_{vec.leg + 1},{vec.lorentz}{col})")
    factors += _colour_text(colour_atoms)
    comp_texts = []
    for comp in diag.components:
        parts = _colour_text(comp.colour) + [_lorentz_sum_text(s) for s in comp.lorentz]
        comp_texts.append("*".join(parts))
    comp_texts = [c for c in comp_texts if c]
    if len(comp_texts) == 1:
        factors.append(comp_texts[0])
    elif comp_texts:
        factors.append("(" + " + ".join(comp_texts) + ")")
    text = "*".join(factors)
    if diag.denominators:
        dens = [f"({denominator_text(k, m, leg_masses)})" for k, m in diag.denominators]
        text += "/" + (dens[0] if len(dens) == 1 else "(" + "*".join(dens) + ")")
    return canonical(text)
