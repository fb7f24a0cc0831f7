"""SYMBA text files as a source: theory detection, shards for the workflow, bad input, and the
imaginary unit of imported squares removed by simplification (answers worked out by hand)."""

import pyarrow.parquet as pq
import pytest

from symba.cli import main
from symba.physics.kinematics import numerically_equal
from symba.pipeline.config_check import ConfigError, symba_file_paths
from symba.simplify import SimplifyOptions
from symba.simplify.shards import simplify_rows
from symba.sources.symba_text import (
    SymbaFormatError,
    detect_theory,
    import_files,
    import_symba,
    plan_import_shards,
)
from symba.tokenization.notations import tokenize

# Lines written for these tests in SYMBA's labelled layout; "amp" stands for the amplitude column.
EE_MUMU = "Interaction: e_-(X) e_+(X) to mu_-(X) mu_+(X) : s : amp : {}\n"
UG_UG = "Interaction: u(X) G(X) to u(X) G(X) : s : amp : {}\n"
UU_DD = "Interaction: u(X) u^(*)(X) to d(X) d^(*)(X) : s : amp : {}\n"
# MARTY leaves factors of i inside sums, where no parser merges them: i*i = -1 by hand.
EE_MUMU_SQUARED = "-2*i*e^2*(i*e^2*s_13*s_24 + i*e^2*s_14*s_23)/(m_e^2 + s_12)^2"
EE_MUMU_BY_HAND = "2*e^4*(s_13*s_24 + s_14*s_23)/(m_e^2 + s_12)^2"
UG_UG_SQUARED = "-4/9*i*g^2*(i*g^2*s_12*s_24 + i*g^2*m_u^2*s_14)/s_12^2"
UG_UG_BY_HAND = "4/9*g_s^4*(s_12*s_24 + m_u^2*s_14)/s_12^2"


def write(directory, name, text):
    path = directory / name
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "name, text, theory",
    [
        ("QED_2to2.txt", UU_DD.format("s_12"), "qed"),  # the name decides, before the content
        ("data_qcd-2to2.txt", EE_MUMU.format("e^2"), "qcd"),
        ("gluons.txt", UG_UG.format("g^2*s_12"), "qcd"),  # a gluon
        ("leptons.txt", EE_MUMU.format("e^2*s_12"), "qed"),  # leptons
        ("photon.txt", "Interaction: u(X) A(X) to u(X) A(X) : s : amp : s_12\n", "qed"),
        ("top.txt", "Interaction: u(X) u^(*)(X) to tt(X) tt^(*)(X) : s : amp : s_12\n", "qed"),  # QED's top
        ("quarks_g.txt", UU_DD.format("g^4*s_12"), "qcd"),  # quarks only: the coupling decides
        ("quarks_e.txt", UU_DD.format("e^4*s_12"), "qed"),
        ("QED_QCD.txt", UG_UG.format("s_12"), "qcd"),  # a name with both: the content decides
    ],
)
def test_theory_from_name_else_content(tmp_path, name, text, theory):
    assert detect_theory([write(tmp_path, name, text)]) == theory


def test_pair_files_without_a_theory_in_their_names_by_their_couplings(tmp_path):
    amp = write(tmp_path, "amplitudes_1to2.txt", "Prod,i,Prod,g\n")
    sq = write(tmp_path, "sqamplitudes_1to2.txt", "4*g^2*s_12\n")
    (row,), _ = import_files([amp, sq])
    assert row["theory"] == "qcd" and row["squared"] == "4*g_s^2*s_12"


def test_undecidable_or_mixed_file_is_one_line_naming_it(tmp_path):
    quarks = write(tmp_path, "quarks.txt", UU_DD.format("s_12^2"))
    with pytest.raises(SymbaFormatError, match=r"quarks\.txt: cannot tell the theory") as info:
        detect_theory([quarks])
    assert "\n" not in str(info.value)
    mixed = write(tmp_path, "mixed.txt", EE_MUMU.format("s_12") + UG_UG.format("s_12"))
    with pytest.raises(SymbaFormatError, match=r"mixed\.txt: holds both QED and QCD"):
        detect_theory([mixed])


def test_each_file_keeps_its_own_theory_and_an_explicit_theory_wins(tmp_path):
    qed = write(tmp_path, "leptons.txt", EE_MUMU.format("2*e^4*s_12"))
    qcd = write(tmp_path, "gluons.txt", UG_UG.format("2*g^4*s_12"))
    rows, _ = import_files([qed, qcd])
    assert [(r["theory"], r["process"], r["squared"]) for r in rows] == [
        ("qed", "e- e+ -> mu- mu+", "2*e^4*s_12"),
        ("qcd", "u g -> u g", "2*g_s^4*s_12"),
    ]
    quarks = write(tmp_path, "QCD_quarks.txt", UU_DD.format("2*e^4*s_12"))
    ((row,), _), ((forced,), _) = import_files([quarks]), import_files([quarks], theory="qed")
    assert row["theory"] == "qcd" and forced["theory"] == "qed"


