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

Whole-process rows (``diagram == -1``) under ``factor`` get :mod:`symba.simplify.whole`'s form
instead of the factored whole: the sum over denominator groups, each factored, checked equal to
the raw text at random points in the worker (a mismatch is an ``error``, the raw text kept).

Identical expressions are simplified once; results are cached on disk keyed by a hash of
everything that decides them (method, engine, SymPy or python-flint version, symba's simplifier
version and code, expression), so later runs reuse them.  Each entry carries a checksum and the
limits a failure was reached under: a damaged or edited entry is recomputed and rewritten, and a
failure is retried when a limit is more generous (longer timeout, more memory, more retries).
"""

from __future__ import annotations

import ast
import functools
import hashlib
import json
import logging
import math
import os
import queue
import stat
import threading
import time
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

from symba.files import atomic_write
from symba.simplify.flint import factor_text, sympy_real_part
from symba.simplify.whole import whole_process_text
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


def simplify_text(text: str, method: str, engine: str = "flint", whole: bool = False) -> str:
    """Simplify one expression in this process (no timeout); the text parses back with parse_expression.

    ``factor`` gives the canonical factored text of :mod:`symba.simplify.flint` by either engine;
    with ``whole`` (a whole-process square) the grouped form of :mod:`symba.simplify.whole`,
    checked equal to ``text``.
    """
    if method == "factor":
        return whole_process_text(text, engine) if whole else factor_text(text, engine)
    import sympy  # lazy, both: SymPy costs 0.3 s and the FLINT route must not import it

    from symba.physics.expression_parser import parse_expression

    expr = sympy_real_part(
        parse_expression(text, rename={"I": "i"})
    )  # sympify recurses per term and fails on large sums
    route = {"factor": sympy.factor, "cancel": sympy.cancel, "together": sympy.together, "simplify": sympy.simplify}
    return sympy.sstr(route[method](expr))


# ---------------------------------------------------------------- worker processes

WORKER_MODULE = "symba.simplify.worker"


# A distinct expression to simplify: (text, whether it is a whole-process square).
Job = tuple[str, bool]


def _simplify_one(worker: LineWorker, job: Job, timeout: float) -> Outcome:
    text, whole = job
    if not worker.alive():
        worker.start()  # a worker that cannot start fails the job, not just this expression
    try:
        answer = worker.request({"text": text, "whole": whole} if whole else {"text": text}, timeout)
    except WorkerDied as died:
        if died.timed_out:
            return Outcome("timeout", text, f"no result within {timeout:g} s")
        return Outcome("error", text, str(died))
    if "error" in answer:
        return Outcome("error", text, answer["error"])
    return Outcome("ok", answer["text"])


def _run_pool(jobs: list[Job], options: SimplifyOptions, seed: int) -> dict[Job, Outcome]:
    """Simplify distinct ``jobs`` on ``options.workers`` worker processes, each under the timeout."""
    todo: queue.Queue[Job] = queue.Queue()
    for job in jobs:
        todo.put(job)
    results: dict[Job, Outcome] = {}
    errors: list[BaseException] = []
    args = [options.method, str(options.memory_mb), options.engine]

    def drain() -> None:
        try:
            with LineWorker(WORKER_MODULE, args, env={"PYTHONHASHSEED": str(seed)}) as worker:
                while True:
                    try:
                        job = todo.get_nowait()
                    except queue.Empty:
                        return
                    results[job] = _simplify_one(worker, job, options.timeout)
        except BaseException as exc:  # surfaced in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=drain, daemon=True) for _ in range(max(1, min(options.workers, len(jobs))))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


# ---------------------------------------------------------------- cache

# Bump when the simplified text of any method changes on purpose: it enters the cache key and the
# simplify stamp.  The digest of the simplifier's code (below) also enters the key, so that
# `--forcerun simplify` after any code change recomputes rather than reading old results back.
SIMPLIFIER_VERSION = "3"  # 3: whole-process rows in the grouped form (symba.simplify.whole)
# The code that decides a simplified text (relative to the symba package).
SIMPLIFIER_SOURCES = (
    "simplify/simplifier.py",
    "simplify/flint.py",
    "simplify/worker.py",
    "simplify/whole.py",
    "physics/expression_parser.py",
    "physics/kinematics.py",  # the symbols' assumptions steer SymPy
)
CACHE_FORMAT = 2
CACHE_STATUSES = ("ok", "timeout", "error")
MAX_CACHE_ENTRY_BYTES = 64 << 20  # simplified whole-process squares reach a few MB
MAX_REPORTED_REJECTS = 5  # log lines per call; the count is in the stats

log = logging.getLogger(__name__)


def code_digest(sources: list[str]) -> str:
    """Digest of Python sources that ignores comments, docstrings and layout (ruff format, typo fixes)."""
    digest = hashlib.blake2b(digest_size=8)
    for source in sources:
        tree = ast.parse(source)
        for node in ast.walk(tree):
            body = getattr(node, "body", None)
            if (
                isinstance(body, list)
                and body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                node.body = body[1:] or [ast.Pass()]
        digest.update(ast.unparse(tree).encode() + b"\0")
    return digest.hexdigest()


@functools.cache
def simplifier_version() -> str:
    """``SIMPLIFIER_VERSION`` and the digest of :data:`SIMPLIFIER_SOURCES` as installed."""
    package = Path(__file__).resolve().parents[1]
    try:
        sources = [(package / name).read_text() for name in SIMPLIFIER_SOURCES]
    except OSError:  # installed without sources (bytecode only): the explicit version alone
        return f"{SIMPLIFIER_VERSION}-nosource"
    return f"{SIMPLIFIER_VERSION}-{code_digest(sources)}"


def _versions(method: str, engine: str) -> str:
    if method == "factor" and engine == "flint":
        return f"flint\0{version('python-flint')}"
    return f"sympy\0{version('sympy')}"


def cache_key(text: str, method: str, engine: str = "flint", whole: bool = False) -> str:
    """Everything that decides a result: method, engine, library and simplifier versions, the
    kind of row (a whole-process square gets another form), the text.

    The limits (timeout, memory) decide only whether a failure is final; they are stored in the entry.
    """
    kind = "\0whole" if whole else ""
    decided_by = f"{CACHE_FORMAT}\0{method}{kind}\0{_versions(method, engine)}\0{simplifier_version()}\0{text}"
    return hashlib.blake2b(decided_by.encode(), digest_size=16).hexdigest()


def _cache_path(cache_dir: str, key: str) -> Path:
    return Path(cache_dir) / key[:2] / f"{key}.json"


def _checksum(entry: dict) -> str:
    body = {k: v for k, v in entry.items() if k != "checksum"}
    return hashlib.blake2b(json.dumps(body, sort_keys=True).encode(), digest_size=16).hexdigest()


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def entry_problem(entry, key: str) -> str | None:
    """Why a parsed cache entry cannot be used (None: it is sound and belongs to ``key``)."""
    if not isinstance(entry, dict):
        return f"not an object but {type(entry).__name__}"
    expected = {"format", "key", "status", "text", "message", "limits", "checksum"}
    if set(entry) != expected:
        return f"fields {sorted(entry)} instead of {sorted(expected)}"
    if entry["format"] != CACHE_FORMAT or isinstance(entry["format"], bool):
        return f"format {entry['format']!r}, not {CACHE_FORMAT}"
    if entry["key"] != key:
        return "written for another expression"
    if entry["status"] not in CACHE_STATUSES:
        return f"status {entry['status']!r} is not one of {', '.join(CACHE_STATUSES)}"
    if not isinstance(entry["text"], str) or not isinstance(entry["message"], str):
        return "text and message must be strings"
    limits = entry["limits"]
    if not (
        isinstance(limits, dict)
        and set(limits) == {"timeout", "memory_mb", "retries"}
        and _is_number(limits["timeout"])
        and limits["timeout"] > 0
        and _is_count(limits["memory_mb"])
        and _is_count(limits["retries"])
    ):
        return f"limits {limits!r} are not {{timeout > 0, memory_mb >= 0, retries >= 0}}"
    if entry["checksum"] != _checksum(entry):
        return "checksum does not match the content (edited or damaged)"
    return None


def _memory_at_least(then: int, now: int) -> bool:
    """A memory cap ``then`` at least as generous as ``now`` (0 = no cap, the most generous)."""
    return then == 0 or (now != 0 and then >= now)


def _final_under(limits: dict, options: SimplifyOptions) -> bool:
    """A failure reached under ``limits`` stands only if none of today's limits is more generous."""
    return (
        limits["timeout"] >= options.timeout
        and _memory_at_least(limits["memory_mb"], options.memory_mb)
        and limits["retries"] >= options.retries
    )


