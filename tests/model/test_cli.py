"""symba train / evaluate / predict through the real dispatcher."""

import json

import yaml

from symba.cli import main
from symba.model.batches import load_vocab
from symba.model.numeric import numerically_equivalent

from .model_test_data import AMPLITUDES, TINY_MODEL, TINY_TRAIN, amplitude_rows, write_shard


def _predicted(stdout: str) -> str:
    line = next(l for l in stdout.splitlines() if l.startswith("squared amplitude:"))
    return line.split(":", 1)[1].strip()


def test_train_evaluate_predict_and_fallback(vocab_path, tmp_path, capsys):
    vocab = load_vocab(vocab_path)
    shard = write_shard(
        tmp_path / "s.parquet", amplitude_rows(vocab, "train") + amplitude_rows(vocab, "test_orderings")
    )
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "train": {
                    "model": {**TINY_MODEL, "max_len": 64},
                    "max_steps": 150,
                    "warmup_steps": 10,
                    "lr": 1e-2,
                    "batch_tokens": 256,
                    "checkpoint_every": 60,
                    "log_every": 20,
                    "valid_every": 0,
                    **TINY_TRAIN,
                },
                "evaluate": {"beam_size": 2, "numeric_points": 2, "num_threads": 1},
            }
        )
    )
    out = tmp_path / "run"
    assert main(["train", "--config", str(config), "--vocab", vocab_path, "--out", str(out), shard]) == 0
    capsys.readouterr()
    model = str(out / "model.pt")
    assert main(["evaluate", "--model", model, "--config", str(config), "--out", str(out / "eval"), shard]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith("held-out orderings: n=2 ") and "numeric 1.000" in printed[0]
    assert printed[1] == "held-out templates: no test rows"
    metrics = json.loads((out / "eval" / "metrics.json").read_text())
    assert metrics["heldout_orderings"]["n_test"] == 2 and metrics["heldout_orderings"]["numeric_accuracy"] == 1.0
    assert metrics["heldout_templates"]["n_test"] == 0

    amplitude, truth = AMPLITUDES["e- e+ -> mu- mu+"]
    assert main(["predict", "--model", model, "--beam", "3", amplitude]) == 0
    printed = capsys.readouterr().out
    assert "source: model" in printed and "certainty: sum log-prob" in printed and "beam alternatives:" in printed
    assert numerically_equivalent(_predicted(printed), truth, "e- e+ -> mu- mu+", "qed")

    # threshold above any log-probability: the fallback must replace the prediction, and say so
    args = [
        "predict",
        "--model",
        model,
        amplitude,
        "--fallback",
        "--threshold",
        "1",
        "--process",
        "e- e+ -> mu- mu+",
        "--theory",
        "qed",
        "--diagram",
        "0",
    ]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "exact engine (fallback)" in printed
    assert numerically_equivalent(_predicted(printed), truth, "e- e+ -> mu- mu+", "qed")


def test_bad_input_is_one_line_and_exit_2(vocab_path, tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("train:\n  learning_rate: 0.1\n")
    shard = write_shard(tmp_path / "s.parquet", amplitude_rows(load_vocab(vocab_path), "train"))
    assert main(["train", "--config", str(bad), "--vocab", vocab_path, "--out", str(tmp_path / "o"), shard]) == 2
    err = capsys.readouterr().err
    assert "learning_rate" in err and len(err.strip().splitlines()) == 1
    assert main(["predict", "--model", str(tmp_path / "missing.pt"), "u(e,p_1,d1)"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["train", "--vocab", vocab_path, "--out", str(tmp_path / "o"), str(tmp_path / "nope.parquet")]) == 2
    assert "nope.parquet" in capsys.readouterr().err
