"""Processes: parsing, conservation checks and enumeration.

A process is written like MadGraph's: ``"e- e+ -> mu- mu+"``.  Legs are
numbered 1..n, incoming first, each side in the order written.
"""

from __future__ import annotations

import itertools
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction

import feyngraph

from .symbols import ALL_MASSES, MAX_LEGS
from .theories import Model, get_model

MULTIPLICITIES = ("1->2", "2->1", "2->2", "2->3", "3->2", "3->3")
# Size bounds, checked before FeynGraph runs: its time and memory grow factorially with the legs.
# MAX_LEGS (symbols.py) is also what the parser and the vocabularies can name (p_k, s_ij).
MAX_PROCESS_CHARS = 200
MIN_LEGS = 3


class ProcessError(ValueError):
    """A process string that cannot be computed; the message is one line."""


@dataclass(frozen=True)
class Process:
    theory: str
    incoming: tuple[str, ...]
    outgoing: tuple[str, ...]
    massless: frozenset[str] = frozenset()  # mass symbols set to zero, e.g. {"m_e"}

    @property
    def legs(self) -> tuple[str, ...]:
        return self.incoming + self.outgoing

    @property
    def n_in(self) -> int:
        return len(self.incoming)

    @property
    def n_out(self) -> int:
        return len(self.outgoing)

    @property
    def multiplicity(self) -> str:
        return f"{self.n_in}->{self.n_out}"

    @property
    def model(self) -> Model:
        return get_model(self.theory)

    def __str__(self) -> str:
        return " ".join(self.incoming) + " -> " + " ".join(self.outgoing)

    @property
    def slug(self) -> str:
        """A file-name-safe identifier, e.g. ``e-_e+__mu-_mu+``."""
        return "_".join(self.incoming) + "__" + "_".join(self.outgoing)

    def mass_of(self, particle_name: str) -> str | None:
        """Mass symbol of a particle in this process; None when massless."""
        mass = self.model.particle(particle_name).mass
        return None if mass in self.massless else mass

    def leg_masses(self) -> list[str | None]:
        return [self.mass_of(p) for p in self.legs]

    def with_massless(self, masses) -> Process:
        """The same process with the given mass symbols set to zero."""
        masses = frozenset(masses or ())
        unknown = sorted(masses - set(ALL_MASSES))
        if unknown:
            raise ProcessError(f"unknown mass symbol {unknown[0]!r}; known: {' '.join(ALL_MASSES)}")
        return Process(self.theory, self.incoming, self.outgoing, masses)


def parse_process(text: str, theory: str = "qed", check: bool = True) -> Process:
    """Parse ``"e- e+ -> mu- mu+"`` and check it can be computed at tree level."""
    model = get_model(theory)
    if not isinstance(text, str):
        raise ProcessError(f"a process is text like 'e- e+ -> mu- mu+', not {type(text).__name__}")
    if len(text) > MAX_PROCESS_CHARS:
        raise ProcessError(
            f"process text has {len(text)} characters ({text[:40]!r}...); at most {MAX_PROCESS_CHARS} are accepted"
        )
    if text.count("->") != 1:
        raise ProcessError(f"malformed process {text!r}: expected 'IN... -> OUT...', e.g. 'e- e+ -> mu- mu+'")
    lhs, rhs = text.split("->")
    incoming, outgoing = tuple(lhs.split()), tuple(rhs.split())
    if not incoming or not outgoing:
        raise ProcessError(f"malformed process {text!r}: both sides of '->' need at least one particle")
    check_size(incoming, outgoing)
    for name in incoming + outgoing:
        if name not in model.particles:
            raise ProcessError(f"unknown particle {name!r} in theory {model.name}; known: {' '.join(model.particles)}")
    proc = Process(model.name, incoming, outgoing)
    if check:
        check_conservation(proc)
        if not has_tree_diagram(proc):
            raise ProcessError(f"process '{proc}' has no tree-level diagram in {model.name}")
    return proc


def check_size(incoming, outgoing) -> None:
    """Refuse processes outside MIN_LEGS..MAX_LEGS external particles (before any diagram is generated)."""
    n = len(incoming) + len(outgoing)
    if n < MIN_LEGS:
        raise ProcessError(
            f"process '{' '.join(incoming)} -> {' '.join(outgoing)}' has {n} external particles; "
            f"a tree-level diagram needs at least {MIN_LEGS}"
        )
    if n > MAX_LEGS:
        raise ProcessError(
            f"process has {n} external particles ({len(incoming)} -> {len(outgoing)}); at most {MAX_LEGS} are supported"
        )


def _crossed_totals(proc: Process):
    """Quantum numbers of (incoming) minus (outgoing)."""
    model = proc.model
    sign = [1] * proc.n_in + [-1] * proc.n_out
    parts = [model.particle(n) for n in proc.legs]
    charge = sum((s * p.charge for s, p in zip(sign, parts)), Fraction(0))
    baryon = sum((s * p.baryon for s, p in zip(sign, parts)), Fraction(0))
    lepton = Counter()
    for s, p in zip(sign, parts):
        if p.field.lepton_flavour:
            lepton[p.field.lepton_flavour] += s * p.lepton_number
    return parts, sign, charge, baryon, lepton


