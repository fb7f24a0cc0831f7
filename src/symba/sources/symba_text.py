"""Import the public SYMBA/MARTY text datasets into rows of ``symba.dataset_schema.SCHEMA``.

Two formats:

* labelled lines, one diagram per line::

      Interaction: <in> to <out> : <topology> : <amplitude> : <squared amplitude>

* the older line-aligned pair of files, one amplitude per line in one file and
  the squared amplitude of the same line in the other (for example
  ``QED_amplitudes_TreeLevel_2to2.txt`` and ``QED_sqamplitudes_TreeLevel_2to2.txt``).

MARTY's names are mapped to ours (docs/physics.md): in QED files ``t`` is the tau
and ``tt`` the top, in QCD files ``t`` is the top; ``g`` is our ``g_s``; ``i``
is the imaginary unit; ``reg_prop`` (MARTY's propagator regulator) is kept as
a symbol or set to zero.  The squared amplitude is rewritten in our symbols
(columns ``squared_raw`` and ``squared``, status ``raw``): the simplify stage reads
``squared_raw``, where MARTY's ``m_t`` or ``g`` would be our top mass or an unknown
symbol (MARTY's own text stays in the imported file).  The amplitude
is translated into our syntax (:mod:`symba.sources.marty_amplitudes`); one that cannot
be is kept as MARTY wrote it, with backend ``symba-import-marty``, counted in
``untranslated_amplitude`` and tokenized by lexemes (:mod:`symba.tokenization.marty_tokens`).
All of it is data: the squares are read by
:func:`symba.physics.expression_parser.parse_expression`, never evaluated as code.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pyarrow as pa
import sympy

from symba.dataset_schema import SCHEMA, fill_ordering_defaults, write_table_atomic
from symba.physics.expression_parser import ExpressionSyntaxError, known_symbols, parse_expression
from symba.physics.process import parse_process
from symba.physics.symbols import REGULATOR, SYMBOL_NAME_RE
from symba.tokenization.marty_tokens import IMPORTED_BACKEND, IMPORTED_MARTY_BACKEND, IMPORTED_NONCANONICAL_BACKEND

from .marty_amplitudes import imported_amplitude

BACKEND = IMPORTED_BACKEND
ENGINE_VERSION = "symba-import-3"  # 3: canonical amplitudes, process names in our syntax
REG_PROP_MODES = ("keep", "zero")
THEORIES = ("qed", "qcd")

_SQUARED_NAMES = {
    "qed": {"m_t": "m_tau", "m_tt": "m_t", "m_ta": "m_tau"},
    "qcd": {"g": "g_s"},
}
# MARTY / SYMBA particle names -> our field names, per theory (lower case keys)
_LEPTONS = {"e": "e", "ee": "e", "electron": "e", "mu": "mu", "muon": "mu", "ta": "ta", "tau": "ta"}
_QUARKS = {
    "u": "u",
    "up": "u",
    "d": "d",
    "down": "d",
    "s": "s",
    "strange": "s",
    "c": "c",
    "charm": "c",
    "b": "b",
    "bottom": "b",
    "t": "t",
    "top": "t",
}
_BOSONS = {"qed": {"a": "a", "photon": "a", "gamma": "a"}, "qcd": {"g": "g", "gluon": "g"}}
_ANTI_SUFFIXES = ("^(*)", "_bar", "bar", "~", "_+", "+")
_PARTICLE_SUFFIXES = ("_-", "-")


class SymbaFormatError(ValueError):
    """A malformed line of a SYMBA file; the message names file and line."""


def map_squared(text: str, theory: str = "qed", reg_prop: str = "keep") -> str:
    """A MARTY squared amplitude rewritten in our symbols, as text with ``^`` powers."""
    expr = parse_squared(text, theory, reg_prop)
    return sympy.sstr(expr).replace("**", "^")


def parse_squared(text: str, theory: str = "qed", reg_prop: str = "keep") -> sympy.Expr:
    """The squared amplitude in our symbols, read by the project's parser (the text is data: never eval'd)."""
    if theory not in THEORIES:
        raise ValueError(f"unknown theory {theory!r}; choose one of {', '.join(THEORIES)}")
    if reg_prop not in REG_PROP_MODES:
        raise ValueError(f"unknown --reg-prop mode {reg_prop!r}; choose one of {', '.join(REG_PROP_MODES)}")
    symbols = known_symbols()
    if reg_prop == "zero":
        symbols = {**symbols, REGULATOR: sympy.Integer(0)}
    try:
        return parse_expression(text, symbols=symbols, rename=_SQUARED_NAMES[theory])
    except ExpressionSyntaxError as exc:
        raise ValueError(f"cannot parse squared amplitude {text[:60]!r}: {exc}") from None


def map_particle(name: str, theory: str) -> str:
    """One MARTY/SYMBA particle name (``e_-``, ``Electron``, ``mu^(*)``, ``A``...) -> ours."""
    raw = name
    name = re.sub(r"\((?!\*\))[^()]*\)$", "", name.strip())  # a momentum label such as (X) or (p_1)
    if name.endswith("^(*)"):
        base, anti = name[:-4], True
    else:
        base, anti = name, False
        for suffix in _ANTI_SUFFIXES:
            if base.endswith(suffix) and len(base) > len(suffix):
                base, anti = base[: -len(suffix)], True
                break
        else:
            for suffix in _PARTICLE_SUFFIXES:
                if base.endswith(suffix) and len(base) > len(suffix):
                    base = base[: -len(suffix)]
                    break
    key = base.lower()
    if key.startswith("anti") and len(key) > 4:
        key, anti = key[4:], not anti
    bosons = _BOSONS[theory]
    if key in bosons:
        return bosons[key]
    if theory == "qed":
        if key == "t":
            key = "ta"  # QED files: t is the tau, tt the top
        elif key == "tt":
            key = "t"
        if key in _LEPTONS:
            return _LEPTONS[key] + ("+" if anti else "-")
    if key in _QUARKS:
        return _QUARKS[key] + ("~" if anti else "")
    raise ValueError(f"unknown particle name {raw!r} for {theory}")


def map_process(text: str, theory: str) -> str:
    """``<in> to <out>`` in MARTY names -> our process string; raises ValueError."""
    parts = re.split(r"\s+to\s+", text.strip())
    if len(parts) != 2:
        raise ValueError(f"process {text!r} is not '<in> to <out>'")
    incoming = _map_side(parts[0], theory)
    outgoing = _map_side(parts[1], theory)
    proc = parse_process(" ".join(incoming) + " -> " + " ".join(outgoing), theory, check=False)
    return str(proc)


# MARTY's printed insertions, as in the public SYMBA files: "e_eps_60(X)^(*)  AntiPart e_eta_138(X)".
# The field carries its indices (_eps_60, _{G_49,eps_42}); "AntiPart" before it, not "^(*)", marks
# the antiparticle.
_MARTY_INDEXED = re.compile(
    r"^(?P<name>[A-Za-z]+)(?:_\\?[A-Za-z]+_[0-9]+|_\{[^{}]*\})(?:\([^()]*\))?(?:\^\(\*\))?$"
)  # e_eps_60(X), A_\sigma_1450(X), u_{G_49,eps_42}(X)^(*)


def _map_side(side: str, theory: str) -> list[str]:
    """One side of ``<in> to <out>``: our particle names, in MARTY's leg order."""
    names = _split_particles(side)
    if "AntiPart" not in names and not any(_MARTY_INDEXED.match(n) for n in names):
        return [map_particle(p, theory) for p in names]
    out, anti = [], False
    for name in names:
        if name == "AntiPart":
            anti = True
            continue
        m = _MARTY_INDEXED.match(name)
        base = m.group("name") if m else re.sub(r"(\([^()]*\))?(\^\(\*\))?$", "", name)
        particle = map_particle(base, theory)  # the particle's name (a boson is its own antiparticle)
        if anti:
            particle = map_particle(base + "^(*)", theory)
        out.append(particle)
        anti = False
    if anti:
        raise ValueError(f"'AntiPart' names no particle in {side!r}")
    return out


