"""Evaluation on both held-out sides, certainty you can act on, and predict --jsonl / --fallback."""

import io
import json
import math

import pytest
import yaml

from symba.cli import main
from symba.model import predict as predict_module
from symba.model.batches import load_vocab
from symba.model.config import eval_config
from symba.model.errors import ConfigError
from symba.model.metrics import fallback_at, selective_accuracy
from symba.model.numeric import numerically_equivalent
from symba.model.report import HEADLINE_SETS, headline
from symba.tokenization.vocab import write_vocabulary

from .model_test_data import AMPLITUDES, NOTATION, TINY_MODEL, TINY_TRAIN, amplitude_rows, write_shard

MUMU = "e- e+ -> mu- mu+"


# -- coverage and threshold on hand-made (certainty, right) pairs ---------------------------


def test_selective_accuracy_takes_the_largest_all_right_prefix():
    pairs = [(-0.05, True), (-0.01, True), (-0.04, False), (-0.02, True), (-0.03, True)]
    sel = selective_accuracy(pairs, target=0.999)
    # most certain first: -0.01 T, -0.02 T, -0.03 T, -0.04 F, -0.05 T -> the first three
    assert sel["threshold"] == -0.03 and sel["coverage"] == 0.6 and sel["accepted_accuracy"] == 1.0
    assert sel["recomputed"] == 0.4 and sel["accuracy_after_fallback"] == 1.0
    loose = selective_accuracy(pairs, target=0.75)  # all five: 4/5 = 0.8 right
    assert loose["threshold"] == -0.05 and loose["coverage"] == 1.0
    assert loose["accuracy_after_fallback"] == 0.8 and loose["recomputed"] == 0.0


def test_tied_certainties_are_accepted_together():
    pairs = [(-0.01, True), (-0.02, True), (-0.02, False), (-0.03, True)]
    sel = selective_accuracy(pairs, target=0.999)
    assert sel["threshold"] == -0.01 and sel["coverage"] == 0.25  # -0.02 would also accept the wrong one
    assert sel["accuracy_after_fallback"] == 1.0 and sel["recomputed"] == 0.75


def test_nothing_reaches_the_target_means_recompute_everything():
    sel = selective_accuracy([(-0.1, False), (-0.2, True)], target=0.999)
    assert sel["threshold"] is None and sel["coverage"] == 0.0
    assert sel["accuracy_after_fallback"] == 1.0 and sel["recomputed"] == 1.0
    unpredicted = selective_accuracy([(float("-inf"), True)])  # too long for the model: never accepted
    assert unpredicted["threshold"] is None
    empty = selective_accuracy([])
    assert empty["coverage"] is None and empty["threshold"] is None


def test_fallback_at_a_fixed_threshold():
    pairs = [(-0.01, True), (-0.02, False), (-0.5, False), (-0.6, True)]
    at = fallback_at(pairs, -0.1)
    assert at["coverage"] == 0.5 and at["accepted_accuracy"] == 0.5
    assert at["accuracy_after_fallback"] == 0.75 and at["recomputed"] == 0.5
    assert fallback_at(pairs, None)["recomputed"] == 1.0


def test_workers_is_validated():
    assert eval_config({"workers": 3}).workers == 3
    for bad in (0, 1.5, "two", 65):
        with pytest.raises(ConfigError, match="workers"):
            eval_config({"workers": bad})