def test_cli_detects_the_theory_unless_told(tmp_path, capsys):
    qcd = write(tmp_path, "gluons.txt", UG_UG.format(UG_UG_SQUARED))
    out = tmp_path / "out.parquet"
    assert main(["import-symba", str(qcd), "-o", str(out)]) == 0  # was: unknown symbol(s) g
    assert pq.read_table(out).column("theory").to_pylist() == ["qcd"]
    capsys.readouterr()
    assert main(["import-symba", str(qcd), "-o", str(out), "--theory", "qed"]) == 2
    assert "gluons.txt:1" in capsys.readouterr().err
    quarks = write(tmp_path, "quarks.txt", UU_DD.format("s_12"))
    assert main(["import-symba", str(quarks), "-o", str(tmp_path / "q.parquet")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "quarks.txt: cannot tell the theory" in err


def test_truncated_line_names_file_and_line_and_leaves_no_file(tmp_path):
    source = write(tmp_path, "QED_cut.txt", EE_MUMU.format("2*e^4*s_12") + EE_MUMU.format("2*e^4*(s_12")[:-1])
    out = tmp_path / "out" / "shard.parquet"
    out.parent.mkdir()
    with pytest.raises(SymbaFormatError, match=r"QED_cut\.txt:2: cannot parse squared amplitude") as info:
        import_symba([source], out)
    assert "\n" not in str(info.value)
    assert list(out.parent.iterdir()) == []  # no shard, no temporary file
    cut_fields = write(tmp_path, "QED_fields.txt", EE_MUMU.format("s_12") + "Interaction: e_-(X) e_+(X) to mu")
    with pytest.raises(SymbaFormatError, match=r"QED_fields\.txt:2: expected '<process> : <topology>"):
        import_symba([cut_fields], out)
    assert list(out.parent.iterdir()) == []


def test_workflow_shards_one_per_file_or_pair(tmp_path):
    write(tmp_path, "QED_a.txt", EE_MUMU.format("s_12"))
    write(tmp_path, "gluon file.txt", UG_UG.format("g^2*s_12"))
    write(tmp_path, "QED_amplitudes_1to2.txt", "Prod,i,Prod,e\n")
    write(tmp_path, "QED_sqamplitudes_1to2.txt", "e^2*s_12\n")
    paths = symba_file_paths([str(tmp_path / "*.txt"), str(tmp_path / "QED_a.txt")])  # each file once
    assert len(paths) == 4
    assert plan_import_shards(paths) == {
        "qed": {
            "symba-QED_a": [str(tmp_path / "QED_a.txt")],
            "symba-QED_amplitudes_1to2": [
                str(tmp_path / "QED_amplitudes_1to2.txt"),
                str(tmp_path / "QED_sqamplitudes_1to2.txt"),
            ],
        },
        "qcd": {"symba-gluon_file": [str(tmp_path / "gluon file.txt")]},
    }


def test_bad_symba_files_config(tmp_path):
    with pytest.raises(ConfigError, match=r"symba_files: '.*nothing\*\.txt' matches no file"):
        symba_file_paths([str(tmp_path / "nothing*.txt")])
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    same = [write(tmp_path / d, "QED_x.txt", EE_MUMU.format("s_12")) for d in ("a", "b")]
    with pytest.raises(SymbaFormatError, match="would both be shard symba-QED_x"):
        plan_import_shards(same)


@pytest.mark.parametrize("engine", ["flint", pytest.param("sympy", marks=pytest.mark.slow)])
def test_simplification_removes_the_imaginary_unit_of_imported_squares(tmp_path, engine):
    source = write(tmp_path, "QED_i.txt", EE_MUMU.format(EE_MUMU_SQUARED) + EE_MUMU.format("2*i*e^4*s_12"))
    gluons = write(tmp_path, "QCD_i.txt", UG_UG.format(UG_UG_SQUARED))
    rows, _ = import_files([source, gluons])
    assert all("I" in r["squared_raw"] for r in rows)  # the parser does not merge i inside sums
    outcomes, _ = simplify_rows(rows, SimplifyOptions(engine=engine, timeout=60, retries=0))
    real, imaginary, qcd = outcomes
    assert real.status == "ok" and qcd.status == "ok"
    assert numerically_equal(real.text, EE_MUMU_BY_HAND, ["m_e", "m_e", "m_mu", "m_mu"], 2)
    assert numerically_equal(qcd.text, UG_UG_BY_HAND, ["m_u", None, "m_u", None], 2)
    tokenize(real.text, "hybrid")  # the tokenizer takes them now
    tokenize(qcd.text, "hybrid")
    # 2*i*e^4*s_12 is not real: an error, and the row keeps its raw text (nothing lost)
    assert imaginary.status == "error" and imaginary.text == rows[1]["squared_raw"]


@pytest.mark.parametrize("method", ["cancel", "together"])
def test_other_methods_remove_it_too(method):
    from symba.simplify.simplifier import simplify_text

    text = simplify_text("-2*I*e^2*(I*e^2*s_13 + I*e^2*s_14)/(I*s_12)*I", method)
    assert "I" not in text
    assert numerically_equal(text, "2*e^4*(s_13 + s_14)/s_12", ["m_e", "m_e", "m_mu", "m_mu"], 2)


@pytest.mark.parametrize(
    "theory, marty, ours",
    [
        (
            "qed",
            "e_eps_60(X)^(*)  AntiPart e_eta_138(X)  to  mu_eps_61(X)  AntiPart mu_eta_139(X)^(*)",
            "e- e+ -> mu- mu+",
        ),
        (
            "qed",
            "t_eps_60(X)^(*)  AntiPart t_eta_138(X)  to  tt_eps_61(X)  AntiPart tt_eta_139(X)^(*)",
            "ta- ta+ -> t t~",
        ),
        ("qed", "e_eps_60(X)^(*)  A_rho_3(X)  to  e_eps_61(X)  A_sig_4(X)^(*)", "e- a -> e- a"),
        ("qcd", "t_eps_60(X)^(*)  AntiPart t_eta_138(X)  to  G_a_1(X)  G_b_2(X)", "t t~ -> g g"),
    ],
)
def test_marty_insertions_become_our_process_names(theory, marty, ours):
    # the public files print MARTY's insertions: the field with its index, AntiPart before an antiparticle;
    # in QED files t is the tau and tt the top, in QCD files t is the top; legs stay in MARTY's order
    from symba.sources.symba_text import map_process

    assert map_process(marty, theory) == ours
