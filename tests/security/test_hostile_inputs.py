"""Hostile and unlucky input files and conditions (issue 23, items 4-6).

Each table case runs the real command in a subprocess under an address-space cap
(``ulimit -v``) and a hard time limit, and expects its exit code, one line on stderr
with the named fragment, and no traceback.  Where data goes through (stdin with a bad
line, over-long text cells), the output equals that of a run without the fault.
"""

from __future__ import annotations

import errno
import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch

from symba.dataset_schema import DECODE_COLUMNS

from . import test_hostile_model as _hostile_model
from .test_hostile_model import SRC, write_shard

# Run by .ci/run's second pass (python -m pytest -m slow): each hostile file runs a CLI subprocess under a memory cap (about 1.5 min).
pytestmark = pytest.mark.slow

world = _hostile_model.world  # the module-scoped fixture: a vocabulary, shards, a tiny trained model

TIME_LIMIT_S = 180  # torch's import on a loaded 2-core machine takes seconds
CAP_BYTES = 2_000_000 * 1024  # ulimit -v 2000000
EVAL_CAP_BYTES = 4_000_000 * 1024  # torch, its threads and the checker pool reserve ~2 GB of address space idle


def run_capped(args: list[str], cap: int = CAP_BYTES, stdin: bytes | None = None, cwd=None):
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "symba", *args],
        input=stdin if stdin is not None else b"",
        capture_output=True,
        timeout=TIME_LIMIT_S,
        env=env,
        cwd=cwd,
        preexec_fn=limit,
    )


def _ids(w, tokens):
    vocab = json.loads(Path(w["vocab"]).read_text())["tokens"]
    return [vocab.index(t) for t in tokens]


def _model_with(w, tmp, **fields) -> str:
    record = torch.load(w["model"], weights_only=True)
    record.update(fields)
    torch.save(record, tmp / "edited.pt")
    return str(tmp / "edited.pt")


def _checkpoint_with(w, tmp, **fields) -> list[str]:
    state = torch.load(Path(w["model"]).parent / "checkpoints" / "last.pt", weights_only=True)
    state.update(fields)
    (tmp / "o" / "checkpoints").mkdir(parents=True)
    torch.save(state, tmp / "o" / "checkpoints" / "last.pt")
    return ["train", "--config", w["config"], "--vocab", w["vocab"], "--out", str(tmp / "o"), w["good"]]


def _vocab_json(w, tmp, edit) -> str:
    data = json.loads(Path(w["vocab"]).read_text())
    edit(data)
    (tmp / "v.json").write_text(json.dumps(data))
    return str(tmp / "v.json")


def _shuffled(data):
    rest = data["tokens"][4:]
    random.Random(1).shuffle(rest)
    data["tokens"] = data["tokens"][:4] + rest


def _train_with_vocab(path_of):
    def make(w, tmp):
        vocab = path_of(w, tmp)
        return ["train", "--config", w["config"], "--vocab", vocab, "--out", str(tmp / "o"), w["good"]]

    return make


def _huge_row(split):
    def make(w, tmp):
        ids = _ids(w, ["s_12", "s_13"])
        rows = [(ids, ids)] * 4 + [([ids[0]] * 20_000_000, ids)]  # run-length encoded: a few kB on disk
        shard = write_shard(tmp / "huge-row.parquet", rows, split=split)
        if split == "train":
            return ["train", "--config", w["config"], "--vocab", w["vocab"], "--out", str(tmp / "o"), shard]
        return ["evaluate", "--model", w["model"], "--out", str(tmp / "e"), shard]

    return make


def _int_split(command):
    def make(w, tmp):
        ids = _ids(w, ["s_12"])
        pq.write_table(pa.table({"split": [1, 2], "amplitude_ids": [ids] * 2, "squared_ids": [ids] * 2}), tmp / "s.pq")
        if command == "train":
            return ["train", "--config", w["config"], "--vocab", w["vocab"], "--out", str(tmp / "o"), str(tmp / "s.pq")]
        return ["evaluate", "--model", w["model"], "--out", str(tmp / "e"), str(tmp / "s.pq")]

    return make


@dataclass
class Case:
    name: str
    make: object  # (world, tmp_path) -> argv
    fragment: str
    cap: int = CAP_BYTES
    names: list = field(default_factory=list)