# -- a tiny trained model, evaluated on both sides ----------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    import torch

    torch.set_num_threads(1)
    tmp = tmp_path_factory.mktemp("sides")
    vocab_path = str(tmp / "vocab.json")
    write_vocabulary(vocab_path, NOTATION)
    vocab = load_vocab(vocab_path)
    # The same pairs on the training side and on both test sides: a memorised model gets them right.
    # One test_orderings row's template (group) has no training row: it counts as a held-out template.
    orphan = amplitude_rows(vocab, "test_orderings")[:1]
    orphan[0]["group"] = "a template never trained on"
    shard = write_shard(
        tmp / "s.parquet",
        amplitude_rows(vocab, "train")
        + amplitude_rows(vocab, "test_orderings")
        + amplitude_rows(vocab, "test_templates")[:1]
        + orphan,
        row_group_size=2,
    )
    config = tmp / "config.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "train": {
                    "model": {**TINY_MODEL, "max_len": 64},
                    "max_steps": 150,
                    "warmup_steps": 10,
                    "lr": 1e-2,
                    "batch_tokens": 256,
                    "checkpoint_every": 150,
                    "log_every": 50,
                    "valid_every": 0,
                    **TINY_TRAIN,
                },
                "evaluate": {"beam_size": 2, "numeric_points": 2, "num_threads": 1, "workers": 2, "batch_size": 1},
            }
        )
    )
    out = tmp / "run"
    assert main(["train", "--config", str(config), "--vocab", vocab_path, "--out", str(out), shard]) == 0
    assert (
        main(["evaluate", "--model", str(out / "model.pt"), "--config", str(config), "--out", str(out / "eval"), shard])
        == 0
    )
    return {"model": str(out / "model.pt"), "metrics": out / "eval" / "metrics.json", "tmp": tmp}


def test_metrics_hold_both_sides_with_breakdowns(trained):
    metrics = json.loads(trained["metrics"].read_text())
    assert metrics["heldout_orderings"]["n_test"] == 2 and metrics["heldout_templates"]["n_test"] == 2
    assert metrics["n_orderings_rows_of_unseen_templates"] == 1
    assert "heldout_random" not in metrics  # no rows of the random split's "test"
    for name in HEADLINE_SETS:
        side = metrics[name]
        for key in ("token_accuracy", "sequence_accuracy", "numeric_accuracy"):
            assert 0.0 <= side[key] <= 1.0
        assert side["per_theory"]["qed"]["n_test"] == side["n_test"]
        assert side["per_multiplicity"]["2->2"]["n_test"] == side["n_test"]
        assert set(side["selective"]) >= {"threshold", "coverage", "accuracy_after_fallback", "recomputed"}
    assert metrics["heldout_orderings"]["numeric_accuracy"] == 1.0  # memorised pairs
    assert metrics["certainty"]["target_accuracy"] == 0.999
    assert metrics["config"]["workers"] == 2
    lines = headline(metrics)
    assert lines[0].startswith("held-out orderings: n=2 ") and lines[1].startswith("held-out templates: n=2 ")
    for png in ("calibration.png", "length.png"):
        assert (trained["metrics"].parent / png).stat().st_size > 0


def _run_stdin(monkeypatch, capsys, args, lines):
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(line + "\n" for line in lines)))
    code = main(args)
    captured = capsys.readouterr()
    return code, [json.loads(line) for line in captured.out.splitlines()], captured.err


def test_predict_jsonl_one_line_per_input_and_the_model_loaded_once(trained, monkeypatch, capsys):
    loads = []
    real = predict_module.load_model
    monkeypatch.setattr(predict_module, "load_model", lambda *a, **k: loads.append(a) or real(*a, **k))
    amplitude, truth = AMPLITUDES[MUMU]
    lines = [amplitude, "u(e,p_1,d1", json.dumps({"amplitude": amplitude}), "", amplitude]
    code, out, err = _run_stdin(monkeypatch, capsys, ["predict", "--model", trained["model"], "--jsonl", "-"], lines)
    assert code == 2 and len(loads) == 1
    assert len(out) == len(lines)
    for k in (0, 2, 4):
        assert set(out[k]) == {"prediction", "tokens", "certainty", "source"}
        assert out[k]["source"] == "model" and out[k]["certainty"] <= 0.0
        assert numerically_equivalent(out[k]["prediction"], truth, MUMU, "qed")
        assert all(isinstance(t, str) for t in out[k]["tokens"])
    assert "error" in out[1] and "error" in out[3]
    assert "2 of 5" in err and len(err.strip().splitlines()) == 1


