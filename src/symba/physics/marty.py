"""The MARTY backend: MARTY computes, this module translates its output into ours.

MARTY (GPL-3.0-or-later, github docbrown1955/marty-public) is reached through
the optional pybind11 module ``symba_marty`` (``cpp/marty_bindings``).  MARTY
keeps global state, cannot be interrupted and prints a lot, so every call runs
in a fresh worker process that is killed at the timeout.

What is translated (pure Python, tested without MARTY):

* symbols: MARTY's coupling ``g`` -> ``g_s``; the propagator regulator
  ``reg_prop`` -> 0; the imaginary unit ``i``, which must cancel in a square;
* amplitudes: MARTY's tensor notation -> ``amplitude_syntax`` with canonical
  index names;
* diagrams: MARTY's diagram order -> FeynGraph's (the order the builtin
  backend uses), matched by the values of the propagator denominators.

Whole processes with two or more external gluons keep MARTY's per-diagram
squares (-g_{mu nu} polarisation sums: the SYMBA convention, on purpose), but
their whole-process square comes from the builtin engine: MARTY sums gluon
polarisations with -g_{mu nu} and adds no ghosts, which is not physical there.
``ProcessResult.whole_process_backend`` then says "builtin".
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from fractions import Fraction

import sympy

from symba.workers import LineWorker, WorkerDied

from .amplitude_syntax import AmplitudeSyntaxError, Node, ProductParser, canonicalize_indices, lex, parse, to_string
from .builtin import compute_builtin
from .canonical import canonicalise
from .expression_parser import ExpressionSyntaxError, known_symbols, parse_expression
from .kinematics import evaluate, random_point
from .process import Process
from .reference_diagrams import ReferenceDiagram, reference_diagrams
from .results import DiagramResult, ProcessResult
from .symbols import REGULATOR

INSTALL_HINT = (
    "install MARTY, then `MARTY_ROOT=<prefix> pip install ./cpp/marty_bindings` (see cpp/marty_bindings/README.md)"
)
RELINK_HINT = (
    "reinstall it with `MARTY_ROOT=<prefix> pip install --force-reinstall ./cpp/marty_bindings` "
    "so that it records MARTY's library folder (see cpp/marty_bindings/README.md)"
)
# MARTY symbol -> ours.  Masses and s_ij are already ours: the bridge names them so.
MARTY_TO_OURS = {"g": "g_s"}
# Seconds allowed for the import probe: loading libmarty.so takes well under one.
IMPORT_PROBE_TIMEOUT = 120.0


class MartyUnavailable(ValueError):
    """The optional MARTY bridge cannot be used; the message says why and what to do."""


class MartyFailure(ValueError):
    """MARTY failed, timed out or produced output we cannot translate."""


@dataclass(frozen=True)
class BridgeStatus:
    loadable: bool
    reason: str  # why it cannot be used; "" when loadable


# The probe runs a fresh interpreter: importing a badly linked module can crash
# the process, and the worker that calls MARTY later imports it the same way.
_PROBE = """import importlib.util, sys
if importlib.util.find_spec("symba_marty") is None:
    print("missing"); sys.exit(0)
try:
    import symba_marty
except ImportError as exc:
    print("unloadable " + (type(exc).__name__ + ": " + str(exc)).replace(chr(10), " ")); sys.exit(0)
