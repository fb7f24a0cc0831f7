"""Every leg ordering from one canonical computation, checked against direct computation.

The truth for a relabelled row is ``compute_process`` of the ordered process itself:
the same diagrams (matched by their propagators, which name the legs on each side
of every internal line), the same squared amplitudes at random phase-space points,
and, through the brute-force amplitude evaluator, the same amplitude for every
spin and colour up to one phase per process.
"""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter

import numpy as np
import pytest

from symba.physics.amplitude_syntax import canonical
from symba.physics.kinematics import numerically_equal, random_point
from symba.physics.orderings import (
    OrderingError,
    Relabelling,
    distinct_orderings,
    ordered_process,
    parse_permutation,
    permutation_text,
    relabel_amplitude,
    relabel_propagator,
    relabel_result,
    relabel_squared,
    rows_for_orderings,
)
from symba.physics.process import parse_process
from symba.pipeline.amplitude_shards import process_rows
from symba.simplify.flint import flint_factor_text, relabel_factored

from .bruteforce import AmplitudeEvaluator, BruteForce, kinematics_from_point

SAMPLE = [
    ("e- a -> e- a", "qed"),
    ("e- e+ -> mu- mu+ a", "qed"),
    ("e- e- -> e- e- a", "qed"),
    ("e- e+ a -> mu- mu+", "qed"),
    ("u u~ -> g g", "qcd"),
    ("u g -> u g", "qcd"),
    ("u u~ -> d d~ g", "qcd"),
]


def _brute_force_orderings(text):
    lhs, rhs = text.split("->")
    ins, outs = lhs.split(), rhs.split()
    return {
        " ".join(a) + " -> " + " ".join(b)
        for a in set(itertools.permutations(ins))
        for b in set(itertools.permutations(outs))
    }


@pytest.mark.parametrize(
    "text",
    [
        "a -> e- e+",
        "e- e+ -> mu- mu+",
        "e- e- -> e- e-",
        "e- e+ -> a a",
        "e- e+ -> a a a",
        "e- e+ -> mu- mu+ a",
        "e- e+ a -> mu- mu+",
        "u u~ -> g g g",
        "g g -> g g g",
        "e- e+ a -> e- e+ a",
    ],
)
def test_orderings_are_the_distinct_arrangements_canonical_first(text):
    orderings = distinct_orderings(text)
    expected = _brute_force_orderings(text)
    assert {o.process for o in orderings} == expected
    assert len(orderings) == len(expected)
    # multinomial count per side, independently of both enumerations
    lhs, rhs = text.split("->")
    count = 1
    for side in (lhs.split(), rhs.split()):
        count *= math.factorial(len(side)) // math.prod(math.factorial(k) for k in Counter(side).values())
    assert len(orderings) == count
    assert orderings[0].process == text
    canonical_legs = text.replace("->", " ").split()
    assert orderings[0].permutation == tuple(range(1, len(canonical_legs) + 1))
    for o in orderings:
        ordered_legs = o.process.replace("->", " ").split()
        assert ordered_legs == [canonical_legs[k - 1] for k in o.permutation]
        assert ordered_process(text, o.permutation) == o.process
        assert parse_permutation(permutation_text(o.permutation)) == o.permutation


def test_permutation_names_the_canonical_leg_of_each_position():
    by_process = dict(distinct_orderings("e- e+ -> mu- mu+ a"))
    assert permutation_text(by_process["e+ e- -> a mu+ mu-"]) == "2,1,5,4,3"


def test_squared_relabelling_keeps_i_below_j():
    # permutation (1,3,2): ordered leg 2 holds canonical leg 3, ordered leg 3 holds canonical leg 2
    assert relabel_squared("s_12*s_13 - s_23^2 + m_e^2", (1, 3, 2)) == "s_13*s_12 - s_23^2 + m_e^2"
    # (3,1,2): canonical legs 1,2,3 go to positions 2,3,1; s_13 -> s_21 -> s_12
    assert relabel_squared("s_13 + s_12", (3, 1, 2)) == "s_12 + s_23"


def test_amplitude_relabelling_sorts_momentum_sums_and_denominators():
    text = "i*e*ubar(e,p_3,d1)*(slash(p_1 - p_3,d1,d2) + m_e*one(d1,d2))*u(e,p_1,d2)/(2*m_e^2 - 2*s_13)"
    # swap legs 1 and 3 (not a valid in/out split, but the text algebra does not care)
    out = relabel_amplitude(text, (3, 2, 1), ["m_e", None, "m_e"])
    assert out == "i*e*ubar(e,p_1,d1)*(slash(-p_1 + p_3,d1,d2) + m_e*one(d1,d2))*u(e,p_3,d2)/(2*m_e^2 - 2*s_13)"
    # canonical legs 3, 4 sit at ordered positions 5, 3
    assert relabel_propagator("e(p_1-p_3-p_4)", (1, 2, 4, 5, 3)) == "e(p_1-p_3-p_5)"
    assert relabel_propagator("G(-p_2+2*p_3)", (1, 3, 2)) == "G(2*p_2-p_3)"


