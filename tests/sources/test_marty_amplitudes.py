"""Imported SYMBA/MARTY amplitudes translated into our amplitude syntax by the MARTY backend's translator.

The MARTY strings are copied from what MARTY printed through the bridge for the
named processes (SYMBA's files hold MARTY's printed amplitudes; in their QED files
the tau is ``t``).  Expected strings come from our builtin engine, computed here
separately, or were written by hand from the notation rules of symba.physics.marty.
"""

import pytest

from symba.physics.amplitude_syntax import parse
from symba.physics.engine import compute_process
from symba.sources.marty_amplitudes import (
    UntranslatableAmplitude,
    imported_amplitude,
    translate_imported_amplitude,
)
from symba.sources.symba_text import import_files
from symba.tokenization.marty_tokens import IMPORTED_BACKEND, IMPORTED_MARTY_BACKEND, IMPORTED_NONCANONICAL_BACKEND

# sample lines of tests/tokenization/test_importer.py (written for tests, not from a dataset)
LABELLED_QED = """\
Interaction: e_-(X) e_+(X) to t_-(X) t_+(X) : s-channel photon : -i*e^2*gamma_{+%\\sigma_1,%gam_1,%del_1}*e_{i_1,%del_1}(p_1)_u : 2*e^4*(m_t^2*s_12 + s_13*s_24)/(m_e^2 + s_12 + reg_prop)^2
Interaction: e_-(X) e_+(X) to t_-(X) t_+(X) : t-channel photon : i*e^2*gamma_{+%\\sigma_2,%gam_2,%del_2}*e_{i_2,%del_2}(p_1)_u : 4*e^4*m_t^4/(s_13 + reg_prop)^2
Interaction: e_-(X) e_+(X) to tt(X) tt^(*)(X) : s-channel photon : 2/3*i*e^2*tt_{i_3,%del_3}(p_3)_u^(*) : 8/9*e^4*(m_tt^2*s_12 + m_e^2*s_34)/s_12^2
Interaction: mu_-(X) A(X) to mu_-(X) A(X) : s-channel muon : -i*e^2*mu_{i_1,%del_1}(p_1)_u : -2*e^4*(s_12*s_24 - i*i*m_mu^2*s_23)/(m_mu^2 - s_12)^2
"""
LABELLED_QCD = """\
Interaction: u(X) u^(*)(X) to t(X) t^(*)(X) : s-channel gluon : -i*g^2*T_{A,a,b} : 4/9*g^4*(m_t^2*s_12 + m_u^2*s_34 + s_13*s_24)/s_12^2
"""

MARTY_EEMM = (
    r"-1/2*i*e^2*gamma_{+%\sigma_104,%eta_112,%gam_131}*gamma_{%\sigma_104,%gam_132,%eta_113}"
    r"*e_{i_3,%eta_113}(p_1)_u*e_{k_3,%gam_132}(p_2)_v^(*)*mu_{l_3,%eta_112}(p_3)_u^(*)"
    r"*mu_{j_5,%gam_131}(p_4)_v/(m_e^2 + s_12 + 1/2*reg_prop)"
)
# e- e+ -> e- e+: s- then t-channel photon, as MARTY lists them
MARTY_BHABHA = (
    r"-1/2*i*e^2*gamma_{+%\sigma_114,%gam_141,%eta_100}*gamma_{%\sigma_114,%gam_142,%gam_143}"
    r"*e_{i_3,%eta_100}(p_1)_u*e_{k_3,%gam_141}(p_2)_v^(*)*e_{l_3,%gam_142}(p_3)_u^(*)"
    r"*e_{i_5,%gam_143}(p_4)_v/(m_e^2 + s_12 + 1/2*reg_prop)",
    r"1/2*i*e^2*gamma_{+%\sigma_121,%gam_158,%gam_159}*gamma_{%\sigma_121,%gam_160,%eta_107}"
    r"*e_{i_3,%eta_107}(p_1)_u*e_{k_3,%gam_158}(p_2)_v^(*)*e_{l_3,%gam_160}(p_3)_u^(*)"
    r"*e_{i_5,%gam_159}(p_4)_v/(m_e^2 + -s_13 + 1/2*reg_prop)",
)
# e- e+ -> ta- ta+ with the tau named t, as in SYMBA's QED files
SYMBA_EETT = (
    r"-1/2*i*e^2*gamma_{+%\tau_106,%gam_141,%eta_102}*gamma_{%\tau_106,%gam_142,%gam_143}"
    r"*e_{i_3,%eta_102}(p_1)_u*e_{k_3,%gam_141}(p_2)_v^(*)*t_{l_3,%gam_142}(p_3)_u^(*)"
    r"*t_{j_5,%gam_143}(p_4)_v/(m_e^2 + s_12 + 1/2*reg_prop)"
)
# e- a -> e- a, u-channel electron: MARTY rewrote the numerator with the Dirac equation
MARTY_COMPTON_U = (
    r"i*e^2*(p_1_%\sigma_111*gamma_{%\tau_106,%gam_151,%eta_107}*A_{k_3,+%\tau_106}(p_2)"
    r"*A_{j_5,+%\sigma_111}(p_4)^(*)*e_{i_3,%eta_107}(p_1)_u*e_{i_5,%gam_151}(p_3)_u^(*) + -1/2*p_4_%\nu_85"
    r"*gamma_{+%\nu_85,%gam_171,%gam_172}*gamma_{%\sigma_111,%gam_172,%eta_109}*gamma_{%\tau_106,%gam_154,%gam_171}"
    r"*A_{k_3,+%\tau_106}(p_2)*A_{j_5,+%\sigma_111}(p_4)^(*)*e_{i_3,%eta_109}(p_1)_u*e_{i_5,%gam_154}(p_3)_u^(*))"
    r"/(s_23 + -1/2*reg_prop)"
)
SQUARED = "2*e^4*(s_13*s_24 + s_14*s_23)/s_12^2"  # the squares are not what is tested here


