"""Public entry point of the engine: one process in, typed results out.

With a timeout (the default), the whole computation (diagram generation, the
Python side and FORM) runs in a worker process (:mod:`._engine_worker`) with a
capped address space, killed when the timeout passes.  SymPy's and FeynGraph's
loops do not see signals, so a process is the only bound that holds.  The
worker's temporary files (FORM's included) live in one private folder, removed
when the worker ends or is killed, and by the next run if this process was
killed too.
"""

from __future__ import annotations

import atexit
import importlib
import math
import os
import shutil
import time
import traceback

from symba.workers import LineWorker, WorkerDied

from .form.runner import FormTimeout
from .process import Process, ProcessError, parse_process
from .results import DiagramResult, ProcessResult  # noqa: F401  (re-exported)
from .tempdirs import make_owned_dir

BACKENDS = ("builtin", "marty")
# Bump when a change alters the engine's output; the workflow keys its caches on it.
# 2: gluon-only whole-process squares by the gluon_sums route (same values, other text)
# 3: amplitudes in the canonical form (physics/canonical.py): per-diagram rows without overall sign
ENGINE_VERSION = "3"
DEFAULT_TIMEOUT_S = 600.0
DEFAULT_MEMORY_MB = 8192  # address space, not resident: FORM alone reserves ~2.1 GB for sorting
MIN_MEMORY_MB = 256  # below this the interpreter and FORM cannot even start
WORKER_DIR_PREFIX = "symba-engine-"
_GRACE_S = 1.0  # for the answer to travel back once the worker's own deadline has passed


class EngineOptionError(ValueError):
    """A bad engine option (timeout, memory cap, backend)."""


class EngineLimitError(ProcessError):
    """The process did not finish within the time or memory it was given."""


