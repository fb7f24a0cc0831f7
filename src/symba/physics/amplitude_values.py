"""The numeric value of amplitude text at a random point, to tell whether two texts are one amplitude.

Used by :mod:`.canonical` to check a rewrite (and to restore the engine's form of a diagram
that another program wrote with the Dirac equation applied).  Every external wavefunction
is a random vector that still obeys what the algebra may have used:

* spinors solve the Dirac equation: ``u = (p-slash + m) xi``, ``v = (p-slash - m) xi``,
  ``ubar = eta (p-slash + m)``, ``vbar = eta (p-slash - m)``, with random xi, eta;
* polarisations are transverse, ``eps(p).p = 0``;
* colour wavefunctions are random triplets and octets.

An amplitude is then one complex number per point, and random wavefunctions stand for all
helicities and colours at once: two texts of one diagram agree at every point, two different
diagrams do not.  Legs are put on shell even where the process has no phase space.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .amplitude_syntax import Node
from .kinematics import random_point
from .numeric_square import F_SU3, METRIC, T_SU3  # one copy of the metric and the SU(3) generators
from .process import Process

MAX_FREE_INDICES = 8  # a diagram's sub-products leave a few open; more means text that is no diagram
# Chiral (Weyl) basis, which random_value_point's spinors are built in; numeric_square's GAMMA is the Dirac basis.
_S = [
    np.eye(2, dtype=complex),
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.array([[1, 0], [0, -1]], dtype=complex),
]
_Z = np.zeros((2, 2), dtype=complex)
GAMMA = np.array([np.block([[_Z, _S[0]], [_S[0], _Z]])] + [np.block([[_Z, s], [-s, _Z]]) for s in _S[1:]])


class AmplitudeValueError(ValueError):
    """Text this module cannot evaluate (an unknown symbol or object, a malformed index structure)."""


@dataclass
class ValuePoint:
    """Momenta, masses and external wavefunctions of one random point."""

    momenta: np.ndarray  # (n, 4), physical momenta in process order, on shell
    masses: dict[str, float]
    couplings: dict[str, float]
    leg_masses: list[float]
    xi: np.ndarray  # (n, 4) complex: the random vector each leg's spinor is built from
    eps: np.ndarray  # (n, 4) complex, transverse
    triplet: np.ndarray  # (n, 3) complex
    octet: np.ndarray  # (n, 8) complex


def random_value_point(proc: Process, seed: int) -> ValuePoint:

    point = random_point(proc.leg_masses(), proc.n_in, seed=seed)
    momenta = np.array([[float(x) for x in p] for p in point.momenta])
    masses = {k: float(v) for k, v in point.masses.items()}
    leg_masses = [masses.get(m, 0.0) if m else 0.0 for m in proc.leg_masses()]
    for k, m in enumerate(leg_masses):  # on shell, also where there is no phase space
        momenta[k, 0] = math.sqrt(m * m + float(momenta[k, 1:] @ momenta[k, 1:]))
    rng = np.random.default_rng(seed)
    n = len(leg_masses)

    def cplx(*shape):
        return rng.normal(size=shape) + 1j * rng.normal(size=shape)

    eps = cplx(n, 4)
    for k in range(n):  # remove the part along p with a light-like reference: eps.p = 0
        p = momenta[k]
        ref = np.array([1.0, -p[1], -p[2], -p[3]]) / max(np.linalg.norm(p[1:]), 1e-12)
        ref[0] = np.linalg.norm(ref[1:])
        eps[k] -= (eps[k] @ METRIC @ p) / (ref @ METRIC @ p) * ref
    return ValuePoint(momenta, masses, {"e": 0.3, "g_s": 1.1}, leg_masses, cplx(n, 4), eps, cplx(n, 3), cplx(n, 8))


@dataclass
class _Tensor:
    data: np.ndarray
    idx: tuple[str, ...]


def _product(factors: list[_Tensor]) -> _Tensor:
    counts: dict[str, int] = {}
    for f in factors:
        for name in f.idx:
            counts[name] = counts.get(name, 0) + 1
    if any(c > 2 for c in counts.values()):
        raise AmplitudeValueError("an index appears more than twice in one product")
    labels: dict[str, int] = {}
    args: list = []
    seen: set[str] = set()
    for f in factors:
        names = []
        for name in f.idx:
            if name in seen and name.startswith("mu"):  # two upper Lorentz indices: contract through g
                args += [METRIC, [labels.setdefault(name, len(labels)), labels.setdefault(name + "'", len(labels))]]
                name += "'"
            seen.add(name)
            names.append(labels.setdefault(name, len(labels)))
        args += [f.data, names]
    free = tuple(n for n in dict.fromkeys(n for f in factors for n in f.idx) if counts[n] == 1)
    if len(labels) > 52 or len(free) > MAX_FREE_INDICES:  # bounds memory: 8**8 entries at most
        raise AmplitudeValueError("too many indices in one product")
    return _Tensor(np.einsum(*args, [labels[n] for n in free], optimize="greedy"), free)


class _Evaluator:
    def __init__(self, point: ValuePoint):
        self.p = point

    def momentum(self, node: Node) -> np.ndarray:
        if node.op == "name" and node.value.startswith("p_") and node.value[2:].isdigit():
            return self.p.momenta[self._leg(node)]
        if node.op == "+":
            return sum((self.momentum(a) for a in node.args), np.zeros(4))
        if node.op == "neg":
            return -self.momentum(node.args[0])
        if node.op == "*" and len(node.args) == 2 and node.args[0].op == "num":
            return float(node.args[0].value) * self.momentum(node.args[1])
        raise AmplitudeValueError(f"not a sum of momenta: {node}")

    def _leg(self, node: Node) -> int:
        leg = int(node.value[2:]) - 1 if node.op == "name" and node.value[2:].isdigit() else -1
        if not 0 <= leg < len(self.p.leg_masses):
            raise AmplitudeValueError(f"no leg {node}")
        return leg

    def scalar(self, name: str) -> complex:
        if name == "i":
            return 1j
        if name in self.p.couplings:
            return self.p.couplings[name]
        if name in self.p.masses:
            return self.p.masses[name]
        if name.startswith("m_"):
            raise AmplitudeValueError(f"mass {name} of no leg of the process")
        if name.startswith("s_") and len(name) == 4 and name[2:].isdigit():
            i, j = int(name[2]) - 1, int(name[3]) - 1
            if max(i, j) < len(self.p.leg_masses):
                return self.p.momenta[i] @ METRIC @ self.p.momenta[j]
        raise AmplitudeValueError(f"unknown symbol {name!r}")

    def __call__(self, node: Node) -> _Tensor:
        op = node.op
        if op == "num":
            return _Tensor(np.array(complex(float(node.value))), ())
        if op == "name":
            return _Tensor(np.array(complex(self.scalar(node.value))), ())
        if op == "neg":
            t = self(node.args[0])
            return _Tensor(-t.data, t.idx)
        if op == "+":
            terms = [self(a) for a in node.args]
            first = terms[0]
            total = first.data.copy()
            for t in terms[1:]:
                if set(t.idx) != set(first.idx):
                    raise AmplitudeValueError("a sum of terms with different free indices")
                total = total + np.transpose(t.data, [t.idx.index(n) for n in first.idx])
            return _Tensor(total, first.idx)
        if op == "*":
            return _product([self(a) for a in node.args])
        if op in ("/", "^"):
            a, b = self(node.args[0]), self(node.args[1])
            if b.idx or (op == "^" and a.idx):
                raise AmplitudeValueError(f"a tensor in a {'quotient' if op == '/' else 'power'}")
            return _Tensor(a.data / b.data if op == "/" else a.data**b.data.real, a.idx)
        return self.call(node)

    def call(self, node: Node) -> _Tensor:
        name, args = node.value, node.args
        if any(a.op != "name" for a in args[1:]):
            raise AmplitudeValueError(f"{name}() with an index that is not a name")
        idx = [a.value for a in args]
        if name in ("u", "v", "ubar", "vbar", "eps", "epsc"):
            leg = self._leg(args[1])
            if name in ("eps", "epsc"):
                vec = self.p.eps[leg].conj() if name == "epsc" else self.p.eps[leg]
                colour = self.p.octet[leg]
            else:
                p, m = self.p.momenta[leg], self.p.leg_masses[leg]
                pslash = np.einsum("mab,m->ab", GAMMA, METRIC @ p)
                mat = pslash + (m if name in ("u", "ubar") else -m) * np.eye(4)
                xi = self.p.xi[leg]
                vec = mat @ xi if name in ("u", "v") else xi @ mat
                colour = self.p.triplet[leg].conj() if name in ("ubar", "vbar") else self.p.triplet[leg]
            t = _Tensor(vec, (idx[2],))
            if len(args) == 4:
                t = _Tensor(np.multiply.outer(vec, colour), (idx[2], idx[3]))
            return t
        if name == "slash":
            return _Tensor(np.einsum("mab,m->ab", GAMMA, METRIC @ self.momentum(args[0])), (idx[1], idx[2]))
        if name == "mom":
            return _Tensor(self.momentum(args[0]).astype(complex), (idx[1],))
        tables = {"gamma": GAMMA, "one": np.eye(4), "metric": METRIC, "T": T_SU3, "f": F_SU3}
        if name not in tables:
            raise AmplitudeValueError(f"unknown object {name}()")
        return _Tensor(np.asarray(tables[name], dtype=complex), tuple(idx))


def amplitude_value(node: Node, point: ValuePoint) -> complex:
    """The value of a parsed amplitude (no free index may remain)."""
    out = _Evaluator(point)(node)
    if out.idx:
        raise AmplitudeValueError(f"the amplitude leaves indices {', '.join(out.idx)} free")
    return complex(out.data)


def value_points(proc: Process, count: int = 2) -> list[ValuePoint]:
    return [random_value_point(proc, seed=1000 + k) for k in range(count)]


def same_up_to_sign(a: list[complex], b: list[complex], rtol: float = 1e-7) -> int:
    """+1 or -1 when the values a equal +-b at every point, 0 otherwise."""
    for sign in (1, -1):
        if all(abs(x - sign * y) <= rtol * max(abs(x), abs(y), 1e-300) for x, y in zip(a, b)):
            if any(abs(y) > 0 for y in b):
                return sign
    return 0
