"""The canonical layout of amplitude text without a process (docs/physics.md, section 7).

The part of :mod:`.canonical` that needs no diagrams of a process: one numeric prefactor
in front, fermion chains in flow order, colour along each chain, dummy indices renumbered.
The engine's printer (:mod:`.amplitude_printing`) writes its text in this layout, and
:mod:`.canonical` adds what needs the process (propagators as the engine prints them, the
comparison by value), so the imports run one way: this module, the printer, canonical.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from fractions import Fraction

from .amplitude_syntax import Node, canonical, canonicalize_indices, parse, to_string

MAX_CANONICAL_CHARS = 200_000  # longer texts are kept as written: the layout and value checks are for diagrams
_SPINORS = ("u", "v", "ubar", "vbar")
_WAVEFUNCTIONS = _SPINORS + ("eps", "epsc")
# One propagator denominator -> (written / engine's, the engine's text), or None.
DenominatorPrinter = Callable[[Node], "tuple[Fraction, str] | None"]


class CanonicalFormError(ValueError):
    """Valid amplitude text that cannot be brought to the canonical form; the message says why."""


def canonical_layout(text: str, *, signed=False) -> str:
    """The canonical text of one amplitude without a process: denominators as written, no value check.

    ``signed``: keep the overall sign.  Raises AmplitudeSyntaxError or CanonicalFormError."""
    check_length(text)
    return each_diagram(parse(text), laid_out_diagram, signed)


def check_length(text: str) -> None:
    if len(text) > MAX_CANONICAL_CHARS:
        raise CanonicalFormError(f"amplitude of {len(text):,} characters is over the {MAX_CANONICAL_CHARS:,} limit")


def each_diagram(node: Node, diagram: Callable[[Node, bool], str], signed: bool) -> str:
    """``diagram(node, signed)`` of one diagram, or of each term of a sum of diagrams.

    A sum keeps its relative signs; unless ``signed``, its first term is made positive."""
    if node.op == "+" and all(has_wavefunction(t) for t in node.args):  # a sum of diagrams
        terms = [diagram(t, True) for t in node.args]
        if not signed and terms[0].startswith("-"):
            terms = [flip(t) for t in terms]
        return " + ".join(f"({t})" for t in terms)
    return diagram(node, signed)


def laid_out_diagram(node: Node, signed: bool) -> str:
    """One diagram in the canonical layout, denominators as written."""
    laid = layout(canonicalize_indices(node))
    if laid is None:
        raise CanonicalFormError("not a product of a coefficient, wavefunctions, Dirac chains and denominators")
    return laid if signed else without_sign(laid)


def without_sign(text: str) -> str:
    """A canonical per-diagram text with its leading minus sign dropped."""
    return text[1:] if text.startswith("-") else text


def negated(text: str) -> str:
    """A canonical text with the opposite sign (its leading coefficient carries the sign)."""
    return text[1:] if text.startswith("-") else "-" + text


def flip(text: str) -> str:
    """Any amplitude text times -1, in canonical text."""
    node = parse(text)
    return to_string(node.args[0] if node.op == "neg" else Node("neg", (node,)))


def has_wavefunction(node: Node) -> bool:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.op == "call" and n.value in _WAVEFUNCTIONS:
            return True
        stack.extend(n.args)
    return False


def coefficient_text(re: Fraction, im: Fraction, coupling: str, power: int) -> str:
    """Scalar prefactor, e.g. ``-2/3*i*e^3``; exactly one of re, im is non-zero."""
    value, unit = (re, "") if im == 0 else (im, "i*")
    sign = "-" if value < 0 else ""
    mag = abs(value)
    num = "" if mag == 1 else (f"{mag.numerator}*" if mag.denominator == 1 else f"{mag.numerator}/{mag.denominator}*")
    cpl = coupling if power == 1 else f"{coupling}^{power}"
    return f"{sign}{num}{unit}{cpl}"


def _colour_order(factors: list) -> tuple[list, bool]:
    """``T`` along each chain's colour flow, then every ``f`` with its indices in order of
    first appearance (an odd permutation flips the sign); the rest keeps its order."""
    ts = [f for f in factors if f.op == "call" and f.value == "T" and all(a.op == "name" for a in f.args)]
    fs = [f for f in factors if f.op == "call" and f.value == "f" and all(a.op == "name" for a in f.args)]
    if not ts and not fs:
        return factors, False
    spinors = [f for f in factors if f.op == "call" and f.value in _SPINORS and len(f.args) == 4]
    by_row: dict[str, list] = {}
    for t in ts:
        by_row.setdefault(t.args[1].value, []).append(t)
    ordered_t: list = []
    for start in (s.args[3].value for s in spinors if s.value in ("ubar", "vbar")):
        index = start
        while len(by_row.get(index, ())) == 1 and by_row[index][0] not in ordered_t:
            ordered_t.append(by_row[index][0])
            index = by_row[index][0].args[2].value
    ordered_t += [t for t in ts if not any(t is o for o in ordered_t)]  # loops (tr T...) keep their order
    head = [f for f in factors if not (any(f is t for t in ts) or any(f is g for g in fs))]
    last = max((k for k, f in enumerate(head) if f.op == "call" and f.value in _WAVEFUNCTIONS), default=-1)
    before_colour, after = head[: last + 1], head[last + 1 :]  # colour follows the chains and polarisations
    seen: dict[str, int] = {}
    for f in before_colour + ordered_t:
        _first_appearances(f, seen)
    flipped = False
    keyed = []
    for f in fs:
        names = [a.value for a in f.args]
        key = [seen.get(n, len(seen) + 1000) for n in names]
        order = sorted(range(3), key=lambda k: (key[k], k))
        flipped ^= _odd(order)
        keyed.append(([key[k] for k in order], Node("call", tuple(f.args[k] for k in order), "f")))
    keyed.sort(key=lambda kv: kv[0])
    return before_colour + ordered_t + [f for _, f in keyed] + after, flipped


def _first_appearances(node: Node, seen: dict[str, int]) -> None:
    stack = [node]
    while stack:
        n = stack.pop()
        if n.op == "name" and n.value not in seen:
            seen[n.value] = len(seen)
        stack.extend(reversed(n.args))


def _odd(order: list[int]) -> bool:
    parity, seen = 0, set()
    for start in range(len(order)):
        if start in seen:
            continue
        k, length = start, 0
        while k not in seen:
            seen.add(k)
            k, length = order[k], length + 1
        parity ^= (length - 1) & 1
    return bool(parity)


# ---------------------------------------------------------------------------
# The builtin engine's layout of a product amplitude (amplitude_printing.amplitude_text prints it):
#   coefficient * fermion chains (barred spinor, Dirac matrices, spinor; by the barred
#   spinor's leg) * polarisations (by leg) * other factors / propagator denominators,
# each denominator printed as the builtin prints k^2 - m^2 of the FeynGraph propagator
# with that value; the numbers MARTY moved between them go into the coefficient.

_DIRAC_MATRICES = ("gamma", "slash", "one")
_BARRED, _UNBARRED = ("ubar", "vbar"), ("u", "v")


def layout(node: Node, print_denominator: DenominatorPrinter | None = None) -> str | None:
    """The engine's layout of a product amplitude (signed); None if it is not one we can lay out.

    ``print_denominator`` gives (written / engine's, the engine's text) of one propagator
    denominator, or None when it is none of the process's; without it, denominators keep
    their written form (a plain number there moves into the coefficient)."""
    negative, numerator, denominators = _split_quotient(node, keep_denominators=print_denominator is None)
    coefficient, i_power, couplings, factors = Fraction(-1 if negative else 1), 0, Counter(), []
    for f in numerator:
        if f.op == "neg":
            coefficient, f = -coefficient, f.args[0]
        if f.op == "num":
            coefficient *= f.value
        elif f.op == "name" and f.value == "i":
            i_power += 1
        elif f.op == "name" and f.value in ("e", "g_s"):
            couplings[f.value] += 1
        elif f.op == "^" and f.args[0].op == "name" and f.args[0].value in ("e", "g_s") and _is_count(f.args[1]):
            couplings[f.args[0].value] += int(f.args[1].value)
        else:
            factors.append(f)
    if len(couplings) != 1:
        return None
    ordered = _chain_order(_slashed(factors))
    if ordered is None:
        return None
    ordered = [Node("+", tuple(_term_layout(t) for t in f.args)) if f.op == "+" else f for f in ordered]
    ordered, flipped = _colour_order(ordered)
    if flipped:
        coefficient = -coefficient
    dens = []
    for d in denominators:
        if d.op == "num":
            if d.value == 0:
                return None
            coefficient /= d.value
            continue
        if print_denominator is None:
            dens.append(f"({to_string(d)})")
            continue
        printed = print_denominator(d)
        if printed is None:
            return None
        ratio, text = printed
        coefficient /= ratio
        dens.append(f"({text})")
    ((coupling, power),) = couplings.items()
    re_part, im_part = [(coefficient, 0), (0, coefficient), (-coefficient, 0), (0, -coefficient)][i_power % 4]
    text = coefficient_text(Fraction(re_part), Fraction(im_part), coupling, power)
    if ordered:  # a product node, even of one factor, so that a sum keeps its parentheses
        text += "*" + to_string(Node("*", tuple(ordered)))
    if dens:
        text += "/" + (dens[0] if len(dens) == 1 else "(" + "*".join(dens) + ")")
    return canonical(text)


def _term_layout(term):
    """One term of a sum factor (MARTY's rewritten numerators): scalars first, then chains as above."""
    if term.op == "neg":
        return Node("neg", (_term_layout(term.args[0]),))
    if term.op != "*":
        return term

    def scalar(f) -> bool:
        return f.op in ("num", "name", "^") or (f.op == "/" and all(a.op == "num" for a in f.args))

    scalars = [f for f in term.args if scalar(f)]
    rest = _slashed([f for f in term.args if not scalar(f)])
    return Node("*", tuple(scalars + (_chain_order(rest) or rest)))


def _slashed(factors: list) -> list:
    """``mom(k,mu)*gamma(mu,d1,d2)`` -> ``slash(k,d1,d2)``, as the builtin writes a contracted momentum.

    Only where ``mu`` occurs nowhere else; one pass over the factors (an amplitude may be long)."""
    uses: Counter = Counter()
    stack = list(factors)
    while stack:  # a loop, not recursion: every name in the factors, once
        node = stack.pop()
        if node.op == "name":
            uses[node.value] += 1
        stack.extend(node.args)
    gammas: dict[str, list] = {}
    for f in factors:
        if f.op == "call" and f.value == "gamma" and f.args[0].op == "name":
            gammas.setdefault(f.args[0].value, []).append(f)
    replaced, dropped = {}, set()
    for mom in factors:
        if not (mom.op == "call" and mom.value == "mom" and mom.args[1].op == "name"):
            continue
        found = gammas.get(mom.args[1].value, [])
        if len(found) == 1 and uses[mom.args[1].value] == 2:
            gamma = found[0]
            replaced[id(gamma)] = Node("call", (mom.args[0], gamma.args[1], gamma.args[2]), "slash")
            dropped.add(id(mom))
    return [replaced.get(id(f), f) for f in factors if id(f) not in dropped]


def _is_count(node) -> bool:
    return node.op == "num" and node.value.denominator == 1 and 0 < node.value <= 64


def _split_quotient(node, keep_denominators: bool = False):
    """(negative, numerator factors, denominator factors) of a nest of products, quotients and negations.

    ``keep_denominators``: each denominator stays one factor, as written (numbers aside)."""
    state = {"negative": False}
    numerator: list = []
    denominators: list = []

    def walk(n, into: list) -> None:
        if keep_denominators and into is denominators and n.op not in ("/", "num"):
            into.append(n)  # as written, sign included: the writer's propagator convention
        elif n.op == "neg":
            state["negative"] = not state["negative"]
            walk(n.args[0], into)
        elif n.op == "*":
            for a in n.args:
                walk(a, into)
        elif n.op == "/":
            walk(n.args[0], into)
            walk(n.args[1], denominators if into is numerator else numerator)
        elif into is denominators and n.op == "^" and _is_count(n.args[1]) and n.args[0].op == "+":
            # a squared propagator is two propagators, as the builtin prints them
            denominators.extend([n.args[0]] * int(n.args[1].value))
        else:
            into.append(n)

    walk(node, numerator)
    return state["negative"], numerator, denominators


def _dirac_ends(f) -> tuple[str, str] | None:
    """(row, column) Dirac indices of a matrix factor: gamma, slash, one, or a sum of them with the same ends."""
    if f.op == "call" and f.value in _DIRAC_MATRICES:
        return (f.args[-2].value, f.args[-1].value)
    if f.op == "neg":
        return _dirac_ends(f.args[0])
    if f.op == "*":
        ends = [e for e in (_dirac_ends(a) for a in f.args) if e is not None]
        return ends[0] if len(ends) == 1 else None
    if f.op == "+":
        ends = {_dirac_ends(a) for a in f.args}
        return ends.pop() if len(ends) == 1 and None not in ends else None
    return None


def _leg(call) -> int:
    return int(call.args[1].value.removeprefix("p_")) if call.args[1].op == "name" else 0


def _chain_order(factors: list) -> list | None:
    """Factors reordered chain by chain (by the barred spinor's leg), then polarisations by leg, then the rest."""
    matrices = {}
    for f in factors:
        ends = _dirac_ends(f)
        if ends is not None:
            if ends[0] in matrices:
                return None
            matrices[ends[0]] = f
    spinors = [f for f in factors if f.op == "call" and f.value in _BARRED + _UNBARRED]
    ends_at = {f.args[2].value: f for f in spinors if f.value in _UNBARRED}
    if len(ends_at) != sum(f.value in _UNBARRED for f in spinors):
        return None  # two spinors on one Dirac index
    ordered: list = []
    for bar in sorted((f for f in spinors if f.value in _BARRED), key=_leg):
        ordered.append(bar)
        index = bar.args[2].value
        while index not in ends_at:
            if index not in matrices:
                return None
            ordered.append(matrices.pop(index))  # each matrix once: the walk ends, in linear time
            index = _dirac_ends(ordered[-1])[1]
        ordered.append(ends_at.pop(index))
    if matrices or ends_at:
        return None  # a Dirac matrix or a spinor outside every chain
    vectors = sorted((f for f in factors if f.op == "call" and f.value in ("eps", "epsc")), key=_leg)
    placed = {id(f) for f in ordered + vectors}
    return ordered + vectors + [f for f in factors if id(f) not in placed]
