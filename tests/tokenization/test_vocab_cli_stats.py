"""Closed vocabularies, the command line, and the length report."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from symba.cli import main
from symba.dataset_schema import SCHEMA
from symba.tokenization.notations import NOTATIONS
from symba.tokenization.stats import length_report
from symba.tokenization.vocab import build_vocabulary, load_vocabulary, write_vocabulary


@pytest.mark.parametrize("notation", NOTATIONS)
def test_vocabulary_file_round_trip(tmp_path, notation):
    path = tmp_path / f"vocab-{notation}.json"
    written = write_vocabulary(path, notation)
    vocab = load_vocabulary(path)
    assert vocab.tokens == written.tokens
    assert (vocab.pad_id, vocab.bos_id, vocab.eos_id, vocab.unk_id) == (0, 1, 2, 3)
    assert len(vocab) == len(set(vocab.tokens))
    ids = vocab.encode(["s_12", "e", "INT+", "7"])
    assert vocab.decode(ids) == ["s_12", "e", "INT+", "7"]
    assert vocab.decode([vocab.bos_id, *ids, vocab.eos_id, vocab.pad_id], strip_special=True) == [
        "s_12",
        "e",
        "INT+",
        "7",
    ]


def test_vocabulary_is_closed_and_fixed():
    short = build_vocabulary("hybrid-short")
    assert "m_mu^2*s_12" in short and "m_mu^2*s_12" not in build_vocabulary("hybrid")
    assert "add(" not in build_vocabulary("prefix") and "add" in build_vocabulary("prefix")
    assert build_vocabulary("hybrid").tokens == build_vocabulary("hybrid").tokens
    with pytest.raises(ValueError, match="position 1"):
        short.encode(["s_12", "s_77"])
    assert short.encode(["s_77"], strict=False) == [short.unk_id]
    with pytest.raises(ValueError, match="outside"):
        short.decode([len(short)])


def test_bad_vocabulary_file(tmp_path):
    path = tmp_path / "v.json"
    path.write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ValueError, match="not a symba-vocabulary"):
        load_vocabulary(path)


def test_cli_tokenize_and_detokenize(capsys):
    assert main(["tokenize", "--notation", "hybrid-short", "m_mu^2*s_12 + e^2"]) == 0
    assert capsys.readouterr().out.strip() == "add( e^2 m_mu^2*s_12 )"
    assert main(["detokenize", "--notation", "prefix", "mul INT+ 2 s_12"]) == 0
    assert capsys.readouterr().out.strip() == "2*s_12"
    assert main(["tokenize", "--kind", "amplitude", "--notation", "hybrid", "i*e*u(e,p_1,d4)"]) == 0
    assert capsys.readouterr().out.strip() == "mul( i e u( e p_1 d1 ) )"
    assert main(["tokenize", "--kind", "marty-amplitude", "e_{i_7,%gam_3}(p_1)_u"]) == 0
    marty = capsys.readouterr().out.strip()
    assert marty == "MARTY e _{ idx:i #1 , idx:%gam #1 } ( p_1 ) _u"
    assert main(["detokenize", "--kind", "amplitude", marty]) == 0
    assert capsys.readouterr().out.strip() == "e_{i_1,%gam_1}(p_1)_u"


def _stdin(text: str):
    import io

    return io.TextIOWrapper(io.BytesIO(text.encode()))  # stdin is read as bytes (sys.stdin.buffer)


def test_cli_reads_stdin(capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", _stdin("s_12\n-s_13\n"))
    assert main(["tokenize", "--notation", "hybrid", "-"]) == 0
    assert capsys.readouterr().out.splitlines() == ["s_12", "neg s_13"]
    # a blank line is an error, not skipped: output line k always answers input line k
    monkeypatch.setattr("sys.stdin", _stdin("s_12\n\n-s_13\n"))
    assert main(["tokenize", "--notation", "hybrid", "-"]) == 2
    captured = capsys.readouterr()
    assert captured.out.splitlines() == ["s_12", "error: stdin line 2: empty line; give one item per line", "neg s_13"]
    assert "stdin line 2: empty line" in captured.err
    monkeypatch.setattr("sys.stdin", _stdin("s_12\nadd( s_12\n"))
    assert main(["detokenize", "--notation", "hybrid", "-"]) == 2
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == "s_12" and captured.out.splitlines()[1].startswith("error: stdin line 2")
    assert captured.err.count("\n") == 1 and "stdin line 2" in captured.err and "position 2" in captured.err


def test_cli_bad_input_exits_2_with_one_line(capsys, tmp_path):
    assert main(["tokenize", "x + s_12"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("symba: error:") and err.count("\n") == 1
    assert main(["detokenize", "--notation", "hybrid", "add( s_12 )"]) == 2
    assert "position 0" in capsys.readouterr().err
    assert main(["import-symba", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "o.parquet")]) == 2
    assert "no such file" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["tokenize", "--notation", "infix", "s_12"])
    assert exc.value.code == 2


def test_cli_import(tmp_path, capsys):
    src = tmp_path / "qed.txt"
    src.write_text("Interaction: e_- e_+ to mu_- mu_+ : s : -i*e^2 : 2*e^4*m_mu^2*s_12/s_12^2\n")
    out = tmp_path / "imported.parquet"
    assert main(["import-symba", str(src), "-o", str(out), "--theory", "qed"]) == 0
    assert "wrote 1 rows" in capsys.readouterr().out
    assert pq.read_table(out).column("process").to_pylist() == ["e- e+ -> mu- mu+"]


def test_length_report(tmp_path):
    rows = {
        "process": ["e- e+ -> mu- mu+"] * 3,
        "theory": ["qed"] * 3,
        "multiplicity": ["2->2"] * 3,
        "diagram": [0, 1, 2],
        "amplitude": ["i*e", "i*e", "i*e*s_12"],
        "squared_raw": ["m_mu^2*s_12", "m_mu^2*s_12", "s_12"],
        "squared": ["m_mu^2*s_12", "m_mu^2*s_12", "s_12"],
        "status": ["ok", "ok", "ok"],
        "backend": ["builtin"] * 3,
        "engine_version": ["1"] * 3,
        "canonical_process": ["e- e+ -> mu- mu+"] * 3,
        "permutation": ["1,2,3,4"] * 3,
    }
    shard = tmp_path / "shard.parquet"
    pq.write_table(pa.table(rows, schema=SCHEMA), shard)
    report = length_report([shard], tmp_path / "lengths.json", tmp_path / "lengths.png")
    on_disk = json.loads((tmp_path / "lengths.json").read_text())
    assert on_disk == report
    # unique pairs: (i*e, m_mu^2*s_12) and (i*e*s_12, s_12); lengths counted by hand
    # prefix squared: "mul s_12 pow m_mu INT+ 2" = 6 and "s_12" = 1 -> median 3.5
    assert report["notations"]["prefix"]["squared"]["median"] == 3.5
    # hybrid-short squared: one token each
    assert report["notations"]["hybrid-short"]["squared"]["median"] == 1.0
    # hybrid amplitude: "mul( i e )" = 4 and "mul( i e s_12 )" = 5
    assert report["notations"]["hybrid"]["amplitude"]["median"] == 4.5
    assert report["notations"]["prefix"]["amplitude"]["max"] == 5  # "mul i mul e s_12"
    assert report["squared_median_ratio_prefix_over_hybrid_short"] == 3.5
    assert (tmp_path / "lengths.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "split" not in report  # a dataset shard has no split yet

    from symba.tokenization.token_shards import tokenize_shard

    tokenized = tmp_path / "tokens.parquet"
    tokenize_shard(shard, tokenized, split="random")
    with_split = length_report([tokenized], tmp_path / "l2.json", tmp_path / "l2.png")
    assert sum(with_split["split"]["rows_per_side"].values()) == 2
    assert len(with_split["split"]["empty_sides"]) >= 1  # two pairs cannot fill three sides
