"""`symba_files:` end to end: public SYMBA text files become shards that go through simplify and
tokenize like computed ones; bad input stops with one line."""

import json

import pyarrow.parquet as pq
import pytest

from symba.physics.kinematics import numerically_equal
from symba.tokenization.stats import length_report

from .runner import ok, snakemake
from .test_workflow import job_counts

# Run by .ci/run's second pass (python -m pytest -m slow): imports run through Snakemake (about 1 min).
pytestmark = pytest.mark.slow

# Written for this test in SYMBA's labelled layout.  The amplitudes are as MARTY prints them
# (e- e+ -> mu- mu+, s-channel photon; u g -> u g, s-channel quark); the squares keep factors of
# i inside sums, as imported squares do, and are worked out by hand (i*i = -1) below.
EE_AMPLITUDE = (
    r"-1/2*i*e^2*gamma_{+%\sigma_104,%eta_112,%gam_131}*gamma_{%\sigma_104,%gam_132,%eta_113}"
    r"*e_{i_3,%eta_113}(p_1)_u*e_{k_3,%gam_132}(p_2)_v^(*)*mu_{l_3,%eta_112}(p_3)_u^(*)"
    r"*mu_{j_5,%gam_131}(p_4)_v/(m_e^2 + s_12 + 1/2*reg_prop)"
)
UG_AMPLITUDE = (
    r"i*g^2*p_1_%\sigma_378*gamma_{%\sigma_376,%gam_430,%del_118}*T_C_10_{%a_83,%B_172,%C_75}"
    r"*T_C_10_{%h_43,%D_145,%B_172}*G_{k_16,%a_83,+%\sigma_378}(p_4)^(*)*G_{l_14,%h_43,+%\sigma_376}(p_2)"
    r"*u_{k_14,%C_75,%del_118}(p_1)_u*u_{j_16,%D_145,%gam_430}(p_3)_u^(*)/(s_12 + 1/2*reg_prop)"
)
QED_FILE = (
    f"Interaction: e_-(X) e_+(X) to mu_-(X) mu_+(X) : s-channel photon : {EE_AMPLITUDE} : "
    "-2*i*e^2*(i*e^2*s_13*s_24 + i*e^2*s_14*s_23)/(m_e^2 + s_12)^2\n"
    f"Interaction: e_-(X) e_+(X) to mu_-(X) mu_+(X) : s-channel photon, m_e = 0 : {EE_AMPLITUDE} : "
    "2*e^2*(i*e^2*s_13 + i*e^2*s_14)*(i*s_24 + i*s_23)/s_12^2\n"
)
QED_BY_HAND = [
    "2*e^4*(s_13*s_24 + s_14*s_23)/(m_e^2 + s_12)^2",
    "-2*e^4*(s_13 + s_14)*(s_23 + s_24)/s_12^2",
]
QCD_FILE = (  # no QCD in its name: the gluon says which theory
    f"Interaction: u(X) G(X) to u(X) G(X) : s-channel quark : {UG_AMPLITUDE} : "
    "-4/9*i*g^2*(i*g^2*s_12*s_24 + i*g^2*m_u^2*s_14)/s_12^2\n"
)
QCD_BY_HAND = "4/9*g_s^4*(s_12*s_24 + m_u^2*s_14)/s_12^2"


def config(symba_files, targets=("tokens",)):
    return {"targets": list(targets), "theories": {}, "symba_files": symba_files, "simplify": {"timeout": 60}}


def last_line(result):
    return result.stderr.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("symba_files")
    (workdir / "data").mkdir()
    (workdir / "data/QED_ee_2to2.txt").write_text(QED_FILE)
    (workdir / "data/gluons.txt").write_text(QCD_FILE)
    ok(snakemake(workdir, config=config(["data/QED_*.txt", "data/gluon?.txt"])))
    return workdir


