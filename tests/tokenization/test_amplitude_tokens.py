"""Amplitude text <-> tokens: canonical indices, bounded vocabulary, round trip to the canonical string."""

import pytest

from symba.physics.amplitude_syntax import canonical
from symba.tokenization.amplitude_tokens import (
    INDEX_TOKEN_LIMIT,
    amplitude_vocabulary,
    detokenize_amplitude,
    tokenize_amplitude,
)
from symba.tokenization.notations import NOTATIONS, TokenError

AMPLITUDES = [
    "-i*e^2*vbar(e,p_2,d1)*gamma(mu1,d1,d2)*u(e,p_1,d2)*ubar(mu,p_3,d3)*gamma(mu1,d3,d4)*v(mu,p_4,d4)/(2*m_e^2 + 2*s_12)",
    "i*e^2*ubar(e,p_3,d5)*gamma(mu7,d5,d9)*slash(p_1-p_4,d9,d2)*gamma(mu3,d2,d8)*u(e,p_1,d8)*eps(A,p_2,mu7)*epsc(A,p_4,mu3)/(m_e^2 - 2*s_14)",
    "1/2*i*g_s^2*T(a7,c3,c9)*u(u,p_1,d2,c3)*metric(mu4,mu9)*epsc(G,p_3,mu4,a7)*mom(p_1+p_2-p_3,mu9)*f(a7,a2,a5)/(m_u^2 - 2*s_13)^2",
    "-2/3*i*e^2*vbar(d,p_2,d1)*gamma(mu1,d1,d2)*u(d,p_1,d2)*ubar(t,p_3,d3)*gamma(mu1,d3,d4)*v(t,p_4,d4)*one(d4,d4)/(2*m_d^2 + 2*s_12)",
    "-(i*e*u(ta,p_1,d1) - e*ubar(b,p_2,d1))",
]


@pytest.mark.parametrize("text", AMPLITUDES)
@pytest.mark.parametrize("notation", NOTATIONS)
def test_round_trip_gives_the_canonical_string(text, notation):
    tokens = tokenize_amplitude(text, notation)
    assert detokenize_amplitude(tokens, notation) == canonical(text)
    vocabulary = set(amplitude_vocabulary(notation))
    assert all(t in vocabulary for t in tokens)


def test_engine_amplitudes_round_trip():
    # Fails (never skips) when the engine cannot compute these processes.
    from symba.physics.engine import compute_process

    count = 0
    for process, theory in (
        ("e- e+ -> mu- mu+", "qed"),
        ("e- a -> e- a", "qed"),
        ("e- e+ -> a a", "qed"),
        ("u u~ -> g g", "qcd"),
    ):
        for diagram in compute_process(process, theory=theory).diagrams:
            for notation in NOTATIONS:
                tokens = tokenize_amplitude(diagram.amplitude, notation)
                assert detokenize_amplitude(tokens, notation) == canonical(diagram.amplitude)
            count += 1
    assert count >= 8


def test_index_numbers_do_not_reach_the_tokens():
    a = "ubar(e,p_3,d17)*gamma(mu40,d17,d3)*u(e,p_1,d3)*eps(A,p_2,mu40)"
    b = "ubar(e,p_3,d2)*gamma(mu9,d2,d5)*u(e,p_1,d5)*eps(A,p_2,mu9)"
    assert tokenize_amplitude(a, "hybrid") == tokenize_amplitude(b, "hybrid")
    assert tokenize_amplitude(b, "hybrid") == [
        "mul(", "ubar(", "e", "p_3", "d1", ")", "gamma(", "mu1", "d1", "d2", ")",
        "u(", "e", "p_1", "d2", ")", "eps(", "A", "p_2", "mu1", ")", ")",
    ]  # fmt: skip


def test_many_indices_use_digits_not_new_tokens():
    n = INDEX_TOKEN_LIMIT + 6
    chain = "*".join(f"gamma(mu{k},d{k},d{k + 1})" for k in range(1, n + 1))
    tokens = tokenize_amplitude(chain, "hybrid")
    assert "idx:d" in tokens and "idx:mu" in tokens
    assert detokenize_amplitude(tokens, "hybrid") == canonical(chain)
    assert set(tokens) <= set(amplitude_vocabulary("hybrid"))


def test_prefix_calls_carry_their_arity():
    assert tokenize_amplitude("u(e,p_1,d1)*u(u,p_2,d2,c1)", "prefix") == [
        "mul", "u:3", "e", "p_1", "d1", "u:4", "u", "p_2", "d2", "c1",
    ]  # fmt: skip


@pytest.mark.parametrize(
    "tokens, notation, position",
    [
        ("mul( i e", "hybrid", "position 3"),
        ("gamma( mu1 d1 )", "hybrid", "position 0"),
        ("u:3 e p_1", "prefix", "position 3"),
        ("i e", "hybrid", "position 1"),
        ("idx:mu 3", "hybrid", "position 0"),
        ("mul( i wibble )", "hybrid", "position 2"),
    ],
)
def test_malformed_amplitude_tokens_name_the_position(tokens, notation, position):
    with pytest.raises(TokenError, match=position):
        detokenize_amplitude(tokens, notation)


def test_unknown_names_and_bad_text_are_errors():
    with pytest.raises(ValueError, match="zeta"):
        tokenize_amplitude("zeta*u(e,p_1,d1)", "hybrid")
    with pytest.raises(ValueError, match="position"):
        tokenize_amplitude("u(e,p_1,", "hybrid")
