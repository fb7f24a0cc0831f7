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

Whole-process QCD squares with two or more external gluons are refused:
MARTY sums gluon polarisations with -g_{mu nu} and no ghosts, which is not
physical there (per-diagram squares follow that convention on purpose).
"""

from __future__ import annotations

import multiprocessing
import re
from dataclasses import dataclass

from .engine import DiagramResult, ProcessResult
from .process import Process, ProcessError

INSTALL_HINT = (
    "install MARTY, then `MARTY_ROOT=<prefix> pip install ./cpp/marty_bindings` "
    "(see cpp/marty_bindings/README.md)"
)
# MARTY symbol -> ours.  Masses and s_ij are already ours: the bridge names them so.
MARTY_TO_OURS = {"g": "g_s"}
REGULATOR = "reg_prop"


class MartyUnavailable(ValueError):
    """The optional MARTY bridge is not installed; the message says how to get it."""


class MartyFailure(ValueError):
    """MARTY failed, timed out or produced output we cannot translate."""


class UnphysicalSquare(ProcessError):
    """A whole-process square MARTY would get wrong (external gluon pairs without ghosts)."""


def marty_available() -> bool:
    try:
        import symba_marty  # noqa: F401
    except ImportError:
        return False
    return True


def require_marty() -> None:
    try:
        import symba_marty  # noqa: F401
    except ImportError as exc:
        raise MartyUnavailable(f"MARTY backend not available ({exc}); {INSTALL_HINT}") from None


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


def check_process_square_supported(proc: Process) -> None:
    if proc.theory == "qcd" and external_gluons(proc) >= 2:
        raise UnphysicalSquare(
            f"MARTY backend refuses the whole-process square of '{proc}': with "
            f"{external_gluons(proc)} external gluons it sums polarisations without ghosts, "
            "which is unphysical; use backend 'builtin' for this process"
        )


# ---------------------------------------------------------------------------
# Worker process


def _worker(conn, theory, incoming, outgoing, diagram_squares, process_square) -> None:
    try:
        import symba_marty
    except ImportError as exc:
        conn.send(("unavailable", str(exc)))
        return
    try:
        out = symba_marty.compute(theory, incoming, outgoing, diagram_squares, process_square)
    except symba_marty.MartyError as exc:
        conn.send(("marty-error", str(exc)))
        return
    except Exception as exc:  # anything else from the bridge: report it, never hang the parent
        conn.send(("marty-error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ok", out))


def run_in_worker(theory: str, incoming, outgoing, diagram_squares: bool, process_square: bool, timeout: float) -> dict:
    """One MARTY call in a fresh process, killed after ``timeout`` seconds."""
    ctx = multiprocessing.get_context("spawn")  # never fork: the parent may hold threads
    recv, send = ctx.Pipe(duplex=False)
    worker = ctx.Process(
        target=_worker,
        args=(send, theory, list(incoming), list(outgoing), diagram_squares, process_square),
        daemon=True,
    )
    worker.start()
    send.close()
    try:
        if not recv.poll(timeout):
            raise MartyFailure(f"MARTY timed out after {timeout:g} s")
        try:
            status, payload = recv.recv()
        except EOFError:
            worker.join(5)
            raise MartyFailure(f"MARTY worker died (exit code {worker.exitcode})") from None
    finally:
        recv.close()
        if worker.is_alive():
            worker.kill()
        worker.join()
    if status == "unavailable":
        raise MartyUnavailable(f"MARTY backend not available ({payload}); {INSTALL_HINT}")
    if status == "marty-error":
        raise MartyFailure(payload)
    return payload


# ---------------------------------------------------------------------------
# Squared amplitudes: MARTY text -> our symbols


_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def rename_symbols(text: str) -> str:
    """Rename MARTY's symbols to ours, whole names only (``g`` but not ``g_s`` or ``m_g``)."""
    return _NAME_RE.sub(lambda m: MARTY_TO_OURS.get(m.group(0), m.group(0)), text)


def translate_square(text: str) -> str:
    """A MARTY squared amplitude as a SymPy-parseable string in our symbols.

    Drops the propagator regulator, requires the imaginary unit to cancel and
    every coefficient to be an exact rational.
    """
    import sympy

    from .kinematics import symbol_table

    if not text or not text.strip():
        raise MartyFailure("MARTY returned an empty squared amplitude")
    if re.search(r"\d\.\d*|\d[eE][-+]?\d", text):
        raise MartyFailure(f"MARTY squared amplitude has a floating-point number: {text[:80]}")
    table = dict(symbol_table())
    table[REGULATOR] = sympy.Integer(0)
    try:
        expr = sympy.sympify(rename_symbols(text).replace("^", "**"), locals=table, rational=True)
    except (sympy.SympifyError, SyntaxError, TypeError) as exc:
        raise MartyFailure(f"cannot read MARTY's squared amplitude: {exc}") from None
    unknown = sorted(s.name for s in expr.free_symbols if s.name not in table)
    if unknown:
        raise MartyFailure(f"MARTY squared amplitude has unknown symbol(s) {', '.join(unknown)}")
    if expr.has(sympy.I):
        expr = sympy.expand(expr)
        if expr.has(sympy.I):
            raise MartyFailure("MARTY squared amplitude is not real: the imaginary unit does not cancel")
    return sympy.sstr(expr, order="none")
