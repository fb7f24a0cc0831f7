"""Training with DistributedDataParallel under torchrun, on CPU with gloo and 2 processes.

The truth is one process that trains on the same global batches: at each step, the batches that
the 2 ranks took, together in one batch.  Loss and weights after k steps must agree."""

import csv
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import torch

from symba.model.batches import Specials, collate, load_vocab, training_stream
from symba.model.checkpoint import load_model
from symba.model.config import train_config
from symba.model.train import Trainer, lr_at, make_optimizer, teacher_forcing_loss
from symba.model.transformer import Seq2SeqTransformer

from .model_test_data import TINY_MODEL, TINY_TRAIN, mapping_rows, write_shard

# Run by .ci/run's second pass (python -m pytest -m slow): torchrun starts several torch processes.
pytestmark = pytest.mark.slow

pytest.importorskip("torch.distributed")
if not torch.distributed.is_available() or not torch.distributed.is_gloo_available():
    pytest.skip("torch without gloo", allow_module_level=True)

CONFIG = {
    "model": TINY_MODEL,
    "max_steps": 4,
    "warmup_steps": 2,
    "lr": 1e-2,
    "batch_tokens": 96,
    "checkpoint_every": 2,
    "log_every": 1,
    "valid_every": 0,
    **TINY_TRAIN,
}
WORKER = Path(__file__).with_name("ddp_worker.py")


def _torchrun(args: list[str], cwd) -> None:
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join(sys.path))
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2", *args]
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]


def _reference(shard: str, vocab, batches_per_step: list[int]):
    """One process, plain PyTorch: step k trains on the next batches_per_step[k] batches of the
    batch order, as one batch.  Returns (loss of each step, final weights)."""
    cfg = train_config(CONFIG)
    specials = Specials(vocab)
    model_cfg = replace(cfg.model, vocab_size=len(vocab), pad_id=specials.pad)
    cfg = replace(cfg, model=model_cfg)
    torch.manual_seed(cfg.seed)
    model = Seq2SeqTransformer(model_cfg)
    optimizer = make_optimizer(model, cfg)
    stream = training_stream(
        [shard], specials, model_cfg.max_len, cfg.batch_tokens, cfg.max_batch_size, cfg.buffer_rows, cfg.seed
    )
    losses = []
    model.train()
    for step, k in enumerate(batches_per_step):
        examples = [ex for _ in range(k) for ex in next(stream)[2]]
        src, tgt = collate(examples, specials.pad)
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, cfg)
        loss, _, _ = teacher_forcing_loss(model, src, tgt, specials.pad, cfg.label_smoothing)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(loss.item())
    return losses, model.state_dict()


def _losses(metrics_csv) -> list[float]:
    with open(metrics_csv) as fh:
        return [float(row["loss"]) for row in csv.DictReader(fh)]


def _assert_same_weights(found: dict, truth: dict) -> None:
    assert found.keys() == truth.keys()
    for name in truth:
        a, b = found[name], truth[name]
        if name.endswith("attn.kv.bias"):
            # The key bias adds a constant to every score of a query, which softmax ignores: its
            # true gradient is zero, and Adam turns the rounding noise into full-size steps.
            a, b = a.chunk(2)[1], b.chunk(2)[1]  # the value bias only
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5, msg=name)


@pytest.fixture
def data(vocab_path, tmp_path):
    vocab = load_vocab(vocab_path)
    shard = write_shard(tmp_path / "train.parquet", mapping_rows(vocab, 96, "train", seed=3))
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps({"train": CONFIG}))  # JSON is YAML
    return {"vocab": vocab, "vocab_path": vocab_path, "shard": shard, "config": str(config)}


def test_torchrun_two_processes_equal_one_with_the_same_global_batch(data, tmp_path):
    out = tmp_path / "run"
    _torchrun(
        [
            "-m",
            "symba",
            "train",
            "--config",
            data["config"],
            "--vocab",
            data["vocab_path"],
            "--out",
            str(out),
            data["shard"],
        ],
        tmp_path,
    )
    losses, weights = _reference(data["shard"], data["vocab"], [2] * CONFIG["max_steps"])
    assert _losses(out / "metrics.csv") == pytest.approx(losses, rel=1e-4)
    model, record = load_model(out / "model.pt")
    assert record["steps"] == CONFIG["max_steps"]
    _assert_same_weights(model.state_dict(), weights)


def test_checkpoint_of_two_processes_resumes_on_one(data, tmp_path):
    """Killed after step 2 of 2 processes; resumed on 1 process, it goes on with the batch after
    the last one the 2 processes took."""
    ckpt, metrics = tmp_path / "ckpt", tmp_path / "metrics.csv"
    args = tmp_path / "args.json"
    args.write_text(
        json.dumps(
            {
                "config": CONFIG,
                "shards": [data["shard"]],
                "vocab": data["vocab_path"],
                "checkpoint_dir": str(ckpt),
                "metrics": str(metrics),
                "stop_after": 2,
            }
        )
    )
    _torchrun([str(WORKER), str(args)], tmp_path)
    trainer = Trainer(train_config(CONFIG), [data["shard"]], data["vocab"], data["vocab_path"], str(ckpt), str(metrics))
    assert trainer.resumed and trainer.step == 2
    trainer.run()
    losses, weights = _reference(data["shard"], data["vocab"], [2, 2, 1, 1])
    assert _losses(metrics) == pytest.approx(losses, rel=1e-4)
    _assert_same_weights(trainer.model.state_dict(), weights)


def test_the_workflow_launcher_runs_torchrun_itself(data, tmp_path, monkeypatch):
    """What the train rule does with gpu: 2 (on CPU here): the same training as torchrun's."""
    from symba.model.train import run_training_processes

    out = tmp_path / "run"
    files = [str(out / name) for name in ("model.pt", "ckpt", "metrics.csv", "lr.png", "curves.png")]
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(sys.path))
    run_training_processes(2, CONFIG, [data["shard"]], data["vocab_path"], *files)
    losses, weights = _reference(data["shard"], data["vocab"], [2] * CONFIG["max_steps"])
    assert _losses(files[2]) == pytest.approx(losses, rel=1e-4)
    _assert_same_weights(load_model(files[0])[0].state_dict(), weights)
