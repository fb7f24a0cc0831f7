import csv
import json
import random

import pytest
import torch

from symba.model.batches import Specials, load_vocab, training_stream
from symba.model.checkpoint import load_model, vocab_fingerprint
from symba.model.config import TrainConfig, check_sections, train_config
from symba.model.evaluate import run_evaluation
from symba.model.train import Trainer, lr_at, make_optimizer, run_training

from .model_test_data import TINY_MODEL, TINY_TRAIN, expression_rows, keyword_rows, mapping_rows, write_shard


def test_unknown_config_key_is_named():
    with pytest.raises(ValueError, match="train.model.d_modle"):
        train_config({"model": {"d_modle": 3}})
    with pytest.raises(ValueError, match="'train.lrr'"):
        train_config({"lrr": 1.0})


@pytest.mark.parametrize(
    "overrides, key",
    [
        ({"max_steps": -5}, "train.max_steps"),
        ({"max_batch_size": 0}, "train.max_batch_size"),
        ({"batch_tokens": -1}, "train.batch_tokens"),
        ({"lr": 0}, "train.lr"),
        ({"lr": -1e-3}, "train.lr"),
        ({"lr": float("nan")}, "train.lr"),
        ({"max_steps": 2.5}, "train.max_steps"),
        ({"model": {"dropout": 1.5}}, "train.model.dropout"),
        ({"model": {"d_model": 30, "n_heads": 4}}, "train.model.d_model"),
        ({"model": {"max_len": 10**9}}, "train.model.max_len"),
        ({"max_stepz": 3}, "train.max_stepz"),
    ],
)
def test_bad_train_values_name_their_key(overrides, key):
    with pytest.raises(ValueError, match=f"'{key}'"):
        train_config(overrides)


def test_dataclass_itself_refuses_bad_values():
    with pytest.raises(ValueError, match="'max_steps'"):
        TrainConfig(max_steps=-5)


@pytest.mark.parametrize(
    "train, evaluate, key",
    [
        ({"max_stepz": 3}, {}, "train.max_stepz"),
        ({}, {"beam_szie": 2}, "evaluate.beam_szie"),
        ({}, {"beam_size": 0}, "evaluate.beam_size"),
        ({}, {"numeric_timeout_s": -1}, "evaluate.numeric_timeout_s"),
        ({}, {"batch_size": 0}, "evaluate.batch_size"),
        ({}, "beam_size", "evaluate"),
    ],
)
def test_check_sections_names_the_bad_key(train, evaluate, key):
    with pytest.raises(ValueError, match=f"'{key}'") as info:
        check_sections(train, evaluate)
    assert "\n" not in str(info.value)


def test_check_sections_accepts_the_defaults_and_empty_sections():
    check_sections({}, {})
    check_sections(None, None)
    check_sections({"max_steps": 10, "model": {"d_model": 64}}, {"beam_size": 1})


def test_schedule_warms_up_then_decays_once():
    cfg = train_config({"lr": 1e-3, "warmup_steps": 10, "max_steps": 100, "final_lr_ratio": 0.1})
    lrs = [lr_at(s, cfg) for s in range(100)]
    assert lrs[9] == pytest.approx(1e-3)
    assert all(a < b for a, b in zip(lrs[:9], lrs[1:10]))
    assert all(a >= b for a, b in zip(lrs[9:], lrs[10:]))
    assert lrs[-1] == pytest.approx(1e-4, rel=0.01)


def test_weight_decay_only_on_matrices(vocab_path, tmp_path):
    from symba.model.config import model_config_from_dict
    from symba.model.transformer import Seq2SeqTransformer

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
    stream = training_stream([shard], Specials(vocab), 32, batch_tokens=60, max_batch_size=50, buffer_rows=40, seed=0)
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
    return {
        "model": {**TINY_MODEL, "dropout": 0.1},
        "max_steps": 8,
        "warmup_steps": 2,
        "batch_tokens": 80,
        "checkpoint_every": 4,
        "log_every": 2,
        "valid_every": 4,
        "buffer_rows": 32,
        "lr": 3e-3,
        **TINY_TRAIN,
        **extra,
    }


def test_resume_after_kill_continues_identically(vocab_path, tmp_path):
    vocab = load_vocab(vocab_path)
    shard = write_shard(
        tmp_path / "a.parquet",
        mapping_rows(vocab, 60, "train", 1) + mapping_rows(vocab, 8, "valid", 2),
        row_group_size=16,
    )
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


def _weights(trainer_or_path):
    if isinstance(trainer_or_path, Trainer):
        return trainer_or_path.model.state_dict()
    return load_model(str(trainer_or_path))[0].state_dict()


