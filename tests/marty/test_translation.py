"""The pure-Python half of the MARTY backend, on hand-written MARTY-style text.

These run in CI, where MARTY is absent.  The MARTY strings are copied from
what MARTY printed for the named processes; the expected translations were
written by hand from the notation rules in symba.physics.marty.
"""

import pytest
import sympy

from symba.physics import marty
from symba.physics.amplitude_syntax import parse
from symba.physics.diagrams import momentum_text
from symba.physics.expression_parser import symbol_table
from symba.physics.kinematics import evaluate, random_point
from symba.physics.process import parse_process

# e- e+ -> mu- mu+, s-channel photon
MARTY_EEMM = (
    r"-1/2*i*e^2*gamma_{+%\sigma_104,%eta_112,%gam_131}*gamma_{%\sigma_104,%gam_132,%eta_113}"
    r"*e_{i_3,%eta_113}(p_1)_u*e_{k_3,%gam_132}(p_2)_v^(*)*mu_{l_3,%eta_112}(p_3)_u^(*)"
    r"*mu_{j_5,%gam_131}(p_4)_v/(m_e^2 + s_12 + 1/2*reg_prop)"
)
OURS_EEMM = (
    "-1/2*i*e^2*gamma(mu1,d1,d2)*gamma(mu1,d3,d4)*u(e,p_1,d4)*vbar(e,p_2,d3)"
    "*ubar(mu,p_3,d1)*v(mu,p_4,d2)/(m_e^2 + s_12)"
)


def test_amplitude_spinors_gammas_and_regulator():
    assert marty.translate_amplitude(MARTY_EEMM, {"e", "mu"}) == OURS_EEMM


def test_amplitude_indices_are_canonical_whatever_marty_numbered():
    renumbered = (
        MARTY_EEMM.replace("sigma_104", "sigma_7")
        .replace("eta_112", "alpha_900")
        .replace("gam_131", "eta_3")
        .replace("i_3", "i_77")
    )
    assert renumbered != MARTY_EEMM
    assert marty.translate_amplitude(renumbered, {"e", "mu"}) == OURS_EEMM


def test_amplitude_qcd_generators_gluons_colour_and_momenta():
    # u g -> u g, s-channel quark (first term only), with MARTY's colour-index names
    text = (
        r"i*g^2*p_1_%\sigma_378*gamma_{%\sigma_376,%gam_430,%del_118}*T_C_10_{%a_83,%B_172,%C_75}"
        r"*T_C_10_{%h_43,%D_145,%B_172}*G_{k_16,%a_83,+%\sigma_378}(p_4)^(*)*G_{l_14,%h_43,+%\sigma_376}(p_2)"
        r"*u_{k_14,%C_75,%del_118}(p_1)_u*u_{j_16,%D_145,%gam_430}(p_3)_u^(*)/(s_12 + 1/2*reg_prop)"
    )
    expected = (
        "i*g_s^2*mom(p_1,mu1)*gamma(mu2,d1,d2)*T(a1,c1,c2)*T(a2,c3,c1)*epsc(G,p_4,mu1,a1)"
        "*eps(G,p_2,mu2,a2)*u(u,p_1,d2,c2)*ubar(u,p_3,d1,c3)/s_12"
    )
    assert marty.translate_amplitude(text, {"u"}) == expected


