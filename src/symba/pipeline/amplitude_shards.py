"""Amplitudes of the processes of one shard, written as one Parquet shard.

Shard files are Parquet in :data:`symba.dataset_schema.SCHEMA`: one row per diagram
plus the whole-process row (``diagram == -1``, amplitude = sum of the diagram
amplitudes, squared amplitude with interference).  Each stage reads one shard
and writes one shard, atomically, so memory is bounded by a shard.

With ``orderings="all"`` each canonical process is computed once and the rows of
every distinct ordering of its legs are derived by relabelling
(:mod:`symba.physics.orderings`); rows keep ``canonical_process`` and ``permutation``.
"""

from __future__ import annotations

import logging
import os

import pyarrow as pa

from symba.dataset_schema import SCHEMA, identity_permutation, write_table_atomic
from symba.physics.engine import ENGINE_VERSION, compute_process
from symba.physics.orderings import rows_for_orderings
from symba.physics.process import parse_process
from symba.physics.results import WHOLE_PROCESS

log = logging.getLogger(__name__)


def process_rows(result, multiplicity: str, engine_version: str) -> list[dict]:
    """Rows of one ``ProcessResult``: each diagram, then the whole process."""
    base = {
        "process": result.process,
        "theory": result.theory,
        "multiplicity": multiplicity,
        "backend": result.backend,
        "engine_version": engine_version,
        "status": "raw",
        "canonical_process": result.process,
        "permutation": identity_permutation(result.process),
    }
    return [
        dict(
            base,
            # the whole-process square may come from another backend ("builtin" where MARTY's is unphysical)
            backend=result.whole_process_backend if index == WHOLE_PROCESS else result.backend,
            diagram=index,
            amplitude=amplitude,
            squared_raw=squared,
            squared=squared,
        )
        for index, amplitude, squared in result.rows()
    ]


def rows_to_table(rows: list[dict]) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=SCHEMA)


ORDERINGS = ("canonical", "all")


class EmptyShardError(RuntimeError):
    """Every process of a shard failed: an empty shard would pass for a finished one."""


def compute_amplitude_shard(
    processes: list[str],
    theory: str,
    out_path: str | os.PathLike,
    backend: str = "builtin",
    timeout: float = 600.0,
    on_error: str = "fail",
    massless: list[str] | tuple[str, ...] = (),
    allow_empty: bool = False,
    orderings: str = "canonical",
) -> dict:
    """Compute every process of a shard and write its rows.

    ``on_error="skip"`` logs a failing process and leaves it out (the returned ``skipped`` lists
    each with its reason); ``"fail"`` raises.  If every process fails, nothing is written and
    :class:`EmptyShardError` is raised, unless ``allow_empty``: a broken tool must not leave
    empty shards that a later run takes for finished ones.
    """
    if orderings not in ORDERINGS:
        raise ValueError(f"orderings must be one of {', '.join(ORDERINGS)}, got {orderings!r}")
    if on_error not in ("fail", "skip"):
        raise ValueError(f"amplitudes.on_error must be 'fail' or 'skip', got {on_error!r}")
    rows: list[dict] = []
    skipped: list[tuple[str, str]] = []
    for text in processes:
        try:
            proc = parse_process(text, theory)
            result = compute_process(proc, theory=theory, backend=backend, timeout=timeout, massless=massless)
        except Exception as exc:
            if on_error == "fail":
                raise RuntimeError(f"process '{text}' ({theory}, {backend}) failed: {exc}") from exc
            reason = f"{type(exc).__name__}: {exc}".splitlines()[0][:300] if str(exc) else type(exc).__name__
            log.warning("skipping process '%s': %s", text, reason)
            skipped.append((text, reason))
            continue
        make_rows = lambda derived: process_rows(derived, proc.multiplicity, ENGINE_VERSION)  # noqa: E731
        rows.extend(rows_for_orderings(result, make_rows, orderings))
    if processes and len(skipped) == len(processes) and not allow_empty:
        text, reason = skipped[0]
        raise EmptyShardError(
            f"all {len(processes)} processes of the shard failed (first: '{text}': {reason}); nothing written. "
            "Fix the cause and rerun, or set amplitudes.allow_empty_shards: true"
        )
    write_table_atomic(rows_to_table(rows), out_path)
    return {"processes": len(processes), "skipped": skipped, "rows": len(rows), "orderings": orderings}


def skipped_tsv(theory: str, skipped: list[tuple[str, str]]) -> str:
    """The skip list of one shard: ``theory<TAB>process<TAB>reason`` lines (tabs in reasons replaced)."""
    return "".join(f"{theory}\t{process}\t{reason.replace(chr(9), ' ')}\n" for process, reason in skipped)
