"""Brute-force numeric tree amplitudes: the independent truth the engine is tested against.

Only the diagram topologies come from FeynGraph (which lines meet at which
vertex, and which particle each line carries).  Everything else is rebuilt
here from the Feynman rules of docs/physics.md with explicit numbers:

* Dirac matrices in the chiral basis and spinors u, v from P&S eq. (3.50)/(3.62);
* polarisation vectors: explicit transverse ones (physical sums) or the four
  unit vectors weighted by -g_{ll} (Feynman-gauge -g sums);
* SU(3) generators T^a = lambda^a/2 and f^{abc} from [T^a, T^b] = i f^{abc} T^c;
* propagator momenta from cutting the tree (not FeynGraph's momenta);
* relative fermion signs from the parity of the external spinors read along
  the fermion chains (not FeynGraph's sign()).

A diagram is a sum of terms colour x Lorentz (a four-gluon vertex gives three
terms), so the squared sums factorise into a colour matrix times a helicity
matrix.  This module does not import the engine (``symba.physics.builtin``).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from symba.physics.process import Process, generate_feyngraph_diagrams, parse_process

METRIC = np.diag([1.0, -1.0, -1.0, -1.0])

# ---------------------------------------------------------------- Dirac algebra
_S0 = np.eye(2, dtype=complex)
_SX = np.array([[0, 1], [1, 0]], dtype=complex)
_SY = np.array([[0, -1j], [1j, 0]], dtype=complex)
_SZ = np.array([[1, 0], [0, -1]], dtype=complex)
_Z2 = np.zeros((2, 2), dtype=complex)
# Chiral (Weyl) basis, P&S eq. (3.25): gamma^0 = [[0,1],[1,0]], gamma^i = [[0,s^i],[-s^i,0]].
GAMMA = np.array(
    [np.block([[_Z2, _S0], [_S0, _Z2]])] + [np.block([[_Z2, s], [-s, _Z2]]) for s in (_SX, _SY, _SZ)]
)  # GAMMA[mu] = gamma^mu (upper index)


def slash(k) -> np.ndarray:
    """k-slash = gamma^mu k_mu for a contravariant k."""
    return np.einsum("mab,m->ab", GAMMA, METRIC @ np.asarray(k, dtype=complex))


def _sqrt_sigma(p, m: float):
    """sqrt(p.sigma) and sqrt(p.sigmabar) for an on-shell p, via helicity projectors."""
    E, vec = float(p[0]), np.asarray(p[1:], dtype=float)
    mod = float(np.linalg.norm(vec))
    n = vec / mod if mod > 0 else np.array([0.0, 0.0, 1.0])
    ns = n[0] * _SX + n[1] * _SY + n[2] * _SZ
    plus, minus = (_S0 + ns) / 2, (_S0 - ns) / 2
    low = math.sqrt(m * m / (E + mod))  # sqrt(E - |p|), written without cancellation
    high = math.sqrt(E + mod)
    return low * plus + high * minus, high * plus + low * minus


def spinors_u(p, m: float) -> np.ndarray:
    """u^s(p), shape (2 spins, 4): P&S eq. (3.50) with xi = (1,0), (0,1)."""
    a, b = _sqrt_sigma(p, m)
    return np.array([np.concatenate([a @ xi, b @ xi]) for xi in np.eye(2, dtype=complex)])


def spinors_v(p, m: float) -> np.ndarray:
    """v^s(p), shape (2, 4): P&S eq. (3.62)."""
    a, b = _sqrt_sigma(p, m)
    return np.array([np.concatenate([a @ eta, -(b @ eta)]) for eta in np.eye(2, dtype=complex)])


def bar(spinors: np.ndarray) -> np.ndarray:
    """Dirac adjoint of each row: psi^dagger gamma^0."""
    return spinors.conj() @ GAMMA[0]


# ---------------------------------------------------------------- polarisations
def transverse_polarisations(k, reference=None) -> np.ndarray:
    """Two real polarisation vectors (contravariant), shape (2, 4).

    They satisfy eps.k = 0, eps.eps = -1, eps1.eps2 = 0 and eps.reference = 0;
    the default reference (1,0,0,0) gives the usual purely spatial ones.
    """
    k = np.asarray(k, dtype=float)
    q = np.array([1.0, 0.0, 0.0, 0.0]) if reference is None else np.asarray(reference, dtype=float)
    dot = lambda a, b: a @ METRIC @ b  # noqa: E731
    basis = np.array([k, q])
    gram_inv = np.linalg.inv(np.array([[dot(a, b) for b in basis] for a in basis]))
    out = []
    for trial in np.eye(4)[[1, 2, 3, 0]]:
        r = trial - (gram_inv @ np.array([dot(b, trial) for b in basis])) @ basis
        for e in out:
            r = r + dot(e, r) * e  # e.e = -1
        norm2 = -dot(r, r)
        if norm2 > 1e-8:
            out.append(r / math.sqrt(norm2))
        if len(out) == 2:
            return np.array(out)
    raise ValueError("could not build transverse polarisations")


FEYNMAN_BASIS = np.eye(4)  # e_(l)^mu = delta^mu_l, weight -g_{ll} in the sum
FEYNMAN_WEIGHTS = -np.diag(METRIC)


# ---------------------------------------------------------------- SU(3)
def _gell_mann() -> np.ndarray:
    lam = np.zeros((8, 3, 3), dtype=complex)
    lam[0][0, 1] = lam[0][1, 0] = 1
    lam[1][0, 1], lam[1][1, 0] = -1j, 1j
    lam[2][0, 0], lam[2][1, 1] = 1, -1
    lam[3][0, 2] = lam[3][2, 0] = 1
    lam[4][0, 2], lam[4][2, 0] = -1j, 1j
    lam[5][1, 2] = lam[5][2, 1] = 1
    lam[6][1, 2], lam[6][2, 1] = -1j, 1j
    lam[7] = np.diag([1, 1, -2]) / math.sqrt(3)
    return lam


T_SU3 = _gell_mann() / 2
# [T^a, T^b] = i f^{abc} T^c and tr(T^c T^d) = delta/2  =>  f^{abc} = -2 i tr([T^a, T^b] T^c)
F_SU3 = np.real(
    -2j * (np.einsum("aij,bjk,cki->abc", T_SU3, T_SU3, T_SU3) - np.einsum("bij,ajk,cki->abc", T_SU3, T_SU3, T_SU3))
)

# ---------------------------------------------------------------- particles
# Written here from docs/physics.md, not read from the engine's model.
_LEPTONS = {"e": ("m_e", -1.0), "mu": ("m_mu", -1.0), "ta": ("m_tau", -1.0)}
_QUARKS = {
    "u": ("m_u", 2 / 3),
    "d": ("m_d", -1 / 3),
    "s": ("m_s", -1 / 3),
    "c": ("m_c", 2 / 3),
    "b": ("m_b", -1 / 3),
    "t": ("m_t", 2 / 3),
}


@dataclass(frozen=True)
class Species:
    kind: str  # "fermion", "photon" or "gluon"
    flavour: str = ""  # fermion field label, e.g. "e", "u"
    is_anti: bool = False
    mass: str | None = None
    charge: float = 0.0  # of the field (the particle), in units of e


def species(name: str) -> Species:
    if name == "a":
        return Species("photon")
    if name == "g":
        return Species("gluon")
    if name[-1] in "+-" and name[:-1] in _LEPTONS:
        m, q = _LEPTONS[name[:-1]]
        return Species("fermion", name[:-1], name[-1] == "+", m, q)
    base = name.rstrip("~")
    if base in _QUARKS:
        m, q = _QUARKS[base]
        return Species("fermion", base, name.endswith("~"), m, q)
    raise ValueError(f"unknown particle {name!r}")


# ---------------------------------------------------------------- diagram topology
@dataclass
class Line:
    """An external leg (leg = 0..n-1) or a propagator (leg = None) between two vertices."""

    name: str
    ends: tuple  # vertex ids; one for a leg, two for a propagator
    leg: int | None = None


@dataclass
class Topology:
    lines: list[Line]
    vertices: dict[int, list[int]]  # vertex id -> indices into lines
    chains: list[tuple[int, int]] = field(default_factory=list)  # (barred leg, unbarred leg)
    sign: int = 1
    flow: dict = field(default_factory=dict)  # fermion line -> (source vertex, sink vertex); None = outside


def _unit_index(coeffs) -> int:
    nz = [i for i, c in enumerate(coeffs) if c != 0]
    if len(nz) != 1 or coeffs[nz[0]] != 1:
        raise ValueError(f"external leg with momentum {coeffs} is not a single p_i")
    return nz[0]


def topology_from_feyngraph(diagram, proc: Process) -> Topology:
    lines: list[Line] = []
    for leg in list(diagram.incoming()) + list(diagram.outgoing()):
        i = _unit_index(list(leg.momentum()))
        name = leg.particle().name()
        if name != proc.legs[i]:
            raise ValueError(f"FeynGraph leg {i} is {name}, the process says {proc.legs[i]}")
        lines.append(Line(name, (leg.vertex().id(),), i))
    for prop in diagram.propagators():
        lines.append(Line(prop.particle().name(), tuple(v.id() for v in prop.vertices())))
    vertices: dict[int, list[int]] = {}
    for idx, line in enumerate(lines):
        for v in line.ends:
            vertices.setdefault(v, []).append(idx)
    return _finish(lines, vertices, proc)


def _finish(lines, vertices, proc: Process) -> Topology:
    topo = Topology(lines, vertices)
    n_in = proc.n_in
    # A fermion line "leaves the diagram" at an outgoing fermion or an incoming antifermion:
    # that end carries the barred spinor.
    for idx, line in enumerate(lines):
        sp = species(line.name)
        if line.leg is None or sp.kind != "fermion":
            continue
        incoming = line.leg < n_in
        if incoming == sp.is_anti:  # barred end: follow the chain against the fermion flow
            topo.chains.append((line.leg, _walk_chain(topo, idx)))
    # Parity of the spinor order (barred, unbarred, barred, ...) relative to increasing leg number.
    order = [leg for chain in topo.chains for leg in chain]
    perm = sorted(range(len(order)), key=lambda k: order[k])
    topo.sign = _parity(perm)
    return topo


def _walk_chain(topo: Topology, start: int) -> int:
    """Record each fermion line's flow and return the leg at the unbarred end."""
    flow = topo.flow
    line = topo.lines[start]
    flow[start] = (line.ends[0], None)  # flows out of the diagram from its vertex
    current, vertex = start, line.ends[0]
    while True:
        others = [k for k in topo.vertices[vertex] if k != current and species(topo.lines[k].name).kind == "fermion"]
        if len(others) != 1:
            raise ValueError(f"vertex {vertex} does not have exactly two fermion lines")
        nxt = others[0]
        nline = topo.lines[nxt]
        if nline.leg is not None:
            flow[nxt] = (None, vertex)
            return nline.leg
        source = nline.ends[0] if nline.ends[1] == vertex else nline.ends[1]
        flow[nxt] = (source, vertex)
        current, vertex = nxt, source