def builtin_amplitudes(process: str) -> list[str]:
    """Our engine's amplitude per diagram (FeynGraph order), computed without the translator."""
    return [d.amplitude for d in compute_process(process, "qed", backend="builtin").diagrams]


def builtin_rows(process: str, theory: str = "qed") -> list[str]:
    """Our engine's per-diagram row amplitudes (no overall sign: docs/physics.md section 6)."""
    return [a for index, a, _ in compute_process(process, theory, backend="builtin").rows() if index >= 0]


def symba_file(tmp_path, lines: list[tuple[str, str]]):
    path = tmp_path / "QED_test_2to2.txt"
    path.write_text("".join(f"Interaction: {p} : diagram : {a} : {SQUARED}\n" for p, a in lines))
    return path


def test_eemm_translation_is_our_engines_amplitude():
    (ours,) = builtin_amplitudes("e- e+ -> mu- mu+")
    assert translate_imported_amplitude(MARTY_EEMM, "e- e+ -> mu- mu+", "qed") == ours


def test_two_diagrams_keep_their_relative_sign():
    assert [translate_imported_amplitude(a, "e- e+ -> e- e+", "qed") for a in MARTY_BHABHA] == builtin_amplitudes(
        "e- e+ -> e- e+"
    )


def test_symba_lines_translate_into_our_syntax(tmp_path):
    path = symba_file(
        tmp_path,
        [
            ("e_-(X) e_+(X) to mu_-(X) mu_+(X)", MARTY_EEMM),
            *(("e_-(X) e_+(X) to e_-(X) e_+(X)", a) for a in MARTY_BHABHA),
            ("e_-(X) e_+(X) to t_-(X) t_+(X)", SYMBA_EETT),  # SYMBA's QED t is our ta
        ],
    )
    rows, stats = import_files([path], theory="qed")
    assert stats["untranslated_amplitude"] == 0
    assert all(r["backend"] == IMPORTED_BACKEND for r in rows)
    expected = {
        p: builtin_rows(p) for p in ("e- e+ -> mu- mu+", "e- e+ -> e- e+", "e- e+ -> ta- ta+")
    }  # fmt: skip
    assert [r["amplitude"] for r in rows] == [
        *expected["e- e+ -> mu- mu+"],
        *expected["e- e+ -> e- e+"],
        *expected["e- e+ -> ta- ta+"],
    ]


