"""Numeric equivalence of a predicted squared amplitude, with a process-level timeout.

Checks run in a worker process: a pathological prediction (huge powers, deep
nesting) can hang SymPy, and only killing a process stops that safely.  This module
does not import torch, so the worker starts quickly.
"""

from __future__ import annotations

import json
import select
import subprocess
import sys
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


def _serve() -> None:
    """Worker loop: one JSON task per stdin line, one JSON verdict per stdout line."""
    for line in sys.stdin:
        prediction, truth, process, theory, n_points = json.loads(line)
        sys.stdout.write(json.dumps(numerically_equivalent(prediction, truth, process, theory, n_points)) + "\n")
        sys.stdout.flush()


class NumericChecker:
    """Runs ``numerically_equivalent`` in one worker process, each call under a timeout.

    The worker is a fresh interpreter (``python -m symba.model.numeric``), not a fork or
    spawn of the caller, so it never re-runs the caller's main script (Snakemake
    ``script:`` files have no main guard).  A check that times out counts as not
    equivalent; the worker is killed and replaced.
    """

    def __init__(self, timeout_s: float = 20.0, n_points: int = 4):
        self.timeout_s, self.n_points = timeout_s, n_points
        self.timeouts = 0
        self._proc: subprocess.Popen | None = None
        self._fresh = False

    def _start(self) -> None:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "symba.model.numeric"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, bufsize=1,
        )
        self._fresh = True  # its first answer also waits for its imports

    def _kill(self) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.wait()
            for stream in (self._proc.stdin, self._proc.stdout):
                stream.close()
        self._proc = None

    def check(self, prediction: str, truth: str, process: str, theory: str) -> bool:
        if self._proc is None or self._proc.poll() is not None:
            self._kill()
            self._start()
        try:
            self._proc.stdin.write(json.dumps([prediction, truth, process, theory, self.n_points]) + "\n")
            self._proc.stdin.flush()
        except BrokenPipeError:  # the worker died: restart it next time; this one is wrong
            self._kill()
            return False
        wait = self.timeout_s + (STARTUP_ALLOWANCE_S if self._fresh else 0.0)
        ready, _, _ = select.select([self._proc.stdout], [], [], wait)
        if ready:
            line = self._proc.stdout.readline()
            if line:
                self._fresh = False
                return bool(json.loads(line))
            self._kill()  # EOF: the worker died (e.g. out of memory)
            return False
        self.timeouts += 1
        self._kill()
        return False

    def close(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            try:
                self._proc.stdin.close()
                self._proc.wait(timeout=5)
            except (BrokenPipeError, OSError, subprocess.TimeoutExpired):
                pass
        self._kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


if __name__ == "__main__":
    _serve()