print("ok")
"""
_status_cache: dict[tuple, BridgeStatus] = {}


def _probe_bridge() -> BridgeStatus:
    try:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=IMPORT_PROBE_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return BridgeStatus(False, f"importing symba_marty took over {IMPORT_PROBE_TIMEOUT:g} s")
    lines = done.stdout.strip().splitlines()
    verdict = lines[-1] if lines else ""
    if done.returncode == 0 and verdict == "ok":
        return BridgeStatus(True, "")
    if verdict == "missing":
        return BridgeStatus(False, "module symba_marty is not installed; " + INSTALL_HINT)
    if verdict.startswith("unloadable "):
        why = verdict.removeprefix("unloadable ")
        return BridgeStatus(False, f"module symba_marty is installed but cannot be loaded ({why}); {RELINK_HINT}")
    tail = (done.stderr or "").strip().splitlines()[-1:] or [f"exit code {done.returncode}"]
    return BridgeStatus(False, f"module symba_marty is installed but importing it crashed ({tail[0]}); {RELINK_HINT}")


def bridge_status() -> BridgeStatus:
    """Whether ``symba_marty`` imports in a fresh interpreter like the worker's, and if not why.

    Cached per interpreter, PYTHONPATH and LD_LIBRARY_PATH: the probe inherits the environment.
    """
    key = (sys.executable, os.environ.get("PYTHONPATH", ""), os.environ.get("LD_LIBRARY_PATH", ""))
    if key not in _status_cache:
        _status_cache[key] = _probe_bridge()
    return _status_cache[key]


def bridge_installed() -> bool:
    """Whether ``symba_marty`` is installed and actually imports (see ``bridge_status``)."""
    return bridge_status().loadable


def unavailable_error(reason: str) -> MartyUnavailable:
    return MartyUnavailable(f"MARTY backend not available: {reason}")


# ---------------------------------------------------------------------------
# Legs and the gluon rule


def marty_legs(proc: Process) -> tuple[list[tuple[str, bool]], list[tuple[str, bool]]]:
    """(MARTY field name, is antiparticle) per leg; the bridge names fields by our labels."""
    model = proc.model

    def leg(name: str) -> tuple[str, bool]:
        p = model.particle(name)
        return (p.label, p.is_anti)

    return [leg(n) for n in proc.incoming], [leg(n) for n in proc.outgoing]


def external_gluons(proc: Process) -> int:
    return sum(1 for n in proc.legs if proc.model.particle(n).colour == 8)


def whole_square_needs_builtin(proc: Process) -> bool:
    """True when MARTY's whole-process square would be unphysical (>= 2 external gluons, no ghosts)."""
    return proc.theory == "qcd" and external_gluons(proc) >= 2


# ---------------------------------------------------------------------------
# Worker process


def run_in_worker(
    theory: str, incoming, outgoing, diagram_squares: bool, process_square: bool, timeout: float, what: str = ""
) -> dict:
    """One MARTY call in a fresh process (``_marty_worker``), killed after ``timeout`` seconds.

    ``what`` names the process in error messages.
    """

    job = {
        "theory": theory,
        "incoming": [list(x) for x in incoming],
        "outgoing": [list(x) for x in outgoing],
        "diagram_squares": diagram_squares,
        "process_square": process_square,
    }
    on = f" on '{what}'" if what else ""
    # A fresh worker per call (MARTY keeps global state); its chatter goes to a log, not to our stderr.
    with tempfile.TemporaryDirectory(prefix="symba-marty-") as tmp:
        worker = LineWorker("symba.physics._marty_worker", start_timeout=timeout, stderr_path=f"{tmp}/worker.log")
        deadline = time.monotonic() + timeout  # one budget for start-up, MARTY's import and the call
        try:
            worker.start()
            result = worker.request(job, max(0.0, deadline - time.monotonic()))
        except WorkerDied as exc:
            if exc.timed_out:
                raise MartyFailure(f"MARTY timed out after {timeout:g} s{on}") from None
            raise MartyFailure(
                f"MARTY worker died{on} (exit code {worker.returncode}): {worker.last_words() or 'no message'}"
            ) from None
        finally:
            worker.close()
    if "error" in result:  # an exception in the worker that is not MARTY's own
        raise MartyFailure(f"MARTY worker failed{on}: {result['error']}")
    if result["status"] == "missing":
        raise unavailable_error("module symba_marty is not installed; " + INSTALL_HINT)
    if result["status"] == "unloadable":
        raise unavailable_error(
            f"module symba_marty is installed but cannot be loaded ({result['message']}); {RELINK_HINT}"
        )
    if result["status"] == "marty-error":
        raise MartyFailure(f"MARTY failed{on}: {result['message']}")
    return result["payload"]


# ---------------------------------------------------------------------------
# Squared amplitudes: MARTY text -> our symbols