def _same_weights(a, b) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_checkpoint_from_another_config_starts_afresh(vocab_path, tmp_path, caplog):
    vocab = load_vocab(vocab_path)
    shard = write_shard(tmp_path / "a.parquet", mapping_rows(vocab, 20, "train", 1))
    Trainer(
        train_config(_train_cfg(max_steps=4)), [shard], vocab, vocab_path, tmp_path / "ck", tmp_path / "m.csv"
    ).run()
    other = train_config(_train_cfg(max_steps=4, lr=1e-2))
    with caplog.at_level("WARNING", logger="symba.model.train"):
        again = Trainer(other, [shard], vocab, vocab_path, tmp_path / "ck", tmp_path / "m.csv")
    assert again.step == 0 and not again.resumed
    [record] = [r for r in caplog.records if "training afresh" in r.getMessage()]
    assert "another train config (lr)" in record.getMessage()
    again.run()
    fresh = Trainer(other, [shard], vocab, vocab_path, tmp_path / "ck-fresh", tmp_path / "m-fresh.csv")
    fresh.run()
    assert _same_weights(_weights(again), _weights(fresh))


def test_checkpoint_of_the_older_format_starts_afresh(vocab_path, tmp_path, caplog):
    vocab = load_vocab(vocab_path)
    shard = write_shard(tmp_path / "a.parquet", mapping_rows(vocab, 20, "train", 1))
    cfg = train_config(_train_cfg(max_steps=4))
    done = Trainer(cfg, [shard], vocab, vocab_path, tmp_path / "ck", tmp_path / "m.csv")
    done.run()
    state = torch.load(tmp_path / "ck" / "last.pt", weights_only=True)
    for key in ("format", "version", "provenance"):  # what a version-1 checkpoint lacked
        del state[key]
    torch.save(state, tmp_path / "ck" / "last.pt")
    with caplog.at_level("WARNING", logger="symba.model.train"):
        again = Trainer(cfg, [shard], vocab, vocab_path, tmp_path / "ck", tmp_path / "m.csv")
    assert again.step == 0 and any("older format" in r.getMessage() for r in caplog.records)


def test_version_1_model_files_still_load(vocab_path, tmp_path):
    vocab = load_vocab(vocab_path)
    shard = write_shard(tmp_path / "a.parquet", mapping_rows(vocab, 20, "train", 1))
    path = _run(_train_cfg(max_steps=2), [shard], vocab_path, tmp_path / "run")
    record = torch.load(path, weights_only=True)
    record["format"] = "symba-seq2seq-1"
    del record["version"], record["provenance"]
    torch.save(record, tmp_path / "v1.pt")
    assert _same_weights(_weights(tmp_path / "v1.pt"), _weights(path))


def _split_rows(vocab, split_seed):
    """The same 40 pairs with the train/valid split drawn by ``split_seed``, as a tokenize seed would."""
    rows = mapping_rows(vocab, 40, "train", 5)
    rng = random.Random(split_seed)
    for r in rows:
        r["split"] = "valid" if rng.random() < 0.3 else "train"
    return rows


def _run(config, shards, vocab_path, out):
    run_training(
        config,
        shards,
        vocab_path,
        str(out / "model.pt"),
        str(out / "checkpoints"),
        str(out / "metrics.csv"),
        str(out / "lr.png"),
        str(out / "curves.png"),
    )
    return out / "model.pt"


def test_another_split_in_the_same_shard_path_retrains(vocab_path, tmp_path, caplog):
    # Issue 14: tokenize.seed 7 -> 3 rewrote the shards; train reran but returned the old model.
    vocab = load_vocab(vocab_path)
    shard = tmp_path / "tokens" / "qed.parquet"
    config = _train_cfg(max_steps=6)
    write_shard(shard, _split_rows(vocab, 7))
    old = _run(config, [str(shard)], vocab_path, tmp_path / "run").read_bytes()
    write_shard(shard, _split_rows(vocab, 3))  # same path, other split
    with caplog.at_level("WARNING", logger="symba.model.train"):
        new = _run(config, [str(shard)], vocab_path, tmp_path / "run")
    assert any("other training data" in r.getMessage() for r in caplog.records)
    assert new.read_bytes() != old
    fresh = _run(config, [str(shard)], vocab_path, tmp_path / "fresh")
    assert _same_weights(_weights(new), _weights(fresh))


def test_same_data_rewritten_resumes(vocab_path, tmp_path):
    # Rewriting a shard with the very same content (a rerun of tokenize) keeps the checkpoint.
    vocab = load_vocab(vocab_path)
    rows = mapping_rows(vocab, 30, "train", 1)
    shard = write_shard(tmp_path / "a.parquet", rows)
    cfg = train_config(_train_cfg())
    Trainer(cfg, [shard], vocab, vocab_path, tmp_path / "ck", tmp_path / "m.csv").run(stop_after_step=5)
    write_shard(tmp_path / "a.parquet", rows)
    resumed = Trainer(cfg, [shard], vocab, vocab_path, tmp_path / "ck", tmp_path / "m.csv")
    assert resumed.resumed and resumed.step == 4