@pytest.mark.parametrize("theory, text", [("qed", LABELLED_QED), ("qcd", LABELLED_QCD)])
def test_sample_lines_of_the_importer_tests_parse_as_our_syntax(tmp_path, theory, text):
    path = tmp_path / f"{theory.upper()}_sample_2to2.txt"
    path.write_text(text)
    rows, stats = import_files([path], theory=theory)
    assert rows and stats["untranslated_amplitude"] == 0
    # fragments, not diagrams: translated into our syntax, kept as translated and marked so
    assert stats["noncanonical_amplitude"] == len(rows)
    assert all(r["backend"] == IMPORTED_NONCANONICAL_BACKEND for r in rows)
    for row in rows:
        parse(row["amplitude"])  # raises on anything outside our grammar
        assert "%" not in row["amplitude"] and "_{" not in row["amplitude"]
    if theory == "qed":  # written by hand: gamma_{+%\sigma_1,%gam_1,%del_1}*e_{i_1,%del_1}(p_1)_u
        assert rows[0]["amplitude"] == "-i*e^2*gamma(mu1,d1,d2)*u(e,p_1,d2)"
        assert rows[2]["amplitude"] == "2/3*i*e^2*ubar(t,p_3,d1)"  # QED tt is our top, label t
        assert [r["process"] for r in rows] == ["e- e+ -> ta- ta+"] * 2 + ["e- e+ -> t t~", "mu- a -> mu- a"]
    else:
        assert rows[0]["amplitude"] == "-i*g_s^2*T(a1,c1,c2)"
        assert rows[0]["process"] == "u u~ -> t t~"  # QCD t is the top


def test_dirac_equation_rewrite_gets_the_engines_form_back():
    # By hand: the engine's numerator ubar(p3) g^mu1 ((p1-p4)-slash + m) g^mu2 u(p1) is, with
    # p1-slash u(p1) = m u(p1), ubar g^mu1 (2 p1^mu2 - p4-slash g^mu2) u: MARTY's text, times -2
    # (its denominator s_23 is -1/2 of ours).  So the canonical text is the engine's diagram 1,
    # with MARTY's sign when the sign is kept, and the row's text (no sign) is the engine's row.
    engine = builtin_amplitudes("e- a -> e- a")[1]
    assert translate_imported_amplitude(MARTY_COMPTON_U, "e- a -> e- a", "qed") == "-" + engine
    assert imported_amplitude(MARTY_COMPTON_U, "e- a -> e- a", "qed") == (
        builtin_rows("e- a -> e- a")[1],
        IMPORTED_BACKEND,
    )


def test_without_a_process_chains_are_laid_out_and_denominators_kept():
    # the pair format names no process: chains in flow order, but MARTY's denominator as written
    assert translate_imported_amplitude(MARTY_EEMM, "", "qed") == (
        "-1/2*i*e^2*vbar(e,p_2,d1)*gamma(mu1,d1,d2)*u(e,p_1,d2)*ubar(mu,p_3,d3)*gamma(mu1,d3,d4)"
        "*v(mu,p_4,d4)/(m_e^2 + s_12)"
    )


def test_untranslatable_amplitude_is_kept_and_counted(tmp_path):
    prefix = "Prod,-1,Prod,i,Prod,e,Prod,gamma,alpha_2,alpha_0,alpha_1,Prod,A^(*),i_2,alpha_2,(p_3)"
    with pytest.raises(UntranslatableAmplitude, match="cannot read MARTY amplitude"):
        translate_imported_amplitude(prefix, "e- e+ -> mu- mu+", "qed")
    assert imported_amplitude(prefix, "e- e+ -> mu- mu+", "qed") == (prefix, IMPORTED_MARTY_BACKEND)
    path = symba_file(
        tmp_path,
        [
            ("e_-(X) e_+(X) to mu_-(X) mu_+(X)", MARTY_EEMM),
            ("e_-(X) e_+(X) to mu_-(X) mu_+(X)", r"sigma_{%\mu_1,%eta_1,%eta_2}"),
        ],
    )
    rows, stats = import_files([path], theory="qed")
    assert stats == {"rows": 2, "untranslated_amplitude": 1, "noncanonical_amplitude": 0}
    assert [r["backend"] for r in rows] == [IMPORTED_BACKEND, IMPORTED_MARTY_BACKEND]
    assert rows[1]["amplitude"] == r"sigma_{%\mu_1,%eta_1,%eta_2}"