def translate_square(text: str) -> str:
    """A MARTY squared amplitude as a SymPy-parseable string in our symbols.

    Drops the propagator regulator, requires the imaginary unit to cancel and
    every coefficient to be an exact rational.
    """
    return sympy_to_text(read_square(text)[0])


def sympy_to_text(expr) -> str:
    return sympy.sstr(expr, order="none").replace("**", "^")


def read_square(text: str):
    """MARTY squared-amplitude text -> (real SymPy expression in our symbols, its denominators)."""

    if not text or not text.strip():
        raise MartyFailure("MARTY returned an empty squared amplitude")
    if re.search(r"\d\.\d*|\d[eE][-+]?\d", text):
        raise MartyFailure(f"MARTY squared amplitude has a floating-point number: {text[:80]!r}")
    symbols = {**known_symbols(), REGULATOR: sympy.Integer(0)}
    try:  # MARTY's text is data: the project's bounded parser, never sympify (which evals)
        expr = parse_expression(text, symbols=symbols, rename=MARTY_TO_OURS)
    except ExpressionSyntaxError as exc:
        raise MartyFailure(f"cannot read MARTY's squared amplitude: {exc}") from None
    dens = denominators(expr)  # before any expansion, which would multiply them out
    if expr.has(sympy.I):
        power, rest = _factor_out_i(expr)
        if power % 2:
            raise MartyFailure("MARTY squared amplitude is not real: it is i times a real expression")
        expr = -rest if power % 4 == 2 else rest
        if expr.has(sympy.I):  # an i inside a sum of mixed terms: let SymPy expand it away
            expr = sympy.expand(expr)
        if expr.has(sympy.I):
            raise MartyFailure("MARTY squared amplitude is not real: the imaginary unit does not cancel")
    return expr, dens


# ---------------------------------------------------------------------------
# Diagrams: MARTY's order -> FeynGraph's


# ---------------------------------------------------------------------------
# Amplitudes: MARTY's tensor notation -> amplitude_syntax
#
# MARTY prints, e.g. for e- e+ -> mu- mu+:
#   -1/2*i*e^2*gamma_{+%\sigma_104,%eta_112,%gam_131}*gamma_{%\sigma_104,%gam_132,%eta_113}
#   *e_{i_3,%eta_113}(p_1)_u*e_{k_3,%gam_132}(p_2)_v^(*)*mu_{l_3,%eta_112}(p_3)_u^(*)
#   *mu_{j_5,%gam_131}(p_4)_v/(m_e^2 + s_12 + 1/2*reg_prop)
# A '%' marks a dummy index, '+' an upper one.  External fields carry first a
# spin/polarisation label (dropped: our syntax has none), then colour, then
# Dirac or Lorentz indices.  "^(*)" conjugates: u^(*) is ubar, v^(*) is vbar.

_AMP_TOKEN_RE = re.compile(
    r"\s*(?:"
    r"(?P<tensor>[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z0-9]+)*?)_\{(?P<indices>[^}]*)\}"
    r"(?:\((?P<mom>p_\d+)\))?(?:_(?P<uv>[uv]))?(?P<conj>\^\(\*\))?"
    r"|(?P<momentum>p_\d+)_(?P<momidx>\+?%[^\s*/+()^,]+)"
    r"|(?P<int>\d+)"
    r"|(?P<name>[A-Za-z][A-Za-z0-9_]*)"
    r"|(?P<op>[-+*/^()])"
    r")"
)
_INDEX_KINDS_OF = {
    # tensor name -> kinds of its indices ("skip": a spin label, dropped)
    "gamma": ("mu", "d", "d"),
    "f": ("a", "a", "a"),
    "g": ("mu", "mu"),
}


def _amplitude_token(m: re.Match, pos: int) -> tuple[str, object]:
    if m.group("tensor"):
        return "tensor", m.groupdict()
    if m.group("momentum"):
        return "momentum", (m.group("momentum"), m.group("momidx"))
    if m.group("int"):
        return "int", m.group("int")
    if m.group("name"):
        return "name", m.group("name")
    return "op", m.group("op")