def _parity(perm) -> int:
    sign, seen = 1, [False] * len(perm)
    for i in range(len(perm)):
        if seen[i]:
            continue
        j, length = i, 0
        while not seen[j]:
            seen[j] = True
            j = perm[j]
            length += 1
        if length % 2 == 0:
            sign = -sign
    return sign


def _legs_behind(topo: Topology, line_idx: int, vertex: int) -> list[int]:
    """External legs on the side of ``vertex`` when propagator ``line_idx`` is cut."""
    seen_v, stack, legs = {vertex}, [vertex], []
    while stack:
        v = stack.pop()
        for k in topo.vertices[v]:
            if k == line_idx:
                continue
            ln = topo.lines[k]
            if ln.leg is not None:
                legs.append(ln.leg)
            for w in ln.ends:
                if w not in seen_v:
                    seen_v.add(w)
                    stack.append(w)
    return legs


# ---------------------------------------------------------------- amplitudes
@dataclass
class Kinematics:
    momenta: np.ndarray  # (n, 4) float, physical momenta, legs in process order
    masses: dict[str, float]
    n_in: int
    couplings: dict[str, float]

    def inflow(self, leg: int) -> np.ndarray:
        """Momentum flowing into the diagram through a leg."""
        return self.momenta[leg] if leg < self.n_in else -self.momenta[leg]

    def mass(self, symbol):
        return 0.0 if symbol is None else float(self.masses.get(symbol, 0.0))


