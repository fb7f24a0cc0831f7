"""Relabelling-aware inference: the map to canonical legs and back is exact, and evaluation
through it scores an ordered row by its canonical twin."""

from __future__ import annotations

import pytest
import sympy
import torch

from symba.model import evaluate as evaluate_module
from symba.model.config import EvalConfig, eval_config
from symba.model.errors import ConfigError, ShardError
from symba.model.evaluate import CheckerPool, evaluate_rows
from symba.model.search import Hypothesis
from symba.physics.engine import compute_process
from symba.physics.expression_parser import parse_expression
from symba.physics.kinematics import numerically_equal
from symba.physics.leg_relabelling import process_of_amplitude, relabelling_for, relabelling_of_process
from symba.physics.orderings import distinct_orderings, relabel_result, rows_for_orderings
from symba.physics.process import parse_process
from symba.pipeline.amplitude_shards import process_rows
from symba.tokenization.amplitude_tokens import tokenize_amplitude
from symba.tokenization.notations import tokenize
from symba.tokenization.token_shards import tokenize_rows
from symba.tokenization.vocab import build_vocabulary

from .model_test_data import NOTATION


def _ordered_results(canonical: str, theory: str):
    result = compute_process(canonical, theory, timeout=120)
    for ordering in distinct_orderings(canonical)[1:]:
        yield result, ordering, relabel_result(result, ordering.permutation)


@pytest.mark.parametrize(
    ("canonical", "theory"), [("e- a -> e- a", "qed"), ("e- e+ -> mu- mu+ a", "qed"), ("u g -> u g", "qcd")]
)
def test_canonical_map_and_its_inverse_are_exact(canonical, theory):
    for result, ordering, ordered in _ordered_results(canonical, theory):
        proc = parse_process(ordering.process, theory, check=False)
        for diagram, (_, amplitude, squared) in zip(result.rows(), ordered.rows()):
            relabelling = relabelling_for(amplitude, None, theory)  # legs read from the amplitude
            assert relabelling is not None
            assert relabelling.process == ordering.process and relabelling.canonical_process == canonical
            assert relabelling.permutation == ordering.permutation
            # the model reads the canonical computation's very tokens (the whole-process text
            # may differ in parentheses around its diagrams, which have no tokens)
            canonical_tokens = tokenize_amplitude(relabelling.canonical_amplitude(amplitude), NOTATION)
            assert canonical_tokens == tokenize_amplitude(diagram[1], NOTATION)
            # to canonical: equals what the engine computed for the canonical legs
            to_canonical = relabelling.squared_to_canonical(squared)
            masses = parse_process(canonical, theory, check=False).leg_masses()
            assert numerically_equal(parse_expression(to_canonical), diagram[2], masses, 2)
            # and back: equals the ordered row's own squared amplitude
            back = relabelling.squared_from_canonical(to_canonical)
            assert numerically_equal(parse_expression(back), squared, proc.leg_masses(), proc.n_in)


def test_process_is_read_from_the_amplitude_legs():
    ordered = relabel_result(compute_process("e- e+ -> mu- mu+", "qed", timeout=60), (2, 1, 4, 3))
    assert process_of_amplitude(ordered.diagrams[0].amplitude, "qed") == "e+ e- -> mu+ mu-"
    assert process_of_amplitude(ordered.whole_amplitude, "qed") == "e+ e- -> mu+ mu-"


def test_no_relabelling_where_none_applies():
    amplitude = relabel_result(compute_process("e- e+ -> mu- mu+", "qed", timeout=60), (2, 1, 4, 3)).whole_amplitude
    assert relabelling_for(amplitude, "e+ e- -> mu+ mu-", "qed") is not None
    assert relabelling_for(amplitude, "e- e+ -> mu- mu+", "qed") is None  # not the amplitude's legs
    assert relabelling_for(amplitude, None, "qcd") is None  # leptons are not QCD particles
    assert relabelling_for("s_12*e^2", None, "qed") is None  # no legs to read
    assert relabelling_for("s_12*e^2", "x y -> z", "qed") is None  # unknown particles
    canonical = compute_process("e- e+ -> mu- mu+", "qed", timeout=60).whole_amplitude
    assert relabelling_for(canonical, None, "qed") is None  # already canonical


