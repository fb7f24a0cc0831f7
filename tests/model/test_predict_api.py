"""symba.model.load(path).predict(...): answers in the dataset's squared text whatever their
source, the process read from the amplitude for the fallback, stdin read line by line."""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pytest
import sympy
import torch

import symba.model
from symba.cli import main
from symba.dataset_schema import SCHEMA, write_table_atomic
from symba.model import answers
from symba.model import predict as predict_module
from symba.model.batches import amplitude_to_ids, load_vocab
from symba.model.search import Hypothesis
from symba.physics.canonical import canonicalise
from symba.physics.engine import ENGINE_VERSION, compute_process
from symba.physics.expression_parser import parse_expression
from symba.physics.orderings import rows_for_orderings
from symba.pipeline.amplitude_shards import process_rows
from symba.simplify.shards import simplify_rows
from symba.simplify.simplifier import SimplifyOptions
from symba.tokenization.notations import tokenize

from .model_test_data import NOTATION

MUMU = "e- e+ -> mu- mu+"


class _StubModel(torch.nn.Module):
    def __init__(self, vocab_size):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.cfg = type("Cfg", (), {"max_len": 4096, "vocab_size": vocab_size})()


@pytest.fixture(scope="module")
def dataset_rows():
    """The rows of e- e+ -> mu- mu+ in all orderings, simplified by the simplify stage itself:
    their squared column is the text a right answer must equal, character for character."""
    result = compute_process(MUMU, "qed", timeout=120)
    rows = rows_for_orderings(result, lambda r: process_rows(r, "2->2", "test"), "all")
    outcomes, _ = simplify_rows(rows, SimplifyOptions())
    for row, outcome in zip(rows, outcomes):
        assert outcome.status == "ok"
        row["squared"] = outcome.text
    return rows


@pytest.fixture
def stub(monkeypatch, vocab_path, dataset_rows):
    """A model that answers each canonical row's amplitude with its square *expanded*: right,
    but not in the dataset's factored form; anything else gets no tokens."""
    vocab = load_vocab(vocab_path)
    known = {}
    for row in dataset_rows:
        if row["process"] == row["canonical_process"]:
            expanded = sympy.expand(parse_expression(row["squared"]))
            known[tuple(amplitude_to_ids(row["amplitude"], vocab))] = vocab.encode(list(tokenize(expanded, NOTATION)))
    model = _StubModel(len(vocab))
    monkeypatch.setattr(predict_module, "load_model", lambda path, device: (model, {"vocab_path": vocab_path}))

    def greedy(model, src, bos, eos, alpha=0.0):
        out = []
        for row in src.tolist():
            while row and row[-1] == vocab.pad_id:  # the batch's padding
                row.pop()
            out.append(Hypothesis(known.get(tuple(row), []), -0.01, True, -0.01))
        return out

    monkeypatch.setattr(predict_module, "greedy", greedy)
    return vocab


def test_model_and_exact_answers_are_the_datasets_text(stub, dataset_rows):
    with symba.model.load("stub.pt", beam_size=1) as model:
        preds = model.predict([row["amplitude"] for row in dataset_rows])
    with symba.model.load("stub.pt", beam_size=1, fallback=True, threshold=1.0) as model:  # recompute all
        exact = model.predict([row["amplitude"] for row in dataset_rows])
    assert len(preds) == len(exact) == len(dataset_rows) >= 8
    for row, pred, ex in zip(dataset_rows, preds, exact):
        assert pred.error is None and pred.source == "model"
        assert pred.squared == row["squared"], row["process"]
        assert ex.source == "exact" and ex.squared == row["squared"], row["process"]
        assert pred.tokens == ex.tokens == list(tokenize(parse_expression(row["squared"]), NOTATION))


def test_fallback_reads_the_process_or_says_it_cannot(stub, dataset_rows):
    whole = next(r for r in dataset_rows if r["process"] == "e+ e- -> mu+ mu-" and r["diagram"] == -1)
    requests = [
        whole["amplitude"],  # process and diagram read from the amplitude
        "-i*e^2*u(e,p_1,d1)*ubar(e,p_3,d1)",  # no leg 2: no process
        {"amplitude": whole["amplitude"], "process": "e+ e- -> mu+ mu-", "diagram": -1},
        "",
    ]
    with symba.model.load("stub.pt", beam_size=1, fallback=True, threshold=None) as model:
        first, no_process, given, empty = model.predict(requests)
    assert first.source == given.source == "exact" and first.squared == given.squared == whole["squared"]
    assert no_process.squared is None and "process" in no_process.error
    assert empty.error == "the amplitude is empty"