def kinematics_from_point(point, n_in: int) -> Kinematics:
    vals = point.values()
    return Kinematics(
        momenta=np.array([[float(x) for x in p] for p in point.momenta]),
        masses={k: float(v) for k, v in point.masses.items()},
        n_in=n_in,
        couplings={"e": float(vals["e"]), "g_s": float(vals["g_s"])},
    )


class _Network:
    """Operands and integer index labels for one np.einsum call."""

    def __init__(self):
        self.args: list = []
        self.next_label = 0

    def label(self) -> int:
        self.next_label += 1
        return self.next_label - 1

    def add(self, tensor, labels):
        self.args += [np.asarray(tensor), list(labels)]

    def contract(self, output):
        if not self.args:
            return np.ones(())
        return np.einsum(*self.args, list(output), optimize="greedy")


def _three_gluon_lorentz(k1, k2, k3) -> np.ndarray:
    """Lorentz part of the three-gluon vertex (all momenta incoming, upper indices)."""
    g = np.linalg.inv(METRIC)  # g^{mu nu}
    return np.einsum("mn,r->mnr", g, k1 - k2) + np.einsum("nr,m->mnr", g, k2 - k3) + np.einsum("rm,n->mnr", g, k3 - k1)


def _four_gluon_terms():
    """(colour pairing, Lorentz tensor) of the three terms of the four-gluon vertex.

    Term (a b | c d) means f^{abe} f^{cde}; the Lorentz tensor has indices (mu, nu, rho, sigma)
    of lines (1, 2, 3, 4) and multiplies -i g_s^2.
    """
    g = np.linalg.inv(METRIC)
    gg = lambda i, j, k, l: np.einsum("ab,cd->abcd", g, g).transpose(np.argsort([i, j, k, l]))  # noqa: E731
    # gg(i,j,k,l) = g^{x_i x_j} g^{x_k x_l} with x = (mu, nu, rho, sigma)
    return [
        ((0, 1, 2, 3), gg(0, 2, 1, 3) - gg(0, 3, 1, 2)),
        ((0, 2, 1, 3), gg(0, 1, 2, 3) - gg(0, 3, 1, 2)),
        ((0, 3, 1, 2), gg(0, 1, 2, 3) - gg(0, 2, 1, 3)),
    ]


