"""An amplitude's legs in canonical order: what relabelling-aware decoding (model.evaluate,
model.predict) and the token shards' decode columns need.

Every ordering of a process is its canonical process with the legs renumbered, and
the dataset derives each ordering's rows that way (:mod:`symba.physics.orderings`).
So an amplitude of ``e+ e- -> a mu+ mu-`` is relabelled to one of ``e- e+ -> mu- mu+ a``
(each side in the model's particle order, as :func:`symba.physics.process.enumerate_processes`
writes every process), decoded, and the predicted squared amplitude is renamed back
(``p_i`` and ``s_ij``).  The legs come from the process when it is known (a row's
``process`` column, ``--process``), else from the amplitude's external wavefunctions.
Where no relabelling applies (unknown particles, malformed text) the caller decodes
the amplitude as it is.  With ``flavours``, fermion flavours are renamed to canonical ones
too (:mod:`.flavours`: ``c g -> c g`` is decoded as ``u g -> u g``); the column form of the
whole map is :attr:`LegRelabelling.decode_text`, read back by :class:`DecodeLabelling`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice, permutations

from symba.physics.flavours import FlavourError, FlavourRenaming, flavoured_fields, renaming_in_order
from symba.physics.orderings import MAX_LEGS_PER_SIDE, OrderingError, Relabelling
from symba.physics.process import parse_process
from symba.physics.symbols import MAX_LEGS
from symba.physics.theories import get_model

# An external wavefunction: kind, field label, leg momentum (amplitude_syntax's tensor objects).
_EXTERNAL_RE = re.compile(r"(?<![A-Za-z0-9_])(ubar|vbar|epsc|eps|u|v)\(\s*([A-Za-z][A-Za-z0-9_~]*)\s*,\s*p_([1-9])\b")
_INCOMING_KINDS = {"u": False, "vbar": True, "eps": False}  # kind -> antiparticle?
_OUTGOING_KINDS = {"ubar": False, "v": True, "epsc": False}


@dataclass(frozen=True)
class LegRelabelling:
    """The map between a process's legs as written and its canonical order."""

    process: str  # legs as written, e.g. "e+ e- -> a mu+ mu-"
    canonical_process: str  # e.g. "e- e+ -> mu- mu+ a"
    relabelling: Relabelling  # canonical legs -> legs as written
    canonical_leg_masses: tuple[str | None, ...]
    flavours: FlavourRenaming = FlavourRenaming(())  # written flavours -> canonical ones

    @property
    def permutation(self) -> tuple[int, ...]:
        """Written leg k holds canonical leg permutation[k - 1]."""
        return self.relabelling.permutation

    @property
    def identity(self) -> bool:
        return self.relabelling.is_identity and self.flavours.is_identity

    @property
    def decode_text(self) -> str:
        """The column form (``decode_permutation``): ``2,1,4,3``, with flavours ``2,1,4,3|m_c>m_u,m_u>m_c``."""
        flavours = self.flavours.text
        return self.relabelling.text + (f"|{flavours}" if flavours else "")

    @property
    def to_canonical(self) -> tuple[int, ...]:
        """The inverse permutation: canonical leg j holds written leg to_canonical[j - 1]."""
        return self.relabelling.inverse.permutation

    def canonical_amplitude(self, amplitude: str) -> str:
        """The amplitude with its legs in canonical order, printed as the dataset prints it."""
        # A propagator k^2 - m^2 stays printed from the side of the diagram the written legs chose,
        # as the square's denominators do: the renamed pair stays one pair.
        return self.relabelling.inverse.amplitude(self.flavours.amplitude(amplitude), self.canonical_leg_masses)

    def squared_to_canonical(self, squared: str) -> str:
        return self.relabelling.inverse.squared(self.flavours.squared(squared))

    def squared_from_canonical(self, squared: str) -> str:
        """A squared amplitude of the canonical process, renamed to the legs (and flavours) as written."""
        return self.flavours.inverse.squared(self.relabelling.squared(squared))


@dataclass(frozen=True)
class DecodeLabelling:
    """A ``decode_permutation`` column read back: renames a square of the canonical process
    (legs and flavours) to the row's own.  Raises OrderingError for a malformed text."""

    legs: Relabelling
    flavours: FlavourRenaming

    @classmethod
    def from_text(cls, text: str) -> DecodeLabelling:
        legs, _, flavours = text.partition("|")
        try:
            return cls(Relabelling.from_text(legs), FlavourRenaming.from_text(flavours))
        except FlavourError as exc:
            raise OrderingError(str(exc)) from None

    def squared(self, text: str) -> str:
        """OrderingError when the text names a leg the process lacks."""
        return self.flavours.inverse.squared(self.legs.squared(text))


def _sorted_legs(legs: tuple[str, ...], rank: dict[str, int], first_leg: int) -> list[int]:
    """The legs of one side (numbered from ``first_leg``) in the model's particle order; the sort is
    stable, so identical particles keep their order, as :func:`symba.physics.orderings.distinct_orderings` has them."""
    return sorted(range(first_leg, first_leg + len(legs)), key=lambda leg: rank[legs[leg - first_leg]])