@pytest.mark.parametrize(
    ("canonical", "theory"),
    [("e- e+ -> mu- mu+ a", "qed"), ("e- e- -> e- e- a a", "qed"), ("e- e+ -> a a a", "qed"), ("u u~ -> g g g", "qcd")],
)
def test_the_relabelling_of_a_process_is_the_one_its_orderings_list(canonical, theory):
    for ordering in distinct_orderings(canonical):
        relabelling = relabelling_of_process(ordering.process, theory)
        assert relabelling.canonical_process == canonical
        assert relabelling.permutation == ordering.permutation


def test_relabel_legs_is_a_checked_config_key():
    assert eval_config({"relabel_legs": False}).relabel_legs is False
    with pytest.raises(ConfigError, match="evaluate.relabel_legs"):
        eval_config({"relabel_legs": "yes"})


class _StubModel(torch.nn.Module):
    """Holds what evaluate_rows reads of a model; decoding is replaced by a lookup."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.cfg = type("Cfg", (), {"max_len": 4096})()


def _token_rows(vocab):
    rows = []
    for canonical in ("e- e+ -> mu- mu+", "e- a -> e- a"):
        result = compute_process(canonical, "qed", timeout=60)
        rows += rows_for_orderings(result, lambda r: process_rows(r, "2->2", "test"), "all")
    for r in rows:
        r["status"] = "ok"
    out, _ = tokenize_rows(rows, NOTATION, split="random", fractions=(0, 0, 1))
    return out


def _expanded_ids(row, vocab):
    """Another token form of the row's squared amplitude: numerically equal, not the same tokens."""
    return vocab.encode(list(tokenize(sympy.expand(parse_expression(row["squared"])), NOTATION)))


@pytest.mark.parametrize(("relabel_legs", "form"), [(True, "same"), (True, "expanded"), (False, "same")])
def test_a_model_that_knows_only_canonical_rows_scores_ordered_rows_with_relabelling(monkeypatch, relabel_legs, form):
    vocab = build_vocabulary(NOTATION)
    rows = _token_rows(vocab)
    identity = [r for r in rows if r["permutation"] == ",".join(str(k) for k in range(1, 5))]
    ordered = [r for r in rows if r not in identity]
    assert len(ordered) > 2 * len(identity) > 0
    wrap = evaluate_module.batches.Specials(vocab).wrap
    # the "model": the canonical rows' targets, looked up by their source tokens
    known = {
        tuple(wrap(r["amplitude_ids"])): list(r["squared_ids"]) if form == "same" else _expanded_ids(r, vocab)
        for r in identity
    }
    pad = vocab.pad_id

    def stub_decode(model, src, specials, cfg):
        answers = []
        for ids in src.tolist():
            target = known.get(tuple(i for i in ids if i != pad), [])
            answers.append([Hypothesis(target, -0.01, True, -0.01)])
        return answers

    monkeypatch.setattr(evaluate_module, "decode_batch", stub_decode)
    cfg = EvalConfig(max_examples=0, relabel_legs=relabel_legs, beam_size=1)
    with CheckerPool(1, 60.0, 4) as pool:
        outcomes = evaluate_rows(_StubModel(), vocab, NOTATION, iter(ordered), cfg, pool)
    assert len(outcomes) == len(ordered)
    if not relabel_legs:  # the ordered sources are not the canonical ones: the lookup knows none of them
        assert not any(o.relabelled or o.sequence_ok or o.numeric_ok for o in outcomes)
    elif form == "same":
        assert all(o.relabelled and o.sequence_ok and o.numeric_ok for o in outcomes)
    else:  # right only once renamed back to the row's legs: the numeric check, not the tokens, says so
        assert all(o.relabelled and not o.sequence_ok and o.numeric_ok for o in outcomes)