@dataclass
class Term:
    diagram: int
    colour: np.ndarray  # over the colour indices of the coloured legs, in leg order
    lorentz: np.ndarray  # over the polarisation index of every leg, in leg order


class BruteForce:
    """Numeric tree amplitudes of one process from explicit Feynman rules."""

    def __init__(self, process, theory: str = "qed"):
        self.proc = process if isinstance(process, Process) else parse_process(process, theory)
        self.theory = self.proc.theory
        self.topologies = [topology_from_feyngraph(d, self.proc) for d in generate_feyngraph_diagrams(self.proc)]
        self.leg_species = [species(n) for n in self.proc.legs]
        self._colour_matrix = None

    # -------------------------------------------------------------- external states
    def external_states(self, kin: Kinematics, pols: str = "physical", overrides=None):
        """Per leg: spinors (2, 4) or covariant polarisation vectors (n_pol, 4).

        pols: "physical" (2 transverse), "feynman" (4 unit vectors, summed with -g weights).
        overrides: {leg: array (n_pol, 4) of contravariant vectors} replaces a vector's polarisations.
        """
        out = []
        for i, sp in enumerate(self.leg_species):
            p, incoming = kin.momenta[i], i < self.proc.n_in
            if sp.kind == "fermion":
                m = kin.mass(sp.mass)
                if incoming:
                    out.append(bar(spinors_v(p, m)) if sp.is_anti else spinors_u(p, m))
                else:
                    out.append(spinors_v(p, m) if sp.is_anti else bar(spinors_u(p, m)))
                continue
            if overrides and i in overrides:
                eps = np.asarray(overrides[i], dtype=complex)
            elif pols == "feynman":
                eps = FEYNMAN_BASIS.astype(complex)
            else:
                eps = transverse_polarisations(p).astype(complex)
            if not incoming:
                eps = eps.conj()
            out.append(eps @ METRIC)  # lower the index
        return out

    def terms(self, kin: Kinematics, pols: str = "physical", overrides=None) -> list[Term]:
        states = self.external_states(kin, pols, overrides)
        terms = []
        for d, topo in enumerate(self.topologies):
            terms += self._diagram_terms(d, topo, kin, states)
        return terms

    def _diagram_terms(self, d: int, topo: Topology, kin: Kinematics, states) -> list[Term]:
        n = len(self.proc.legs)
        flow = topo.flow
        e, gs = kin.couplings["e"], kin.couplings["g_s"]
        four_vertices = [v for v, ls in topo.vertices.items() if len(ls) == 4]
        terms = []
        for choice in itertools.product(range(3), repeat=len(four_vertices)):
            lor, col = _Network(), _Network()
            hel = [lor.label() for _ in range(n)]
            colour_out = []
            # Each line gets a Lorentz/Dirac label at each of its vertex ends and one colour label.
            end_label = {}
            colour_label = {}
            for k, line in enumerate(topo.lines):
                for v in line.ends:
                    end_label[(k, v)] = lor.label()
                colour_label[k] = col.label()
                sp = species(line.name)
                if line.leg is not None:
                    lor.add(states[line.leg], [hel[line.leg], end_label[(k, line.ends[0])]])
                    if sp.kind == "gluon" or (sp.kind == "fermion" and self.theory == "qcd"):
                        colour_out.append((line.leg, colour_label[k]))
                    continue
                a, b = line.ends
                if sp.kind in ("photon", "gluon"):
                    kvec = self._cut_momentum(topo, k, a, kin)
                    lor.add(-1j * METRIC / (kvec @ METRIC @ kvec), [end_label[(k, a)], end_label[(k, b)]])
                else:
                    source, sink = flow[k]
                    kvec = self._cut_momentum(topo, k, source, kin)  # along the fermion flow
                    m = kin.mass(sp.mass)
                    prop = 1j * (slash(kvec) + m * np.eye(4)) / (kvec @ METRIC @ kvec - m * m)
                    lor.add(prop, [end_label[(k, sink)], end_label[(k, source)]])
            four_choice = dict(zip(four_vertices, choice))
            for v, ls in topo.vertices.items():
                kinds = [species(topo.lines[k].name).kind for k in ls]
                if len(ls) == 3 and kinds.count("fermion") == 2:
                    fermions = [k for k in ls if species(topo.lines[k].name).kind == "fermion"]
                    (vec,) = [k for k in ls if k not in fermions]
                    out_line = [k for k in fermions if flow[k][0] == v]
                    in_line = [k for k in fermions if flow[k][1] == v]
                    if len(out_line) != 1 or len(in_line) != 1:
                        raise ValueError(f"fermion flow through vertex {v} is broken")
                    fo, fi = out_line[0], in_line[0]
                    vsp = species(topo.lines[vec].name)
                    if vsp.kind == "photon":
                        coupling = -1j * e * species(topo.lines[fo].name).charge
                    else:
                        coupling = -1j * gs
                        col.add(T_SU3, [colour_label[vec], colour_label[fo], colour_label[fi]])
                    lor.add(coupling * GAMMA, [end_label[(vec, v)], end_label[(fo, v)], end_label[(fi, v)]])
                elif len(ls) == 3 and kinds == ["gluon"] * 3:
                    ks = [self._inflow_at(topo, k, v, kin) for k in ls]
                    lor.add(-gs * _three_gluon_lorentz(*ks), [end_label[(k, v)] for k in ls])
                    col.add(F_SU3, [colour_label[k] for k in ls])
                elif len(ls) == 4 and kinds == ["gluon"] * 4:
                    pairing, tensor = _four_gluon_terms()[four_choice[v]]
                    lor.add(-1j * gs * gs * tensor, [end_label[(k, v)] for k in ls])
                    inner = col.label()
                    a1, b1, c1, d1 = (colour_label[ls[j]] for j in pairing)
                    col.add(F_SU3, [a1, b1, inner])
                    col.add(F_SU3, [c1, d1, inner])
                else:
                    raise ValueError(f"no Feynman rule for a vertex of {[topo.lines[k].name for k in ls]}")
            lorentz = topo.sign * lor.contract(hel)
            colour = col.contract([lab for _, lab in sorted(colour_out)])
            terms.append(Term(d, np.asarray(colour, dtype=complex), lorentz))
        return terms

    @staticmethod
    def _cut_momentum(topo, k, vertex, kin) -> np.ndarray:
        """Momentum through propagator k, flowing out of the side holding ``vertex``."""
        return sum((kin.inflow(leg) for leg in _legs_behind(topo, k, vertex)), np.zeros(4))

    def _inflow_at(self, topo, k, vertex, kin) -> np.ndarray:
        line = topo.lines[k]
        if line.leg is not None:
            return kin.inflow(line.leg)
        other = line.ends[0] if line.ends[1] == vertex else line.ends[1]
        return self._cut_momentum(topo, k, other, kin)

    # -------------------------------------------------------------- squared sums
    def average_factor(self) -> float:
        factor = 1.0
        for sp in self.leg_species[: self.proc.n_in]:
            factor /= 2
            if self.theory == "qcd":
                factor /= 3 if sp.kind == "fermion" else 8 if sp.kind == "gluon" else 1
        for count in Counter(self.proc.outgoing).values():
            factor /= math.factorial(count)
        return factor

    def _pair_sums(self, terms: list[Term], weights) -> np.ndarray:
        """Matrix over term pairs of sum_{colours} C C'^* * sum_{helicities} w L L'^*."""
        if self._colour_matrix is None:  # colour factors do not depend on the point
            colours = np.array([t.colour.reshape(-1) for t in terms])
            if not colours.imag.any():  # pure-gluon colour factors are real: 4x cheaper
                colours = np.ascontiguousarray(colours.real)
            self._colour_matrix = colours @ colours.conj().T
        lorentz = np.array([t.lorentz.reshape(-1) for t in terms])
        return self._colour_matrix * ((lorentz * weights) @ lorentz.conj().T)

    def _weights(self, pols: str) -> np.ndarray:
        w = np.ones(())
        for sp in self.leg_species:
            if sp.kind == "fermion":
                w = np.multiply.outer(w, np.ones(2))
            else:
                w = np.multiply.outer(w, FEYNMAN_WEIGHTS if pols == "feynman" else np.ones(2))
        return w.reshape(-1)

    def squared_per_diagram(self, kin: Kinematics) -> list[float]:
        """|M_d|^2 with -g polarisation sums, averaged, with 1/k!, in FeynGraph's order."""
        terms = self.terms(kin, "feynman")
        pair = self._pair_sums(terms, self._weights("feynman"))
        diag = np.array([t.diagram for t in terms])
        out = []
        for d in range(len(self.topologies)):
            sel = diag == d
            out.append(float(np.real(pair[np.ix_(sel, sel)].sum())) * self.average_factor())
        return out

    def squared_process(self, kin: Kinematics, overrides=None) -> float:
        """|sum_d M_d|^2 with physical polarisations, averaged, with 1/k!."""
        terms = self.terms(kin, "physical", overrides)
        return float(np.real(self._pair_sums(terms, self._weights("physical")).sum())) * self.average_factor()

    def amplitude(self, kin: Kinematics, pols: str = "physical", overrides=None) -> np.ndarray:
        """The whole amplitude: axes (polarisation of each leg..., colour of each coloured leg...)."""
        total = None
        for t in self.terms(kin, pols, overrides):
            piece = np.multiply.outer(t.lorentz, t.colour)
            total = piece if total is None else total + piece
        return total

    def diagram_amplitudes(self, kin: Kinematics, pols: str = "physical", overrides=None) -> list[np.ndarray]:
        """Per diagram, the amplitude over (polarisations..., colours...)."""
        out = [None] * len(self.topologies)
        for t in self.terms(kin, pols, overrides):
            piece = np.multiply.outer(t.lorentz, t.colour)
            out[t.diagram] = piece if out[t.diagram] is None else out[t.diagram] + piece
        return out


