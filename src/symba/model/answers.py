"""Answers in the dataset's ``squared`` text, from the model or the exact engine, in worker processes.

Whatever its source, a prediction is printed as the dataset prints its ``squared`` column
(the default ``simplify: {method: factor}``): the canonical factored text of the smallest
relabelling of the expression among the exchanges of identical legs and masses
(:mod:`symba.simplify.classes`), renamed back.  Exact answers start from the engine's own text,
as the dataset does, so they are the dataset's rows character for character.  Model answers
start from the detokenized text; which relabelling is smallest can depend on the text's form, so
for processes with identical particles a right answer may differ from the row in the order of
its terms (measured on the default run: 387 of its 405 distinct rows identical, all 405 equal).

An exact answer is looked up, when it can be, in the dataset of the workflow run the model file
sits in (``RUN/model/model.pt`` -> ``RUN/dataset``): the row of the same process whose amplitude
is the request's, from a shard whose checksums hold, computed by this engine version with the
builtin backend and no massless option, as the fallback computes it.  Its stored engine text
then goes through the same :func:`dataset_text`; anything else is computed afresh.

Model output is untrusted and SymPy cannot be interrupted, so the text work (detokenize, rename
the legs, factor, tokenize) and the exact computations run in worker processes
(:class:`symba.workers.LineWorker`, killed at a timeout), ``n`` of them side by side
(:class:`AnswerPool`).  This module does not import torch: a worker starts in well under a second.
"""

from __future__ import annotations

import json
import os
import re
import sys
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from functools import lru_cache
from pathlib import Path

import sympy

from symba.dataset_schema import WHOLE_PROCESS, ShardError, read_shard
from symba.physics.canonical import canonicalise
from symba.physics.engine import ENGINE_VERSION, compute_here
from symba.physics.leg_relabelling import DecodeLabelling, relabelling_of_process
from symba.physics.orderings import relabel_squared, rows_for_orderings
from symba.pipeline.manifest import process_slug, stable_hash
from symba.simplify.classes import map_back, representative
from symba.simplify.simplifier import simplify_text
from symba.tokenization.notations import detokenize, parse_squared, tokenize
from symba.workers import LineWorker, WorkerDied, serve

WORKER_MEMORY_MB = 8192  # address space, as the engine worker: FORM alone reserves ~2.1 GB for sorting
EXACT_TIMEOUT_S = 600.0  # the engine's own bound on one exact computation
_GRACE_S = 30.0  # the worker's own bounds (FORM's timeout) fire first


# -- worker side -----------------------------------------------------------------------------


def dataset_text(text: str, process: str | None, theory: str, whole: bool = False) -> str:
    """``text`` as the simplify stage writes the squared column of a row of ``process``
    (:func:`symba.simplify.shards.simplify_rows`): the smallest relabelling of the text among
    the exchanges of identical legs and masses, factored (``whole``, a whole-process row: its
    grouped form), renamed back.  The text itself when it cannot be simplified (the simplify
    stage then keeps the raw text too)."""

    relabelling = relabelling_of_process(process, theory) if process else None
    canonical = relabelling.canonical_process if relabelling else process
    permutation = ",".join(map(str, relabelling.permutation)) if relabelling else None
    try:
        rep, legs = representative(text, process, canonical, permutation)
        return map_back(simplify_text(rep, "factor", whole=whole), legs, "factor")
    except (ValueError, ArithmeticError):
        return text


def _tokens(text: str, notation: str | None) -> list[str] | None:

    try:
        return list(tokenize(parse_squared(text), notation))
    except (ValueError, ArithmeticError, TypeError):
        return None


def model_answer(
    tokens: list[str],
    notation: str,
    permutation: list[int] | str | None,
    process: str | None,
    theory: str,
    whole: bool = False,
) -> dict:
    """Model output tokens -> {"text", "tokens"} in the dataset's form (text None: not an expression).
    ``permutation``: the tokens are of the canonical leg order; rename them to the legs as written
    (text: a ``decode_permutation``, which may rename flavours too).
    ``process`` (as written; None: unknown) picks the dataset's text among equal ones; ``whole``:
    the amplitude is a whole process's (the request said diagram -1), written in its grouped form."""

    try:
        text = sympy.sstr(detokenize(list(tokens), notation))
        if isinstance(permutation, str):
            text = DecodeLabelling.from_text(permutation).squared(text)  # OrderingError, as below
        elif permutation:
            text = relabel_squared(text, permutation)  # OrderingError: names a leg the process lacks
    except (ValueError, ArithmeticError, TypeError):  # a malformed sequence has no expression
        return {"text": None, "tokens": None}
    text = dataset_text(text, process, theory, whole)
    return {"text": text, "tokens": _tokens(text, notation)}