def test_invalid_utf8_spoils_only_its_own_line(stub, dataset_rows, monkeypatch, capsys):
    amplitude = dataset_rows[0]["amplitude"]
    data = (amplitude + "\n").encode() + b"\xff\xfeoops\n" + (amplitude + "\n").encode()
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(data), encoding="utf-8"))
    code = main(["predict", "--model", __file__, "--beam", "1", "--jsonl", "-"])
    captured = capsys.readouterr()
    out = [json.loads(line) for line in captured.out.splitlines()]
    assert code == 2 and len(out) == 3
    assert out[0]["prediction"] == out[2]["prediction"] == dataset_rows[0]["squared"]
    assert set(out[1]) == {"error"} and "line 2 is not valid UTF-8" in out[1]["error"]
    assert "1 of 3" in captured.err


def _write_run(tmp_path, rows, stamp=None):
    """A workflow run folder holding ``rows`` as its dataset (one checksummed shard), a model
    file and the amplitudes stage's parameter stamp (default: builtin backend, nothing massless)."""
    run = tmp_path / "run"
    (run / "model").mkdir(parents=True)
    (run / "model" / "model.pt").write_bytes(b"")
    (run / "dataset" / "qed").mkdir(parents=True)
    stored = [dict(row, status="ok", engine_version=ENGINE_VERSION) for row in rows]
    write_table_atomic(pa.Table.from_pylist(stored, schema=SCHEMA), run / "dataset" / "qed" / "h000.parquet")
    (run / "params" / "amplitudes").mkdir(parents=True)
    stamp = stamp if stamp is not None else {"backend": "builtin", "massless": [], "engine_version": ENGINE_VERSION}
    (run / "params" / "amplitudes" / "0123.json").write_text(json.dumps(stamp))
    return run


def test_the_run_dataset_is_used_only_when_computed_as_the_fallback_computes(tmp_path, dataset_rows):
    run = _write_run(tmp_path, dataset_rows)
    model = str(run / "model" / "model.pt")
    assert answers.run_dataset(model) == str(run / "dataset")
    for stamp in ({"backend": "builtin", "massless": ["m_e"]}, {"backend": "marty", "massless": []}, ["x"]):
        (run / "params" / "amplitudes" / "4567.json").write_text(json.dumps(stamp))
        assert answers.run_dataset(model) is None, stamp
    (run / "params" / "amplitudes" / "4567.json").write_text("{not json")
    assert answers.run_dataset(model) is None
    assert answers.run_dataset(str(tmp_path / "elsewhere" / "model.pt")) is None


def _engine_must_not_run(*args, **kwargs):
    raise AssertionError("the exact engine ran although the run's dataset has the row")


def test_exact_answers_come_from_the_run_dataset_without_the_engine(tmp_path, dataset_rows, monkeypatch):
    run = _write_run(tmp_path, dataset_rows)
    monkeypatch.setattr(answers, "_dataset", answers.DatasetRows(str(run / "dataset")))
    monkeypatch.setattr("symba.physics.engine.compute_here", _engine_must_not_run)
    answers._exact_rows.cache_clear()
    for row in dataset_rows:
        as_sent = canonicalise(row["amplitude"], row["process"], "qed")[0]  # what the Predictor sends
        for diagram, as_given in ((None, None), (row["diagram"], None), (row["diagram"], row["amplitude"])):
            got = answers.exact_answer(row["process"], "qed", diagram, as_sent, NOTATION, as_given)
            assert got["text"] == row["squared"], (row["process"], diagram)
            assert got["tokens"] == list(tokenize(parse_expression(row["squared"]), NOTATION))