def _split_particles(side: str) -> list[str]:
    # "e_-(X) e_+(X)" or "e_- (p_1) e_+ (p_2)": momentum labels in brackets belong to the name before
    side = re.sub(r"\s+\(", "(", side.strip())
    return [p for p in side.split() if p]


def _row(process, theory, multiplicity, diagram, amplitude, squared) -> dict:
    amplitude, backend = imported_amplitude(amplitude, process, theory)
    return {
        "process": process,
        "theory": theory,
        "multiplicity": multiplicity,
        "diagram": diagram,
        "amplitude": amplitude,
        "squared_raw": squared,
        "squared": squared,
        "status": "raw",
        "backend": backend,
        "engine_version": ENGINE_VERSION,
    }


def _multiplicity(process: str) -> str:
    if "->" not in process:
        return ""
    lhs, rhs = process.split("->")
    return f"{len(lhs.split())}->{len(rhs.split())}"


def _read_lines(path) -> list[str]:
    """The lines of a text file; a file that is not UTF-8 text is one error naming it."""
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SymbaFormatError(f"{path}:{line}: not UTF-8 text (byte {exc.start}); is it a SYMBA text file?") from None
    if "\0" in text:
        line = text.count("\n", 0, text.index("\0")) + 1
        raise SymbaFormatError(f"{path}:{line}: NUL character; is it a SYMBA text file?")
    # split on newlines only, so line numbers match an editor's (str.splitlines also splits on \f, \x1c, ...)
    return [line.rstrip("\r") for line in text.split("\n")]


