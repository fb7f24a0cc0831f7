"""Simplification once per class of expressions that differ only by which mass symbol stands where.

Truth: direct simplification of each row's own text (FLINT's factor, or SymPy's cancel),
compared as text and numerically at random phase-space points.
"""

from __future__ import annotations

import pytest

from symba.physics.expression_parser import parse_expression
from symba.physics.kinematics import numerically_equal
from symba.physics.process import parse_process
from symba.pipeline.amplitude_shards import compute_amplitude_shard
from symba.simplify import SimplifyOptions
from symba.simplify.classes import map_back, mass_maps, representative
from symba.simplify.flint import flint_factor_text
from symba.simplify.shards import simplify_rows
from symba.simplify.whole import whole_process_text

# Lepton flavours of one process (one class), and quarks whose charges differ (u: 2/3, d and b: -1/3).
PROCESSES = [
    "e- e+ -> mu- mu+",
    "e- e+ -> ta- ta+",
    "mu- mu+ -> ta- ta+",
    "e- mu- -> e- mu-",
    "e- ta- -> e- ta-",
    "e- e+ -> u u~",
    "e- e+ -> d d~",
    "e- e+ -> b b~",
]


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    from symba.dataset_schema import read_shard

    path = tmp_path_factory.mktemp("masses") / "shard.parquet"
    compute_amplitude_shard(PROCESSES, "qed", path, orderings="all")
    return read_shard(path).to_pylist()


def _masses(process):
    return parse_process(process, "qed", check=False).leg_masses()


def _rep(row, masses=True):
    return representative(row["squared_raw"], row["process"], row["canonical_process"], row["permutation"], masses)


def _whole(rows, canonical):
    return next(r for r in rows if r["process"] == canonical and r["diagram"] == -1)


def test_lepton_flavours_share_a_class_and_charges_keep_theirs_apart(rows):
    rep = {p: _rep(_whole(rows, p))[0] for p in PROCESSES}
    assert rep["e- e+ -> mu- mu+"] == rep["e- e+ -> ta- ta+"] == rep["mu- mu+ -> ta- ta+"]
    assert rep["e- mu- -> e- mu-"] == rep["e- ta- -> e- ta-"]
    # Same charge -1/3.  (d and s do not merge: the engine prints m_d^2*m_e^2 but m_e^2*m_s^2, by name.)
    assert rep["e- e+ -> d d~"] == rep["e- e+ -> b b~"]
    assert rep["e- e+ -> u u~"] != rep["e- e+ -> d d~"]  # Q_u^2 = 4/9 against 1/9: not a renaming
    assert rep["e- e+ -> u u~"] != rep["e- e+ -> mu- mu+"]
    assert len({_rep(r)[0] for r in rows}) < len({_rep(r, masses=False)[0] for r in rows})


def test_mapped_result_equals_direct_simplification(rows, tmp_path):
    options = SimplifyOptions(cache_dir=str(tmp_path / "cache"))
    outcomes, stats = simplify_rows(rows, options)
    assert stats["classes"] < len({_rep(r, masses=False)[0] for r in rows})
    merged = 0
    for row, outcome in zip(rows, outcomes):
        assert outcome.status == "ok"
        assert numerically_equal(outcome.text, row["squared_raw"], _masses(row["process"]), n_in=2)
        text, relabelling = _rep(row)
        if row["diagram"] == -1:  # the grouped form, a sum: equal as an expression, not re-printed
            direct = whole_process_text(row["squared_raw"])
            assert parse_expression(outcome.text) == parse_expression(direct)  # structurally
            continue
        direct = flint_factor_text(row["squared_raw"])
        assert parse_expression(outcome.text) == parse_expression(direct)  # structurally
        assert map_back(flint_factor_text(text), relabelling, "factor", reprint=True) == direct  # as text
        merged += bool(relabelling.masses) and any(k != v for k, v in relabelling.masses.items())
    assert merged  # some rows were really renamed onto another flavour's representative
    # The cache key is the representative: a rerun, in any row order, computes nothing.
    again, stats2 = simplify_rows(rows[::-1], options)
    assert stats2["computed"] == 0 and again == outcomes[::-1]


def test_sympy_method_mapped_back_equals_the_row_numerically(rows):
    sample = [r for r in rows if r["diagram"] == -1 and r["canonical_process"] in PROCESSES[:3]]
    outcomes, stats = simplify_rows(sample, SimplifyOptions(method="cancel"))
    assert stats["classes"] == 1 and len(sample) > 3
    for row, outcome in zip(sample, outcomes):
        assert outcome.status == "ok"
        assert numerically_equal(outcome.text, row["squared_raw"], _masses(row["process"]), n_in=2)


def test_equally_frequent_masses_are_tried_in_both_orders():
    text = "e^4*(m_e^2 + s_12)*(m_mu^2 + 2*s_34)"
    swapped = "e^4*(m_mu^2 + s_12)*(m_e^2 + 2*s_34)"
    assert len(mass_maps(text)) == 2
    rep, relabelling = representative(text, None, None, None)
    assert representative(swapped, None, None, None)[0] == rep
    assert map_back(rep, relabelling, "cancel") == text  # a bijection: nothing merged into one symbol
    # Masses only: couplings, dot products and numbers stay as written.
    assert mass_maps("e^2*s_12/3") == [{}]
    assert {frozenset(m.items()) for m in mass_maps("m_b^2*m_tau^4 + m_tau^2")} == {
        frozenset({("m_tau", "m_e"), ("m_b", "m_mu")})
    }


def test_unequally_frequent_masses_are_not_exchanged():
    # m_e occurs twice, m_mu once: swapping them would give a different expression's text.
    text = "m_e^2*s_12 + m_e^4 + m_mu^2*s_34"
    other = "m_mu^2*s_12 + m_mu^4 + m_e^2*s_34"  # the same shape with the roles swapped: same class
    not_renaming = "m_e^2*s_12 + m_mu^4 + m_mu^2*s_34"
    assert representative(text, None, None, None)[0] == representative(other, None, None, None)[0]
    assert representative(text, None, None, None)[0] != representative(not_renaming, None, None, None)[0]