def test_vocabulary_fingerprint_follows_the_tokens(tmp_path):
    from symba.tokenization.vocab import write_vocabulary

    a = write_vocabulary(tmp_path / "a.json", "hybrid-short")
    b = load_vocab(str(tmp_path / "a.json"))
    other = write_vocabulary(tmp_path / "b.json", "prefix")
    assert vocab_fingerprint(a) == vocab_fingerprint(b)
    assert vocab_fingerprint(a) != vocab_fingerprint(other)


def test_checkpoint_and_model_hold_only_plain_data(vocab_path, tmp_path):
    vocab = load_vocab(vocab_path)
    shard = write_shard(tmp_path / "a.parquet", mapping_rows(vocab, 20, "train", 1))
    model = _run(_train_cfg(max_steps=4), [shard], vocab_path, tmp_path / "run")
    plain = (dict, list, tuple, str, int, float, bool, type(None), torch.Tensor)

    def walk(obj, where):
        assert isinstance(obj, plain), (where, type(obj))
        if isinstance(obj, dict):
            for k, v in obj.items():
                assert isinstance(k, (str, int)), (where, k)
                walk(v, f"{where}.{k}")
        elif isinstance(obj, (list, tuple)):
            for i, v in enumerate(obj):
                walk(v, f"{where}[{i}]")

    for path in (model, tmp_path / "run" / "checkpoints" / "last.pt"):
        walk(torch.load(path, weights_only=True), path.name)


def test_overfits_a_handful_of_pairs_end_to_end(vocab_path, tmp_path):
    vocab = load_vocab(vocab_path)
    rows = expression_rows(vocab, "train") + expression_rows(vocab, "test_orderings")
    shard = write_shard(tmp_path / "a.parquet", rows)
    out = tmp_path / "run"
    config = {
        "model": TINY_MODEL,
        "max_steps": 150,
        "warmup_steps": 10,
        "lr": 1e-2,
        "batch_tokens": 200,
        "checkpoint_every": 50,
        "log_every": 10,
        "valid_every": 0,
        "final_lr_ratio": 0.1,
        **TINY_TRAIN,
    }
    run_training(
        config,
        [shard],
        vocab_path,
        str(out / "model.pt"),
        str(out / "ck"),
        str(out / "metrics.csv"),
        str(out / "lr.png"),
        str(out / "curves.png"),
    )
    for name in ("model.pt", "metrics.csv", "lr.png", "curves.png"):
        assert (out / name).stat().st_size > 0
    result = run_evaluation(
        str(out / "model.pt"),
        [shard],
        vocab_path,
        {"beam_size": 2, "numeric_points": 2, "num_threads": 1},
        str(out / "metrics.json"),
        str(out / "cal.png"),
        str(out / "len.png"),
    )
    assert result["heldout_templates"]["n_test"] == 0
    result = result["heldout_orderings"]
    assert result["n_test"] == 4
    assert result["sequence_accuracy"] == 1.0
    assert result["numeric_accuracy"] == 1.0
    assert result["token_accuracy"] == 1.0
    assert result["per_multiplicity"]["2->2"]["n_test"] == 4
    assert result["per_theory"]["qed"]["sequence_accuracy"] == 1.0
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["heldout_orderings"]["numeric_accuracy"] == 1.0
    assert (out / "cal.png").stat().st_size > 0 and (out / "len.png").stat().st_size > 0


def test_learnable_task_clearly_beats_a_trivial_baseline(vocab_path, tmp_path):
    from collections import Counter

    vocab = load_vocab(vocab_path)
    train_rows, test_rows = keyword_rows(vocab, 300, "train", 11), keyword_rows(vocab, 40, "test_templates", 12)
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
    config = {
        "model": TINY_MODEL,
        "max_steps": 250,
        "warmup_steps": 20,
        "lr": 1e-2,
        "batch_tokens": 320,
        "checkpoint_every": 100,
        "log_every": 20,
        "valid_every": 0,
        **TINY_TRAIN,
    }
    run_training(
        config,
        [shard],
        vocab_path,
        str(out / "model.pt"),
        str(out / "ck"),
        str(out / "metrics.csv"),
        str(out / "lr.png"),
        str(out / "curves.png"),
    )
    result = run_evaluation(
        str(out / "model.pt"),
        [shard],
        vocab_path,
        {"beam_size": 1, "num_threads": 1},
        str(out / "metrics.json"),
        str(out / "cal.png"),
        str(out / "len.png"),
    )
    assert result["heldout_orderings"]["n_test"] == 0
    result = result["heldout_templates"]
    assert result["n_test"] == 40
    assert baseline < 0.4
    assert result["token_accuracy"] > baseline + 0.3, (result["token_accuracy"], baseline)
    assert result["sequence_accuracy"] > 0.3  # a majority guess gets no whole sequence right