def read_labelled(
    path, theory: str = "qed", reg_prop: str = "keep", stats: Counter | None = None, lines: list[str] | None = None
) -> list[dict]:
    """Rows of a labelled-line file (``lines``: its lines, if already read); the diagram index is the line order within each process."""
    stats = stats if stats is not None else Counter()
    rows = []
    per_process: Counter = Counter()
    for lineno, line in enumerate(_read_lines(path) if lines is None else lines, start=1):
        line = line.strip()
        if not line:
            continue
        if not line.startswith("Interaction:"):
            raise SymbaFormatError(f"{path}:{lineno}: expected a line starting with 'Interaction:'")
        fields = [f.strip() for f in line[len("Interaction:") :].split(" : ")]
        if len(fields) < 4:
            raise SymbaFormatError(
                f"{path}:{lineno}: expected '<process> : <topology> : <amplitude> : <squared>', got {len(fields)} field(s)"
            )
        process_text, amplitude, squared_raw = fields[0], " : ".join(fields[2:-1]), fields[-1]
        try:
            process = map_process(process_text, theory)
        except ValueError:
            process = process_text  # kept as written so the row is not lost
            stats["unmapped_process"] += 1
        try:
            squared = map_squared(squared_raw, theory, reg_prop)
        except ValueError as exc:
            raise SymbaFormatError(f"{path}:{lineno}: {exc}") from None
        rows.append(_row(process, theory, _multiplicity(process), per_process[process], amplitude, squared))
        per_process[process] += 1
    return rows


def read_pair(
    amplitude_path, squared_path, theory: str = "qed", reg_prop: str = "keep", texts: dict | None = None
) -> list[dict]:
    """Rows of a line-aligned (amplitudes, squared amplitudes) pair of files (``texts``: path -> lines already read)."""
    texts = texts or {}
    amplitudes = [a.strip() for a in texts.get(amplitude_path) or _read_lines(amplitude_path)]
    squares = [s.strip() for s in texts.get(squared_path) or _read_lines(squared_path)]
    while amplitudes and not amplitudes[-1]:
        amplitudes.pop()
    while squares and not squares[-1]:
        squares.pop()
    if len(amplitudes) != len(squares):
        raise SymbaFormatError(f"{amplitude_path} has {len(amplitudes)} lines but {squared_path} has {len(squares)}")
    m = re.search(r"(\d)to(\d)", Path(squared_path).name)
    multiplicity = f"{m.group(1)}->{m.group(2)}" if m else ""
    rows = []
    for k, (amp, sq) in enumerate(zip(amplitudes, squares)):
        try:
            squared = map_squared(sq, theory, reg_prop)
        except ValueError as exc:
            raise SymbaFormatError(f"{squared_path}:{k + 1}: {exc}") from None
        # the pair format names no process: the diagram index is the line order in the file
        rows.append(_row("", theory, multiplicity, k, amp, squared))
    return rows


