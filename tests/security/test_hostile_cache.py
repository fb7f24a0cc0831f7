"""Damaged, edited and stale caches, shards, manifests and stamps (issue 23, items 1-3).

Nothing read back from disk is trusted unchecked: a simplify cache entry that is edited, damaged
or of the wrong shape is recomputed and rewritten (never used, never a crash); a failure is
retried when a limit is more generous; a code change of the simplifier reaches the results.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import sympy

from symba.physics.expression_parser import symbol_table
from symba.simplify import SimplifyOptions, simplify_expressions
from symba.simplify.simplifier import (
    MAX_CACHE_ENTRY_BYTES,
    Outcome,
    _cache_path,
    _checksum,
    cache_get,
    cache_key,
    cache_put,
    code_digest,
)

ROOT = Path(__file__).resolve().parents[2]
# docs/physics.md worked example (e- e+ -> mu- mu+), unsimplified, and its factored form (by hand).
RAW = (
    "(1/4)*e^4*(64*m_e^2*m_mu^2+32*s_34*m_e^2+32*s_14*s_23+32*s_13*s_24+32*s_12*m_mu^2)"
    "/((2*m_e^2 + 2*s_12)*(2*m_e^2 + 2*s_12))"
)
FACTORED = "2*e^4*(s_13*s_24 + s_14*s_23 + m_mu^2*s_12 + m_e^2*s_34 + 2*m_e^2*m_mu^2) / (m_e^2 + s_12)^2"
OPTIONS = dict(retries=0, timeout=60.0)
HARD_S = 60  # each cached call: one worker start and one small factorisation at most


def parse(text):
    return sympy.sympify(text, locals=symbol_table())


def entry_path(cache_dir, text=RAW, options=None) -> Path:
    options = options or SimplifyOptions(cache_dir=str(cache_dir), **OPTIONS)
    return _cache_path(str(cache_dir), cache_key(text, options.method, options.engine))


def resealed(entry: dict) -> str:
    """An entry edited by someone who also recomputed the checksum: only the shape checks catch it."""
    entry = dict(entry)
    entry["checksum"] = _checksum(entry)
    return json.dumps(entry)


def edited(field, value, reseal=True):
    def damage(path: Path):
        entry = json.loads(path.read_text())
        if value is DELETE:
            del entry[field]
        elif field == "limits.timeout":
            entry["limits"]["timeout"] = value
        else:
            entry[field] = value
        path.write_text(resealed(entry) if reseal else json.dumps(entry))

    return damage


DELETE = object()


def replaced_by(content: bytes):
    def damage(path: Path):
        path.unlink()
        path.write_bytes(content)

    return damage


def other_file(make):
    def damage(path: Path):
        path.unlink()
        make(path)

    return damage


def sparse_over_bound(path: Path):
    path.unlink()
    with open(path, "wb") as handle:  # sparse: the size is seen, nothing is written or read
        handle.truncate(MAX_CACHE_ENTRY_BYTES + 1)


@dataclass
class CacheCase:
    name: str
    damage: object  # function of the entry's path
    reason: str  # in the one log line naming the file


CACHE_CASES = [
    CacheCase("edited text, valid JSON", edited("text", "1", reseal=False), "checksum does not match"),
    CacheCase("a list", replaced_by(b"[1,2]"), "not an object but list"),
    CacheCase("no status", edited("status", DELETE), "fields"),
    CacheCase("timeout as a string", edited("limits.timeout", "30"), "limits"),
    CacheCase("status banana", edited("status", "banana"), "status 'banana'"),
    CacheCase("text not a string", edited("text", 12), "must be strings"),
    CacheCase("boolean format", edited("format", True), "format True"),
    CacheCase("another expression's entry", edited("key", "0" * 32), "another expression"),
    CacheCase("truncated", replaced_by(b'{"format": 2, "key": "'), "not readable JSON"),
    CacheCase("empty", replaced_by(b""), "not readable JSON"),
    CacheCase("not UTF-8", replaced_by(b'{"text": "\xff\xfe"}'), "not readable JSON"),
    CacheCase("nested 100k deep", replaced_by(b"[" * 100_000 + b"]" * 100_000), "not readable JSON"),
    CacheCase("over the size bound", sparse_over_bound, "over the bound"),
    CacheCase("a directory", other_file(lambda p: p.mkdir()), "not a regular file"),
    CacheCase("a FIFO", other_file(lambda p: os.mkfifo(p)), "not a regular file"),
    CacheCase("link to /dev/zero", other_file(lambda p: p.symlink_to("/dev/zero")), "not a regular file"),
]


@pytest.mark.parametrize("case", CACHE_CASES, ids=[c.name for c in CACHE_CASES])
def test_a_bad_cache_entry_is_recomputed_and_rewritten(tmp_path, caplog, case):
    options = SimplifyOptions(cache_dir=str(tmp_path), **OPTIONS)
    (clean,), first = simplify_expressions([RAW], options)
    assert clean.status == "ok" and parse(clean.text) == parse(FACTORED) and first.computed == 1
    path = entry_path(tmp_path)
    case.damage(path)
    caplog.set_level(logging.WARNING, logger="symba.simplify.simplifier")
    start = time.monotonic()
    (again,), stats = simplify_expressions([RAW], options)
    assert time.monotonic() - start < HARD_S
    assert again == clean  # the same result as without the fault, not the entry's
    assert stats.cache_rejected == 1 and stats.computed == 1 and stats.cached == 0
    lines = [r.getMessage() for r in caplog.records]
    assert str(path) in lines[0] and case.reason in lines[0], lines
    if case.name == "a directory":  # it cannot be replaced by a file: the result is not cached, said once more
        assert len(lines) == 2 and "result not cached" in lines[1]
    else:
        assert len(lines) == 1, lines
        assert cache_get(str(tmp_path), RAW, options) == clean  # rewritten, sound again
        (third,), stats3 = simplify_expressions([RAW], options)
        assert third == clean and stats3.cached == 1 and stats3.cache_rejected == 0


def test_an_entry_answers_only_the_expression_it_was_written_for(tmp_path):
    """An entry copied under another expression's name (checksum intact) is refused: it names its key.
    (The checksum guards against damage and hand edits, not against a writer who reseals.)"""
    options = SimplifyOptions(cache_dir=str(tmp_path), **OPTIONS)
    cache_put(str(tmp_path), "s_12 - s_13", Outcome("ok", "s_12 - s_13"), options)
    entry = entry_path(tmp_path, "s_12 - s_13")
    entry_path(tmp_path).parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(entry, entry_path(tmp_path))  # answer RAW with another expression's entry
    (outcome,), stats = simplify_expressions([RAW], options)
    assert parse(outcome.text) == parse(FACTORED) and stats.cache_rejected == 1


def test_an_old_format_entry_is_never_found(tmp_path):
    """Entries of the earlier format (no version, no checksum) sit under other keys: recomputed."""
    options = SimplifyOptions(cache_dir=str(tmp_path), **OPTIONS)
    import hashlib
    from importlib.metadata import version

    old_key = hashlib.blake2b(f"factor\0flint\0{version('python-flint')}\0{RAW}".encode(), digest_size=16).hexdigest()
    old = _cache_path(str(tmp_path), old_key)
    old.parent.mkdir(parents=True)
    old.write_text(json.dumps({"status": "ok", "text": "1", "message": "", "timeout": 30}))
    (outcome,), stats = simplify_expressions([RAW], options)
    assert parse(outcome.text) == parse(FACTORED) and stats.computed == 1


# ------------------------------------------------------------------ failures and their limits

# (limits the failure was reached under, limits now, retried?)
LIMIT_CASES = [
    (dict(timeout=30.0, memory_mb=380, retries=0), dict(timeout=30.0, memory_mb=0, retries=0), True),
    (dict(timeout=30.0, memory_mb=380, retries=0), dict(timeout=30.0, memory_mb=2000, retries=0), True),
    (dict(timeout=30.0, memory_mb=380, retries=0), dict(timeout=30.0, memory_mb=380, retries=0), False),
    (dict(timeout=30.0, memory_mb=380, retries=0), dict(timeout=30.0, memory_mb=200, retries=0), False),
    (dict(timeout=30.0, memory_mb=0, retries=0), dict(timeout=30.0, memory_mb=4000, retries=0), False),
    (dict(timeout=30.0, memory_mb=0, retries=0), dict(timeout=60.0, memory_mb=0, retries=0), True),
    (dict(timeout=30.0, memory_mb=0, retries=0), dict(timeout=10.0, memory_mb=0, retries=0), False),
    (dict(timeout=30.0, memory_mb=0, retries=0), dict(timeout=30.0, memory_mb=0, retries=1), True),
]


@pytest.mark.parametrize("status", ["error", "timeout"])
@pytest.mark.parametrize("then, now, retried", LIMIT_CASES)
def test_a_failure_is_retried_when_a_limit_is_more_generous(tmp_path, status, then, now, retried):
    options_then = SimplifyOptions(cache_dir=str(tmp_path), **then)
    failed = Outcome(status, RAW, "out of memory" if status == "error" else "no result within 30 s")
    cache_put(str(tmp_path), RAW, failed, options_then)
    (outcome,), stats = simplify_expressions([RAW], SimplifyOptions(cache_dir=str(tmp_path), **now))
    if retried:
        assert outcome.status == "ok" and parse(outcome.text) == parse(FACTORED) and stats.computed == 1
        # the success replaces the failure for every later limit
        later = SimplifyOptions(cache_dir=str(tmp_path), **then)
        assert cache_get(str(tmp_path), RAW, later).status == "ok"
    else:
        assert outcome == failed and stats.cached == 1 and stats.computed == 0


# ------------------------------------------------------------------ the simplifier's code


def test_comments_docstrings_and_layout_do_not_change_the_code_digest():
    code = 'def f(x):\n    """Doc."""\n    return x + 1  # one\n'
    assert code_digest([code]) == code_digest(['def f(x):\n    """Other doc."""\n\n    return (x +\n 1)\n'])
    assert code_digest([code]) != code_digest(['def f(x):\n    """Doc."""\n    return "1*(" + x + ")"\n'])


def test_a_changed_simplifier_reaches_the_results_through_the_same_cache(tmp_path):
    """Issue 23 item 1: factor_text changed to wrap its result: the rerun must recompute, not
    answer from the cache filled by the old code."""
    patched = tmp_path / "src"
    shutil.copytree(ROOT / "src" / "symba", patched / "symba", ignore=shutil.ignore_patterns("__pycache__"))
    flint = patched / "symba" / "simplify" / "flint.py"
    source = flint.read_text()
    old = "        return flint_factor_text(text)\n"
    assert source.count(old) == 1
    flint.write_text(source.replace(old, '        return "1*(" + flint_factor_text(text) + ")"\n'))
    cache = tmp_path / "cache"
    program = (
        "import json, sys\n"
        "from symba.simplify import SimplifyOptions, simplify_expressions\n"
        f"(o,), s = simplify_expressions([{RAW!r}], SimplifyOptions(cache_dir={str(cache)!r}, retries=0))\n"
        "print(json.dumps([o.status, o.text, s.computed, s.cached]))\n"
    )

    def run(src):
        env = dict(os.environ, PYTHONPATH=str(src))
        done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)

    before = run(ROOT / "src")
    after = run(patched)
    assert before[0] == after[0] == "ok" and before[2] == after[2] == 1  # computed both times
    assert after[1] == f"1*({before[1]})"
    assert run(ROOT / "src") == [before[0], before[1], 0, 1]  # the old code's entry is still there


# ------------------------------------------------------------------ shards

SHARD_ROWS = [
    dict(
        process=process,
        theory="qed",
        multiplicity="2->2",
        diagram=diagram,
        amplitude=f"-i*e^2*gamma_{{+%sigma_{k},%eta_{k},%del_{k}}}*A_{{i_{k},+%sigma_{k}}}(p_1)^(*)",
        squared_raw=f"2*e^4*(s_13*s_24 + s_14*s_23 + {k}*m_mu^2*s_12)/s_12^2",
        squared=f"2*e^4*(s_13*s_24 + s_14*s_23 + {k}*m_mu^2*s_12)/s_12^2",
        status="ok",
        backend="builtin",
        engine_version="1",
        canonical_process=process,
        permutation="1,2,3,4",
    )
    for k, (process, diagram) in enumerate(
        [(p, d) for p in ("e- e+ -> mu- mu+", "mu- mu+ -> a a", "a a -> e- e+", "e- mu- -> e- mu-") for d in (-1, 0, 1)]
    )
]


def shard_bytes(tmp_path, rows=SHARD_ROWS):
    import pyarrow as pa

    from symba.dataset_schema import SCHEMA, write_table_atomic

    path = tmp_path / "shard.parquet"
    write_table_atomic(pa.Table.from_pylist(rows, schema=SCHEMA), path)
    return path, path.read_bytes()


def flipped(data: bytes, bit: int) -> bytes:
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


def footer_offset(data: bytes, needle: bytes) -> int:
    """Where ``needle`` first occurs in the footer (the file's metadata, not covered by page checksums)."""
    footer_start = len(data) - 8 - int.from_bytes(data[-8:-4], "little")
    return data.index(needle, footer_start)


def test_every_single_bit_flip_in_a_shard_is_found_or_harmless(tmp_path):
    """Issue 23 item 3: 300 random flips; before, 66 of 300 read back silently changed (benchmarks/shard_bitflips.py)."""
    import random

    from symba.dataset_schema import ShardError, read_shard

    path, clean = shard_bytes(tmp_path)
    truth = read_shard(path)
    rng = random.Random(23)
    found = 0
    for _ in range(300):
        path.write_bytes(flipped(clean, rng.randrange(len(clean) * 8)))
        try:
            table = read_shard(path)
        except ShardError as exc:
            assert "\n" not in str(exc) and str(exc).startswith(str(path)), exc
            found += 1
            continue
        assert table.equals(truth)  # a flip that is not found changed nothing (statistics, padding)
    assert found > 100


@dataclass
class ShardCase:
    name: str
    damage: object  # bytes -> bytes
    fragment: str


SHARD_CASES = [
    # the first occurrence is in the dictionary page of `process` (later ones: unused page statistics)
    ShardCase("a value in a page", lambda d: d.replace(b"e- e+ -> mu- mu+", b"e- e+ -> ta- ta+", 1), "damaged"),
    ShardCase(
        "a column renamed in the footer",  # the ordering columns used to be filled in silently
        lambda d: flipped(d, 8 * footer_offset(d, b"canonical_process")),
        "damaged",
    ),
    ShardCase("truncated", lambda d: d[: len(d) // 2], "damaged, truncated or not Parquet"),
    ShardCase("zeros", lambda d: bytes(len(d)), "damaged, truncated or not Parquet"),
    ShardCase("empty", lambda d: b"", "damaged, truncated or not Parquet"),
]


@pytest.mark.parametrize("case", SHARD_CASES, ids=[c.name for c in SHARD_CASES])
def test_a_damaged_shard_is_one_line_naming_it(tmp_path, case):
    from symba.dataset_schema import ShardError, read_shard

    path, clean = shard_bytes(tmp_path)
    path.write_bytes(case.damage(clean))
    with pytest.raises(ShardError) as info:
        read_shard(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(f"{path}: ") and case.fragment in message, message
    assert "rerun to rebuild it" in message


def test_a_damaged_dataset_shard_stops_tokenize_with_one_line(tmp_path):
    from symba.dataset_schema import ShardError
    from symba.tokenization.token_shards import tokenize_shard

    path, clean = shard_bytes(tmp_path)
    path.write_bytes(clean.replace(b"e- e+ -> mu- mu+", b"e- e+ -> ta- ta+", 1))
    with pytest.raises(ShardError, match="damaged"):
        tokenize_shard(path, tmp_path / "tokens.parquet")
    assert not (tmp_path / "tokens.parquet").exists()


def test_a_damaged_token_shard_stops_training_reads_with_one_line(tmp_path):
    from symba.model.batches import check_shards
    from symba.model.errors import ShardError
    from symba.pipeline.amplitude_shards import compute_amplitude_shard
    from symba.tokenization.token_shards import tokenize_shard

    path = tmp_path / "amplitudes.parquet"
    compute_amplitude_shard(["e- e+ -> mu- mu+", "mu- mu+ -> a a"], "qed", path, orderings="all")
    tokens = tmp_path / "tokens.parquet"
    assert tokenize_shard(path, tokens)["rows_out"] >= 10
    data = tokens.read_bytes()
    check_shards([str(tokens)], 10_000)
    footer_start = len(data) - 8 - int.from_bytes(data[-8:-4], "little")
    damaged = 0
    for offset in range(4, footer_start, 7):  # a flip in each stretch of the pages
        tokens.write_bytes(flipped(data, 8 * offset + 3))
        try:
            check_shards([str(tokens)], 10_000)
        except ShardError as exc:
            assert "\n" not in str(exc) and str(tokens) in str(exc)
            damaged += 1
    assert damaged > 0


# ------------------------------------------------------------------ the enumeration cache (manifest)

MANIFEST_SPEC = {"multiplicities": ["2->2"], "particles": ["e-", "e+", "mu-", "mu+"], "processes": []}


def _edited_processes(text: str) -> str:
    entry = json.loads(text)
    entry["processes"] = ["a a -> e- e+"]  # plans another process, valid JSON, stale checksum
    return json.dumps(entry)


def _resealed_for_another_spec(text: str) -> str:
    from symba.pipeline import manifest as mf

    return mf.manifest_cache_text("qed", dict(MANIFEST_SPEC, particles=["e-", "e+"]), ["e- e+ -> e- e+"])


MANIFEST_CASES = [
    ("edited processes", _edited_processes, "checksum does not match"),
    ("an old bare list", lambda text: '["a a -> e- e+"]', "not a symba manifest cache"),
    ("another enumeration's file", _resealed_for_another_spec, "written for another enumeration"),
    ("not JSON", lambda text: text[:-5], "not readable JSON"),
    ("not UTF-8", lambda text: "\udcff", "not readable JSON"),
]


@pytest.mark.parametrize("name, damage, reason", MANIFEST_CASES, ids=[c[0] for c in MANIFEST_CASES])
def test_an_edited_process_cache_is_named_and_enumerated_again(tmp_path, capsys, name, damage, reason):
    from symba.pipeline import manifest as mf

    truth = mf.cached_manifest("qed", MANIFEST_SPEC, tmp_path)
    assert "e- e+ -> mu- mu+" in truth
    (path,) = tmp_path.iterdir()
    path.write_bytes(damage(path.read_text()).encode(errors="surrogateescape"))
    capsys.readouterr()
    assert mf.cached_manifest("qed", MANIFEST_SPEC, tmp_path) == truth
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and err[0].startswith(f"symba: ignoring the process cache {path}: ") and reason in err[0]
    assert mf.read_cached_manifest(path, "qed", MANIFEST_SPEC) == truth  # rewritten, sound again
    assert capsys.readouterr().err == ""


# ------------------------------------------------------------------ the workflow, end to end


def _dataset(workdir):
    import pyarrow.parquet as pq

    return {
        p.name: pq.read_table(p).to_pylist() for p in sorted((workdir / "results/default/dataset").rglob("*.parquet"))
    }


@pytest.mark.slow  # three Snakemake runs (about 2 min)
def test_the_workflow_recovers_from_a_damaged_cache_stamp_and_process_cache(tmp_path):
    """Each fault, then the command a user would run: one line naming the file, and the dataset
    equal to the run without the fault."""
    from workflow.runner import SLUGS, ok, snakemake, tiny_config  # tests/workflow (pytest's rootdir import)

    from symba.pipeline import manifest as mf

    config = tiny_config(sharding={"batch_size": 1})
    ok(snakemake(tmp_path, config=config))
    clean = _dataset(tmp_path)
    assert clean and all(row["status"] == "ok" for rows in clean.values() for row in rows)

    # 1. every simplify cache entry edited (valid JSON), then --forcerun simplify: recomputed
    entries = list((tmp_path / "results/.cache/simplify").rglob("*.json"))
    for entry in entries:
        data = json.loads(entry.read_text())
        entry.write_text(json.dumps(dict(data, text="1*(" + data["text"] + ")")))
    ok(snakemake(tmp_path, "--forcerun", "simplify"))
    logs = "".join(p.read_text() for p in (tmp_path / "results/default/logs/simplify").rglob("*.log"))
    assert "simplify cache entry ignored and recomputed" in logs and "checksum does not match" in logs
    assert _dataset(tmp_path) == clean

    # 2. a stamp damaged (its time kept, as bit rot would): named, rewritten, nothing rerun
    (stamp,) = (tmp_path / "results/default/params/simplify").glob("*.json")
    text, times = stamp.read_text(), stamp.stat()
    stamp.write_text(text.replace("60", "6"))
    os.utime(stamp, ns=(times.st_atime_ns, times.st_mtime_ns))
    dry = snakemake(tmp_path, "--dry-run")
    assert dry.returncode == 0 and dry.stderr.count(f"{stamp.relative_to(tmp_path)} does not hold the parameters") == 1
    run = ok(snakemake(tmp_path, "--forcerun", "skipped_report"))  # any job: the run gets to onstart
    assert "simplify" not in run.split("Job stats:")[1].split("total")[0] and stamp.read_text() == text
    assert stamp.stat().st_mtime_ns == times.st_mtime_ns  # rewritten, not made newer than the results
    assert "does not hold" not in snakemake(tmp_path, "--dry-run").stderr

    # 3. the process cache edited to plan another process: named, enumerated again, same plan
    (cache,) = (tmp_path / "results/.cache/manifest").glob("qed-*.json")
    entry = json.loads(cache.read_text())
    cache.write_text(json.dumps(dict(entry, processes=["a a -> e- e+"])))
    dry = snakemake(tmp_path, "--dry-run", "--forceall")
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert dry.stderr.count(f"ignoring the process cache results/.cache/manifest/{cache.name}") == 1
    assert "a_a__e-_e+" not in dry.stdout + dry.stderr
    assert all(slug in dry.stdout + dry.stderr for slug in SLUGS)
    ok(snakemake(tmp_path, "--forcerun", "skipped_report"))  # any job: the run gets to onstart
    rewritten = json.loads(cache.read_text())
    assert sorted(rewritten["processes"]) == sorted(config["theories"]["qed"]["processes"])
    assert rewritten["checksum"] == mf._manifest_checksum(rewritten)
    assert _dataset(tmp_path) == clean