def _diagram_key(propagators, n_legs):
    """The internal lines of a tree diagram: particle and the legs on the side without leg 1."""
    key = []
    for prop in propagators:
        label, momentum = re.fullmatch(r"(\w+)\((.*)\)", prop).groups()
        legs = {int(k) for k in re.findall(r"p_(\d)", momentum)}
        if 1 in legs:
            legs = set(range(1, n_legs + 1)) - legs
        key.append((label, frozenset(legs)))
    return frozenset(key)


def _pick_orderings(text):
    orderings = distinct_orderings(text)[1:]
    # the last one, and one whose permutation is not its own inverse (a mix-up of the two shows)
    cycles = [o for o in orderings[:-1] if any(o.permutation[k - 1] != i for i, k in enumerate(o.permutation, 1))]
    return [orderings[-1]] + cycles[:1]


@pytest.mark.parametrize("text, theory", SAMPLE, ids=[s[0] for s in SAMPLE])
def test_relabelled_result_equals_direct_computation(text, theory, engine_result):
    canonical_result = engine_result(text, theory)
    for ordering in _pick_orderings(text):
        derived = relabel_result(canonical_result, ordering.permutation)
        direct = engine_result(ordering.process, theory)
        proc = parse_process(ordering.process, theory)
        n = len(proc.legs)
        assert derived.process == ordering.process

        # per diagram: the same diagrams, the same squares
        direct_by_key = {_diagram_key(d.propagators, n): d for d in direct.diagrams}
        derived_keys = [_diagram_key(d.propagators, n) for d in derived.diagrams]
        assert len(direct_by_key) == len(direct.diagrams)
        assert Counter(derived_keys) == Counter(direct_by_key.keys())
        for key, d in zip(derived_keys, derived.diagrams):
            assert canonical(d.amplitude) == d.amplitude
            want = direct_by_key[key].squared_amplitude
            assert numerically_equal(d.squared_amplitude, want, proc.leg_masses(), proc.n_in, n_points=2), (
                f"{ordering.process}: diagram {d.propagators}"
            )
        # per process, interference included
        assert numerically_equal(
            derived.squared_amplitude, direct.squared_amplitude, proc.leg_masses(), proc.n_in, n_points=2
        )

        # amplitudes: every spin and colour, one phase for the whole process
        point = random_point(proc.leg_masses(), proc.n_in, seed=5)
        evaluate = AmplitudeEvaluator(BruteForce(proc), kinematics_from_point(point, proc.n_in))
        got = [evaluate(d.amplitude) for d in derived.diagrams]
        want = [evaluate(direct_by_key[k].amplitude) for k in derived_keys]
        biggest = max(range(len(want)), key=lambda k: np.max(np.abs(want[k])))
        flat = np.argmax(np.abs(want[biggest]))
        phase = got[biggest].reshape(-1)[flat] / want[biggest].reshape(-1)[flat]
        assert abs(phase) == pytest.approx(1, rel=1e-9)
        for g, w in zip(got, want):
            assert np.max(np.abs(g - phase * w)) <= 1e-9 * np.max(np.abs(w))


def test_a_wrong_relabelling_is_caught(engine_result):
    # e- e+ -> mu- a mu+ derived with the permutation of e- e+ -> mu+ a mu-: the squares differ.
    canonical_result = engine_result("e- e+ -> mu- mu+ a", "qed")
    wrong = relabel_result(canonical_result, (1, 2, 4, 5, 3))
    direct = engine_result("e- e+ -> mu- a mu+", "qed")
    proc = parse_process("e- e+ -> mu- a mu+", "qed")
    assert not numerically_equal(wrong.squared_amplitude, direct.squared_amplitude, proc.leg_masses(), 2, n_points=2)