@pytest.mark.slow  # the module's whole-workflow run
def test_imported_rows_are_simplified_without_i_and_reach_the_token_shards(run_dir):
    qed = pq.read_table(run_dir / "results/default/dataset/qed/symba-QED_ee_2to2.parquet").to_pylist()
    assert [r["process"] for r in qed] == ["e- e+ -> mu- mu+"] * 2
    assert [r["status"] for r in qed] == ["ok", "ok"]
    for row, by_hand in zip(qed, QED_BY_HAND):
        assert "I" in row["squared_raw"] and "I" not in row["squared"]
        assert numerically_equal(row["squared"], by_hand, ["m_e", "m_e", "m_mu", "m_mu"], 2)
    tokens = pq.read_table(run_dir / "results/default/tokens/qed/symba-QED_ee_2to2.parquet").to_pylist()
    assert sorted(r["squared"] for r in tokens) == sorted(r["squared"] for r in qed)
    assert all(r["amplitude_ids"] and r["squared_ids"] for r in tokens)

    (qcd,) = pq.read_table(run_dir / "results/default/dataset/qcd/symba-gluons.parquet").to_pylist()
    assert (qcd["theory"], qcd["process"], qcd["status"]) == ("qcd", "u g -> u g", "ok")
    assert numerically_equal(qcd["squared"], QCD_BY_HAND, ["m_u", None, "m_u", None], 2)
    assert (run_dir / "results/default/tokens/qcd/symba-gluons.parquet").is_file()


@pytest.mark.slow  # the module's whole-workflow run
def test_the_length_report_merged_from_tokenize_equals_one_over_the_dataset(run_dir, tmp_path):
    merged = json.loads((run_dir / "results/default/reports/lengths.json").read_text())
    shards = [
        run_dir / f"results/default/dataset/{t}/symba-{f}.parquet"
        for t, f in [("qed", "QED_ee_2to2"), ("qcd", "gluons")]
    ]
    assert (run_dir / "results/default/reports/lengths/qcd/symba-gluons.json").is_file()
    direct = length_report(shards, tmp_path / "lengths.json", tmp_path / "lengths.png", merged["max_tokens"])
    assert merged == direct and merged["notations"]["prefix"]["squared"]["n"] == 3


@pytest.mark.slow  # the module's whole-workflow run
def test_a_changed_file_reruns_its_import_and_nothing_else(run_dir):
    assert "Nothing to be done" in ok(snakemake(run_dir))
    (run_dir / "data/QED_ee_2to2.txt").write_text(QED_FILE.splitlines(keepends=True)[0])
    planned = ok(snakemake(run_dir, "--dry-run"))
    assert job_counts(planned) == {"import_symba": 1, "simplify": 1, "tokenize": 1, "length_report": 1, "all": 1}
    assert "output: results/default/amplitudes/qed/symba-QED_ee_2to2.parquet" in planned


@pytest.mark.parametrize(
    "files, symba_files, message",
    [
        ({}, ["data/QED_*.txt"], "symba: bad config: symba_files: 'data/QED_*.txt' matches no file"),
        (
            {"quarks.txt": "Interaction: u(X) u^(*)(X) to d(X) d^(*)(X) : s : amp : s_12^2\n"},
            ["data/quarks.txt"],
            "symba: bad symba_files: data/quarks.txt: cannot tell the theory",
        ),
    ],
)
def test_bad_symba_files_stop_at_parse_time_with_one_line(tmp_path, files, symba_files, message):
    (tmp_path / "data").mkdir()
    for name, text in files.items():
        (tmp_path / "data" / name).write_text(text)
    result = snakemake(tmp_path, "--dry-run", config=config(symba_files))
    assert result.returncode == 2
    assert last_line(result).startswith(message), result.stderr[-2000:]
    assert "Traceback" not in result.stderr


def test_a_truncated_line_fails_the_import_with_file_and_line_and_leaves_no_shard(tmp_path):
    (tmp_path / "QED_cut.txt").write_text(QED_FILE[:-20])  # the second line ends inside its square
    result = snakemake(tmp_path, config=config(["QED_cut.txt"], targets=["dataset"]))
    assert result.returncode != 0
    (line,) = [line for line in result.stderr.splitlines() if line.startswith("symba:")]
    assert line.startswith("symba: bad SYMBA file: QED_cut.txt:2: cannot parse squared amplitude"), line
    assert "Traceback" not in result.stderr
    assert [p for p in tmp_path.glob("results/default/amplitudes/**/*") if p.is_file()] == []  # no shard, no temporary