class _AmplitudeTranslator(ProductParser):
    """MARTY's amplitude text -> an ``amplitude_syntax`` tree, on the shared sum-of-products parser.

    MARTY's atoms are its own: tensors with index lists, momenta with an index,
    and negative numbers in parentheses; a sign may start any term."""

    signed_terms = True

    def __init__(self, text: str, leg_labels: set[str], vector_labels: set[str], rename: dict[str, str]):
        text = text.strip()

        def unreadable(pos, why):
            return MartyFailure(why or f"cannot read MARTY amplitude at position {pos}: {text[pos : pos + 40]!r}")

        super().__init__(text, lex(text, _AMP_TOKEN_RE, _amplitude_token, unreadable))
        self.leg_labels = leg_labels
        self.vector_labels = vector_labels
        self.rename = rename
        self.index_names: dict[str, str] = {}
        self.index_kinds: dict[str, str] = {}
        self.counts: dict[str, int] = {}

    def fail(self, message: str, pos: int) -> Exception:
        return MartyFailure(f"MARTY amplitude: {message} at position {pos} in {self.text[:60]!r}")

    # -- indices
    def index(self, raw: str, kind: str):
        key = raw.lstrip("+").lstrip("%")
        known = self.index_kinds.get(key)
        if known is None:
            self.index_kinds[key] = kind
            self.counts[kind] = self.counts.get(kind, 0) + 1
            self.index_names[key] = f"{kind}{self.counts[kind]}"
        elif known != kind:
            raise MartyFailure(f"MARTY index {key} used both as {known} and as {kind} index")
        return Node("name", value=self.index_names[key])

    def atom(self):

        kind, val, pos = self.peek()
        if self.at("("):
            return self.parenthesized()
        if self.at("-"):  # "(-2)" and "^(-2)"
            self.take()
            self.enter()
            inner = self.atom()
            self.leave()
            if inner.op == "num":
                return Node("num", value=-inner.value)
            return Node("neg", (inner,))
        if kind == "int":
            self.take()
            return Node("num", value=Fraction(int(val)))
        if kind == "name":
            self.take()
            return Node("name", value=self.rename.get(val, val))
        if kind == "momentum":
            self.take()
            mom, idx = val
            return Node("call", (Node("name", value=mom), self.index(idx, "mu")), "mom")
        if kind == "tensor":
            self.take()
            return self.tensor(val)
        found = "end of input" if kind == "end" else repr(val)
        raise self.fail(f"unexpected {found}", pos)

    def tensor(self, t: dict):
        name = t["tensor"]
        raw = [x.strip() for x in t["indices"].split(",")]
        mom = t["mom"]
        conj = bool(t["conj"])
        if mom is None:
            if name == "T" or name.startswith("T_"):  # SU(3) generator, e.g. T_C_10
                kinds = ("a", "c", "c")
                obj = "T"
            elif name in _INDEX_KINDS_OF:
                kinds = _INDEX_KINDS_OF[name]
                obj = "metric" if name == "g" else name
            else:
                raise MartyFailure(f"MARTY amplitude has a tensor we do not translate: {name}")
            if len(raw) != len(kinds):
                raise MartyFailure(f"MARTY tensor {name} has {len(raw)} indices, expected {len(kinds)}")
            return Node("call", tuple(self.index(r, k) for r, k in zip(raw, kinds)), obj)
        # An external field: spin label first, then [colour,] Dirac/Lorentz index.
        label = self.rename.get(name, name)
        if label in self.vector_labels:
            obj = "epsc" if conj else "eps"
            inner = raw[1:]
            kinds = ("a", "mu") if len(inner) == 2 else ("mu",)
            colour = [self.index(inner[0], "a")] if len(inner) == 2 else []
            lorentz = self.index(inner[-1], "mu")
            args = (Node("name", value=label), Node("name", value=mom), lorentz, *colour)
            return Node("call", args, obj)
        if label not in self.leg_labels or t["uv"] is None:
            raise MartyFailure(f"MARTY amplitude has an external field we do not know: {name}")
        obj = {("u", False): "u", ("u", True): "ubar", ("v", False): "v", ("v", True): "vbar"}[(t["uv"], conj)]
        inner = raw[1:]
        colour = [self.index(inner[0], "c")] if len(inner) == 2 else []
        dirac = self.index(inner[-1], "d")
        return Node("call", (Node("name", value=label), Node("name", value=mom), dirac, *colour), obj)


