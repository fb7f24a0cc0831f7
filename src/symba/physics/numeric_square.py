"""The spin-summed square of an amplitude's text, evaluated numerically at one phase-space point.

No symbolic engine: the amplitude (:mod:`symba.physics.amplitude_syntax`) is read by the
project's parser and evaluated as a tensor network in numpy, with explicit Dirac matrices (Dirac
basis), spinors, polarisation vectors and SU(3) generators.  Every external leg keeps an open
state index (spin, polarisation, colour); the square is the weighted sum of |M|^2 over them,
with the averages and identical-particle factors of docs/physics.md section 3:

- per-diagram rows: Feynman-gauge polarisation sums ``-g_{mu nu}`` (four unit vectors, weights
  ``-g_{ll}``), the dataset's convention;
- whole-process rows: physical (transverse) polarisations.

Lorentz indices are all upper in the syntax and contracted with the metric.  Each occurrence of
an index is scaled by ``ETA = (1, i, i, i)``, so that a plain sum over a repeated index gives
``a^0 b^0 - a.b``; a fully contracted amplitude is then exactly its value.

This module is the library's own evaluator; ``tests/physics/bruteforce.py`` is the tests'
independent one (chiral basis, its own diagrams) and must not import it.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from .amplitude_syntax import INDEX_RE, Node

MAX_EINSUM_LABELS = 50  # numpy's einsum has 52 letters; a product with more is refused
MAX_NODES = 200_000  # amplitude tree nodes evaluated per point: bounds time on huge inputs

ETA = np.array([1.0, 1j, 1j, 1j])
METRIC = np.diag([1.0, -1.0, -1.0, -1.0])

_I2 = np.eye(2, dtype=complex)
_PAULI = [
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.array([[1, 0], [0, -1]], dtype=complex),
]
_Z = np.zeros((2, 2), dtype=complex)
# Dirac basis: gamma^0 = diag(1, 1, -1, -1), gamma^k = [[0, sigma^k], [-sigma^k, 0]].
GAMMA = np.array(
    [np.block([[_I2, _Z], [_Z, -_I2]])] + [np.block([[_Z, s], [-s, _Z]]) for s in _PAULI]
)  # GAMMA[mu] = gamma^mu


def _su3():
    lam = np.zeros((8, 3, 3), dtype=complex)
    for k, (i, j) in enumerate([(0, 1), (0, 2), (1, 2)]):  # symmetric and antisymmetric pairs
        sym, asym = (0, 3, 5)[k], (1, 4, 6)[k]
        lam[sym][i, j] = lam[sym][j, i] = 1
        lam[asym][i, j], lam[asym][j, i] = -1j, 1j
    lam[2] = np.diag([1, -1, 0])
    lam[7] = np.diag([1, 1, -2]) / math.sqrt(3)
    t = lam / 2
    # f^{abc} = -2i tr([T^a, T^b] T^c), from [T^a, T^b] = i f^{abc} T^c and tr(T^a T^b) = delta/2
    comm = np.einsum("aij,bjk->abik", t, t) - np.einsum("bij,ajk->abik", t, t)
    return t, np.real(-2j * np.einsum("abik,cki->abc", comm, t))


T_SU3, F_SU3 = _su3()


class NumericSquareError(ValueError):
    """The amplitude cannot be evaluated (unknown object, malformed index structure, too large)."""


# ---------------------------------------------------------------- external states
def slash(k) -> np.ndarray:
    k = np.asarray(k, dtype=complex)
    return GAMMA[0] * k[0] - GAMMA[1] * k[1] - GAMMA[2] * k[2] - GAMMA[3] * k[3]


def _sigma_dot(vec) -> np.ndarray:
    return vec[0] * _PAULI[0] + vec[1] * _PAULI[1] + vec[2] * _PAULI[2]


def spinors_u(p, m: float) -> np.ndarray:
    """u^s(p), shape (2, 4): sqrt(E+m) (chi, sigma.p/(E+m) chi) in the Dirac basis."""
    e = float(p[0])
    norm = math.sqrt(e + m)
    lower = _sigma_dot(p[1:]) / (e + m)
    return np.array([norm * np.concatenate([chi, lower @ chi]) for chi in _I2])


def spinors_v(p, m: float) -> np.ndarray:
    """v^s(p), shape (2, 4): sqrt(E+m) (sigma.p/(E+m) eta, eta)."""
    e = float(p[0])
    norm = math.sqrt(e + m)
    upper = _sigma_dot(p[1:]) / (e + m)
    return np.array([norm * np.concatenate([upper @ eta, eta]) for eta in _I2])


def bar(spinors: np.ndarray) -> np.ndarray:
    return spinors.conj() @ GAMMA[0]


def transverse_polarisations(k) -> np.ndarray:
    """Two real, purely spatial polarisation vectors orthogonal to k's direction, shape (2, 4)."""
    n = np.asarray(k[1:], dtype=float)
    n = n / np.linalg.norm(n)
    trial = np.eye(3)[int(np.argmin(np.abs(n)))]
    e1 = trial - (trial @ n) * n
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(n, e1)
    return np.array([np.concatenate([[0.0], e1]), np.concatenate([[0.0], e2])])