def test_rows_for_orderings_trace_back_to_the_canonical_process(engine_result):
    result = engine_result("e- e+ -> a a", "qed")

    def make_rows(r):
        return process_rows(r, "2->2", "test")

    rows = rows_for_orderings(result, make_rows, "all")
    per_ordering = len(result.diagrams) + 1
    assert len(rows) == 2 * per_ordering  # e- e+ and e+ e-; the photons are identical
    assert [r["process"] for r in rows] == ["e- e+ -> a a"] * per_ordering + ["e+ e- -> a a"] * per_ordering
    assert {r["canonical_process"] for r in rows} == {"e- e+ -> a a"}
    assert [r["permutation"] for r in rows] == ["1,2,3,4"] * per_ordering + ["2,1,3,4"] * per_ordering
    canonical_rows = make_rows(result)
    for got, want in zip(rows[:per_ordering], canonical_rows):
        assert {k: got[k] for k in want} == want
    assert rows_for_orderings(result, make_rows, "canonical") == rows[:per_ordering]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: parse_permutation("2,x"), "malformed permutation"),
        (lambda: parse_permutation("1,1,2"), "not a permutation"),
        (lambda: ordered_process("e- e+ -> mu- mu+", (3, 2, 1, 4)), "moves a leg"),
        (lambda: ordered_process("e- e+ -> mu- mu+", (1, 2, 3)), "has 3 legs"),
        (lambda: relabel_squared("s_15", (2, 1, 3, 4)), "leg 5"),
        (lambda: distinct_orderings("e- e+ mu-"), "malformed process"),
        (lambda: relabel_propagator("A(p_1+q_2)", (1, 2)), "malformed propagator"),
        (lambda: rows_for_orderings(None, list, "some"), "unknown orderings"),
    ],
)
def test_bad_input_gives_one_line_errors(call, message):
    with pytest.raises(OrderingError, match=message) as info:
        call()
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("text, theory", SAMPLE, ids=[s[0] for s in SAMPLE])
def test_identity_relabelling_reproduces_the_engine_text(text, theory, engine_result):
    # The re-sorting of momentum sums and denominators follows the engine's printing.
    result = engine_result(text, theory)
    same = relabel_result(result, tuple(range(1, len(parse_process(text, theory).legs) + 1)))
    assert [d.amplitude for d in same.diagrams] == [d.amplitude for d in result.diagrams]
    assert [d.propagators for d in same.diagrams] == [d.propagators for d in result.diagrams]
    assert same.squared_amplitude == result.squared_amplitude


@pytest.mark.slow  # the 2->3 samples factorise every ordering: tens of seconds
@pytest.mark.parametrize("text, theory", SAMPLE[:5], ids=[s[0] for s in SAMPLE[:5]])
def test_a_factorisation_maps_to_every_ordering(text, theory, engine_result):
    # factor once, relabel the factored text: the canonical factorisation of the relabelled square
    result = engine_result(text, theory)
    for ordering in distinct_orderings(text)[1:4]:
        for raw in [d.squared_amplitude for d in result.diagrams] + [result.squared_amplitude]:
            factored = flint_factor_text(raw)
            assert relabel_factored(factored, ordering.permutation) == flint_factor_text(
                relabel_squared(raw, ordering.permutation)
            )


def test_relabelling_applies_inverts_and_composes_as_the_functions_do():
    perm = (2, 1, 5, 4, 3)
    relabelling = Relabelling.from_text("2,1,5,4,3")
    assert relabelling.permutation == perm and relabelling.text == "2,1,5,4,3" and not relabelling.is_identity
    assert relabelling.ordered_process("e- e+ -> mu- mu+ a") == "e+ e- -> a mu+ mu-"
    squared = "s_13*s_24 + m_e^2*s_35 + p_1"
    assert relabelling.squared(squared) == relabel_squared(squared, perm)
    assert relabelling.inverse.squared(relabelling.squared(squared)) == squared
    assert relabelling.propagator("A(p_1+p_3)") == relabel_propagator("A(p_1+p_3)", perm)
    assert relabelling.rename("s_13") == "s_25" and relabelling.rename("m_e") == "m_e"
    assert relabelling.compose(relabelling.inverse).is_identity
    swap = Relabelling((1, 2, 3, 5, 4))
    assert relabelling.compose(swap).squared(squared) == swap.squared(relabelling.squared(squared))


def test_relabelling_from_a_row_reads_its_columns():
    assert Relabelling.from_row({"process": "e+ e- -> mu+ mu-", "permutation": "2,1,4,3"}).permutation == (2, 1, 4, 3)
    assert Relabelling.from_row({"process": "e- e+ -> mu- mu+ a"}).is_identity  # no column: canonical
    with pytest.raises(OrderingError, match="not a permutation"):
        Relabelling((1, 1, 2))
    with pytest.raises(OrderingError, match="malformed permutation"):
        Relabelling.from_row({"process": "e- e+ -> mu- mu+", "permutation": "2,x"})
    with pytest.raises(OrderingError, match="cannot compose"):
        Relabelling((2, 1)).compose(Relabelling((1, 2, 3)))
