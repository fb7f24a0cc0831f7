import csv
import json

import pytest
import torch

from symba.model.config import train_config
from symba.model.batches import Specials, load_vocab, training_stream
from symba.model.evaluate import run_evaluation
from symba.model.train import Trainer, lr_at, make_optimizer, run_training

from .model_test_data import TINY_MODEL, TINY_TRAIN, keyword_rows, expression_rows, mapping_rows, write_shard


def test_unknown_config_key_is_named():
    with pytest.raises(ValueError, match="train.model.d_modle"):
        train_config({"model": {"d_modle": 3}})
    with pytest.raises(ValueError, match="'train.lrr'"):
        train_config({"lrr": 1.0})


def test_schedule_warms_up_then_decays_once():
    cfg = train_config({"lr": 1e-3, "warmup_steps": 10, "max_steps": 100, "final_lr_ratio": 0.1})
    lrs = [lr_at(s, cfg) for s in range(100)]
    assert lrs[9] == pytest.approx(1e-3)
    assert all(a < b for a, b in zip(lrs[:9], lrs[1:10]))
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:]))
    assert lrs[-1] == pytest.approx(1e-4, rel=0.01)


def test_weight_decay_only_on_matrices(vocab_path, tmp_path):
    from symba.model.transformer import Seq2SeqTransformer
    from symba.model.config import model_config_from_dict

    model = Seq2SeqTransformer(model_config_from_dict({**TINY_MODEL, "vocab_size": 50}))
    opt = make_optimizer(model, train_config({"weight_decay": 0.1}))
    decayed, plain = opt.param_groups
    assert decayed["weight_decay"] == 0.1 and plain["weight_decay"] == 0.0
    assert all(p.dim() >= 2 for p in decayed["params"]) and all(p.dim() < 2 for p in plain["params"])
    assert len(decayed["params"]) + len(plain["params"]) == len(list(model.parameters()))


def test_batches_are_bucketed_and_cover_an_epoch(vocab_path, tmp_path):
    vocab = load_vocab(vocab_path)
    rows = mapping_rows(vocab, 100, "train", seed=3)
    shard = write_shard(tmp_path / "a.parquet", rows, row_group_size=16)
    stream = training_stream([shard], Specials(vocab), 32, batch_tokens=60, max_batch_size=50, buffer_rows=40,
                             seed=0)
    seen = 0
    while seen < 100:
        epoch, _, batch = next(stream)
        assert epoch == 0
        widths = [len(e.tgt) for e in batch]
        assert max(widths) * len(batch) <= 60 or len(batch) == 1
        assert max(widths) - min(widths) <= 2  # bucketed: similar lengths together
        seen += len(batch)
    assert seen == 100
    assert next(stream)[0] == 1


def _train_cfg(**extra):
    return {"model": {**TINY_MODEL, "dropout": 0.1}, "max_steps": 8, "warmup_steps": 2, "batch_tokens": 80,
            "checkpoint_every": 4, "log_every": 2, "valid_every": 4, "buffer_rows": 32, "lr": 3e-3, **TINY_TRAIN, **extra}


def test_resume_after_kill_continues_identically(vocab_path, tmp_path):
    vocab = load_vocab(vocab_path)
    shard = write_shard(tmp_path / "a.parquet", mapping_rows(vocab, 60, "train", 1) + mapping_rows(vocab, 8, "valid", 2),
                        row_group_size=16)
    cfg = train_config(_train_cfg())

    straight = Trainer(cfg, [shard], vocab, vocab_path, tmp_path / "ck1", tmp_path / "m1.csv")
    straight.run()

    first = Trainer(cfg, [shard], vocab, vocab_path, tmp_path / "ck2", tmp_path / "m2.csv")
    first.run(stop_after_step=5)  # "killed" after step 5; the last checkpoint is at step 4
    del first
    resumed = Trainer(cfg, [shard], vocab, vocab_path, tmp_path / "ck2", tmp_path / "m2.csv")
    assert resumed.step == 4
    resumed.run()

    assert resumed.step == straight.step == 8
    for (name, a), b in zip(straight.model.state_dict().items(), resumed.model.state_dict().values()):
        assert torch.equal(a, b), name

    def losses(path):
        with open(path) as fh:
            return [(r["step"], r["loss"], r["valid_loss"]) for r in csv.DictReader(fh)]

    assert losses(tmp_path / "m1.csv") == losses(tmp_path / "m2.csv")


