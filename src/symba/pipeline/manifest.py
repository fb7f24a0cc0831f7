"""Process manifests and stable-hash sharding.

A shard's membership depends only on the hash of each process name and on the
number of buckets, so adding one process changes exactly one shard's manifest.
The bucket count is a power of two derived from ``batch_size``; it only moves
(and reshuffles every shard) when the process count crosses a power of two.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import stat
import sys
from pathlib import Path

from symba.files import atomic_write, write_text_if_changed
from symba.physics.engine import ENGINE_VERSION
from symba.physics.process import enumerate_processes, parse_process
from symba.physics.theories import get_model

PER_PROCESS = 1  # batch_size meaning "one process per job, shard named by the slug"


def process_slug(process: str) -> str:
    """``"e- e+ -> mu- mu+"`` -> ``"e-_e+__mu-_mu+"`` (same rule as ``Process.slug``)."""
    lhs, rhs = process.split("->")
    return "_".join(lhs.split()) + "__" + "_".join(rhs.split())


def slug_to_process(slug: str) -> str:
    if slug.count("__") != 1:
        raise ValueError(f"malformed process slug {slug!r}: expected e.g. 'e-_e+__mu-_mu+'")
    lhs, rhs = slug.split("__")
    return " ".join(lhs.split("_")) + " -> " + " ".join(rhs.split("_"))


def stable_hash(theory: str, process: str) -> int:
    """64-bit hash of a process that never changes between runs or machines."""
    digest = hashlib.blake2b(f"{theory}:{process}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def bucket_count(n_processes: int, batch_size: int) -> int:
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    return 1 << max(0, math.ceil(math.log2(max(1.0, n_processes / batch_size))))


def assign_shards(theory: str, processes: list[str], batch_size: int) -> dict[str, list[str]]:
    """Map shard name -> sorted processes.  ``batch_size == 1``: one shard per process, named by its slug."""
    if batch_size == PER_PROCESS:
        return {process_slug(p): [p] for p in sorted(set(processes))}
    n = bucket_count(len(processes), batch_size)
    width = max(3, len(str(n - 1)))
    shards: dict[str, list[str]] = {}
    for p in sorted(set(processes)):
        shards.setdefault(f"h{stable_hash(theory, p) % n:0{width}d}", []).append(p)
    return dict(sorted(shards.items()))


def enumerate_theory(theory: str, spec: dict) -> list[str]:
    """Process strings chosen by one ``theories:`` entry of the config."""
    found = []
    if spec.get("multiplicities"):
        found = [str(p) for p in enumerate_processes(theory, tuple(spec["multiplicities"]), spec.get("particles"))]
    for text in spec.get("processes", []):
        found.append(str(parse_process(text, theory)))
    return sorted(set(found))


MANIFEST_CACHE_FORMAT = 2
MAX_MANIFEST_CACHE_BYTES = 256 << 20  # QED up to 3->3 lists a few hundred thousand processes


def _manifest_key_text(theory: str, spec: dict) -> str:
    return json.dumps({"theory": theory, "spec": spec, "engine": ENGINE_VERSION}, sort_keys=True)


def manifest_cache_path(theory: str, spec: dict, cache_dir: str | os.PathLike) -> Path:
    """Where ``enumerate_theory(theory, spec)`` is memoised: keyed by the spec and the engine version."""
    key = hashlib.blake2b(_manifest_key_text(theory, spec).encode(), digest_size=12).hexdigest()
    return Path(cache_dir) / f"{theory}-{key}.json"


def _manifest_checksum(entry: dict) -> str:
    body = json.dumps({k: v for k, v in entry.items() if k != "checksum"}, sort_keys=True)
    return hashlib.blake2b(body.encode(), digest_size=16).hexdigest()


def manifest_cache_text(theory: str, spec: dict, processes: list[str]) -> str:
    """The cache file of an enumeration: the processes, what they were enumerated for, a checksum."""
    entry = {"format": MANIFEST_CACHE_FORMAT, "key": _manifest_key_text(theory, spec), "processes": processes}
    entry["checksum"] = _manifest_checksum(entry)
    return json.dumps(entry)


def write_cached_manifest(path: str | os.PathLike, theory: str, spec: dict, processes: list[str]) -> None:
    write_text_if_changed(path, manifest_cache_text(theory, spec, processes))


def _manifest_cache_problem(path: Path, theory: str, spec: dict) -> tuple[list[str] | None, str]:
    """(processes, "") from a sound cache file of this enumeration, else (None, why not)."""
    info = path.stat()  # FileNotFoundError: simply not cached yet
    if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_MANIFEST_CACHE_BYTES:
        return None, "not a regular file of a bounded size"
    try:
        entry = json.loads(path.read_bytes())
    except (OSError, ValueError, RecursionError) as exc:
        return None, f"not readable JSON ({type(exc).__name__})"
    if not isinstance(entry, dict) or set(entry) != {"format", "key", "processes", "checksum"}:
        return None, "not a symba manifest cache (written by an older symba, or edited)"
    if entry["checksum"] != _manifest_checksum(entry):
        return None, "checksum does not match the content (edited or damaged)"
    if entry["format"] != MANIFEST_CACHE_FORMAT or entry["key"] != _manifest_key_text(theory, spec):
        return None, "written for another enumeration"
    processes = entry["processes"]
    if not isinstance(processes, list) or not all(isinstance(p, str) for p in processes):
        return None, "processes are not a list of strings"
    return processes, ""


def read_cached_manifest(path: str | os.PathLike, theory: str, spec: dict) -> list[str] | None:
    """The memoised process list, or None if absent or unsound (then it is enumerated again).

    A cache file that exists but fails its checks is one line on stderr naming it: an edited
    cache must not silently plan other processes.
    """
    path = Path(path)
    try:
        processes, problem = _manifest_cache_problem(path, theory, spec)
    except FileNotFoundError:
        return None
    except OSError as exc:
        processes, problem = None, f"unreadable ({exc.strerror})"
    if problem:
        print(f"symba: ignoring the process cache {path}: {problem}; enumerating again", file=sys.stderr)
    return processes


def cached_manifest(theory: str, spec: dict, cache_dir: str | os.PathLike) -> list[str]:
    """``enumerate_theory`` memoised on disk: enumeration runs FeynGraph on every candidate (slow at 2->3)."""
    path = manifest_cache_path(theory, spec, cache_dir)
    processes = read_cached_manifest(path, theory, spec)
    if processes is None:
        processes = enumerate_theory(theory, spec)
        write_cached_manifest(path, theory, spec, processes)
    return processes


def read_manifest_file(path: str | os.PathLike) -> dict[str, list[str]]:
    """A hand-made manifest: lines ``theory<TAB>process``; ``#`` starts a comment.

    Every line's theory and particle names are checked, so that a bad line stops the workflow
    before any job runs, with the line's number.  (Set lookups only: a 30,000-line manifest is
    read at every parse.  Conservation is checked by the job, like any physics error.)
    """
    particles: dict[str, frozenset] = {}
    out: dict[str, list[str]] = {}
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        theory, sep, process = line.partition("\t")
        if not sep or "->" not in process:
            raise ValueError(f"{path}:{number}: expected 'theory<TAB>process', got {line!r}")
        theory, process = theory.strip(), " ".join(process.split())
        try:
            if theory not in particles:
                particles[theory] = frozenset(get_model(theory).particles)
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
        lhs, _, rhs = process.partition("->")
        if not lhs.split() or not rhs.split():
            raise ValueError(f"{path}:{number}: a process needs particles on both sides, got {process!r}")
        for name in lhs.split() + rhs.split():
            if name not in particles[theory]:
                raise ValueError(
                    f"{path}:{number}: unknown particle {name!r} in theory {theory}; known: {' '.join(sorted(particles[theory]))}"
                )
        out.setdefault(theory, []).append(process)
    return out


def stamp_text(params) -> str:
    return json.dumps(params, sort_keys=True, indent=1) + "\n"


def content_digest(text: str) -> str:
    """16 hex digits naming a parameter set; a new set gets a new file name, hence a rerun."""
    return hashlib.blake2b(text.encode(), digest_size=8).hexdigest()


def write_stamp(path: str | os.PathLike, params: dict) -> str:
    """A parameter stamp: JSON of the parameters a rule depends on, rewritten only when they change."""
    write_text_if_changed(path, stamp_text(params))
    return str(path)


def write_versioned(path: str | os.PathLike, text: str) -> None:
    """Write one content-named file of a folder and delete its siblings (the superseded versions).

    A later return to old parameters then finds no old file, so it reruns what depends on it.
    """
    path = Path(path)
    atomic_write(path, text)
    for sibling in path.parent.iterdir():
        if sibling != path and sibling.is_file() and sibling.suffix == path.suffix and not sibling.name.startswith("."):
            sibling.unlink(missing_ok=True)


def write_parameter_file(path: str | os.PathLike, text: str, digest: str, log_path: str | os.PathLike) -> None:
    """The job behind a content-named file: refuses a name that is not the digest of ``text``."""
    if content_digest(text) != digest:
        raise ValueError(f"{path}: not named by the digest of the current parameters ({content_digest(text)})")
    write_versioned(path, text)
    atomic_write(log_path, f"wrote {path}\n")


MAX_PARAMETER_FILE_BYTES = 64 << 20  # a shard's process list; stamps are a few hundred bytes


def damaged_parameter_files(expected: dict[str, str]) -> dict[str, str]:
    """Of the content-named files ``expected`` (path -> text) that exist, those not holding their text.

    Each is named on stderr in one line; :func:`repair_parameter_files` rewrites them once a run
    holds the lock (Snakemake's ``onstart:``, which a run with nothing to do never reaches).  (Jobs take their parameters from the config, so the content is a record for
    people; a wrong record must not stand.)
    """
    damaged = {}
    for path, text in expected.items():
        try:
            info = os.stat(path)
            sound = (
                stat.S_ISREG(info.st_mode)
                and info.st_size <= MAX_PARAMETER_FILE_BYTES
                and Path(path).read_bytes() == text.encode()
            )
        except FileNotFoundError:
            continue  # not written yet: its job writes it
        except OSError:
            sound = False
        if not sound:
            print(
                f"symba: {path} does not hold the parameters its name says (edited or damaged); "
                "the next run that has a job to run rewrites it (results made under its name stand)",
                file=sys.stderr,
            )
            damaged[path] = text
    return damaged


def repair_parameter_files(damaged: dict[str, str]) -> None:
    """Rewrite each file with its text, keeping its modification time: only the record was wrong,
    the results made with the parameters of its name stay valid (and are not rerun)."""
    for path, text in damaged.items():
        try:
            times = os.stat(path)
            keep = (times.st_atime_ns, times.st_mtime_ns)
        except OSError:
            keep = None
        if os.path.isdir(path) and not os.path.islink(path):
            raise OSError(f"{path} is a directory where a parameter file belongs; remove it and rerun")
        atomic_write(path, text)
        if keep is not None:
            os.utime(path, ns=keep)


def shard_manifest_text(processes: list[str]) -> str:
    return "".join(p + "\n" for p in processes)
