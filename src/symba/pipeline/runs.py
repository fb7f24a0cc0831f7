"""Each run in its own folder, ``<results>/<run>/``; what is safe to share in ``<results>/.cache``.

Shards are named by hash bucket (``h000``...) or by process slug, so a second configuration
written into a run's folder would replace some of its shards and leave the others: the folder
would then read as a mixture of both runs, and the first run would silently rebuild part of it.
A run therefore refuses to start (one line) when its folder was made with processes that its
config leaves out (``processes.json``, written once the run holds the lock), or holds shard
files that its config would not make (another sharding, a dropped file of ``symba_files:``).
Adding processes to a run is fine: every shard it rewrites is then one of its own.  Refusing
rather than keying folders by the config keeps the paths a person types short and stable, and
lets parameter changes (timeouts, the model) rerun inside the same run as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from symba.files import write_text_if_changed

from .config_check import ConfigError

SHARD_STAGES = ("amplitudes", "dataset", "tokens")  # folders of <stage>/<theory>/<shard>.parquet
RECORD = "processes.json"  # {theory: [process, ...]} of the run's computed shards


def run_folder(results: str, run: str) -> str:
    return f"{results}/{run}"


def cache_folder(results: str) -> str:
    """Caches keyed by their whole input (simplify results, enumerations): one for all runs."""
    return f"{results}/.cache"


def foreign_shards(run_dir: str | Path, planned: Mapping[str, Iterable[str]]) -> list[str]:
    """Shard files under ``run_dir`` that are not among ``planned`` ({theory: shard names})."""
    found = []
    for stage in SHARD_STAGES:
        base = Path(run_dir) / stage
        if not base.is_dir():
            continue
        for theory_dir in sorted(p for p in base.iterdir() if p.is_dir()):
            own = set(planned.get(theory_dir.name, ()))
            found += [
                str(f)
                for f in sorted(theory_dir.glob("*.parquet"))
                if not f.name.startswith(".") and f.stem not in own  # .*.tmp: a write in progress
            ]
    return found


def recorded_processes(run_dir: str | Path) -> dict[str, list[str]]:
    """The processes the run's folder was made with ({} for a new run)."""
    path = Path(run_dir) / RECORD
    if not path.is_file():
        return {}
    try:
        record = json.loads(path.read_text())
    except (ValueError, UnicodeDecodeError):
        raise ConfigError(f"{path} is not a process record (JSON); delete it, or the run folder") from None
    if not isinstance(record, dict) or not all(
        isinstance(v, list) and all(isinstance(p, str) for p in v) for v in record.values()
    ):
        raise ConfigError(f"{path} is not a process record ({{theory: [process, ...]}}); delete it, or the run folder")
    return record


def record_processes(run_dir: str | Path, processes: Mapping[str, Iterable[str]]) -> None:
    """Called once the run holds the lock (the Snakefile's ``onstart``), never on a dry run."""
    record = {theory: sorted(set(found)) for theory, found in sorted(processes.items())}
    write_text_if_changed(Path(run_dir) / RECORD, json.dumps(record, indent=1) + "\n")


def check_own_folder(
    run: str, run_dir: str | Path, shards: Mapping[str, Iterable[str]], processes: Mapping[str, Iterable[str]]
) -> None:
    """Raises ConfigError (one line) when ``run_dir`` holds another configuration's data.

    ``shards``: {theory: shard names} this config makes; ``processes``: {theory: processes}.
    """
    fix = f"give this config its own run (run: NAME, or --config run=NAME), or delete {run_dir} to start it again"
    left_out = [
        (theory, process)
        for theory, found in sorted(recorded_processes(run_dir).items())
        for process in found
        if process not in set(processes.get(theory, ()))
    ]
    if left_out:
        theory, process = left_out[0]
        more = f" and {len(left_out) - 1} more" if len(left_out) > 1 else ""
        raise ConfigError(
            f"run {run!r}: {run_dir} was made with processes this config leaves out ({theory} {process!r}{more}); {fix}"
        )
    foreign = foreign_shards(run_dir, shards)
    if foreign:
        more = f" and {len(foreign) - 1} more" if len(foreign) > 1 else ""
        raise ConfigError(f"run {run!r}: {run_dir} holds shards this config would not make ({foreign[0]}{more}); {fix}")