class CacheRejected(Exception):
    """A cache entry that exists but cannot be used: the reason names the file."""


def cache_get(cache_dir: str, text: str, options: SimplifyOptions, whole: bool = False) -> Outcome | None:
    """A cached outcome still valid under ``options``, or None (then it is computed again).

    ``ok`` always; a failure only if it was reached under limits at least as generous as
    today's (a longer timeout, more memory or more retries deserve a new try).  An entry that
    is damaged, edited, of the wrong shape or too large raises :class:`CacheRejected`.
    """
    key = cache_key(text, options.method, options.engine, whole)
    path = _cache_path(cache_dir, key)
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CacheRejected(f"{path}: unreadable ({exc.strerror})") from None
    if not stat.S_ISREG(info.st_mode):
        raise CacheRejected(f"{path}: not a regular file")
    if info.st_size > MAX_CACHE_ENTRY_BYTES:
        raise CacheRejected(f"{path}: {info.st_size} bytes, over the bound of {MAX_CACHE_ENTRY_BYTES}")
    try:
        entry = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError are ValueErrors
        raise CacheRejected(f"{path}: not readable JSON ({type(exc).__name__})") from None
    problem = entry_problem(entry, key)
    if problem:
        raise CacheRejected(f"{path}: {problem}")
    if entry["status"] != "ok" and not _final_under(entry["limits"], options):
        return None
    return Outcome(entry["status"], entry["text"], entry["message"])