# ---------------------------------------------------------------- numeric contraction of amplitude strings
_MASS_OF_LABEL = {**{k: v[0] for k, v in _LEPTONS.items()}, **{k: v[0] for k, v in _QUARKS.items()}}


@dataclass
class _Tensor:
    data: np.ndarray
    idx: tuple  # one name per axis; repeated names between factors are summed over


def _product(factors: list[_Tensor]) -> _Tensor:
    """Contract a product: an index named in two factors is summed over (Lorentz ones with g_{mu nu})."""
    counts = Counter(n for f in factors for n in f.idx)
    if any(c > 2 for c in counts.values()):
        raise ValueError(f"an index appears more than twice in one product: {counts}")
    labels: dict[str, int] = {}
    label = lambda n: labels.setdefault(n, len(labels))  # noqa: E731
    args, seen = [], set()
    for f in factors:
        names = []
        for n in f.idx:
            if n in seen and n.startswith("mu"):  # both upper: contract through g_{mu nu}
                args += [METRIC, [label(n), label(n + "'")]]
                n = n + "'"
            seen.add(n)
            names.append(n)
        args += [f.data, [label(n) for n in names]]
    out = tuple(n for n in dict.fromkeys(n for f in factors for n in f.idx) if counts[n] == 1)
    return _Tensor(np.einsum(*args, [labels[n] for n in out], optimize="greedy"), out)