def _predictor_that_knows_only(monkeypatch, vocab_path, canonical):
    """predict's module with a stub model that answers only the whole-process amplitude of
    ``canonical`` (as the dataset writes it), with that computation's square."""
    from symba.model import predict as predict_module
    from symba.model.batches import amplitude_to_ids, load_vocab

    vocab = load_vocab(vocab_path)
    canonical_target = vocab.encode(list(tokenize(parse_expression(canonical.squared_amplitude), NOTATION)))
    known = {tuple(amplitude_to_ids(canonical.rows()[-1][1], vocab)): canonical_target}
    model = _StubModel()
    model.cfg.vocab_size = len(vocab)
    monkeypatch.setattr(predict_module, "load_model", lambda path, device: (model, {"vocab_path": vocab_path}))

    def stub_greedy(model, src, bos, eos, alpha=0.0):
        return [Hypothesis(known.get(tuple(src[0].tolist()), []), -0.01, True, -0.01)]

    monkeypatch.setattr(predict_module, "greedy", stub_greedy)
    return predict_module


@pytest.mark.parametrize("relabel_legs", [True, False])
def test_predict_decodes_the_canonical_legs_and_answers_in_the_written_ones(monkeypatch, vocab_path, relabel_legs):
    canonical = compute_process("e- e+ -> mu- mu+", "qed", timeout=60)
    ordered = relabel_result(canonical, (2, 1, 4, 3))  # e+ e- -> mu+ mu-
    # the whole-process row as the dataset writes it (canonical form: first term positive)
    predict_module = _predictor_that_knows_only(monkeypatch, vocab_path, canonical)
    with predict_module.Predictor("stub.pt", beam_size=1, relabel_legs=relabel_legs) as predictor:
        pred = predictor(ordered.whole_amplitude)  # the legs are read from the amplitude
    if not relabel_legs:
        assert pred.squared is None and pred.canonical_process is None
        return
    assert pred.canonical_process == "e- e+ -> mu- mu+"
    proc = parse_process("e+ e- -> mu+ mu-", "qed", check=False)
    assert numerically_equal(parse_expression(pred.squared), ordered.squared_amplitude, proc.leg_masses(), 2)
    # the tokens of the answer as printed (the dataset's factored text), not of the engine's raw text
    assert pred.tokens == list(tokenize(parse_expression(pred.squared), NOTATION))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda row: row.pop("decode_permutation"), "lack the decode_permutation column"),
        (lambda row: row.update(decode_permutation="1,1,2,3"), "decode_permutation: .*not a permutation"),
        (lambda row: row.update(decode_squared_ids=[10**6]), "decode_squared_ids is missing or has ids outside"),
    ],
)
def test_a_row_without_usable_decode_columns_is_one_line(change, message):
    vocab = build_vocabulary(NOTATION)
    row = next(r for r in _token_rows(vocab) if r["decode_permutation"])
    change(row)
    with CheckerPool(1, 60.0, 4) as pool, pytest.raises(ShardError, match=message):
        evaluate_rows(_StubModel(), vocab, NOTATION, iter([row]), EvalConfig(max_examples=0, beam_size=1), pool)


def _flavour_rows(vocab, fractions, **options):
    rows = []
    for process in ("e- e+ -> mu- mu+", "mu- mu+ -> ta- ta+", "ta+ ta- -> e+ e-"):
        rows += process_rows(compute_process(process, "qed", timeout=60), "2->2", "test")
    for r in rows:
        r["status"] = "ok"
    out, _ = tokenize_rows(rows, NOTATION, split="random", fractions=fractions, **options)
    return out


def _pairs(examples):
    return {(tuple(ex.src), tuple(ex.tgt)) for ex in examples}


def test_canonical_training_reads_every_flavour_variant_as_its_canonical_process():
    vocab = build_vocabulary(NOTATION)
    specials = evaluate_module.batches.Specials(vocab)
    rows = _flavour_rows(vocab, (1, 0, 0), relabel_flavours=True, canonical_training=True)
    canonical = [r for r in rows if r["process"] == "e- e+ -> mu- mu+"]
    variants = [r for r in rows if r not in canonical]
    assert all(r["decode_permutation"] and "|" in r["decode_permutation"] for r in variants)
    assert all(r["decode_permutation"] is None for r in canonical)  # already canonical: read as written
    examples = evaluate_module.batches.examples
    assert _pairs(examples(variants, specials, 512)) == _pairs(examples(canonical, specials, 512))
    # without the switches, training rows carry no canonical form and are read as written
    plain = _flavour_rows(vocab, (1, 0, 0))
    assert all(r["decode_permutation"] is None for r in plain)
    written = [r for r in plain if r["process"] != "e- e+ -> mu- mu+"]
    assert not _pairs(examples(written, specials, 512)) & _pairs(examples(canonical, specials, 512))