def test_fallback_recomputes_below_the_threshold_read_from_metrics(trained, monkeypatch, capsys):
    amplitude, truth = AMPLITUDES[MUMU]
    # An evaluation where no certainty reached 99.9% right: every answer is recomputed.
    strict = trained["tmp"] / "strict.json"
    strict.write_text(json.dumps({"model": trained["model"], "certainty": {"fallback_threshold": None}}))
    request = json.dumps({"amplitude": amplitude, "process": MUMU, "theory": "qed", "diagram": 0})
    no_process = json.dumps({"amplitude": amplitude})  # the legs name the process; the text, the diagram
    no_legs = "-i*e^2*u(e,p_1,d1)*ubar(e,p_3,d1)"  # leg 2 missing: no process can be read
    args = ["predict", "--model", trained["model"], "--jsonl", "--fallback", "--metrics", str(strict), "-"]
    code, out, err = _run_stdin(monkeypatch, capsys, args, [request, no_process, no_legs, amplitude])
    assert code == 2 and len(out) == 4 and "1 of 4" in err
    for k in (0, 1, 3):
        assert out[k]["source"] == "exact" and numerically_equivalent(out[k]["prediction"], truth, MUMU, "qed")
        assert out[k]["tokens"] and numerically_equivalent(out[k]["model_prediction"], truth, MUMU, "qed")
    assert out[0]["prediction"] == out[1]["prediction"] == out[3]["prediction"]  # one text, one answer
    assert "process" in out[2]["error"] and set(out[2]) == {"error"}
    # A threshold below any certainty keeps the model's answer.
    args = ["predict", "--model", trained["model"], "--jsonl", "--fallback", "--threshold", "-1000", "-"]
    code, out, _ = _run_stdin(monkeypatch, capsys, args, [request])
    assert code == 0 and out[0]["source"] == "model"


def test_threshold_from_the_real_evaluation_and_a_foreign_metrics_file(trained, tmp_path):
    threshold, where = predict_module.choose_threshold(trained["model"], None, str(trained["metrics"]))
    recorded = json.loads(trained["metrics"].read_text())["certainty"]["fallback_threshold"]
    assert where == str(trained["metrics"])
    assert threshold == (math.inf if recorded is None else recorded)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"model": "/elsewhere/model.pt", "certainty": {"fallback_threshold": -0.1}}))
    assert (
        main(
            [
                "predict",
                "--model",
                trained["model"],
                "--fallback",
                "--metrics",
                str(other),
                "--process",
                MUMU,
                AMPLITUDES[MUMU][0],
            ]
        )
        == 2
    )


def test_common_threshold_holds_on_every_test_set():
    from symba.model.metrics import common_threshold

    orderings = [(-0.01, True), (-0.02, True), (-0.03, False)]
    templates = [(-0.015, False), (-0.5, False)]
    # -0.02 would accept the templates' wrong -0.015; -0.01 accepts nothing wrong anywhere
    assert common_threshold({"o": orderings, "t": templates}) == -0.01
    assert common_threshold({"o": orderings, "t": [(-0.025, False)]}) == -0.02
    assert common_threshold({"o": orderings, "t": [(-0.001, False)]}) is None  # the most certain is wrong
    assert common_threshold({"o": orderings, "t": []}) == -0.02
    assert common_threshold({"o": [], "t": []}) is None


def test_predict_certainty_is_the_evaluations(trained, monkeypatch, capsys):
    """The threshold is compared with the same certainty the evaluation chose it on: predict
    decodes with the evaluation's beam (from metrics.json) and gets its certainties."""
    metrics = json.loads(trained["metrics"].read_text())
    lines = [json.dumps({"amplitude": amplitude, "process": process}) for process, (amplitude, _) in AMPLITUDES.items()]
    args = ["predict", "--model", trained["model"], "--metrics", str(trained["metrics"]), "--jsonl", "-"]
    code, out, _ = _run_stdin(monkeypatch, capsys, args, lines)
    assert code == 0 and metrics["heldout_orderings"]["n_test"] == len(out) == 2
    mean = sum(o["certainty"] for o in out) / len(out)
    assert mean == pytest.approx(metrics["heldout_orderings"]["mean_logprob_mean"], abs=1e-5)
