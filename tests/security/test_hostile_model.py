"""Hostile and careless input to ``symba train / evaluate / predict`` (issue 14).

Each case runs the real command in a subprocess with a hard time limit and expects exit
code 2, one line on stderr naming the problem, and no traceback.  The malicious pickles
would create a marker file if anything in them ran.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
import yaml

import symba
from symba.tokenization.vocab import write_vocabulary

# Run by .ci/run's second pass (python -m pytest -m slow): each case starts a torch subprocess (about 1 min).
pytestmark = pytest.mark.slow

SRC = str(Path(symba.__file__).resolve().parents[1])
TIME_LIMIT_S = 120  # importing torch on a loaded 2-core machine takes seconds, not minutes
TINY = {
    "model": {"d_model": 16, "n_heads": 2, "n_encoder_layers": 1, "n_decoder_layers": 1, "d_ff": 32, "max_len": 32},
    "max_steps": 2,
    "warmup_steps": 1,
    "batch_tokens": 64,
    "checkpoint_every": 1,
    "log_every": 1,
    "valid_every": 0,
    "num_threads": 1,
}


def symba_cmd(*args: str, stdin: str | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": SRC, "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "symba", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=TIME_LIMIT_S,
        env=env,
        cwd=cwd,
    )


class RunsCode:
    """Unpickling this calls os.system: only an unsafe loader would create the marker."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def write_shard(path: Path, pairs: list[tuple[list[int], list[int]]], split: str = "train") -> str:
    table = pa.table(
        {
            "split": [split] * len(pairs),
            "amplitude_ids": [list(a) for a, _ in pairs],
            "squared_ids": [list(b) for _, b in pairs],
        }
    )
    pq.write_table(table, path)
    return str(path)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A vocabulary, a good shard, one with out-of-vocabulary ids, a tiny trained model."""
    from symba.model.train import run_training

    root = tmp_path_factory.mktemp("hostile")
    vocab_path = root / "vocab.json"
    vocab = write_vocabulary(vocab_path, "hybrid-short")
    ids = vocab.encode(["s_12", "s_13", "e", "m_e"])
    good = write_shard(root / "good.parquet", [(ids, ids[::-1])] * 8)
    write_shard(root / "test.parquet", [(ids, ids[::-1])] * 2, split="test")
    oov = write_shard(root / "oov.parquet", [(ids, ids), (ids + [len(vocab) + 7], ids)])
    run = root / "run"
    run_training(
        TINY,
        [good],
        str(vocab_path),
        str(run / "model.pt"),
        str(run / "checkpoints"),
        str(run / "metrics.csv"),
        str(run / "lr.png"),
        str(run / "curves.png"),
    )
    config = root / "config.yaml"
    config.write_text(yaml.safe_dump({"train": TINY}))
    return {
        "root": root,
        "vocab": str(vocab_path),
        "good": good,
        "oov": oov,
        "model": str(run / "model.pt"),
        "config": str(config),
        "len_vocab": len(vocab),
    }


@dataclass
class Case:
    name: str
    make: object  # (world, tmp_path, marker) -> argv
    fragment: str  # in the one stderr line
    stdin: str | None = None
    names: list = field(default_factory=list)  # more fragments that must appear


def _evil_model(w, tmp, marker):
    path = tmp / "model.pt"
    torch.save({"format": "symba-seq2seq", "version": 2, "payload": RunsCode(marker)}, path)
    return ["predict", "--model", str(path), "u(e,p_1,d1)"]


def _evil_plain_pickle(w, tmp, marker):
    path = tmp / "model.pt"
    path.write_bytes(pickle.dumps(RunsCode(marker)))
    return ["predict", "--model", str(path), "u(e,p_1,d1)"]


def _evil_checkpoint(w, tmp, marker):
    out = tmp / "out"
    (out / "checkpoints").mkdir(parents=True)
    torch.save(
        {"format": "symba-train-checkpoint", "version": 1, "x": RunsCode(marker)}, out / "checkpoints" / "last.pt"
    )
    return ["train", "--config", w["config"], "--vocab", w["vocab"], "--out", str(out), w["good"]]


def _empty_model(w, tmp, marker):
    (tmp / "empty.pt").write_bytes(b"")
    return ["predict", "--model", str(tmp / "empty.pt"), "u(e,p_1,d1)"]


def _truncated_model(w, tmp, marker):
    data = Path(w["model"]).read_bytes()
    (tmp / "cut.pt").write_bytes(data[: len(data) // 2])
    return ["predict", "--model", str(tmp / "cut.pt"), "u(e,p_1,d1)"]


def _garbage_model(w, tmp, marker):
    (tmp / "noise.pt").write_bytes(bytes(range(256)) * 4)
    return ["predict", "--model", str(tmp / "noise.pt"), "u(e,p_1,d1)"]


def _text_model(w, tmp, marker):
    (tmp / "text.pt").write_text("not a model\n")
    return ["evaluate", "--model", str(tmp / "text.pt"), "--out", str(tmp / "e"), w["good"]]


def _foreign_dict_model(w, tmp, marker):
    torch.save({"weights": torch.zeros(3)}, tmp / "foreign.pt")
    return ["predict", "--model", str(tmp / "foreign.pt"), "u(e,p_1,d1)"]


def _inflated_model(w, tmp, marker):
    # The config claims a huge model; the weights are the tiny one's.  Must not allocate it.
    record = torch.load(w["model"], weights_only=True)
    record["model_config"] = {**record["model_config"], "d_model": 1 << 16, "d_ff": 1 << 20}
    torch.save(record, tmp / "inflated.pt")
    return ["predict", "--model", str(tmp / "inflated.pt"), "u(e,p_1,d1)"]


def _truncated_checkpoint(w, tmp, marker):
    out = tmp / "out"
    (out / "checkpoints").mkdir(parents=True)
    data = (Path(w["model"]).parent / "checkpoints" / "last.pt").read_bytes()
    (out / "checkpoints" / "last.pt").write_bytes(data[: len(data) // 3])
    return ["train", "--config", w["config"], "--vocab", w["vocab"], "--out", str(out), w["good"]]


def _not_a_vocabulary(w, tmp, marker):
    (tmp / "vocab.json").write_text('{"tokens": 3}')
    return ["train", "--config", w["config"], "--vocab", str(tmp / "vocab.json"), "--out", str(tmp / "o"), w["good"]]


def _oov_train(w, tmp, marker):
    return ["train", "--config", w["config"], "--vocab", w["vocab"], "--out", str(tmp / "o"), w["oov"]]


def _oov_evaluate(w, tmp, marker):
    oov_test = write_shard(tmp / "oov-test.parquet", [([5, 6, w["len_vocab"]], [5])], split="test")
    return ["evaluate", "--model", w["model"], "--out", str(tmp / "e"), oov_test]


def _beam(n):
    return lambda w, tmp, marker: ["predict", "--model", w["model"], "--beam", str(n), "u(e,p_1,d1)"]


def _config(section):
    def make(w, tmp, marker):
        path = tmp / "config.yaml"
        path.write_text(yaml.safe_dump(section))
        command = "train" if "train" in section else "evaluate"
        if command == "train":
            return ["train", "--config", str(path), "--vocab", w["vocab"], "--out", str(tmp / "o"), w["good"]]
        return ["evaluate", "--model", w["model"], "--config", str(path), "--out", str(tmp / "e"), w["good"]]

    return make


CASES = [
    Case("malicious pickle as model.pt (predict)", _evil_model, "refused to load", names=["model.pt"]),
    Case("malicious plain pickle as model.pt (predict)", _evil_plain_pickle, "refused to load", names=["model.pt"]),
    Case("malicious pickle as checkpoints/last.pt (train)", _evil_checkpoint, "refused to load", names=["last.pt"]),
    Case("empty model.pt", _empty_model, "is empty", names=["empty.pt"]),
    Case("truncated model.pt", _truncated_model, "damaged", names=["cut.pt"]),
    Case("random bytes as model.pt", _garbage_model, "noise.pt"),
    Case("text file as model.pt (evaluate)", _text_model, "text.pt"),
    Case("torch file that is not a symba model", _foreign_dict_model, "not a symba model file", names=["foreign.pt"]),
    Case("config larger than its weights", _inflated_model, "do not fit", names=["inflated.pt"]),
    Case("truncated checkpoints/last.pt (train)", _truncated_checkpoint, "damaged", names=["last.pt"]),
    Case("vocabulary file that is not one (train)", _not_a_vocabulary, "vocab.json"),
    Case("out-of-vocabulary ids (train)", _oov_train, "outside the vocabulary", names=["oov.parquet"]),
    Case("out-of-vocabulary ids (evaluate)", _oov_evaluate, "outside the vocabulary", names=["oov-test.parquet"]),
    Case("--beam 0", _beam(0), "--beam must be at least 1"),
    Case("--beam -3", _beam(-3), "--beam must be at least 1"),
    Case("train: max_steps -5", _config({"train": {"max_steps": -5}}), "'train.max_steps'"),
    Case("train: typo max_stepz", _config({"train": {"max_stepz": 3}}), "'train.max_stepz'"),
    Case("train: batch size 0", _config({"train": {"max_batch_size": 0}}), "'train.max_batch_size'"),
    Case("train: lr 0", _config({"train": {"lr": 0}}), "'train.lr'"),
    Case("evaluate: typo beam_szie", _config({"evaluate": {"beam_szie": 2}}), "'evaluate.beam_szie'"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_is_one_line_exit_2(case, world, tmp_path):
    marker = tmp_path / "MARKER"
    result = symba_cmd(*case.make(world, tmp_path, marker), stdin=case.stdin, cwd=tmp_path)
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(lines) == 1, result.stderr
    assert case.fragment in lines[0], lines[0]
    for fragment in case.names:
        assert fragment in lines[0], lines[0]
    assert not marker.exists(), "code from a data file ran"
    assert not (tmp_path / "o" / "model.pt").exists()


@pytest.mark.slow
def test_predict_keeps_blank_and_bad_stdin_lines_in_place(world):
    amplitude = "-i*e^2*u(e,p_1,d1)*ubar(e,p_3,d1)"
    stdin = f"{amplitude}\n\n   \nnot ( an amplitude\n{amplitude}\n"
    result = symba_cmd("predict", "--model", world["model"], "--beam", "1", "-", stdin=stdin)
    out = result.stdout.split("\n")
    assert out[-1] == ""  # the text ends with a newline
    out = out[:-1]
    assert len(out) == 5, result.stdout
    assert out[1] == "" and out[2] == ""
    assert out[3].startswith("error: ")
    assert "\t" in out[0] and out[0] == out[4]  # the same amplitude, the same prediction
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "1 of 3" in result.stderr


def _weights(path) -> dict:
    return torch.load(path, weights_only=True)["state_dict"]


@pytest.mark.slow
def test_finished_run_given_other_shards_retrains(world, tmp_path):
    # Issue 14: `symba train --out DIR` on a finished DIR with other shards returned the old weights.
    vocab = write_vocabulary(tmp_path / "v.json", "hybrid-short")
    other = write_shard(tmp_path / "other.parquet", [(vocab.encode(["s_23", "m_mu"]), vocab.encode(["e", "e"]))] * 8)
    out = tmp_path / "run"
    args = ["train", "--config", world["config"], "--vocab", world["vocab"], "--out", str(out)]
    first = symba_cmd(*args, world["good"])
    assert first.returncode == 0, first.stderr
    old = (out / "model.pt").read_bytes()
    second = symba_cmd(*args, other)
    assert second.returncode == 0, second.stderr
    assert "other training data" in second.stderr and "training afresh" in second.stderr
    assert (out / "model.pt").read_bytes() != old
    fresh = symba_cmd(
        "train", "--config", world["config"], "--vocab", world["vocab"], "--out", str(tmp_path / "fresh"), other
    )
    assert fresh.returncode == 0, fresh.stderr
    new, clean = _weights(out / "model.pt"), _weights(tmp_path / "fresh" / "model.pt")
    assert new.keys() == clean.keys() and all(torch.equal(new[k], clean[k]) for k in new)
    # and the same shards again: the finished checkpoint matches, nothing is retrained
    third = symba_cmd(*args, other)
    assert third.returncode == 0 and "afresh" not in third.stderr
    assert all(torch.equal(new[k], v) for k, v in _weights(out / "model.pt").items())