def test_amplitude_negative_numbers_and_structure_constants():
    text = (
        r"1/24*f_{%c_400,%d_122,%f_2935}*f_{%c_400,%e_125,%g_10055}*((-24)*i*g^2"
        r"*G_{k_238,%e_125,%\tau_22244}(p_4)^(*)*G_{j_126,%g_10055,%\mu_14373}(p_3)^(*)"
        r"*G_{l_128,%d_122,+%\tau_22244}(p_1)*G_{i_18,%f_2935,+%\mu_14373}(p_2) + -g^2*s_13*"
        r"G_{k_238,%e_125,%\nu_1}(p_4)^(*)*G_{j_126,%g_10055,%\nu_1}(p_3)^(*)"
        r"*G_{l_128,%d_122,%\rho_2}(p_1)*G_{i_18,%f_2935,+%\rho_2}(p_2))"
    )
    expected = (
        "1/24*f(a1,a2,a3)*f(a1,a4,a5)*(-24*i*g_s^2*epsc(G,p_4,mu1,a4)*epsc(G,p_3,mu2,a5)"
        "*eps(G,p_1,mu1,a2)*eps(G,p_2,mu2,a3) - g_s^2*s_13*epsc(G,p_4,mu3,a4)*epsc(G,p_3,mu3,a5)"
        "*eps(G,p_1,mu4,a2)*eps(G,p_2,mu4,a3))"
    )
    out = marty.translate_amplitude(text, set())
    assert out == expected
    parse(out)


def test_amplitude_refuses_what_it_cannot_translate():
    with pytest.raises(marty.MartyFailure, match="tensor we do not translate: sigma"):
        marty.translate_amplitude(r"sigma_{%\mu_1,%eta_1,%eta_2}", set())
    with pytest.raises(marty.MartyFailure, match="external field we do not know: X"):
        marty.translate_amplitude(r"X_{i_1,%eta_1}(p_1)_u", {"e"})
    with pytest.raises(marty.MartyFailure, match="cannot read MARTY amplitude"):
        marty.translate_amplitude("e^2 # 3", set())
    with pytest.raises(marty.MartyFailure, match="used both as mu and as d"):
        marty.translate_amplitude(r"gamma_{%\mu_1,%\mu_1,%eta_2}", set())


def _value(expr_text: str, seed: int = 3):
    point = random_point(["m_e", "m_e", None, None], 2, seed=seed)
    return evaluate(expr_text, point.values())


def test_square_drops_regulator_renames_coupling_and_cancels_i():
    # e- e+ -> a a, t-channel diagram, as MARTY prints it (with i*i terms)
    text = (
        "e^4*s_14*s_24*(s_13 + -1/2*reg_prop)^(-2) + 2*i*e^2*(i*e^2*m_e^2*(m_e^2 + 1/2*s_12)"
        "/(s_13 + -1/2*reg_prop) + -1/2*i*e^2*m_e^2*(s_14 + 2*s_24)/(s_13 + -1/2*reg_prop))"
        "/(s_13 + -1/2*reg_prop)"
    )
    out = marty.translate_square(text)
    assert "reg_prop" not in out and "I" not in out and "i" not in out.replace("m_e", "")
    # i*i = -1 by hand: e^4*(s_14*s_24 - 2*m_e^2*(m_e^2 + s_12/2) + m_e^2*(s_14 + 2*s_24))/s_13^2
    by_hand = "e^4*(s_14*s_24 - 2*m_e^2*(m_e^2 + s_12/2) + m_e^2*(s_14 + 2*s_24))/s_13^2"
    assert abs(_value(out) - _value(by_hand)) <= 1e-30 * abs(_value(by_hand))


def test_square_qcd_coupling_becomes_g_s():
    out = marty.translate_square("-1/144*g^4*((-16)*m_d^2*m_u^2)*(m_u^2 + s_12 + 1/2*reg_prop)^(-2)")
    expr = sympy.sympify(out.replace("^", "**"), locals=symbol_table())
    t = symbol_table()
    assert expr.free_symbols == {t["g_s"], t["m_d"], t["m_u"], t["s_12"]}
    assert (
        sympy.simplify(expr - t["g_s"] ** 4 * t["m_d"] ** 2 * t["m_u"] ** 2 / (9 * (t["m_u"] ** 2 + t["s_12"]) ** 2))
        == 0
    )


def test_coupling_rename_touches_whole_names_only():
    t = symbol_table()
    assert marty.read_square("g^2*g_s*(g + m_u)^2")[0] == t["g_s"] ** 3 * (t["g_s"] + t["m_u"]) ** 2