def _drop_regulator(node):
    """Remove the ``reg_prop`` terms of every sum (the regulator is 0)."""

    def has_regulator(n) -> bool:
        return (n.op == "name" and n.value == REGULATOR) or any(has_regulator(a) for a in n.args)

    if not node.args:
        if node.op == "name" and node.value == REGULATOR:
            raise MartyFailure("MARTY amplitude has the regulator outside a sum")
        return node
    if node.op == "+":
        kept = [_drop_regulator(a) for a in node.args if not has_regulator(a)]
        if not kept:
            raise MartyFailure("MARTY amplitude has a sum made only of regulator terms")
        return kept[0] if len(kept) == 1 else Node("+", tuple(kept))
    return Node(node.op, tuple(_drop_regulator(a) for a in node.args), node.value)


def _pull_signs(node):
    """Move negative numbers and negations out of products: ``(-24)*i*x`` -> ``-(24*i*x)``."""
    if not node.args:
        if node.op == "num" and node.value < 0:
            return Node("neg", (Node("num", value=-node.value),))
        return node
    args = tuple(_pull_signs(a) for a in node.args)
    if node.op in ("*", "/"):
        negative = False
        plain = []
        for i, a in enumerate(args):
            if a.op == "neg" and (node.op == "*" or i == 0):
                negative = not negative
                a = a.args[0]
            plain.append(a)
        out = Node(node.op, tuple(plain), node.value)
        return Node("neg", (out,)) if negative else out
    if node.op == "neg" and args[0].op == "neg":
        return args[0].args[0]
    return Node(node.op, args, node.value)


def translate_amplitude(
    text: str, leg_labels, vector_labels=("A", "G"), process: Process | None = None, rename: dict | None = None
) -> str:
    """A MARTY amplitude in ``amplitude_syntax``, with canonical index names.

    With ``process``, also in the canonical form (:func:`.canonical.canonical_amplitude`, sign
    kept), so one diagram prints the same string from either backend; where that form cannot
    be reached the translation is returned as it is.  ``rename``: MARTY names -> ours
    (default ``MARTY_TO_OURS``; imported SYMBA files name some fields differently).
    """
    tr = _AmplitudeTranslator(text, set(leg_labels), set(vector_labels), MARTY_TO_OURS if rename is None else rename)
    node = _pull_signs(_drop_regulator(tr.parse()))
    out = to_string(canonicalize_indices(node))
    try:
        parse(out)
    except AmplitudeSyntaxError as exc:  # a bug here, not in MARTY: say so loudly
        raise MartyFailure(f"translated amplitude does not parse back: {exc}") from None
    if process is not None:
        out = canonicalise(out, process, signed=True)[0]
    return out


def _factor_out_i(expr):
    """(k, rest) with expr = i^k * rest, pulling i out of products and of sums whose
    terms all carry i to the same parity.  Linear in the size of the tree, unlike
    ``expand``, which takes minutes on a QED 2->3 square.
    """
    if expr is sympy.I:
        return 1, sympy.Integer(1)
    if expr.is_Atom or not expr.has(sympy.I):
        return 0, expr
    if expr.is_Mul:
        power, parts = 0, []
        for arg in expr.args:
            k, r = _factor_out_i(arg)
            power += k
            parts.append(r)
        return power % 4, sympy.Mul(*parts)
    if expr.is_Pow and expr.exp.is_Integer:
        k, r = _factor_out_i(expr.base)
        return (k * int(expr.exp)) % 4, sympy.Pow(r, expr.exp)
    if expr.is_Add:
        real, imaginary = [], []
        for arg in expr.args:
            k, r = _factor_out_i(arg)
            term = -r if k in (2, 3) else r
            (imaginary if k % 2 else real).append(term)
        if not imaginary:
            return 0, sympy.Add(*real)
        if not real:
            return 1, sympy.Add(*imaginary)
        return 0, sympy.Add(*real) + sympy.I * sympy.Add(*imaginary)
    return 0, expr


