"""The canonical amplitude text (symba.physics.canonical), checked against brute-force numbers.

Truth is tests/physics/bruteforce.py's AmplitudeEvaluator: explicit Dirac matrices, P&S
spinors for every helicity, Gell-Mann generators for every colour.  Every rewrite must keep
the amplitude (up to one overall sign where the sign is dropped), so it keeps its square.
The MARTY-like texts are written here by hand or from the issue's example; each is first
shown equal to the engine's diagram by the brute-force numbers, then canonicalised.
"""

from fractions import Fraction

import numpy as np
import pytest

from symba.physics.amplitude_syntax import Node, parse, to_string
from symba.physics.canonical import (
    CanonicalFormError,
    canonical_amplitude,
    canonicalise,
    engine_amplitudes,
    without_sign,
)
from symba.physics.kinematics import random_point
from symba.physics.process import enumerate_processes, parse_process

from .bruteforce import AmplitudeEvaluator, BruteForce, kinematics_from_point


def values(process: str, theory: str, text: str) -> list[np.ndarray]:
    proc = parse_process(process, theory)
    brute = BruteForce(proc)
    out = []
    for seed in (3, 4):
        kin = kinematics_from_point(random_point(proc.leg_masses(), proc.n_in, seed=seed), proc.n_in)
        out.append(AmplitudeEvaluator(brute, kin, "feynman")(text))
    return out


def sign_between(process: str, theory: str, a: str, b: str) -> int:
    """+1 or -1 when a = +-b for every helicity and colour at random points (asserted)."""
    va, vb = values(process, theory, a), values(process, theory, b)
    for sign in (1, -1):
        if all(np.max(np.abs(x - sign * y)) <= 1e-9 * np.max(np.abs(y)) for x, y in zip(va, vb)):
            assert all(np.max(np.abs(y)) > 0 for y in vb)
            # so the squares agree, summed over spins and colours
            assert [np.sum(np.abs(x) ** 2) for x in va] == pytest.approx([np.sum(np.abs(y) ** 2) for y in vb])
            return sign
    raise AssertionError(f"not one amplitude:\n  {a}\n  {b}")


def test_engine_output_is_a_fixed_point():
    for theory in ("qed", "qcd"):
        for proc in enumerate_processes(theory, ("2->2",)):
            for text in engine_amplitudes(proc):
                assert canonical_amplitude(text, proc, signed=True) == text
                assert canonical_amplitude(text, proc) == without_sign(text)
                assert canonical_amplitude(text, signed=True) == text  # without the process too


def test_issue_example_marty_and_engine_print_alike():
    # the issue's two texts of e- e+ -> mu- mu+ (MARTY's translated into our syntax, and the engine's)
    marty = (
        "-1/2*i*e^2*gamma(mu1,d1,d2)*gamma(mu1,d3,d4)*u(e,p_1,d4)*vbar(e,p_2,d3)*ubar(mu,p_3,d1)*v(mu,p_4,d2)"
        "/(m_e^2 + s_12)"
    )
    engine = (
        "-i*e^2*vbar(e,p_2,d1)*gamma(mu1,d1,d2)*u(e,p_1,d2)*ubar(mu,p_3,d3)*gamma(mu1,d3,d4)*v(mu,p_4,d4)"
        "/(2*m_e^2 + 2*s_12)"
    )
    assert sign_between("e- e+ -> mu- mu+", "qed", marty, engine) == 1
    assert canonical_amplitude(marty, "e- e+ -> mu- mu+", signed=True) == engine
    assert canonical_amplitude(marty, "e- e+ -> mu- mu+") == engine[1:]  # per diagram: no overall sign


def _marty_like(text: str) -> str:
    """The engine's text as another writer might print it: factors reversed, the 2 of each
    denominator pulled out as a 1/2, index names of its own."""
    node = parse(text)
    negative = node.op == "neg"
    quotient = node.args[0] if negative else node
    numerator, denominator = quotient.args
    dens = denominator.args if denominator.op == "*" and all(a.op == "+" for a in denominator.args) else (denominator,)
    halved = [parse(to_string(d).replace("2*", "")) for d in dens]
    factors = list(numerator.args if numerator.op == "*" else (numerator,))
    prefactor = Node("num", value=Fraction(1, 2 ** len(dens)))
    out = Node(
        "/", (Node("*", (prefactor, *reversed(factors))), Node("*", tuple(halved)) if len(halved) > 1 else halved[0])
    )
    printed = to_string(Node("neg", (out,)) if negative else out)
    for kind in ("mu", "d", "c", "a"):  # other names, same structure
        for k in range(9, 0, -1):
            printed = printed.replace(f"{kind}{k},", f"{kind}{k + 40},").replace(f"{kind}{k})", f"{kind}{k + 40})")
    return printed


@pytest.mark.parametrize(
    "process, theory",
    [("e- e+ -> mu- mu+", "qed"), ("e- e+ -> e- e+", "qed"), ("e- a -> e- a", "qed"), ("u u~ -> d d~", "qcd")],
)
def test_another_writers_layout_comes_back_to_the_engines(process, theory):
    proc = parse_process(process, theory)
    for text in engine_amplitudes(proc):
        other = _marty_like(text)
        assert other != text
        assert sign_between(process, theory, other, text) == 1  # the same amplitude, checked independently
        assert canonical_amplitude(other, proc, signed=True) == text


