"""Timeout-guarded simplification of squared amplitudes, with dedupe and a cache.

``method: factor`` runs on FLINT by default (``engine="flint"``, :mod:`symba.simplify.flint`,
hundreds of times faster than SymPy's ``factor``); ``engine="sympy"`` is the reference route
and prints the same canonical text.  The other methods are SymPy's.  Factors of the imaginary
unit left in imported squares are removed (the result must be real).

Each expression runs in a separate worker *process*; on timeout the parent kills
it (SIGKILL), because SymPy's C-level work ignores signals (sympy issue #23713).
An expression that times out or fails is retried once in a fresh worker with a
different ``PYTHONHASHSEED`` (SymPy's set iteration order, hence its path through
``factor``, depends on it).  Whatever happens, the raw expression is kept and
the status (``ok``/``timeout``/``error``) says which one the row holds.

Identical expressions are simplified once; results are cached on disk keyed by
a hash of (method, engine, SymPy and python-flint versions, expression) so later runs reuse them.
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from symba.files import atomic_write
from symba.workers import LineWorker, WorkerDied

METHODS = ("factor", "cancel", "together", "simplify", "none")
ENGINES = ("flint", "sympy")  # of method "factor"; the other methods are SymPy's


@dataclass(frozen=True)
class SimplifyOptions:
    method: str = "factor"
    timeout: float = 30.0  # seconds per expression and attempt
    retries: int = 1  # extra attempts, each with a new PYTHONHASHSEED
    workers: int = 1  # worker processes run in parallel
    memory_mb: int = 0  # address-space cap per worker; 0 = none
    cache_dir: str | None = None  # None = no cache
    seed: int = 0  # PYTHONHASHSEED of the first attempt
    engine: str = "flint"  # of method "factor": "flint" or "sympy" (the reference; same text)
    max_chars: int = 0  # longer expressions are kept raw, never sent to a worker; 0 = no cap

    def __post_init__(self):
        if self.method not in METHODS:
            raise ValueError(f"unknown simplification method {self.method!r}; choose one of {', '.join(METHODS)}")
        if self.engine not in ENGINES:
            raise ValueError(f"unknown simplification engine {self.engine!r}; choose one of {', '.join(ENGINES)}")
        if self.timeout <= 0:
            raise ValueError(f"simplification timeout must be > 0 seconds, got {self.timeout}")
        if self.max_chars < 0:
            raise ValueError(f"simplify max_chars must be >= 0 (0 = no cap), got {self.max_chars}")


@dataclass(frozen=True)
class Outcome:
    status: str  # "ok" | "timeout" | "error" | "raw" (method "none")
    text: str  # simplified expression if ok, else the raw one
    message: str = ""


def simplify_text(text: str, method: str, engine: str = "flint") -> str:
    """Simplify one expression in this process (no timeout); the text parses back with parse_expression.

    ``factor`` gives the canonical factored text of :mod:`symba.simplify.flint` by either engine.
    """
    if method == "factor":
        from symba.simplify.flint import factor_text

        return factor_text(text, engine)
    import sympy

    from symba.physics.expressions import parse_expression
    from symba.simplify.flint import sympy_real_part

    expr = sympy_real_part(
        parse_expression(text, rename={"I": "i"})
    )  # sympify recurses per term and fails on large sums
    route = {"factor": sympy.factor, "cancel": sympy.cancel, "together": sympy.together, "simplify": sympy.simplify}
    return sympy.sstr(route[method](expr))


# ---------------------------------------------------------------- worker processes

WORKER_MODULE = "symba.simplify.worker"


def _simplify_one(worker: LineWorker, text: str, timeout: float) -> Outcome:
    if not worker.alive():
        worker.start()  # a worker that cannot start fails the job, not just this expression
    try:
        answer = worker.request({"text": text}, timeout)
    except WorkerDied as died:
        if died.timed_out:
            return Outcome("timeout", text, f"no result within {timeout:g} s")
        return Outcome("error", text, str(died))
    if "error" in answer:
        return Outcome("error", text, answer["error"])
    return Outcome("ok", answer["text"])


def _run_pool(texts: list[str], options: SimplifyOptions, seed: int) -> dict[str, Outcome]:
    """Simplify distinct ``texts`` on ``options.workers`` worker processes, each under the timeout."""
    todo: queue.Queue[str] = queue.Queue()
    for text in texts:
        todo.put(text)
    results: dict[str, Outcome] = {}
    errors: list[BaseException] = []
    args = [options.method, str(options.memory_mb), options.engine]

    def drain() -> None:
        try:
            with LineWorker(WORKER_MODULE, args, env={"PYTHONHASHSEED": str(seed)}) as worker:
                while True:
                    try:
                        text = todo.get_nowait()
                    except queue.Empty:
                        return
                    results[text] = _simplify_one(worker, text, options.timeout)
        except BaseException as exc:  # surfaced in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=drain, daemon=True) for _ in range(max(1, min(options.workers, len(texts))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


# ---------------------------------------------------------------- cache


def _versions(method: str, engine: str) -> str:
    if method == "factor" and engine == "flint":
        return f"flint\0{version('python-flint')}"
    return f"sympy\0{version('sympy')}"


def cache_key(text: str, method: str, engine: str = "flint") -> str:
    return hashlib.blake2b(f"{method}\0{_versions(method, engine)}\0{text}".encode(), digest_size=16).hexdigest()


def _cache_path(cache_dir: str, key: str) -> Path:
    return Path(cache_dir) / key[:2] / f"{key}.json"


def cache_get(cache_dir: str, text: str, options: SimplifyOptions) -> Outcome | None:
    """A cached outcome still valid under ``options``: ok and error always; timeout only if
    it was reached with at least the current timeout (a longer timeout deserves a new try)."""
    try:
        entry = json.loads(_cache_path(cache_dir, cache_key(text, options.method, options.engine)).read_text())
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return None
    if entry["status"] == "timeout" and entry["timeout"] < options.timeout:
        return None
    return Outcome(entry["status"], entry["text"], entry.get("message", ""))


def cache_put(cache_dir: str, text: str, outcome: Outcome, options: SimplifyOptions) -> None:
    path = _cache_path(cache_dir, cache_key(text, options.method, options.engine))
    entry = {"status": outcome.status, "text": outcome.text, "message": outcome.message, "timeout": options.timeout}
    atomic_write(path, json.dumps(entry))  # concurrent jobs may write the same key; the last rename wins, both valid


# ---------------------------------------------------------------- public entry points


@dataclass
class SimplifyStats:
    expressions: int = 0
    distinct: int = 0
    cached: int = 0
    computed: int = 0
    retried: int = 0  # expressions given a second (or later) attempt
    ok: int = 0
    timeout: int = 0
    error: int = 0
    over_max_chars: int = 0  # distinct expressions kept raw for their length
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def simplify_expressions(texts: list[str], options: SimplifyOptions) -> tuple[list[Outcome], SimplifyStats]:
    """One Outcome per input text (same order): deduplicated, cached, timeout-guarded."""
    start = time.monotonic()
    stats = SimplifyStats(expressions=len(texts))
    distinct = list(dict.fromkeys(texts))
    stats.distinct = len(distinct)
    if options.method == "none":
        done = {t: Outcome("raw", t) for t in distinct}
    else:
        done: dict[str, Outcome] = {}
        if options.max_chars:
            # Whole-process squares of 3->3 (0.1-3 MB) time out or exhaust memory in every engine and
            # are too long to tokenize: keep them raw at once instead of spending 2 x timeout each.
            for text in distinct:
                if len(text) > options.max_chars:
                    done[text] = Outcome("raw", text, f"not simplified: over simplify.max_chars={options.max_chars}")
            stats.over_max_chars = len(done)
        if options.cache_dir:
            for text in distinct:
                if text in done:
                    continue
                hit = cache_get(options.cache_dir, text, options)
                if hit is not None:
                    done[text] = hit
        stats.cached = len(done) - stats.over_max_chars
        pending = [t for t in distinct if t not in done]
        stats.computed = len(pending)
        computed = list(pending)
        seed = options.seed
        for attempt in range(1 + options.retries):
            if not pending:
                break
            if attempt:
                stats.retried += len(pending)
            round_results = _run_pool(pending, options, seed + attempt)
            done.update(round_results)
            pending = [t for t in pending if round_results[t].status != "ok"]
        if options.cache_dir:
            for text in computed:
                cache_put(options.cache_dir, text, done[text], options)
    outcomes = [done[t] for t in texts]
    for outcome in done.values():
        if outcome.status in ("ok", "timeout", "error"):
            setattr(stats, outcome.status, getattr(stats, outcome.status) + 1)
    stats.seconds = time.monotonic() - start
    return outcomes, stats