def _add(terms: list[_Tensor]) -> _Tensor:
    first = terms[0]
    total = first.data.copy()
    for t in terms[1:]:
        if set(t.idx) != set(first.idx):
            raise ValueError(f"adding tensors with indices {t.idx} and {first.idx}")
        total = total + np.transpose(t.data, [t.idx.index(n) for n in first.idx])
    return _Tensor(total, first.idx)


class AmplitudeEvaluator:
    """Numeric value of an amplitude string (grammar: symba.physics.amplitude_syntax).

    The result has one axis per leg (its spin or polarisation, in the basis of
    BruteForce.external_states) followed by one colour axis per coloured leg,
    so it can be compared entry by entry with BruteForce.diagram_amplitudes.
    """

    def __init__(self, brute: BruteForce, kin: Kinematics, pols: str = "physical", overrides=None):
        self.brute, self.kin = brute, kin
        self.pols, self.overrides = pols, overrides or {}
        self.n = len(brute.proc.legs)

    def __call__(self, text: str) -> np.ndarray:
        from symba.physics.amplitude_syntax import parse

        value = self._eval(parse(text))
        order = [f"H{k}" for k in range(self.n)] + [f"C{k}" for k in range(self.n) if f"C{k}" in value.idx]
        if set(order) != set(value.idx):
            raise ValueError(f"amplitude leaves indices {value.idx} free")
        return np.transpose(value.data, [value.idx.index(n) for n in order])

    def _scalar(self, name: str):
        if name == "i":
            return 1j
        if name in ("e", "g_s"):
            return self.kin.couplings[name]
        if name.startswith("m_"):
            return self.kin.mass(name)
        if name.startswith("s_") and len(name) == 4:
            i, j = int(name[2]) - 1, int(name[3]) - 1
            return self.kin.momenta[i] @ METRIC @ self.kin.momenta[j]
        raise ValueError(f"unknown scalar {name!r}")

    def _momentum(self, node) -> np.ndarray:
        """A signed sum of physical momenta p_k."""
        if node.op == "name" and node.value.startswith("p_"):
            return self.kin.momenta[int(node.value[2:]) - 1]
        if node.op == "+":
            return sum((self._momentum(a) for a in node.args), np.zeros(4))
        if node.op == "neg":
            return -self._momentum(node.args[0])
        if node.op == "*" and len(node.args) == 2 and node.args[0].op == "num":
            return float(node.args[0].value) * self._momentum(node.args[1])
        raise ValueError(f"not a sum of momenta: {node}")

    def _eval(self, node) -> _Tensor:
        op = node.op
        if op == "num":
            return _Tensor(np.array(float(node.value)), ())
        if op == "name":
            return _Tensor(np.array(self._scalar(node.value)), ())
        if op == "neg":
            t = self._eval(node.args[0])
            return _Tensor(-t.data, t.idx)
        if op == "+":
            return _add([self._eval(a) for a in node.args])
        if op == "*":
            return _product([self._eval(a) for a in node.args])
        if op == "/":
            num, den = self._eval(node.args[0]), self._eval(node.args[1])
            if den.idx:
                raise ValueError("division by a tensor")
            return _Tensor(num.data / den.data, num.idx)
        if op == "^":
            base, power = self._eval(node.args[0]), self._eval(node.args[1])
            return _Tensor(base.data**power.data, ())
        return self._call(node)

    def _call(self, node) -> _Tensor:
        name, args = node.value, node.args
        idx = lambda k: args[k].value  # noqa: E731  index names are plain names
        if name in ("u", "v", "ubar", "vbar"):
            leg = int(args[1].value[2:]) - 1
            p, m = self.kin.momenta[leg], self.kin.mass(_MASS_OF_LABEL[args[0].value])
            spin = {
                "u": lambda: spinors_u(p, m),
                "v": lambda: spinors_v(p, m),
                "ubar": lambda: bar(spinors_u(p, m)),
                "vbar": lambda: bar(spinors_v(p, m)),
            }[name]()
            t = _Tensor(spin, (f"H{leg}", idx(2)))
            if len(args) == 4:
                t = _Tensor(np.multiply.outer(t.data, np.eye(3)), t.idx + (f"C{leg}", idx(3)))
            return t
        if name in ("eps", "epsc"):
            leg = int(args[1].value[2:]) - 1
            if leg in self.overrides:
                vecs = np.asarray(self.overrides[leg], dtype=complex)
            elif self.pols == "feynman":
                vecs = FEYNMAN_BASIS.astype(complex)
            else:
                vecs = transverse_polarisations(self.kin.momenta[leg]).astype(complex)
            t = _Tensor(vecs.conj() if name == "epsc" else vecs, (f"H{leg}", idx(2)))
            if len(args) == 4:
                t = _Tensor(np.multiply.outer(t.data, np.eye(8)), t.idx + (f"C{leg}", idx(3)))
            return t
        tables = {
            "gamma": lambda: GAMMA,
            "slash": lambda: slash(self._momentum(args[0])),
            "one": lambda: np.eye(4),
            "metric": lambda: np.linalg.inv(METRIC),
            "mom": lambda: self._momentum(args[0]),
            "T": lambda: T_SU3,
            "f": lambda: F_SU3,
        }
        if name not in tables:
            raise ValueError(f"unknown tensor object {name!r}")
        first_index = 1 if name in ("slash", "mom") else 0
        return _Tensor(np.asarray(tables[name](), dtype=complex), tuple(idx(k) for k in range(first_index, len(args))))