def check_timeout(timeout) -> float:
    try:
        value = float(timeout)
    except (TypeError, ValueError):
        raise EngineOptionError(f"timeout must be a number of seconds, not {timeout!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise EngineOptionError(f"timeout must be a finite number of seconds > 0, not {timeout!r}")
    return value


def check_memory_mb(memory_mb) -> int:
    if isinstance(memory_mb, bool) or not isinstance(memory_mb, int) or memory_mb < MIN_MEMORY_MB:
        raise EngineOptionError(f"memory cap must be a whole number of MB >= {MIN_MEMORY_MB}, not {memory_mb!r}")
    return memory_mb


def compute_process(
    process: str | Process,
    theory: str = "qed",
    backend: str = "builtin",
    timeout: float | None = DEFAULT_TIMEOUT_S,
    massless=(),
    memory_mb: int = DEFAULT_MEMORY_MB,
) -> ProcessResult:
    """Diagrams, amplitudes and squared amplitudes of one process.

    ``massless`` names mass symbols set to zero (e.g. ``["m_e"]``); all masses
    are symbolic otherwise.  ``timeout`` bounds the whole computation, which
    then runs in a worker process capped at ``memory_mb``; ``timeout=None``
    computes here, unbounded.  Raises ProcessError (a ValueError) for a
    process that cannot be computed, EngineLimitError (one) past a bound.
    """
    if backend not in BACKENDS:
        raise EngineOptionError(f"unknown backend {backend!r}; choose one of {', '.join(BACKENDS)}")
    # Syntax and size only: the tree-diagram check runs FeynGraph, which belongs inside the bound.
    proc = process if isinstance(process, Process) else parse_process(process, theory, check=False)
    massless = sorted(set(massless) | proc.massless)
    proc.with_massless(massless)  # refuses unknown mass symbols here, before a worker starts
    if backend == "marty":
        if massless:
            raise EngineOptionError("the marty backend keeps every mass symbolic; drop the massless option")
        from .marty import bridge_status, unavailable_error  # lazy: SymPy and the canonical form, see compute_here

        status = bridge_status()
        if not status.loadable:  # said here, before a worker starts for nothing
            raise unavailable_error(status.reason)
    if timeout is None:
        return compute_here(str(proc), proc.theory, backend, massless, timeout=None)
    timeout = check_timeout(timeout)
    memory_mb = check_memory_mb(memory_mb)
    return _compute_in_worker(str(proc), proc.theory, backend, massless, timeout, memory_mb)


def compute_here(text: str, theory: str, backend: str, massless, timeout: float | None) -> ProcessResult:
    """The computation itself, in this process; ``timeout`` bounds FORM with what is left of it."""
    started = time.monotonic()
    proc = parse_process(text, theory).with_massless(massless)
    remaining = None if timeout is None else timeout - (time.monotonic() - started)
    # Lazy, both: the backends pull in NumPy, SymPy and the canonical form (0.1 to 0.4 s), which the
    # caller's side, every ``import symba.physics`` and the Snakefile's parse do not need; the worker loads them.
    if backend == "builtin":
        from .builtin import compute_builtin

        return compute_builtin(proc, timeout=remaining)
    from .marty import compute_marty

    return compute_marty(proc, timeout=remaining if remaining is not None else DEFAULT_TIMEOUT_S)


# ---------------------------------------------------------------- worker side


def answer_request(request: dict) -> dict:
    """Worker side of one request: the result as JSON, or the error with its type."""
    try:
        result = compute_here(
            request["process"], request["theory"], request["backend"], request["massless"], request["timeout"]
        )
    except MemoryError:
        return {"error": "out of memory", "memory": True}
    except Exception as exc:  # sent back and raised again in the caller
        return {
            "error": str(exc),
            "type": type(exc).__name__,
            "module": type(exc).__module__,
            "traceback": traceback.format_exc()[-4000:],
        }
    return {"result": result.to_json()}


# ---------------------------------------------------------------- caller side


def _compute_in_worker(text: str, theory: str, backend: str, massless, timeout: float, memory_mb: int) -> ProcessResult:
    deadline = time.monotonic() + timeout
    worker = _worker(memory_mb)
    payload = {"process": text, "theory": theory, "backend": backend, "massless": massless}
    try:
        worker.ensure_started(timeout)
        answer = worker.request(
            dict(payload, timeout=deadline - time.monotonic()), deadline - time.monotonic() + _GRACE_S
        )
    except WorkerDied as exc:
        reason = worker.last_words()
        _WORKERS.pop(_worker_key(memory_mb), None)
        worker.close()
        if exc.timed_out or time.monotonic() >= deadline:
            raise EngineLimitError(
                f"process '{text}' was not computed within {timeout:g} s (the timeout covers diagrams, amplitudes and FORM)"
            ) from None
        raise EngineLimitError(
            f"the engine worker for '{text}' died ({reason or 'no message'}); "
            f"it may need more than its memory cap of {memory_mb} MB"
        ) from None
    if "result" in answer:
        return ProcessResult.from_json(answer["result"])
    raise _rebuild_error(answer, text, timeout, memory_mb)


def _rebuild_error(answer: dict, text: str, timeout: float, memory_mb: int) -> Exception:
    """The worker's exception, as the same project type when it is one of ours."""
    if answer.get("memory"):
        return EngineLimitError(f"process '{text}' needs more than the memory cap of {memory_mb} MB")
    module, name, message = answer.get("module", ""), answer.get("type", ""), answer.get("error", "")
    cls = None
    if module == "symba" or module.startswith("symba."):
        candidate = getattr(importlib.import_module(module), name, None)
        if isinstance(candidate, type) and issubclass(candidate, Exception):
            cls = candidate
    if cls is not None and issubclass(cls, FormTimeout):
        return EngineLimitError(
            f"process '{text}' was not computed within {timeout:g} s (the timeout covers diagrams, amplitudes and FORM)"
        )
    if cls is not None:
        try:
            return cls(message)
        except TypeError:  # a constructor with other arguments
            pass
    # Not one of our errors: a bug.  Keep the worker's traceback for whoever reads it.
    return RuntimeError(f"engine worker failed on '{text}': {name}: {message}\n{answer.get('traceback', '')}")


class _EngineWorker:
    """A LineWorker running :mod:`._engine_worker` with its own temporary folder."""

    def __init__(self, memory_mb: int):
        self.dir = make_owned_dir(WORKER_DIR_PREFIX)
        self.worker = LineWorker(
            "symba.physics._engine_worker",
            [str(os.getpid()), str(memory_mb)],
            env={"TMPDIR": self.dir, "TEMP": self.dir, "TMP": self.dir},
        )

    def ensure_started(self, timeout: float) -> None:
        if not self.worker.alive():
            self.worker.start_timeout = timeout
            self.worker.start()

    def request(self, payload: dict, timeout: float) -> dict:
        return self.worker.request(payload, timeout)

    def last_words(self) -> str:
        """Last line the worker wrote to its log (stderr), e.g. an allocation failure."""
        try:
            with open(os.path.join(self.dir, "worker.log"), errors="replace") as fh:
                lines = [ln.strip() for ln in fh.read()[-4000:].splitlines() if ln.strip()]
        except OSError:
            return ""
        return lines[-1][:200] if lines else ""

    def close(self) -> None:
        self.worker.close()
        for _ in range(20):  # a FORM killed with the worker may still be writing for a moment
            shutil.rmtree(self.dir, ignore_errors=True)
            if not os.path.exists(self.dir):
                return
            time.sleep(0.05)


_WORKERS: dict[tuple, _EngineWorker] = {}


def _worker_key(memory_mb: int) -> tuple:
    # A worker keeps the environment it started with: where Python finds modules (the MARTY
    # bridge among them) must match the caller's now, or a new worker is needed.
    return memory_mb, os.environ.get("PYTHONPATH", ""), os.environ.get("LD_LIBRARY_PATH", "")


def _worker(memory_mb: int) -> _EngineWorker:
    key = _worker_key(memory_mb)
    if key not in _WORKERS:
        for stale in [k for k in _WORKERS if k[0] == memory_mb]:
            _WORKERS.pop(stale).close()
        _WORKERS[key] = _EngineWorker(memory_mb)
    return _WORKERS[key]


@atexit.register
def close_workers() -> None:
    while _WORKERS:
        _WORKERS.popitem()[1].close()