def check_conservation(proc: Process) -> None:
    parts, sign, charge, baryon, lepton = _crossed_totals(proc)
    if charge != 0:  # a model whose fields carry no charge (QCD here) passes trivially
        qin = sum((p.charge for p in parts[: proc.n_in]), Fraction(0))
        qout = sum((p.charge for p in parts[proc.n_in :]), Fraction(0))
        raise ProcessError(f"process '{proc}' breaks charge conservation: Q_in = {qin}, Q_out = {qout}")
    broken = sorted(f for f, n in lepton.items() if n != 0)
    if broken:
        raise ProcessError(f"process '{proc}' breaks lepton-flavour conservation ({', '.join(broken)} number)")
    if baryon != 0:
        raise ProcessError(f"process '{proc}' breaks baryon-number conservation")
    # Colour: the crossed state must contain a singlet (triality zero, and no lone octet).
    triality = sum(s * (1 if p.colour == 3 else -1 if p.colour == -3 else 0) for s, p in zip(sign, parts))
    coloured = [p for p in parts if p.colour != 1]
    if triality % 3 != 0 or (len(coloured) == 1 and coloured[0].colour == 8):
        raise ProcessError(f"process '{proc}' breaks colour conservation")


@contextmanager
def feyngraph_guard(proc: Process):
    """Turn a panic inside FeynGraph (Rust, a BaseException) into a one-line ProcessError."""
    try:
        yield
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise
        message = (str(exc).strip().splitlines() or ["no message"])[0]
        raise ProcessError(f"FeynGraph failed on process '{proc}': {message}") from None


def generate_feyngraph_diagrams(proc: Process):
    check_size(proc.incoming, proc.outgoing)
    with feyngraph_guard(proc):
        return feyngraph.generate_diagrams(
            list(proc.incoming), list(proc.outgoing), 0, model=proc.model.feyngraph_model
        )


def has_tree_diagram(proc: Process) -> bool:
    return len(generate_feyngraph_diagrams(proc)) > 0


def _side_totals(model: Model, names: tuple[str, ...]) -> tuple:
    """Additive quantum numbers of one side: charge, baryon number, each lepton flavour's number."""
    charge, baryon, lepton = Fraction(0), Fraction(0), Counter()
    for name in names:
        p = model.particle(name)
        charge += p.charge
        baryon += p.baryon
        if p.field.lepton_flavour:
            lepton[p.field.lepton_flavour] += p.lepton_number
    return charge, baryon, tuple(sorted((f, n) for f, n in lepton.items() if n))


def crossing_key(proc: Process) -> tuple[str, ...]:
    """Every leg made outgoing (incoming ones as their antiparticles), as a multiset.

    Crossing maps the tree diagrams of a process one to one onto those of any process with the
    same key, so whether a tree diagram exists is a property of the key.
    """
    model = proc.model
    return tuple(sorted([model.anti(n) for n in proc.incoming] + list(proc.outgoing)))


def enumerate_processes(
    theory: str,
    multiplicities=("2->2",),
    particles: list[str] | None = None,
) -> list[Process]:
    """All computable processes of a theory, each once.

    Each side is a multiset written in the model's canonical particle order, so
    ``e- e+ -> mu- mu+`` appears and ``e+ e- -> mu- mu+`` does not.  ``particles``
    restricts the external states to a subset of particle names.

    Sides are paired only when their additive quantum numbers agree (a dictionary look-up, not a
    loop over every pair: QED 3->3 has 1.8 million pairs), and FeynGraph runs once per crossing
    class (``crossing_key``), not once per process.
    """
    model = get_model(theory)
    names = list(model.particles)
    if particles is not None:
        unknown = [p for p in particles if p not in model.particles]
        if unknown:
            raise ProcessError(f"unknown particle {unknown[0]!r} in theory {model.name}")
        keep = set(particles)
        names = [n for n in names if n in keep]
    has_tree: dict[tuple[str, ...], bool] = {}
    out: list[Process] = []
    for mult in multiplicities:
        try:
            n_in, n_out = (int(x) for x in mult.split("->"))
        except ValueError:
            raise ProcessError(f"malformed multiplicity {mult!r}: expected e.g. '2->3'") from None
        if f"{n_in}->{n_out}" not in MULTIPLICITIES:
            raise ProcessError(f"unsupported multiplicity {mult!r}; choose from {', '.join(MULTIPLICITIES)}")
        outs_by_totals: dict[tuple, list[tuple[str, ...]]] = {}
        for outs in itertools.combinations_with_replacement(names, n_out):
            outs_by_totals.setdefault(_side_totals(model, outs), []).append(outs)
        for ins in itertools.combinations_with_replacement(names, n_in):
            for outs in outs_by_totals.get(_side_totals(model, ins), ()):
                proc = Process(model.name, ins, outs)
                try:
                    check_conservation(proc)  # colour, and anything the totals do not cover
                except ProcessError:
                    continue
                key = crossing_key(proc)
                if key not in has_tree:
                    has_tree[key] = has_tree_diagram(proc)
                if has_tree[key]:
                    out.append(proc)
    return out