def denominators(expr) -> list:
    """The distinct bases raised to negative powers in a squared amplitude."""
    bases = {p.base for p in expr.atoms(sympy.Pow) if p.exp.is_negative}
    return sorted(bases, key=sympy.default_sort_key)


def match_diagrams(proc: Process, references: list[ReferenceDiagram], found: list[tuple[list[str], list]]) -> list[int]:
    """For each MARTY diagram (mediator labels, denominators), the index of its FeynGraph twin.

    Propagators are compared by value at a random physical point: MARTY writes
    each k^2 - m^2 as ±1/2 or ±1 times ours, with its own choice of s_ij.
    """
    if len(found) != len(references):
        raise MartyFailure(f"MARTY found {len(found)} diagrams for '{proc}', FeynGraph {len(references)}")
    point = random_point(proc.leg_masses(), proc.n_in, seed=7)
    values = point.values()

    def invariant(k, mass):
        total = 0
        for i, ci in enumerate(k):
            for j, cj in enumerate(k):
                if ci and cj:
                    total += ci * cj * (point.dot(i, j))
        return total - (values[mass] ** 2 if mass else 0)

    ref_values = [[abs(invariant(k, m)) for k, m in zip(r.momenta, r.masses)] for r in references]

    def same(a, b) -> bool:
        return any(abs(a - f * b) <= 1e-20 * abs(a) for f in (1, 2, 0.5))

    def fits(mediators, dens, ref_idx) -> bool:
        ref = references[ref_idx]
        if set(mediators) != set(ref.labels):  # MARTY lists each internal field once
            return False
        got = [abs(evaluate(d, values)) for d in dens]
        want = ref_values[ref_idx]
        return all(any(same(g, w) for w in want) for g in got) and all(any(same(g, w) for g in got) for w in want)

    taken: set[int] = set()
    order = []
    for mediators, dens in found:
        choice = next((r for r in range(len(references)) if r not in taken and fits(mediators, dens, r)), None)
        if choice is None:
            raise MartyFailure(f"no FeynGraph diagram of '{proc}' matches MARTY's diagram with propagators {mediators}")
        taken.add(choice)
        order.append(choice)
    return order


def compute_marty(proc: Process, timeout: float = 600.0) -> ProcessResult:
    """Diagrams, amplitudes and squares of one process, computed by MARTY in a worker process.

    With two or more external gluons the whole-process square comes from the
    builtin engine (see the module docstring); the per-diagram squares stay MARTY's.
    """
    status = bridge_status()
    if not status.loadable:
        raise unavailable_error(status.reason)
    builtin_whole = whole_square_needs_builtin(proc)
    incoming, outgoing = marty_legs(proc)
    raw = run_in_worker(proc.theory, incoming, outgoing, True, not builtin_whole, timeout, what=str(proc))
    model = proc.model
    leg_labels = {model.particle(n).label for n in model.particles if model.particle(n).fermion}
    references = reference_diagrams(proc)
    squares = [read_square(d["squared"]) for d in raw["diagrams"]]
    order = match_diagrams(proc, references, [(d["mediators"], dens) for d, (_, dens) in zip(raw["diagrams"], squares)])
    results = [
        DiagramResult(
            index=ref,
            propagators=references[ref].propagators,
            amplitude=translate_amplitude(d["amplitude"], leg_labels, process=proc),
            squared_amplitude=sympy_to_text(sq),
        )
        for ref, d, (sq, _) in zip(order, raw["diagrams"], squares)
    ]
    results.sort(key=lambda r: r.index)
    if builtin_whole:
        whole = compute_builtin(proc, timeout=timeout).squared_amplitude
        return ProcessResult(str(proc), proc.theory, "marty", results, whole, whole_process_backend="builtin")
    return ProcessResult(str(proc), proc.theory, "marty", results, translate_square(raw["squared"]))