def test_exact_answers_are_computed_when_the_dataset_does_not_vouch_for_them(tmp_path, dataset_rows, monkeypatch):
    """A row whose amplitude is not the request's, or a damaged shard, is never used."""
    row = next(r for r in dataset_rows if r["process"] == MUMU and r["diagram"] == 0)
    other = dict(row, amplitude=row["amplitude"].replace("mu,p_3", "mu,p_4"), squared_raw="0")
    run = _write_run(tmp_path, [other])
    monkeypatch.setattr(answers, "_dataset", answers.DatasetRows(str(run / "dataset")))
    answers._exact_rows.cache_clear()
    for diagram in (None, 0):
        got = answers.exact_answer(MUMU, "qed", diagram, row["amplitude"], NOTATION, row["amplitude"])
        assert got["text"] == row["squared"]
    shard = run / "dataset" / "qed" / "h000.parquet"
    write_table_atomic(pa.Table.from_pylist([dict(row, squared_raw="0", status="ok")], schema=SCHEMA), shard)
    data = bytearray(shard.read_bytes())
    data[len(data) // 3] ^= 0xFF  # a flipped byte: the checksums fail
    shard.write_bytes(bytes(data))
    monkeypatch.setattr(answers, "_dataset", answers.DatasetRows(str(run / "dataset")))
    assert answers.exact_answer(MUMU, "qed", None, row["amplitude"], NOTATION)["text"] == row["squared"]


def test_a_model_in_a_run_folder_gets_its_exact_answers_from_the_dataset(tmp_path, stub, dataset_rows):
    run = _write_run(tmp_path, dataset_rows)
    with symba.model.load(str(run / "model" / "model.pt"), beam_size=1, fallback=True, threshold=1.0) as model:
        assert all(w.command[-1] == str(run / "dataset") for w in model.pool._workers)
        preds = model.predict([row["amplitude"] for row in dataset_rows])
    assert [p.source for p in preds] == ["exact"] * len(dataset_rows)
    assert [p.squared for p in preds] == [row["squared"] for row in dataset_rows]


@pytest.mark.parametrize(("cores", "workers"), [(1, 1), (2, 1), (3, 2), (16, 2)])
def test_answer_workers_take_the_cores_beside_the_decoding(cores, workers, monkeypatch):
    monkeypatch.setattr(answers.os, "sched_getaffinity", lambda pid: set(range(cores)), raising=False)
    assert answers.default_workers() == workers


def test_the_dataset_shard_of_a_process_is_found_by_its_hash_and_big_ones_are_not_read(tmp_path, dataset_rows):
    from symba.pipeline.manifest import stable_hash

    folder = tmp_path / "dataset" / "qed"
    folder.mkdir(parents=True)
    stored = [dict(row, status="ok", engine_version=ENGINE_VERSION) for row in dataset_rows]
    holder = stable_hash("qed", MUMU) % 4
    for k in range(4):
        write_table_atomic(
            pa.Table.from_pylist(stored if k == holder else [], schema=SCHEMA), folder / f"h{k:03d}.parquet"
        )
    written = "e+ e- -> mu+ mu-"
    expected = [row for row in dataset_rows if row["process"] == written]
    assert expected
    found = answers.DatasetRows(str(tmp_path / "dataset")).rows(MUMU, written, "qed")
    assert [(row["diagram"], row["squared_raw"]) for row in found] == [
        (r["diagram"], r["squared_raw"]) for r in expected
    ]
    small = answers.DatasetRows(str(tmp_path / "dataset"))
    small.MAX_SHARD_BYTES = 100
    assert small.rows(MUMU, written, "qed") == []


def test_whole_process_answers_take_the_grouped_form_of_the_dataset():
    # Bhabha has two diagrams: its whole-process row is the grouped form, not the factored one.
    result = compute_process("e- e+ -> e- e+", "qed", timeout=120)
    rows = process_rows(result, "2->2", "test")
    outcomes, _ = simplify_rows(rows, SimplifyOptions())
    whole_row, whole_outcome = next((r, o) for r, o in zip(rows, outcomes) if r["diagram"] == -1)
    assert whole_outcome.status == "ok"
    assert answers.dataset_text(whole_row["squared_raw"], whole_row["process"], "qed", whole=True) == whole_outcome.text
    assert answers.dataset_text(whole_row["squared_raw"], whole_row["process"], "qed") != whole_outcome.text
    expanded = sympy.expand(parse_expression(whole_outcome.text))  # right, but in neither form
    tokens = list(tokenize(expanded, NOTATION))
    answer = answers.model_answer(tokens, NOTATION, None, whole_row["process"], "qed", whole=True)
    assert answer["text"] == whole_outcome.text