def test_checkpoint_from_another_config_is_refused(vocab_path, tmp_path):
    vocab = load_vocab(vocab_path)
    shard = write_shard(tmp_path / "a.parquet", mapping_rows(vocab, 20, "train", 1))
    Trainer(train_config(_train_cfg(max_steps=4)), [shard], vocab, vocab_path, tmp_path / "ck", tmp_path / "m.csv").run()
    with pytest.raises(ValueError, match="different train config"):
        Trainer(train_config(_train_cfg(max_steps=4, lr=1e-2)), [shard], vocab, vocab_path, tmp_path / "ck",
                tmp_path / "m.csv")


def test_overfits_a_handful_of_pairs_end_to_end(vocab_path, tmp_path):
    vocab = load_vocab(vocab_path)
    rows = expression_rows(vocab, "train") + expression_rows(vocab, "test")
    shard = write_shard(tmp_path / "a.parquet", rows)
    out = tmp_path / "run"
    config = {"model": TINY_MODEL, "max_steps": 150, "warmup_steps": 10, "lr": 1e-2, "batch_tokens": 200,
              "checkpoint_every": 50, "log_every": 10, "valid_every": 0, "final_lr_ratio": 0.1, **TINY_TRAIN}
    run_training(config, [shard], vocab_path, str(out / "model.pt"), str(out / "ck"), str(out / "metrics.csv"),
                 str(out / "lr.png"), str(out / "curves.png"))
    for name in ("model.pt", "metrics.csv", "lr.png", "curves.png"):
        assert (out / name).stat().st_size > 0
    result = run_evaluation(str(out / "model.pt"), [shard], vocab_path, {"beam_size": 2, "numeric_points": 2, "num_threads": 1},
                            str(out / "metrics.json"), str(out / "cal.png"), str(out / "len.png"))
    assert result["n_test"] == 4
    assert result["sequence_accuracy"] == 1.0
    assert result["numeric_accuracy"] == 1.0
    assert result["token_accuracy"] == 1.0
    assert result["per_multiplicity"]["2->2"]["n_test"] == 4
    assert result["per_theory"]["qed"]["sequence_accuracy"] == 1.0
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["numeric_accuracy"] == 1.0
    assert (out / "cal.png").stat().st_size > 0 and (out / "len.png").stat().st_size > 0


def test_learnable_task_clearly_beats_a_trivial_baseline(vocab_path, tmp_path):
    from collections import Counter

    vocab = load_vocab(vocab_path)
    train_rows, test_rows = keyword_rows(vocab, 300, "train", 11), keyword_rows(vocab, 40, "test", 12)
    shard = write_shard(tmp_path / "a.parquet", train_rows + test_rows)
    # Baseline: the most frequent training token at each target position (EOS past the end).
    eos = vocab.eos_id
    by_position = {}
    for r in train_rows:
        for k, t in enumerate(list(r["squared_ids"]) + [eos]):
            by_position.setdefault(k, Counter())[t] += 1
    hits = total = 0
    for r in test_rows:
        truth = list(r["squared_ids"]) + [eos]
        hits += sum(by_position[k].most_common(1)[0][0] == t for k, t in enumerate(truth) if k in by_position)
        total += len(truth)
    baseline = hits / total

    out = tmp_path / "run"
    config = {"model": TINY_MODEL, "max_steps": 250, "warmup_steps": 20, "lr": 1e-2, "batch_tokens": 320,
              "checkpoint_every": 100, "log_every": 20, "valid_every": 0, **TINY_TRAIN}
    run_training(config, [shard], vocab_path, str(out / "model.pt"), str(out / "ck"), str(out / "metrics.csv"),
                 str(out / "lr.png"), str(out / "curves.png"))
    result = run_evaluation(str(out / "model.pt"), [shard], vocab_path, {"beam_size": 1, "num_threads": 1},
                            str(out / "metrics.json"), str(out / "cal.png"), str(out / "len.png"))
    assert result["n_test"] == 40
    assert baseline < 0.4
    assert result["token_accuracy"] > baseline + 0.3, (result["token_accuracy"], baseline)
    assert result["sequence_accuracy"] > 0.3  # a majority guess gets no whole sequence right