CASES = [
    Case(
        "vocab.json with 2M extra tokens",
        _train_with_vocab(
            lambda w, t: _vocab_json(w, t, lambda d: d["tokens"].extend(f"x{k}" for k in range(2_000_000)))
        ),
        "over the bound",
        names=["v.json"],
    ),
    Case(
        "vocab.json with 70k short tokens (under the size bound)",
        _train_with_vocab(
            lambda w, t: _vocab_json(w, t, lambda d: d["tokens"].extend(f"{k:x}" for k in range(70_000)))
        ),
        "tokens, over the bound of 65536",
    ),
    Case(
        "vocab.json nested 100k deep",
        _train_with_vocab(lambda w, t: (t / "v.json").write_text("[" * 100_000 + "]" * 100_000) and str(t / "v.json")),
        "nested too deep",
    ),
    Case("--vocab /dev/zero", _train_with_vocab(lambda w, t: "/dev/zero"), "not a regular file"),
    Case(
        "model whose vocab_path is /dev/zero",
        lambda w, t: ["predict", "--model", _model_with(w, t, vocab_path="/dev/zero"), "u(e,p_1,d1)"],
        "/dev/zero: the vocabulary is not a regular file",
    ),
    Case(
        "model whose vocab_path is /dev/stdin",
        lambda w, t: ["predict", "--model", _model_with(w, t, vocab_path="/dev/stdin"), "u(e,p_1,d1)"],
        "/dev/stdin: the vocabulary is not a regular file",
    ),
    Case(
        "shuffled vocabulary of the right size (predict)",
        lambda w, t: ["predict", "--model", w["model"], "--vocab", _vocab_json(w, t, _shuffled), "u(e,p_1,d1)"],
        "is not the one model",
    ),
    Case(
        "shuffled vocabulary of the right size (evaluate)",
        lambda w, t: (
            ["evaluate", "--model", w["model"], "--vocab", _vocab_json(w, t, _shuffled), "--out", str(t)] + [w["good"]]
        ),
        "is not the one model",
        cap=EVAL_CAP_BYTES,
    ),
    Case("shard row of 20M ids (train)", _huge_row("train"), "over the bound of 65536 per row", names=["huge-row"]),
    Case(
        "shard row of 20M ids (evaluate)",
        _huge_row("test"),
        "over the bound of 65536 per row",
        cap=EVAL_CAP_BYTES,
        names=["huge-row"],
    ),
    Case("split column of integers (evaluate)", _int_split("evaluate"), "column split is int64", cap=EVAL_CAP_BYTES),
    Case("split column of integers (train)", _int_split("train"), "column split is int64"),
    Case(
        "model notation edited",
        lambda w, t: ["predict", "--model", _model_with(w, t, notation="postfixx"), "u(e,p_1,d1)"],
        "notation 'postfixx' is not one of",
    ),
    Case(
        "model provenance edited",
        lambda w, t: ["predict", "--model", _model_with(w, t, provenance="x"), "u(e,p_1,d1)"],
        "'provenance' is a str",
    ),
    Case("checkpoint rows edited", lambda w, t: _checkpoint_with(w, t, rows=[1, "x"]), "'rows' are not metric rows"),
    Case("checkpoint window edited", lambda w, t: _checkpoint_with(w, t, window={"a": "b"}), "'window'"),
    Case("checkpoint step negative", lambda w, t: _checkpoint_with(w, t, step=-5), "'step' is negative"),
    Case("checkpoint position edited", lambda w, t: _checkpoint_with(w, t, position=[-1, 3]), "'position'"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_file_is_one_line_exit_2_within_bounds(case, world, tmp_path):
    started = time.monotonic()
    result = run_capped(case.make(world, tmp_path), cap=case.cap, cwd=tmp_path)
    stderr = result.stderr.decode(errors="replace")
    lines = [line for line in stderr.splitlines() if line.strip() and not line.startswith("train:")]
    assert result.returncode == 2, stderr[-2000:]
    assert "Traceback" not in stderr
    assert len(lines) == 1, stderr[-2000:]
    assert case.fragment in lines[0], lines[0]
    for name in case.names:
        assert name in lines[0], lines[0]
    assert time.monotonic() - started < TIME_LIMIT_S
    assert not (tmp_path / "o" / "model.pt").exists()


# ---------------------------------------------------------------- stdin: one bad line spoils only itself

STDIN_CASES = [
    # command, good lines (the run without the fault), where the undecodable line goes
    (["tokenize", "-"], [b"s_12", b"2*s_13 + m_e^2"], 1),
    (["detokenize", "-"], [b"s_12", b"add( s_12 s_13 )"], 0),
    (["simplify", "-"], [b"s_12^2 - s_13^2", b"4*s_12/2"], 2),
]


@pytest.mark.parametrize("args,good,at", STDIN_CASES, ids=[a[0] for a, _, _ in STDIN_CASES])
def test_undecodable_stdin_line_gets_an_error_line_and_the_rest_are_answered(args, good, at, tmp_path):
    clean = run_capped(args, stdin=b"\n".join(good) + b"\n")
    assert clean.returncode == 0, clean.stderr
    faulty = good[:at] + [b"e\xff\xfe s_12"] + good[at:]
    result = run_capped(args, stdin=b"\n".join(faulty) + b"\n")
    stderr = result.stderr.decode()
    out = result.stdout.decode().splitlines()
    assert result.returncode == 2 and "Traceback" not in stderr
    assert len(stderr.splitlines()) == 1 and f"stdin line {at + 1} is not valid UTF-8" in stderr
    assert out[at].startswith("error: ") and "not valid UTF-8" in out[at]
    assert out[:at] + out[at + 1 :] == clean.stdout.decode().splitlines()


# ---------------------------------------------------------------- evaluate: text cells over the bound


def test_text_cells_over_the_bound_are_dropped_not_loaded(world, tmp_path):
    from symba.model.batches import MAX_TEXT_BYTES

    ids = _ids(world, ["s_12", "s_13", "e", "m_e"])

    def shard(path, squared):
        n = len(squared)
        columns = {"split": ["test"] * n, "amplitude_ids": [ids] * n, "squared_ids": [ids[::-1]] * n}
        columns |= {"theory": ["qed"] * n, "process": ["e- e+ -> mu- mu+"] * n, "multiplicity": ["2->2"] * n}
        columns |= {column.name: pa.array([None] * n, column.type) for column in DECODE_COLUMNS}  # decoded as written
        pq.write_table(pa.table({**columns, "squared": squared, "diagram": [0] * n}), path)
        return str(path)

    big = ["s_12+" * (MAX_TEXT_BYTES // 5 + 1) + str(k) for k in range(4)]  # 4 distinct cells just over the bound
    runs = {}
    for name, squared in (("big", ["s_12"] * 2 + big), ("none", ["s_12"] * 2 + [None] * 4)):
        out = tmp_path / name
        result = run_capped(
            ["evaluate", "--model", world["model"], "--out", str(out), shard(tmp_path / f"{name}.pq", squared)],
            cap=EVAL_CAP_BYTES,
        )
        assert result.returncode == 0, result.stderr.decode()[-2000:]
        runs[name] = json.loads((out / "metrics.json").read_text())
        runs[name].pop("model")
    assert runs["big"] == runs["none"]  # an over-long cell reads as a missing one


# ---------------------------------------------------------------- workflow globs


def test_recursive_glob_over_two_symlink_loops_ends(tmp_path):
    for d in ("d/a/b", "d/c"):
        (tmp_path / d).mkdir(parents=True)
    for f in ("d/x.txt", "d/a/y.txt", "d/a/b/z.txt", "d/c/w.dat"):
        (tmp_path / f).write_text("")
    os.symlink("../a", tmp_path / "d/a/b/loop")
    os.symlink("../../c", tmp_path / "d/a/b/loop2")
    os.symlink("..", tmp_path / "d/c/back")
    code = "from symba.pipeline.config_check import symba_file_paths as s; print(s(['d/**/*.txt']))"
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "PYTHONPATH": SRC},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(["d/a/b/z.txt", "d/a/y.txt", "d/x.txt"])


def test_recursive_glob_matches_python_glob_without_loops(tmp_path, monkeypatch):
    import glob

    from symba.pipeline.config_check import _recursive_glob

    for f in ("d/x.txt", "d/a/y.txt", "d/a/b/z.txt", "d/.hid/h.txt", "d/a/.q.txt", "d/c/w.dat", "top.txt"):
        (tmp_path / f).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / f).write_text("")
    monkeypatch.chdir(tmp_path)
    for pattern in ("d/**/*.txt", "d/**", "**/*.txt", "d/**/b/*.txt", f"{tmp_path}/d/**/*.txt", "d/*/**/*.txt"):
        expected = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
        assert sorted(_recursive_glob(pattern)) == expected, pattern


# ---------------------------------------------------------------- disk full


def test_full_disk_is_one_line_that_says_disk(monkeypatch, capsys):
    from symba import cli

    class FullDisk:
        def write(self, text):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        def flush(self):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(sys, "stdout", FullDisk())
    assert cli.main(["tokenize", "s_12"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "disk full" in err and "Traceback" not in err


def test_checkpoint_write_on_a_full_disk_is_enospc_naming_the_file(monkeypatch, tmp_path):
    from symba.model import checkpoint

    def short_write(obj, path):  # what torch raises when the disk fills mid-file
        Path(path).write_bytes(b"PK")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 576 vs 534")

    monkeypatch.setattr(checkpoint.torch, "save", short_write)
    with pytest.raises(OSError) as info:
        checkpoint.save({"x": 1}, tmp_path / "last.pt")
    assert info.value.errno == errno.ENOSPC and str(tmp_path / "last.pt") in str(info.value)
    assert list(tmp_path.iterdir()) == []  # no partial file, no temporary


@pytest.mark.skipif(os.geteuid() != 0 or sys.platform != "linux", reason="mounting a tmpfs needs root")
def test_training_onto_a_full_tmpfs_says_disk(world, tmp_path):
    mount = tmp_path / "full"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=200k", "tmpfs", str(mount)]).returncode != 0:
        pytest.skip("cannot mount a tmpfs here")
    try:
        args = [
            "train",
            "--config",
            world["config"],
            "--vocab",
            world["vocab"],
            "--out",
            str(mount / "o"),
            world["good"],
        ]
        result = run_capped(args)
    finally:
        subprocess.run(["umount", str(mount)])
    stderr = result.stderr.decode()
    lines = [line for line in stderr.replace("\r", "\n").splitlines() if "symba: error:" in line]  # after tqdm's bar
    assert result.returncode == 2 and "Traceback" not in stderr
    assert len(lines) == 1 and "disk full" in lines[0] and "last.pt" in lines[0]


# ---------------------------------------------------------------- FORM under a small memory cap


@pytest.mark.parametrize("process,theory", [("e- e+ -> mu- mu+", "qed"), ("u u~ -> g g", "qcd")])
def test_form_runs_under_a_small_memory_cap_with_the_same_result(process, theory):
    def square(*extra):
        result = run_capped(["amplitudes", process, "--theory", theory, "--json", *extra], cap=16 << 30)
        assert result.returncode == 0, result.stderr.decode()[-2000:]
        return json.loads(result.stdout)

    small = square("--memory-mb", "300")  # FORM's defaults needed about 3 GB
    assert small == square()


# ---------------------------------------------------------------- a SIGKILLed parent takes its simplify worker


def test_simplify_worker_dies_with_its_sigkilled_parent():
    slow = "(s_12+s_13+s_14+m_e+e+s_23)^30 - (s_24+s_34)^30"  # SymPy factors this for minutes
    env = {**os.environ, "PYTHONPATH": SRC}
    parent = subprocess.Popen(
        [sys.executable, "-m", "symba", "simplify", "--engine", "sympy", "--timeout", "300", slow],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    worker = None
    try:
        deadline = time.monotonic() + 120
        while worker is None and time.monotonic() < deadline:
            time.sleep(0.5)
            found = subprocess.run(["pgrep", "-P", str(parent.pid), "-f", "symba.simplify.worker"], capture_output=True)
            worker = int(found.stdout.split()[0]) if found.stdout.split() else None
        assert worker is not None, "the simplify worker did not start"
        time.sleep(3)  # past its warm-up, into the factorisation
        parent.send_signal(signal.SIGKILL)
        parent.wait()
        for _ in range(50):
            try:
                os.kill(worker, 0)
            except ProcessLookupError:
                break
            if Path(f"/proc/{worker}/stat").exists() and Path(f"/proc/{worker}/stat").read_text().split()[2] == "Z":
                break  # a zombie: dead, waiting for init to reap it
            time.sleep(0.2)
        else:
            os.kill(worker, signal.SIGKILL)
            pytest.fail("the simplify worker outlived its SIGKILLed parent")
    finally:
        if parent.poll() is None:
            parent.kill()