@pytest.mark.parametrize(
    "text, message",
    [
        ("e^2*i*s_12", "not real: it is i times"),
        ("e^2*(s_12 + i*s_13)", "not real: the imaginary unit does not cancel"),
        ("0.5*e^2", "floating-point"),
        ("e^2*Nc", "unknown symbol"),
        ("", "empty"),
    ],
)
def test_square_refusals(text, message):
    with pytest.raises(marty.MartyFailure, match=message):
        marty.translate_square(text)


def test_legs_use_field_labels_and_antiparticle_flags():
    proc = parse_process("e- e+ -> u u~", "qed")
    assert marty.marty_legs(proc) == ([("e", False), ("e", True)], [("u", False), ("u", True)])
    proc = parse_process("u g -> u g", "qcd")
    assert marty.marty_legs(proc) == ([("u", False), ("G", False)], [("u", False), ("G", False)])


def test_whole_square_with_external_gluon_pairs_goes_to_builtin():
    for text in ("u u~ -> g g", "u g -> u g", "g g -> g g"):
        assert marty.whole_square_needs_builtin(parse_process(text, "qcd"))
    assert not marty.whole_square_needs_builtin(parse_process("u u~ -> d d~", "qcd"))
    assert not marty.whole_square_needs_builtin(parse_process("e- e+ -> a a", "qed"))


def test_propagator_notation():
    assert momentum_text((1, 1, 0, 0)) == "p_1+p_2"
    assert momentum_text((0, -1, 1, 0)) == "-p_2+p_3"
    assert momentum_text((1, 0, -2, 0)) == "p_1-2*p_3"


def test_diagrams_are_put_in_feyngraph_order_by_propagator_values():
    proc = parse_process("e- e+ -> a a", "qed")
    refs = marty.reference_diagrams(proc)
    assert [r.propagators for r in refs] == [["e(p_1-p_3)"], ["e(-p_2+p_3)"]]
    t = symbol_table()
    # MARTY's order reversed; its denominators are -(k^2 - m^2)/2 = s_23 and s_13.
    found = [(["e"], [t["s_23"]]), (["e"], [t["s_13"]])]
    assert marty.match_diagrams(proc, refs, found) == [1, 0]
    with pytest.raises(marty.MartyFailure, match="no FeynGraph diagram"):
        marty.match_diagrams(proc, refs, [(["e"], [t["s_12"]]), (["e"], [t["s_13"]])])
    with pytest.raises(marty.MartyFailure, match="found 1 diagrams"):
        marty.match_diagrams(proc, refs, found[:1])


def test_diagram_matching_uses_momentum_conservation_and_field_sets():
    proc = parse_process("e- e+ -> mu- mu+ a", "qed")
    refs = marty.reference_diagrams(proc)
    assert [r.propagators for r in refs] == [
        ["A(p_1+p_2)", "mu(p_1+p_2-p_3)"],
        ["A(p_1+p_2)", "mu(p_1+p_2-p_4)"],
        ["e(-p_2+p_3+p_4)", "A(p_3+p_4)"],
        ["e(p_1-p_3-p_4)", "A(p_3+p_4)"],
    ]
    t = symbol_table()
    s = lambda ij: t[f"s_{ij}"]  # noqa: E731
    # MARTY writes (p_1+p_2-p_3)^2 - m_mu^2 = 2*s_45 as s_45, (p_1-p_3-p_4)^2 - m_e^2 = -2*s_25 as s_25.
    found = [
        (["e", "A"], [s(25), t["m_mu"] ** 2 + s(34)]),
        (["A", "mu"], [t["m_e"] ** 2 + s(12), s(35)]),
        (["e", "A"], [s(15), t["m_mu"] ** 2 + s(34)]),
        (["A", "mu"], [t["m_e"] ** 2 + s(12), s(45)]),
    ]
    assert marty.match_diagrams(proc, refs, found) == [3, 1, 2, 0]