FEYNMAN_WEIGHTS = np.array([-1.0, 1.0, 1.0, 1.0])  # -g_{ll}: sum_l w_l e_l^mu e_l^nu = -g^{mu nu}


# ---------------------------------------------------------------- evaluation
@dataclass(frozen=True)
class Leg:
    momentum: np.ndarray  # physical four-momentum (float)
    mass: float
    incoming: bool
    fermion: bool
    name: str


@dataclass
class _Tensor:
    array: np.ndarray
    labels: tuple  # index names; external state labels start with "#"


SPINORS = ("u", "v", "ubar", "vbar")
EXTERNAL_OBJECTS = SPINORS + ("eps", "epsc")


def _state_label(kind: str, leg: int) -> str:
    return f"#{kind}{leg}"


def _sum_tensors(terms: list[_Tensor]) -> _Tensor:
    first = terms[0]
    total = first.array.copy()
    for t in terms[1:]:
        if set(t.labels) != set(first.labels) or len(t.labels) != len(first.labels):
            raise NumericSquareError("terms of a sum have different free indices")
        total = total + np.transpose(t.array, [t.labels.index(x) for x in first.labels])
    return _Tensor(total, first.labels)


class _Evaluator:
    def __init__(self, legs: list[Leg], scalars: dict[str, complex], physical: bool):
        self.legs, self.scalars, self.physical = legs, scalars, physical
        self.weights: dict[str, np.ndarray] = {}  # state label -> weights of its states
        self.colour: dict[str, int] = {}  # colour state label -> dimension
        self.nodes = 0
        self.alias: dict[str, str] = {}  # external colour index -> its leg's colour state label

    # -- scalars and momenta
    def momentum(self, node: Node) -> np.ndarray:
        """A signed sum of momenta, e.g. ``p_1 - p_3``."""
        op = node.op
        if op == "name":
            return self.legs[self._leg(node)].momentum.astype(complex)
        if op == "+":
            return sum(self.momentum(a) for a in node.args)
        if op == "neg":
            return -self.momentum(node.args[0])
        if op == "*":
            vecs = [a for a in node.args if not _is_number(a)]
            if len(vecs) != 1:
                raise NumericSquareError("a momentum must be a signed sum of p_i")
            coef = np.prod([float(a.value) for a in node.args if _is_number(a)])
            return coef * self.momentum(vecs[0])
        if op == "num" and node.value == 0:
            return np.zeros(4, dtype=complex)
        raise NumericSquareError(f"cannot read a momentum from {op!r}")

    def _leg(self, node: Node) -> int:
        name = node.value if node.op == "name" else ""
        if not (isinstance(name, str) and name.startswith("p_") and name[2:].isdigit()):
            raise NumericSquareError(f"expected a momentum p_i, found {node}")
        k = int(name[2:])
        if not 1 <= k <= len(self.legs):
            raise NumericSquareError(f"momentum {name} of a process with {len(self.legs)} legs")
        return k - 1

    def _index(self, node: Node) -> str:
        if node.op != "name" or not INDEX_RE.match(node.value):
            raise NumericSquareError(f"expected an index name, found {node}")
        return self.alias.get(node.value, node.value)

    def collect_aliases(self, term: Node) -> None:
        """Colour indices of external legs in one term (diagram) name their legs' colour states:
        renaming beats multiplying by a delta (a 3x3 or 8x8 outer product per leg)."""
        self.alias = {}
        stack = [term]
        while stack:
            node = stack.pop()
            if node.op == "call" and node.value in EXTERNAL_OBJECTS and len(node.args) == 4:
                index, leg = node.args[3], self._leg(node.args[1])
                if index.op == "name" and index.value not in self.alias:
                    self.alias[index.value] = _state_label("c", leg)
                    self.colour[_state_label("c", leg)] = 3 if node.value in SPINORS else 8
            stack.extend(node.args)

    # -- tensors
    def eval(self, node: Node) -> _Tensor:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise NumericSquareError(f"amplitude larger than {MAX_NODES} nodes")
        op = node.op
        if op == "num":
            return _Tensor(np.array(complex(node.value)), ())
        if op == "name":
            if node.value not in self.scalars:
                raise NumericSquareError(f"no value for symbol {node.value!r}")
            return _Tensor(np.array(complex(self.scalars[node.value])), ())
        if op == "neg":
            t = self.eval(node.args[0])
            return _Tensor(-t.array, t.labels)
        if op == "+":
            return _sum_tensors([self.eval(a) for a in node.args])
        if op == "*":
            return self._product([self.eval(a) for a in node.args])
        if op == "/":
            num, den = self.eval(node.args[0]), self.eval(node.args[1])
            if den.labels:
                raise NumericSquareError("division by a tensor")
            if den.array == 0:
                raise NumericSquareError("division by zero")
            return _Tensor(num.array / den.array, num.labels)
        if op == "^":
            base, exp = self.eval(node.args[0]), self.eval(node.args[1])
            if base.labels or exp.labels or exp.array.imag != 0 or exp.array.real != int(exp.array.real):
                raise NumericSquareError("only scalars are raised to integer powers")
            return _Tensor(base.array ** int(exp.array.real), ())
        if op == "call":
            return self._call(node)
        raise NumericSquareError(f"unknown node {op!r}")

    def _product(self, factors: list[_Tensor]) -> _Tensor:
        scalar = complex(1)
        tensors = []
        for f in factors:
            if f.labels:
                tensors.append(f)
            else:
                scalar *= complex(f.array)
        if not tensors:
            return _Tensor(np.array(scalar), ())
        counts = Counter(x for t in tensors for x in t.labels)
        bad = [x for x, c in counts.items() if c > 2 or (c > 1 and x.startswith("#"))]
        if bad:
            raise NumericSquareError(f"index {bad[0].lstrip('#')} appears more than twice in a product")
        if len(counts) > MAX_EINSUM_LABELS:
            raise NumericSquareError(f"a product with more than {MAX_EINSUM_LABELS} indices")
        ids = {x: k for k, x in enumerate(counts)}
        out = tuple(x for x in counts if counts[x] == 1)
        args: list = []
        for t in tensors:
            args += [t.array, [ids[x] for x in t.labels]]
        if len(tensors) == 1 and out == tensors[0].labels:
            return _Tensor(scalar * tensors[0].array, out)
        array = np.einsum(*args, [ids[x] for x in out], optimize="greedy")
        return _Tensor(scalar * array, out)

    def _call(self, node: Node) -> _Tensor:
        name, args = node.value, node.args
        if name in SPINORS:
            leg = self._leg(args[1])
            spinor = self._spinor(name, self.legs[leg])
            label = _state_label("h", leg)
            self.weights[label] = np.ones(2)
            tensor = _Tensor(spinor, (label, self._index(args[2])))
            return self._with_colour(tensor, leg, args[3] if len(args) > 3 else None, 3)
        if name in ("eps", "epsc"):
            leg = self._leg(args[1])
            k = self.legs[leg].momentum
            if self.physical:
                states = transverse_polarisations(k).astype(complex)
                self.weights[_state_label("h", leg)] = np.ones(2)
            else:
                states = np.eye(4, dtype=complex)
                self.weights[_state_label("h", leg)] = FEYNMAN_WEIGHTS
            if name == "epsc":
                states = states.conj()
            tensor = _Tensor(states * ETA, (_state_label("h", leg), self._index(args[2])))
            return self._with_colour(tensor, leg, args[3] if len(args) > 3 else None, 8)
        if name == "gamma":
            return _Tensor(GAMMA * ETA[:, None, None], tuple(self._index(a) for a in args))
        if name == "slash":
            return _Tensor(slash(self.momentum(args[0])), (self._index(args[1]), self._index(args[2])))
        if name == "one":
            return _Tensor(np.eye(4, dtype=complex), tuple(self._index(a) for a in args))
        if name == "metric":
            return _Tensor(METRIC * np.outer(ETA, ETA), tuple(self._index(a) for a in args))
        if name == "mom":
            return _Tensor(self.momentum(args[0]) * ETA, (self._index(args[1]),))
        if name == "T":
            return _Tensor(T_SU3, tuple(self._index(a) for a in args))
        if name == "f":
            return _Tensor(F_SU3.astype(complex), tuple(self._index(a) for a in args))
        raise NumericSquareError(f"unknown object {name}()")

    def _spinor(self, kind: str, leg: Leg) -> np.ndarray:
        if not leg.fermion:
            raise NumericSquareError(f"spinor {kind}() on the vector leg {leg.name}")
        p, m = leg.momentum, leg.mass
        if kind == "u":
            return spinors_u(p, m)
        if kind == "v":
            return spinors_v(p, m)
        return bar(spinors_u(p, m)) if kind == "ubar" else bar(spinors_v(p, m))

    def _with_colour(self, tensor: _Tensor, leg: int, index: Node | None, dim: int) -> _Tensor:
        label = _state_label("c", leg)
        if index is None or self._index(index) == label:  # none, or renamed to the state label
            return tensor
        if self._index(index).startswith("#"):
            raise NumericSquareError("one colour index on two external legs")
        self.colour[label] = dim
        array = np.einsum("ab,cd->abcd", tensor.array, np.eye(dim))
        return _Tensor(array, tensor.labels + (label, self._index(index)))