def _canonical_order(incoming: tuple[str, ...], outgoing: tuple[str, ...], theory: str) -> list[int]:
    """Canonical leg j holds written leg to_canonical[j - 1]."""
    rank = {name: k for k, name in enumerate(get_model(theory).particles)}
    return _sorted_legs(incoming, rank, 1) + _sorted_legs(outgoing, rank, len(incoming) + 1)


MAX_FLAVOUR_ORDERS = 720  # the distinct fermion flavours of six legs, in every order


def _canonical_flavours(incoming: tuple[str, ...], outgoing: tuple[str, ...], theory: str) -> FlavourRenaming:
    """The flavour renaming whose process has the smallest canonical leg order (by the model's
    particle order), so that every flavour variant of a process gets one canonical process;
    among equals, the first in order of first appearance."""
    rank = {name: k for k, name in enumerate(get_model(theory).particles)}
    fields = flavoured_fields(incoming + outgoing, theory)
    best, best_key = FlavourRenaming(()), None
    for order in islice(permutations(fields), MAX_FLAVOUR_ORDERS):
        renaming = renaming_in_order(order, theory)
        names = dict(renaming.particles)
        sides = [tuple(sorted(rank[names.get(p, p)] for p in side)) for side in (incoming, outgoing)]
        if best_key is None or sides < best_key:
            best, best_key = renaming, sides
    return best


@lru_cache(maxsize=4096)
def _relabelling_of_process(process: str, theory: str, flavours: bool) -> LegRelabelling | None:
    try:
        proc = parse_process(process, theory, check=False)
        if max(len(proc.incoming), len(proc.outgoing)) > MAX_LEGS_PER_SIDE:  # as distinct_orderings
            return None
        incoming, outgoing = tuple(proc.incoming), tuple(proc.outgoing)
        renaming = FlavourRenaming(())
        if flavours:
            renaming = _canonical_flavours(incoming, outgoing, theory)
            names = dict(renaming.particles)
            incoming, outgoing = (tuple(names.get(p, p) for p in side) for side in (incoming, outgoing))
        written = incoming + outgoing
        to_canonical = _canonical_order(incoming, outgoing, theory)
        n_in = len(incoming)
        canonical = [written[leg - 1] for leg in to_canonical]
        canonical_process = " ".join(canonical[:n_in]) + " -> " + " ".join(canonical[n_in:])
        masses = tuple(parse_process(canonical_process, theory, check=False).leg_masses())
    except (ValueError, KeyError):  # unknown particle or theory, malformed process
        return None
    written_process = " ".join(proc.incoming) + " -> " + " ".join(proc.outgoing)
    return LegRelabelling(written_process, canonical_process, Relabelling(to_canonical).inverse, masses, renaming)


def relabelling_of_process(process: str, theory: str, flavours: bool = False) -> LegRelabelling | None:
    """The relabelling of a process to its canonical order (``flavours``: and canonical flavours);
    None when it cannot be read."""
    if not isinstance(process, str) or not isinstance(theory, str) or len(process) > 1000:
        return None
    return _relabelling_of_process(" ".join(process.split()), theory, bool(flavours))


def process_of_amplitude(amplitude: str, theory: str) -> str | None:
    """The process an amplitude is of, read from its external wavefunctions, legs in momentum order.

    ``u``/``vbar``/``eps`` are incoming, ``ubar``/``v``/``epsc`` outgoing; the field label and
    the spinor kind name the particle.  None when the legs do not make a process of ``theory``
    (a leg missing or named twice, a label the theory lacks, outgoing before incoming)."""
    try:
        fields = {f.label: f for f in get_model(theory).fields}
    except (ValueError, KeyError):
        return None
    legs: dict[int, tuple[str, bool]] = {}
    for kind, label, leg in _EXTERNAL_RE.findall(amplitude):
        field = fields.get(label)
        if field is None:
            return None
        incoming = kind in _INCOMING_KINDS
        anti = (_INCOMING_KINDS if incoming else _OUTGOING_KINDS)[kind]
        particle = (field.anti if anti else field.name, incoming)
        if legs.setdefault(int(leg), particle) != particle:
            return None
    n = len(legs)
    if not n or n > MAX_LEGS or sorted(legs) != list(range(1, n + 1)):
        return None
    sides = [legs[k][1] for k in range(1, n + 1)]
    n_in = sum(sides)
    if not 0 < n_in < n or sides != [True] * n_in + [False] * (n - n_in):
        return None
    names = [legs[k][0] for k in range(1, n + 1)]
    return " ".join(names[:n_in]) + " -> " + " ".join(names[n_in:])


def relabelling_for(
    amplitude: str, process: str | None, theory: str | None, flavours: bool = False
) -> LegRelabelling | None:
    """The relabelling to decode ``amplitude`` under: from ``process`` when given, else from the
    amplitude's legs (``flavours``: flavours renamed to canonical ones too).  None when none
    applies, when it is the identity, or when the process given is not the one the amplitude's
    legs name (decode the text as it is)."""
    theory = theory or "qed"
    read = process_of_amplitude(amplitude, theory)
    relabelling = relabelling_of_process(process or read or "", theory, flavours)
    if relabelling is None or relabelling.identity or (read is not None and read != relabelling.process):
        return None
    return relabelling