def test_imported_rows_tokenize_by_their_syntax(tmp_path):
    from symba.tokenization.amplitude_tokens import detokenize_amplitude
    from symba.tokenization.marty_tokens import MARKER
    from symba.tokenization.token_shards import tokenize_rows
    from symba.tokenization.vocab import build_vocabulary

    path = symba_file(
        tmp_path,
        [
            ("e_-(X) e_+(X) to mu_-(X) mu_+(X)", MARTY_EEMM),
            ("e_-(X) e_+(X) to e_-(X) e_+(X)", r"gamma5_{%eta_1,%eta_2}*e_{i_1,%eta_2}(p_1)_u"),
        ],
    )
    rows, stats = import_files([path], theory="qed")
    assert stats["untranslated_amplitude"] == 1
    out, tstats = tokenize_rows(rows, notation="hybrid")
    assert tstats["rows_out"] == 2
    vocab = build_vocabulary("hybrid")
    ours, marty_text = (vocab.decode(r["amplitude_ids"]) for r in out)
    assert detokenize_amplitude(ours, "hybrid") == builtin_rows("e- e+ -> mu- mu+")[0]
    assert ours[0] != MARKER and marty_text[0] == MARKER


@pytest.fixture
def marty_bridge():
    from symba.physics.marty import bridge_status

    status = bridge_status()
    if not status.loadable:
        pytest.skip(f"MARTY bridge unusable: {status.reason}")


def test_marty_backend_and_import_agree_with_builtin(marty_bridge):
    from symba.physics import marty
    from symba.physics.process import parse_process

    proc = parse_process("e- e+ -> mu- mu+", "qed")
    incoming, outgoing = marty.marty_legs(proc)
    raw = marty.run_in_worker("qed", incoming, outgoing, False, False, 120.0, what=str(proc))
    (printed,) = [d["amplitude"] for d in raw["diagrams"]]
    ours = builtin_amplitudes(str(proc))
    assert [translate_imported_amplitude(printed, str(proc), "qed")] == ours
    assert [d.amplitude for d in compute_process(proc, "qed", backend="marty").diagrams] == ours


@pytest.mark.parametrize(
    "theory, process",
    [("qed", "e- e+ -> e- e+"), ("qed", "e- a -> e- a"), ("qcd", "u g -> u g"), ("qcd", "u u~ -> g g")],
)
def test_builtin_strings_are_already_canonical(theory, process):
    from symba.physics.canonical import canonical_amplitude

    for diagram in compute_process(process, theory, backend="builtin").diagrams:
        assert canonical_amplitude(diagram.amplitude, process, theory, signed=True) == diagram.amplitude


def test_odd_quotients_are_kept_and_marked_not_raised():
    # neither is a diagram of the process: kept in our syntax as translated, marked, never a crash
    assert imported_amplitude("e^2*x/0", "e- e+ -> mu- mu+", "qed") == ("e^2*x/0", IMPORTED_NONCANONICAL_BACKEND)
    assert imported_amplitude("-(-e^2)*x/(-(s_12+m_e^2))", "e- e+ -> mu- mu+", "qed") == (
        "e^2*x/(-(s_12 + m_e^2))",
        IMPORTED_NONCANONICAL_BACKEND,
    )


def test_public_file_lines_get_our_process_and_wrong_amplitudes_are_marked(tmp_path):
    # the process as MARTY prints insertions in the public files; the second amplitude is -6 times
    # the diagram (not a diagram of the process): kept as translated, marked and counted
    marty_process = "e_eps_60(X)^(*)  AntiPart e_eta_138(X)  to  mu_eps_61(X)  AntiPart mu_eta_139(X)^(*)"
    wrong = MARTY_EEMM.replace("-1/2*i*e^2", "3*i*e^2")
    rows, stats = import_files(
        [symba_file(tmp_path, [(marty_process, MARTY_EEMM), (marty_process, wrong)])], theory="qed"
    )
    assert [r["process"] for r in rows] == ["e- e+ -> mu- mu+"] * 2
    assert stats["noncanonical_amplitude"] == 1 and stats["untranslated_amplitude"] == 0
    assert [r["backend"] for r in rows] == [IMPORTED_BACKEND, IMPORTED_NONCANONICAL_BACKEND]
    assert rows[0]["amplitude"] == builtin_rows("e- e+ -> mu- mu+")[0]
    # only translated: MARTY's factor order and denominator stay
    assert rows[1]["amplitude"] == (
        "3*i*e^2*gamma(mu1,d1,d2)*gamma(mu1,d3,d4)*u(e,p_1,d4)*vbar(e,p_2,d3)*ubar(mu,p_3,d1)*v(mu,p_4,d2)/(m_e^2 + s_12)"
    )