def _is_number(node: Node) -> bool:
    return node.op == "num" or (node.op == "neg" and _is_number(node.args[0]))


def spin_summed_square(
    tree: Node, legs: list[Leg], scalars: dict[str, complex], physical: bool, identical_factor: float = 1.0
) -> float:
    """|M|^2 summed over final and averaged over initial spins, polarisations and colours.

    ``tree``: the parsed amplitude; ``scalars``: values of its symbols (couplings, masses, s_ij,
    ``i``); ``physical``: transverse polarisations (whole-process rows), else -g sums;
    ``identical_factor``: 1/k! for k identical final particles."""
    ev = _Evaluator(legs, {**scalars, "i": 1j}, physical)
    while tree.op == "neg":  # the overall sign does not change the square
        tree = tree.args[0]
    terms = []
    for term in tree.args if tree.op == "+" else (tree,):  # index names are dummies of one term
        ev.collect_aliases(term)
        terms.append(ev.eval(term))
    amp = _sum_tensors(terms)
    expected = {_state_label("h", k) for k in range(len(legs))}
    missing = [k + 1 for k in range(len(legs)) if _state_label("h", k) not in amp.labels]
    if missing:
        raise NumericSquareError(f"the amplitude has no external state for leg(s) {missing}")
    if set(amp.labels) - expected - set(ev.colour):
        raise NumericSquareError("the amplitude has free indices left")
    square = np.abs(amp.array) ** 2
    for axis, label in enumerate(amp.labels):
        w = ev.weights.get(label)
        if w is not None:
            shape = [1] * square.ndim
            shape[axis] = len(w)
            square = square * w.reshape(shape)
    average = 1.0
    for k, leg in enumerate(legs):
        if leg.incoming:
            average /= 2  # spin or polarisation
            average /= ev.colour.get(_state_label("c", k), 1)
    return float(np.sum(square).real) * average * identical_factor