def _is_labelled(lines: list[str]) -> bool:
    first = next((line for line in lines if line.strip()), "")
    return first.lstrip().startswith("Interaction:")


def _pair_files(paths: list[Path]) -> list[tuple[Path, Path]]:
    """Match each squared-amplitude file (``sqamplitudes`` / ``squared`` in its name) with its amplitude file."""
    squared = [p for p in paths if re.search(r"sq_?ampl|squared", p.name, re.I)]
    others = [p for p in paths if p not in squared]
    pairs = []
    for sq in squared:
        wanted = re.sub(r"sq_?(ampl)", r"\1", sq.name, flags=re.I)
        match = [p for p in others if p.name == wanted or p.name == re.sub(r"squared_?", "", sq.name, flags=re.I)]
        if len(match) != 1:
            raise SymbaFormatError(f"{sq}: found no amplitude file {wanted!r} among the inputs to pair it with")
        others.remove(match[0])
        pairs.append((match[0], sq))
    if others:
        raise SymbaFormatError(
            f"{others[0]}: neither labelled ('Interaction: ...') nor paired with a squared-amplitude file"
        )
    return pairs


_NAME_THE_THEORY = "put QED or QCD in the file name (QED_..., ..._qcd.txt), or pass symba import-symba --theory"
DETECT_BYTES = 4_000_000  # what detect_theory reads of a file at most (the workflow calls it while parsing)


def _theory_from_name(path: Path) -> str | None:
    found = set(re.findall(r"(?<![a-z])(qed|qcd)(?![a-z])", path.name.lower()))
    return found.pop() if len(found) == 1 else None


def _theory_evidence(lines: list[str]) -> tuple[set[str], set[str]]:
    """(theories the particle names require, theories the coupling symbols require).

    A particle our mapping knows in one theory only decides (a photon, a lepton, QED's ``tt``:
    qed; a gluon: qcd); quarks and ``t`` exist in both.  The couplings ``e`` (QED) and ``g``
    (QCD) of the squared amplitudes decide files without process names (the pair format)."""
    particles: set[str] = set()
    couplings: set[str] = set()
    theories_of: dict[str, set[str]] = {}  # particle name -> the theories that know it
    for line in lines:
        line = line.strip()
        if line.startswith("Interaction:"):
            fields = line[len("Interaction:") :].split(" : ")
            for name in _split_particles(re.sub(r"\s+to\s+", " ", fields[0])):
                if name not in theories_of:
                    theories_of[name] = {theory for theory in THEORIES if _maps(name, theory)}
                if len(theories_of[name]) == 1:
                    particles |= theories_of[name]
            line = fields[-1] if len(fields) >= 4 else ""
        names = set(SYMBOL_NAME_RE.findall(line))
        couplings |= {theory for theory, symbol in (("qed", "e"), ("qcd", "g")) if symbol in names}
    return particles, couplings


def _maps(name: str, theory: str) -> bool:
    try:
        map_particle(name, theory)
    except ValueError:
        return False
    return True


def detect_theory(paths, lines: dict | None = None) -> str:
    """The theory of one SYMBA file (or of an amplitude/squared pair): from the file names
    (``QED_...``, ``..._qcd.txt``), else from the particles and couplings in the text
    (``lines``: path -> lines already read; otherwise the first DETECT_BYTES of each file)."""
    paths = [Path(p) for p in paths]
    named = {_theory_from_name(p) for p in paths} - {None}
    if len(named) == 1:
        return named.pop()
    particles: set[str] = set()
    couplings: set[str] = set()
    for p in paths:
        text = (lines or {}).get(p)
        if text is None:
            text = _read_head(p)
        found = _theory_evidence(text)
        particles |= found[0]
        couplings |= found[1]
    evidence = particles or couplings
    where = " + ".join(str(p) for p in paths)
    if len(evidence) == 1:
        return evidence.pop()
    if evidence:
        raise SymbaFormatError(f"{where}: holds both QED and QCD particles or couplings; {_NAME_THE_THEORY}")
    raise SymbaFormatError(
        f"{where}: cannot tell the theory (no QED or QCD in the name, no photon, lepton, gluon, e or g in the text); "
        + _NAME_THE_THEORY
    )