def run_dataset(model_path: str) -> str | None:
    """The dataset folder of the workflow run ``model_path`` sits in (``RUN/model/model.pt`` ->
    ``RUN/dataset``), when the run's amplitudes were computed as the exact fallback computes them:
    every stamp of its amplitudes parameters says the builtin backend and no massless particle.
    None otherwise (no run folder, no stamps, other settings)."""
    run = Path(model_path).resolve().parent.parent
    folder = run / "dataset"
    stamps = sorted((run / "params" / "amplitudes").glob("*.json"))
    if not stamps or not folder.is_dir():
        return None
    for stamp in stamps:
        try:
            params = json.loads(stamp.read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(params, dict) or params.get("backend") != "builtin" or params.get("massless") != []:
            return None
    return str(folder)


class DatasetRows:
    """Worker side: the raw rows of a run's dataset, read one shard at a time as processes ask
    (the last ``SHARDS_KEPT`` kept; a shard over ``MAX_SHARD_BYTES`` is not read: computing is
    cheaper than holding it)."""

    SHARDS_KEPT = 32
    MAX_SHARD_BYTES = 64 << 20

    def __init__(self, folder: str):
        self.folder = Path(folder)
        self._shards: OrderedDict[Path, dict[str, list[dict]]] = OrderedDict()
        self._buckets: dict[str, tuple[int, int] | None] = {}  # theory -> (hashed shards, digits)

    def _shard_path(self, canonical: str, theory: str) -> Path | None:
        """The shard holding ``canonical``: named by its stable hash (``h007``) among the
        theory's hashed shards, or by its slug (one process per shard)."""

        slug = process_slug(canonical)
        by_slug = self.folder / theory / f"{slug}.parquet"
        if "/" not in slug and not slug.startswith(".") and by_slug.is_file():
            return by_slug
        if theory not in self._buckets:
            found = [m for p in (self.folder / theory).glob("h*.parquet") if (m := re.fullmatch(r"h(\d+)", p.stem))]
            # the bucket count is a power of two (symba.pipeline.manifest.bucket_count) above the names
            highest = max((int(m.group(1)) for m in found), default=None)
            self._buckets[theory] = None if highest is None else (1 << highest.bit_length(), len(found[0].group(1)))
        if self._buckets[theory] is None:
            return None
        buckets, width = self._buckets[theory]
        return self.folder / theory / f"h{stable_hash(theory, canonical) % buckets:0{width}d}.parquet"

    def warm_up(self) -> None:
        """Reads one shard: the first read of a process pays ~0.2 CPU-s of pyarrow set-up."""
        first = next(iter(sorted(self.folder.glob("*/*.parquet"))), None)
        if first is not None:
            self._read(first)

    def _read(self, path: Path) -> dict[str, list[dict]]:
        """The shard's rows computed by this engine with the builtin backend, by process ({} when
        the shard is damaged)."""

        if path in self._shards:
            self._shards.move_to_end(path)
            return self._shards[path]
        by_process: dict[str, list[dict]] = {}
        try:
            table = read_shard(path) if path.stat().st_size <= self.MAX_SHARD_BYTES else None  # checksums checked
        except (ShardError, OSError):
            table = None
        for row in table.to_pylist() if table is not None else []:
            if (row["status"], row["backend"], row["engine_version"]) == ("ok", "builtin", ENGINE_VERSION):
                by_process.setdefault(row["process"], []).append(row)
        self._shards[path] = by_process
        if len(self._shards) > self.SHARDS_KEPT:
            self._shards.popitem(last=False)
        return by_process

    @staticmethod
    def canonical_amplitude(row: dict, theory: str) -> str:
        """The row's amplitude in canonical form, worked out once."""
        if "canonical_amplitude" not in row:
            row["canonical_amplitude"] = canonicalise(row["amplitude"], row["process"], theory)[0]
        return row["canonical_amplitude"]

    def rows(self, canonical: str, written: str, theory: str) -> list[dict]:
        """The rows of process ``written`` (an ordering of ``canonical``) computed by this engine
        with the builtin backend, in the dataset's order; [] when the dataset has none."""
        if not re.fullmatch(r"\w+", theory):  # a folder name, never a path out of the dataset
            return []
        path = self._shard_path(canonical, theory)
        if path is None or not path.is_file():
            return []
        return [row for row in self._read(path).get(written, []) if row["theory"] == theory]


_dataset: DatasetRows | None = None  # the worker's run dataset (its second argument)


def _dataset_row(
    process: str, theory: str, diagram: int | None, amplitude: str | None, as_given: str | None = None
) -> dict | None:
    """The run dataset's row for the request, when its amplitude is the request's (``as_given``,
    the text the user sent, or ``amplitude``, its canonical text) and every row of the process
    with that amplitude has the same engine text; None: compute it."""
    if _dataset is None or not amplitude:
        return None

    try:
        relabelling = relabelling_of_process(process, theory)
        canonical = relabelling.canonical_process if relabelling else process
        rows = _dataset.rows(canonical, process, theory)
        if diagram is not None:
            rows = [row for row in rows if row["diagram"] == diagram]
        texts = {"".join(text.split()) for text in (amplitude, as_given) if text}
        found = [row for row in rows if "".join(row["amplitude"].split()) in texts]
        if not found and rows:  # relabelled rows are not in canonical chain order: compare canonical texts
            wanted = canonicalise(amplitude, process, theory)[0]
            found = [row for row in rows if _dataset.canonical_amplitude(row, theory) == wanted]
    except (ValueError, ArithmeticError):  # the engine's path says what is wrong
        return None
    if not found or len({row["squared_raw"] for row in found}) != 1:
        return None
    return found[0]


@lru_cache(maxsize=64)
def _exact_rows(process: str, theory: str) -> tuple[dict, ...]:
    """The dataset's raw rows of ``process`` (legs as written): its canonical process computed,
    then relabelled to the written order, as the amplitudes stage derives orderings."""

    relabelling = relabelling_of_process(process, theory)
    canonical = relabelling.canonical_process if relabelling else process
    # In this worker, so the caller's timeout kills it; FORM gets its own bound too.
    result = compute_here(canonical, theory, "builtin", [], timeout=EXACT_TIMEOUT_S)

    def make_rows(r):
        return [{"process": r.process, "diagram": i, "amplitude": a, "squared_raw": sq} for i, a, sq in r.rows()]

    orderings = "canonical" if relabelling is None or relabelling.identity else "all"
    written = relabelling.process if relabelling else process
    return tuple(row for row in rows_for_orderings(result, make_rows, orderings) if row["process"] == written)


def exact_answer(
    process: str,
    theory: str,
    diagram: int | None,
    amplitude: str | None,
    notation: str | None,
    as_given: str | None = None,
) -> dict:
    """The exact squared amplitude in the dataset's form: of diagram ``diagram`` (-1: the whole
    process), or, without one, of the diagram whose amplitude is ``amplitude`` (whitespace aside).
    With both, ``amplitude`` only checks a run dataset's row (:func:`_dataset_row`), as does
    ``as_given``, the amplitude as the user wrote it.
    {"error": ...} (one line) when the process cannot be computed or has no such diagram."""
    process = " ".join(process.split())
    try:
        row = _dataset_row(process, theory, diagram, amplitude, as_given)
        if row is None:
            row = _computed_row(process, theory, diagram, amplitude)
    except ValueError as exc:  # the physics stage's input errors (ProcessError, ...) are ValueErrors
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return {"error": f"process {process!r}: {first}"}
    if "error" in row:
        return row
    text = dataset_text(row["squared_raw"], row["process"], theory, row["diagram"] == WHOLE_PROCESS)
    return {"text": text, "tokens": _tokens(text, notation), "diagram": row["diagram"]}


def _computed_row(process: str, theory: str, diagram: int | None, amplitude: str | None) -> dict:
    """The engine's row for the request (process computed here), or {"error": ...}."""
    rows = _exact_rows(process, theory)
    if diagram is None:
        wanted = "".join((amplitude or "").split())
        found = [row["diagram"] for row in rows if "".join(row["amplitude"].split()) == wanted]
        if not found and amplitude:  # relabelled rows are not in canonical chain order: compare canonical texts
            wanted = canonicalise(amplitude, process, theory)[0]
            found = [
                row["diagram"] for row in rows if canonicalise(row["amplitude"], row["process"], theory)[0] == wanted
            ]
        if not found:
            return {
                "error": f"the amplitude is none of the {len(rows) - 1} diagram amplitudes of {process!r} "
                'nor their sum; give its diagram (--diagram, or a "diagram" key on the line)'
            }
        diagram = found[0]
    row = next((row for row in rows if row["diagram"] == diagram), None)
    if row is None:
        return {"error": f"process {process!r} has no diagram {diagram} (it has {len(rows) - 1})"}
    return row


def _handle(request: dict):
    if request["op"] == "model":
        return model_answer(
            request["tokens"],
            request["notation"],
            request.get("permutation"),
            request.get("process"),
            request["theory"],
            request.get("whole", False),
        )
    if request["op"] == "exact":
        return exact_answer(
            request["process"],
            request["theory"],
            request.get("diagram"),
            request.get("amplitude"),
            request["notation"],
            request.get("as_given"),
        )
    raise ValueError(f"unknown op {request['op']!r}")


def _warm_up() -> None:
    if _dataset is not None:
        _dataset.warm_up()


# -- caller side -----------------------------------------------------------------------------


def default_workers() -> int:
    """Answer workers beside the decoding process: the cores left to them, at most 2.  On 2 cores
    one worker is faster than two (default run, 200 lines: 5.7 CPU-s and 4.4-4.8 s against 6.6-7.0
    and 5.1-5.8 s): a third busy process only takes turns with the decoding."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not Linux
        cores = os.cpu_count() or 1
    return max(1, min(2, cores - 1))


class AnswerPool:
    """``n`` answer workers, each fed by its own thread; they start in the background at once,
    so their imports overlap the caller's (torch, the model).  Exact requests of one process go
    to the same worker, which keeps that process's result for the next diagram."""

    def __init__(self, n: int | None = None, timeout_s: float = 20.0, dataset: str | None = None):
        """``n``: None, :func:`default_workers`; ``dataset``: a run's dataset folder
        (:func:`run_dataset`) to look exact answers up in."""
        n = default_workers() if n is None else n
        self.timeout_s = timeout_s
        args = [str(WORKER_MEMORY_MB), dataset or ""]
        self._workers = [LineWorker("symba.model.answers", args) for _ in range(max(1, n))]
        self._threads = [ThreadPoolExecutor(max_workers=1, thread_name_prefix="answers") for _ in self._workers]
        self._load = [0] * len(self._workers)
        self._lock = threading.Lock()
        self._started = [t.submit(self._start, w) for t, w in zip(self._threads, self._workers)]

    @staticmethod
    def _start(worker: LineWorker) -> None:
        worker.start()

    def _ask(self, k: int, request: dict, timeout: float) -> dict:
        worker = self._workers[k]
        try:
            if not worker.alive():
                worker.kill()
                worker.start()
            answer = worker.request(request, timeout)
        except WorkerDied as exc:
            what = "exact computation" if request["op"] == "exact" else "reading the model's answer"
            answer = {"error": f"{what} took over {timeout:g} s" if exc.timed_out else f"{what} failed ({exc})"}
        finally:
            with self._lock:
                self._load[k] -= 1
        return answer

    def _submit(self, k: int, request: dict, timeout: float) -> Future:
        with self._lock:
            self._load[k] += 1
        return self._threads[k].submit(self._ask, k, request, timeout)

    def model(
        self,
        tokens: list[str],
        notation: str,
        permutation: list[int] | str | None,
        process: str | None,
        theory: str,
        whole: bool = False,
    ) -> Future:
        """Future of {"text", "tokens"} (text None: not an expression) or {"error"}; see model_answer."""
        with self._lock:
            k = min(range(len(self._load)), key=self._load.__getitem__)
        request = {
            "op": "model",
            "tokens": list(tokens),
            "notation": notation,
            "permutation": permutation,
            "process": process,
            "theory": theory,
            "whole": whole,
        }
        return self._submit(k, request, self.timeout_s)

    def exact(
        self,
        process: str,
        theory: str,
        diagram: int | None,
        amplitude: str | None,
        notation: str | None,
        as_given: str | None = None,
    ) -> Future:
        """Future of {"text", "tokens", "diagram"} or {"error"}; ``as_given``: the amplitude as
        the user wrote it, to find it in a run dataset (``amplitude`` is its canonical text)."""
        key = " ".join(process.split())
        k = sum(key.encode()) % len(self._workers)  # stable across runs, unlike hash()
        request = {
            "op": "exact",
            "process": key,
            "theory": theory,
            "diagram": diagram,
            "amplitude": amplitude,
            "notation": notation,
            "as_given": as_given,
        }
        return self._submit(k, request, EXACT_TIMEOUT_S + _GRACE_S)

    def close(self) -> None:
        for t in self._threads:
            t.shutdown(wait=True)
        for w in self._workers:
            w.close()


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[2]:
        _dataset = DatasetRows(sys.argv[2])
    serve(_handle, memory_mb=int(sys.argv[1]) if len(sys.argv) > 1 else 0, warm_up=_warm_up)
    # Every answer is written and nothing needs cleaning up (a late worker is killed anyway):
    # skip the interpreter's teardown, 0.2 s of freeing SymPy that the caller would wait for.
    sys.stderr.flush()
    os._exit(0)