def test_structure_constant_indices_in_one_order_with_the_sign():
    process = "u u~ -> g g"
    text = engine_amplitudes(parse_process(process, "qcd"))[0]
    assert "f(a1,a2,a3)" in text
    swapped = text.replace("f(a1,a2,a3)", "f(a2,a1,a3)")
    assert sign_between(process, "qcd", swapped, text) == -1  # f is antisymmetric
    assert canonical_amplitude(swapped, process, "qcd", signed=True) == _flip(text)
    assert canonical_amplitude(swapped, None, signed=True) == _flip(text)
    cyclic = text.replace("f(a1,a2,a3)", "f(a3,a1,a2)")
    assert canonical_amplitude(cyclic, None, signed=True) == text


def test_dirac_equation_rewrite_restores_the_engine_form():
    # MARTY's e- a -> e- a u-channel (tests/sources/test_marty_amplitudes.py), translated into our
    # syntax: p_1-slash u(p_1) = m u(p_1) used on the internal electron's numerator
    marty = (
        "i*e^2*(mom(p_1,mu2)*gamma(mu1,d1,d2)*eps(A,p_2,mu1)*epsc(A,p_4,mu2)*u(e,p_1,d2)*ubar(e,p_3,d1)"
        " - 1/2*mom(p_4,mu3)*gamma(mu3,d3,d4)*gamma(mu2,d4,d5)*gamma(mu1,d6,d3)*eps(A,p_2,mu1)*epsc(A,p_4,mu2)"
        "*u(e,p_1,d5)*ubar(e,p_3,d6))/s_23"
    )
    engine = engine_amplitudes(parse_process("e- a -> e- a", "qed"))[1]
    sign = sign_between("e- a -> e- a", "qed", marty, engine)
    out = canonical_amplitude(marty, "e- a -> e- a", signed=True)
    assert out == (engine if sign == 1 else "-" + engine)
    assert sign_between("e- a -> e- a", "qed", out, marty) == 1  # the rewrite keeps the amplitude


def test_whole_process_rows_keep_relative_signs():
    proc = parse_process("e- e+ -> e- e+", "qed")
    a, b = engine_amplitudes(proc)
    whole = f"({_marty_like(a)}) + ({_marty_like(b)})"
    out = canonical_amplitude(whole, proc, signed=True)
    assert out == f"({a}) + ({b})"
    assert sign_between(str(proc), "qed", out, f"({a}) + ({b})") == 1
    flipped = canonical_amplitude(f"({_flip(a)}) + ({_flip(b)})", proc)  # one overall sign: the first term's
    assert flipped == f"({without_sign(a)}) + ({_flip(b) if a.startswith('-') else b})"


def _flip(text: str) -> str:
    return text[1:] if text.startswith("-") else "-" + text


@pytest.mark.parametrize(
    "text, why",
    [
        ("2*i*e^2*vbar(e,p_2,d1)*gamma(mu1,d1,d2)*u(e,p_1,d2)*ubar(mu,p_3,d3)*gamma(mu1,d3,d4)*v(mu,p_4,d4)"
         "/(2*m_e^2 + 2*s_12)", "equal to none"),  # twice the diagram: not silently made the diagram
        ("e^2*x/(2*m_e^2 + 2*s_12)", "cannot evaluate"),
        ("-i*e^2*gamma(mu1,d1,d2)*u(e,p_1,d2)", "cannot evaluate"),
    ],
)  # fmt: skip
def test_text_that_cannot_be_made_canonical_is_refused_and_kept(text, why):
    with pytest.raises(CanonicalFormError, match=why):
        canonical_amplitude(text, "e- e+ -> mu- mu+")
    assert canonicalise(text, "e- e+ -> mu- mu+") == (text, False)


def test_bad_syntax_and_processes_are_refused():
    assert canonicalise("i*e^2*(", "e- e+ -> mu- mu+") == ("i*e^2*(", False)
    with pytest.raises(CanonicalFormError, match="process"):
        canonical_amplitude("e^2", "e- e+ -> x y")


def test_colour_written_another_way_restores_the_engine_form():
    # f^{a1 a2 a3} T^{a3} = -i [T^{a1}, T^{a2}]: the s-channel gluon of u u~ -> g g with its colour
    # written as a commutator of generators, as another program may print it
    process = "u u~ -> g g"
    engine = engine_amplitudes(parse_process(process, "qcd"))[0]
    assert "*T(a3,c1,c2)*f(a1,a2,a3)*" in engine
    commutator = engine.replace(
        "*T(a3,c1,c2)*f(a1,a2,a3)*", "*(-i)*(T(a1,c1,c9)*T(a2,c9,c2) - T(a2,c1,c9)*T(a1,c9,c2))*"
    )
    assert sign_between(process, "qcd", commutator, engine) == 1  # the identity, by brute force
    assert canonical_amplitude(commutator, process, "qcd", signed=True) == engine


def test_value_comparison_is_bounded():
    # twenty open Dirac matrices would be a 4**40-entry tensor: refused, not evaluated
    text = "e^2*" + "*".join(f"gamma(mu{k},d{2 * k},d{2 * k + 1})" for k in range(1, 21)) + "/s_12"
    with pytest.raises(CanonicalFormError, match="too many indices"):
        canonical_amplitude(text, "e- e+ -> mu- mu+")