def identical_final_factor(names: list[str], n_in: int) -> float:
    """1/k! for each set of k identical outgoing particles."""
    out = Fraction(1)
    for count in Counter(names[n_in:]).values():
        out /= math.factorial(count)
    return float(out)


def process_legs(process, momenta, masses: dict[str, float]) -> list[Leg]:
    """The legs of a :class:`~symba.physics.process.Process` at numeric momenta (n x 4) and mass values."""
    legs = []
    for k, (name, symbol) in enumerate(zip(process.legs, process.leg_masses())):
        particle = process.model.particle(name)
        mass = float(masses.get(symbol, 0.0)) if symbol else 0.0
        legs.append(Leg(np.array([float(x) for x in momenta[k]]), mass, k < process.n_in, particle.fermion, name))
    return legs


def square_at_point(tree: Node, process, point, physical: bool) -> float:
    """The spin-summed square of a parsed amplitude of ``process`` at a
    :class:`~symba.physics.kinematics.PhaseSpacePoint` (physical points only: spinors need
    on-shell momenta)."""
    if not point.physical:
        raise NumericSquareError("the process has no physical phase space")
    scalars = {m: 0j for m in process.massless}  # masses the dataset set to zero
    scalars.update({k: complex(v) for k, v in point.values().items()})
    legs = process_legs(process, point.momenta, point.masses)
    return spin_summed_square(tree, legs, scalars, physical, identical_final_factor(list(process.legs), process.n_in))


def scalar_value(tree: Node, scalars: dict[str, complex]) -> complex:
    """The value of a scalar expression of the amplitude syntax (a propagator denominator)."""
    t = _Evaluator([], {**scalars, "i": 1j}, False).eval(tree)
    if t.labels:
        raise NumericSquareError("not a scalar expression")
    return complex(t.array)
