"""Numeric equivalence of a predicted squared amplitude, with a process-level timeout.

Checks run in a worker process: a pathological prediction (huge powers, deep
nesting) can hang SymPy, and only killing a process stops that safely.  This module
does not import torch, so the worker starts quickly.
"""

from __future__ import annotations

import multiprocessing as mp
from functools import lru_cache

import sympy

STARTUP_ALLOWANCE_S = 30.0


@lru_cache(maxsize=1024)
def _kinematics(process: str, theory: str):
    from symba.physics.process import parse_process

    proc = parse_process(process, theory, check=False)
    return tuple(proc.leg_masses()), proc.n_in


def numerically_equivalent(prediction: str, truth: str, process: str, theory: str, n_points: int = 4) -> bool:
    """Whether ``prediction`` equals ``truth`` at random phase-space points of ``process``.

    Unparseable predictions, and ones with symbols the process does not have, are wrong.
    """
    from symba.physics.kinematics import numerically_equal, symbol_table

    try:
        sympy.sympify(prediction, locals=symbol_table())
        leg_masses, n_in = _kinematics(process, theory)
        return bool(numerically_equal(prediction, truth, list(leg_masses), n_in, n_points=n_points))
    except Exception:  # any failure to parse or evaluate the prediction makes it wrong
        return False


def _worker(conn) -> None:
    while True:
        task = conn.recv()
        if task is None:
            return
        conn.send(numerically_equivalent(*task))


class NumericChecker:
    """Runs ``numerically_equivalent`` in one worker process, each call under a timeout.

    A check that times out counts as not equivalent; the worker is killed and replaced.
    """

    def __init__(self, timeout_s: float = 20.0, n_points: int = 4):
        self.timeout_s, self.n_points = timeout_s, n_points
        self.timeouts = 0
        self._ctx = mp.get_context("spawn")
        self._proc = self._conn = None

    def _start(self) -> None:
        self._conn, child = self._ctx.Pipe()
        self._proc = self._ctx.Process(target=_worker, args=(child,), daemon=True)
        self._proc.start()
        child.close()
        self._fresh = True  # its first answer also waits for its imports

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join()
            self._conn.close()
        self._proc = self._conn = None

    def check(self, prediction: str, truth: str, process: str, theory: str) -> bool:
        if self._proc is None or not self._proc.is_alive():
            self._start()
        self._conn.send((prediction, truth, process, theory, self.n_points))
        if self._conn.poll(self.timeout_s + (STARTUP_ALLOWANCE_S if self._fresh else 0.0)):
            self._fresh = False
            try:
                return bool(self._conn.recv())
            except EOFError:  # the worker died (e.g. out of memory): wrong, and restart it
                self._kill()
                return False
        self.timeouts += 1
        self._kill()
        return False

    def close(self) -> None:
        if self._proc is not None and self._proc.is_alive():
            try:
                self._conn.send(None)
                self._proc.join(timeout=5)
            except (BrokenPipeError, OSError):
                pass
        self._kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