def _read_head(path: Path) -> list[str]:
    """The complete lines among the first DETECT_BYTES of a file (it is read whole on import)."""
    with open(path, "rb") as handle:
        data = handle.read(DETECT_BYTES)
    if len(data) == DETECT_BYTES and b"\n" in data:
        data = data[: data.rindex(b"\n")]
    return data.decode("utf-8", errors="replace").split("\n")


def import_units(paths, lines: dict | None = None) -> list[list[Path]]:
    """The files grouped as they are imported: a labelled file alone, an amplitude file with its
    squared-amplitude file (pair format, squared file second).  ``lines``: path -> lines already
    read; otherwise only the first lines of each file are read."""
    paths = _existing(paths)
    labelled = [p for p in paths if _is_labelled(lines[p] if lines else _first_lines(p))]
    units = [[p] for p in labelled]
    units += [[amp, sq] for amp, sq in _pair_files([p for p in paths if p not in labelled])]
    return units


def _existing(paths) -> list[Path]:
    paths = [Path(p) for p in paths]
    for p in paths:
        if not p.is_file():
            raise SymbaFormatError(f"{p}: no such file")
    return paths


def _first_lines(path: Path, limit: int = 64) -> list[str]:
    with open(path, "rb") as handle:
        lines = [handle.readline(100_000) for _ in range(limit)]
    return [line.decode("utf-8", errors="replace") for line in lines]


def shard_name(unit: list[Path]) -> str:
    """``symba-<stem of the first file>``, in characters any file system takes."""
    return "symba-" + re.sub(r"[^A-Za-z0-9._-]", "_", unit[0].stem)


def plan_import_shards(paths) -> dict[str, dict[str, list[str]]]:
    """{theory: {shard name: files}} of SYMBA files for the workflow; a clash of names or an
    undecidable theory is one error naming the file."""
    shards: dict[str, dict[str, list[str]]] = {}
    seen: dict[str, list[Path]] = {}
    for unit in import_units(paths):
        name = shard_name(unit)
        if name in seen:
            raise SymbaFormatError(f"{unit[0]} and {seen[name][0]} would both be shard {name}; rename one")
        seen[name] = unit
        shards.setdefault(detect_theory(unit), {})[name] = [str(p) for p in unit]
    return shards


def import_files(paths, theory: str | None = None, reg_prop: str = "keep") -> tuple[list[dict], dict]:
    """Rows and counts from SYMBA files in either format (pairs are matched by file name).

    ``theory=None`` detects each file's theory (:func:`detect_theory`); a given theory wins."""
    paths = _existing(paths)
    texts = {p: _read_lines(p) for p in paths}  # every file is text, or one error naming it
    stats: Counter = Counter()
    rows: list[dict] = []
    for unit in import_units(paths, texts):
        unit_theory = theory or detect_theory(unit, texts)
        if len(unit) == 1:
            rows += read_labelled(unit[0], unit_theory, reg_prop, stats, texts[unit[0]])
        else:
            rows += read_pair(*unit, theory=unit_theory, reg_prop=reg_prop, texts=texts)
    stats["rows"] = len(rows)
    stats["untranslated_amplitude"] = sum(r["backend"] == IMPORTED_MARTY_BACKEND for r in rows)
    stats["noncanonical_amplitude"] = sum(r["backend"] == IMPORTED_NONCANONICAL_BACKEND for r in rows)
    return rows, dict(stats)


def import_symba(paths, out_path, theory: str | None = None, reg_prop: str = "keep") -> dict:
    """Import SYMBA files into one Parquet file in ``SCHEMA`` (written atomically); return counts."""
    rows, stats = import_files(paths, theory, reg_prop)
    fill_ordering_defaults(rows)  # imported rows are canonical rows of their own process
    table = pa.table({name: [r[name] for r in rows] for name in SCHEMA.names}, schema=SCHEMA)
    write_table_atomic(table, out_path)  # whole or not at all, with checksums
    return stats
