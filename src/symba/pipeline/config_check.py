"""The workflow's config checked while the Snakefile is parsed, before any job runs.

The JSON schema covers keys, types and ranges; this module adds what a schema cannot say (the
split fractions sum to 1, particles exist in their theory, the model library accepts `train:` and
`evaluate:`) and turns every problem into one line naming the key, instead of a traceback from a
job that starts after the dataset is built.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import functools
import glob
import math
import os
import sys
from pathlib import Path

from symba.cli import error_line


class ConfigError(ValueError):
    """A bad workflow config; the message is one line that names the key."""


def schema_problem(config: dict, schema_path: str | Path) -> str | None:
    """The most relevant schema violation as one line (``key.path: message``), or None."""
    # lazy, here and below: runs.py and common.smk import this module for its light helpers
    # (ConfigError, stop_on_bad_input, symba_file_paths); only the checks need jsonschema, yaml,
    # physics and the model config (0.1 s together)
    import jsonschema
    import yaml

    schema = yaml.safe_load(Path(schema_path).read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(config))
    if error is None:
        return None
    where = ".".join(str(part) for part in error.absolute_path)
    return f"{where}: {error.message}" if where else error.message


def check_fractions(fractions: list[float]) -> None:
    if not math.isclose(sum(fractions), 1.0, abs_tol=1e-9):
        raise ConfigError(
            f"tokenize.fractions (train, valid, test) must sum to 1, got {list(fractions)} (sum {sum(fractions):g})"
        )


def check_theory_spec(theory: str, spec: dict) -> None:
    """Particles and extra processes of one ``theories:`` entry exist in that theory."""
    from symba.physics.process import parse_process  # lazy: see schema_problem
    from symba.physics.theories import get_model

    model = get_model(theory)
    for particle in spec.get("particles") or []:
        if particle not in model.particles:
            raise ConfigError(
                f"theories.{theory}.particles: unknown particle {particle!r}; known: {' '.join(model.particles)}"
            )
    for text in spec.get("processes") or []:
        try:
            parse_process(text, theory)
        except ValueError as exc:
            raise ConfigError(f"theories.{theory}.processes: {exc}") from None


def fill_theory_defaults(config: dict) -> None:
    """A ``theories:`` entry without ``multiplicities``: none when it lists ``processes`` (it
    computes exactly those), else ["2->2"].  A schema default cannot depend on a sibling key."""
    for spec in (config.get("theories") or {}).values():
        if isinstance(spec, dict) and "multiplicities" not in spec:
            spec["multiplicities"] = [] if spec.get("processes") else ["2->2"]


def check_massless(massless: list[str]) -> None:
    """Mass symbols come from the models (a third theory's masses need no schema edit)."""
    from symba.physics.symbols import ALL_MASSES  # lazy: the symba.physics package costs ~35 ms

    unknown = [m for m in massless if m not in ALL_MASSES]
    if unknown:
        raise ConfigError(
            f"amplitudes.massless: unknown mass symbol {unknown[0]!r}; known: {' '.join(sorted(ALL_MASSES))}"
        )


def check_model_sections(train: dict, evaluate: dict) -> None:
    """``train:`` and ``evaluate:`` as the model library will read them (unknown keys, bad values)."""
    from symba.model.config import check_sections  # lazy: see schema_problem

    try:
        check_sections(train, evaluate)
    except (ValueError, TypeError, KeyError) as exc:
        message = str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc)
        raise ConfigError(message.splitlines()[0] if message else type(exc).__name__) from None


def symba_file_paths(patterns: list[str]) -> list[str]:
    """The files that ``symba_files:`` names, in order, each once; a pattern matching no file is an error."""
    found: list[str] = []
    for pattern in patterns:
        if "**" in pattern:
            matches = sorted(_recursive_glob(pattern))
        else:  # one directory level per component: no loop can make it run away
            matches = sorted(p for p in glob.glob(pattern) if Path(p).is_file())
        if not matches:
            raise ConfigError(f"symba_files: {pattern!r} matches no file")
        found += matches
    return list(dict.fromkeys(found))


def _recursive_glob(pattern: str) -> list[str]:
    """The files matching ``pattern`` (``**``: zero or more directories), as ``glob.glob(...,
    recursive=True)`` finds them, except that each real directory is entered once: Python's glob
    follows symlinks, so two symlink loops make it run for ever."""
    parts = pattern.split("/")
    k = 0
    while k < len(parts) - 1 and not glob.has_magic(parts[k]):
        k += 1
    root, rest = "/".join(parts[:k]), tuple(parts[k:])
    if pattern.startswith("/") and not root:
        root = "/"

    def component(pat: str, name: str) -> bool:
        return not (name.startswith(".") and not pat.startswith(".")) and fnmatch.fnmatchcase(name, pat)

    @functools.cache
    def matches(i: int, names: tuple[str, ...], whole: bool) -> bool:
        """Whether ``names`` match ``rest[i:]`` (``whole``) or could begin a match (a directory)."""
        if not names:
            return not whole or i == len(rest) or all(p == "**" for p in rest[i:])
        if i == len(rest):
            return False
        if rest[i] == "**":
            if names[0].startswith("."):
                return matches(i + 1, names, whole)
            return matches(i + 1, names, whole) or matches(i, names[1:], whole)
        return component(rest[i], names[0]) and matches(i + 1, names[1:], whole)

    found, seen = [], set()
    stack = [(root or ".", ())]
    while stack:
        folder, names = stack.pop()
        try:
            info = os.stat(folder)
            if (info.st_dev, info.st_ino) in seen:
                continue
            seen.add((info.st_dev, info.st_ino))
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:  # unreadable or vanished: glob skips it too
            continue
        for entry in entries:
            sub = (*names, entry.name)
            try:
                is_dir, is_file = entry.is_dir(), entry.is_file()
            except OSError:
                continue
            if is_file and matches(0, sub, True):
                found.append(os.path.join(root, *sub) if root else os.path.join(*sub))
            elif is_dir and matches(0, sub, False):
                stack.append((entry.path, sub))
    return found


def check_config(config: dict, schema_path: str | Path) -> None:
    """Everything that can be known about ``config`` before the first job; raises ConfigError."""
    problem = schema_problem(config, schema_path)
    if problem:
        raise ConfigError(problem)
    if "tokenize" in config and "fractions" in config["tokenize"]:
        check_fractions(config["tokenize"]["fractions"])
    check_massless((config.get("amplitudes") or {}).get("massless") or [])
    if not config.get("manifest"):
        for theory, spec in (config.get("theories") or {}).items():
            check_theory_spec(theory, spec or {})
    symba_file_paths(config.get("symba_files") or [])
    check_model_sections(config.get("train") or {}, config.get("evaluate") or {})


@contextlib.contextmanager
def stop_on_bad_input(what: str = "config"):
    """In a Snakefile: a bad config, manifest or shard ends the run with one line on stderr and exit code 2."""
    try:
        yield
    except (ValueError, OSError) as exc:  # ConfigError, ProcessError, manifest errors, missing files
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            print(f"symba: error: {error_line(exc)}", file=sys.stderr)
        else:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            print(f"symba: bad {what}: {message}", file=sys.stderr)
        raise SystemExit(2) from None