def cache_put(cache_dir: str, text: str, outcome: Outcome, options: SimplifyOptions, whole: bool = False) -> None:
    """Store ``outcome`` with the limits it was reached under and a checksum of the whole entry."""
    key = cache_key(text, options.method, options.engine, whole)
    entry = {
        "format": CACHE_FORMAT,
        "key": key,
        "status": outcome.status,
        "text": outcome.text,
        "message": outcome.message,
        "limits": {"timeout": options.timeout, "memory_mb": options.memory_mb, "retries": options.retries},
    }
    entry["checksum"] = _checksum(entry)
    path = _cache_path(cache_dir, key)
    try:
        atomic_write(path, json.dumps(entry))  # concurrent jobs may write the same key; the last rename wins
    except IsADirectoryError:
        log.warning("simplify cache: %s is a directory; result not cached", path)


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
    cache_rejected: int = 0  # cache entries damaged, edited or malformed: recomputed
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def simplify_expressions(
    texts: list[str], options: SimplifyOptions, whole: list[bool] | None = None
) -> tuple[list[Outcome], SimplifyStats]:
    """One Outcome per input text (same order): deduplicated, cached, timeout-guarded.

    ``whole`` marks the texts that are whole-process squares (the grouped form under ``factor``).
    """
    start = time.monotonic()
    stats = SimplifyStats(expressions=len(texts))
    if whole is None:
        whole = [False] * len(texts)
    if len(whole) != len(texts):
        raise ValueError(f"{len(whole)} whole-process flags for {len(texts)} expressions")
    # the grouped form exists for factor only; other methods treat every row alike
    jobs: list[Job] = [(t, bool(w) and options.method == "factor") for t, w in zip(texts, whole)]
    distinct = list(dict.fromkeys(jobs))
    stats.distinct = len(distinct)
    if options.method == "none":
        done = {job: Outcome("raw", job[0]) for job in distinct}
    else:
        done: dict[Job, Outcome] = {}
        if options.max_chars:
            # Whole-process squares of 3->3 (0.1-3 MB) time out or exhaust memory in every engine and
            # are too long to tokenize: keep them raw at once instead of spending 2 x timeout each.
            for job in distinct:
                if len(job[0]) > options.max_chars:
                    done[job] = Outcome("raw", job[0], f"not simplified: over simplify.max_chars={options.max_chars}")
            stats.over_max_chars = len(done)
        if options.cache_dir:
            for job in distinct:
                if job in done:
                    continue
                try:
                    hit = cache_get(options.cache_dir, job[0], options, job[1])
                except CacheRejected as rejected:  # recomputed below, and the entry rewritten
                    stats.cache_rejected += 1
                    if stats.cache_rejected <= MAX_REPORTED_REJECTS:
                        log.warning("simplify cache entry ignored and recomputed: %s", rejected)
                    continue
                if hit is not None:
                    done[job] = hit
        stats.cached = len(done) - stats.over_max_chars
        pending = [job for job in distinct if job not in done]
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
            pending = [job for job in pending if round_results[job].status != "ok"]
        if options.cache_dir:
            for text, is_whole in computed:
                cache_put(options.cache_dir, text, done[(text, is_whole)], options, is_whole)
    outcomes = [done[job] for job in jobs]
    for outcome in done.values():
        if outcome.status in ("ok", "timeout", "error"):
            setattr(stats, outcome.status, getattr(stats, outcome.status) + 1)
    stats.seconds = time.monotonic() - start
    return outcomes, stats