@pytest.mark.parametrize("form", ["same", "expanded"])
def test_a_model_that_knows_one_flavour_scores_the_others_with_relabel_flavours(monkeypatch, form):
    vocab = build_vocabulary(NOTATION)
    rows = _flavour_rows(vocab, (0, 0, 1), relabel_flavours=True)
    wrap = evaluate_module.batches.Specials(vocab).wrap
    known = {
        tuple(wrap(r["amplitude_ids"])): list(r["squared_ids"]) if form == "same" else _expanded_ids(r, vocab)
        for r in rows
        if not r["decode_permutation"]
    }
    variants = [r for r in rows if r["decode_permutation"]]
    assert known and len(variants) == 2 * len(known)
    pad = vocab.pad_id

    def stub_decode(model, src, specials, cfg):
        return [
            [Hypothesis(known.get(tuple(i for i in ids if i != pad), []), -0.01, True, -0.01)] for ids in src.tolist()
        ]

    monkeypatch.setattr(evaluate_module, "decode_batch", stub_decode)
    with CheckerPool(1, 60.0, 4) as pool:
        outcomes = evaluate_rows(
            _StubModel(), vocab, NOTATION, iter(variants), EvalConfig(max_examples=0, beam_size=1), pool
        )
    assert len(outcomes) == len(variants)
    if form == "same":  # the canonical pair's very tokens
        assert all(o.relabelled and o.sequence_ok and o.numeric_ok for o in outcomes)
    else:  # right only once renamed back to the row's flavours and legs, checked against the row's own square
        assert all(o.relabelled and not o.sequence_ok and o.numeric_ok for o in outcomes)


@pytest.mark.parametrize("relabel_flavours", [True, False])
def test_predict_decodes_canonical_flavours_and_answers_in_the_written_ones(monkeypatch, vocab_path, relabel_flavours):
    canonical = compute_process("e- e+ -> mu- mu+", "qed", timeout=60)
    variant = compute_process("ta+ ta- -> e+ e-", "qed", timeout=60)  # canonical: e- e+ -> mu- mu+
    predict_module = _predictor_that_knows_only(monkeypatch, vocab_path, canonical)
    with predict_module.Predictor("stub.pt", beam_size=1, relabel_flavours=relabel_flavours) as predictor:
        pred = predictor(variant.whole_amplitude)
    if not relabel_flavours:  # the written flavours are not the stub's: no answer
        assert pred.squared is None
        return
    assert pred.canonical_process == "e- e+ -> mu- mu+"
    proc = parse_process("ta+ ta- -> e+ e-", "qed", check=False)
    assert numerically_equal(parse_expression(pred.squared), variant.squared_amplitude, proc.leg_masses(), 2)
    assert "m_tau" in pred.squared and "m_mu" not in pred.squared


@pytest.mark.parametrize(
    ("written", "wanted"),
    [
        ({"relabel_flavours": {"used": True}, "config": {"beam_size": 4}}, {"relabel_flavours": True, "beam_size": 4}),
        ({"relabel_flavours": {"used": False}, "config": {}}, {}),
        ({"relabel_flavours": "yes", "config": {}}, {}),  # not our metrics: decode as written
        ({"config": {"beam_size": 2}}, {"beam_size": 2}),  # before flavour renaming
    ],
)
def test_predict_decodes_as_the_models_evaluation_did(tmp_path, written, wanted):
    import json

    from symba.model.predict import evaluated_search

    path = tmp_path / "metrics.json"
    path.write_text(json.dumps(written))
    assert evaluated_search(str(path)) == wanted
