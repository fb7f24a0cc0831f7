"""Whole-process rows in the grouped form: each product of denominators with its numerator factored.

Truth: the engine's raw FORM text, compared at random points by two independent evaluators (exact
modular arithmetic here, floating-point phase-space points in symba.physics.kinematics).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from symba.dataset_schema import WHOLE_PROCESS, read_shard
from symba.physics.engine import compute_process
from symba.physics.expression_parser import parse_expression
from symba.physics.kinematics import numerically_equal
from symba.physics.process import parse_process
from symba.pipeline.amplitude_shards import compute_amplitude_shard
from symba.simplify import SimplifyOptions, simplify_expressions
from symba.simplify import simplifier as simplifier_module
from symba.simplify.classes import _top_level_split, map_back, representative
from symba.simplify.flint import FactorError, flint_factor_text
from symba.simplify.shards import simplify_rows
from symba.simplify.whole import FormMismatch, check_same_value, grouped_factored_text, whole_process_text

PROCESSES = {"2->2": "e- e- -> e- e-", "2->3": "e- e+ -> mu- mu+ a"}


@pytest.fixture(scope="module")
def raw():
    return {k: compute_process(p, "qed", timeout=120).squared_amplitude for k, p in PROCESSES.items()}


def _masses(process):
    return parse_process(process, "qed", check=False).leg_masses()


@pytest.mark.parametrize("multiplicity", sorted(PROCESSES))
def test_grouped_form_equals_the_raw_text(raw, multiplicity):
    text = raw[multiplicity]
    form = whole_process_text(text)
    check_same_value(text, form, points=6)
    assert numerically_equal(form, text, _masses(PROCESSES[multiplicity]), n_in=2)
    assert form != flint_factor_text(text) and len(form) < len(text)  # not the factored whole, and shorter
    assert "(" in form and "/" in form and " + " in form  # a sum of fractions in the project's symbols
    assert parse_expression(form) is not None


def test_two_to_two_form_is_a_sum_of_three_factored_groups(raw):
    form = whole_process_text(raw["2->2"])
    # t channel squared, u channel squared, their interference: each over its own denominators
    assert len(_top_level_split(form, "+-")) == 3
    assert "/((m_e^2 - s_13)*(m_e^2 - s_23))" in form
    assert "/(m_e^2 - s_13)^2" in form and "/(m_e^2 - s_23)^2" in form


@pytest.mark.parametrize("multiplicity", sorted(PROCESSES))
def test_grouped_form_is_canonical(raw, multiplicity):
    text = raw[multiplicity]
    terms = [piece for _, piece in _top_level_split(text, "+")]
    assert len(terms) > 2
    reordered = "+".join(reversed(terms))  # FORM's terms in another order: the same value, the same form
    check_same_value(text, reordered)
    assert grouped_factored_text(reordered) == grouped_factored_text(text) == whole_process_text(text)


def test_sympy_engine_gives_the_same_text(raw):
    assert whole_process_text(raw["2->2"], "sympy") == whole_process_text(raw["2->2"])


def test_a_changed_form_fails_the_check(raw):
    text = raw["2->2"]
    form = whole_process_text(text)
    for wrong in (form + " + e^4/s_12", form.replace("2*m_e^4", "3*m_e^4", 1), form.replace(" + ", " - ", 1)):
        with pytest.raises(FormMismatch, match="differs from the raw text at random point"):
            check_same_value(text, wrong)


def test_text_with_the_imaginary_unit_keeps_the_factored_whole():
    text = "2*I*e^2*(I*e^2*s_12 + I*e^2*m_e^2)/(s_12 - m_e^2)"
    assert whole_process_text(text) == flint_factor_text(text)
    with pytest.raises(FactorError, match="imaginary unit"):
        grouped_factored_text(text)


# ---------------------------------------------------------------- in the simplify stage


@pytest.fixture(scope="module")
def rows(tmp_path_factory):
    path = tmp_path_factory.mktemp("whole") / "shard.parquet"
    compute_amplitude_shard([PROCESSES["2->3"], "e- e+ -> e- e+"], "qed", path, orderings="all")
    return read_shard(path).to_pylist()


def test_rows_through_classes(rows, tmp_path):
    outcomes, stats = simplify_rows(rows, SimplifyOptions(cache_dir=str(tmp_path / "cache")))
    renamed = 0
    for row, outcome in zip(rows, outcomes):
        assert outcome.status == "ok"
        text, relabelling = representative(
            row["squared_raw"], row["process"], row["canonical_process"], row["permutation"]
        )
        if row["diagram"] != WHOLE_PROCESS:  # per-diagram rows: exactly today's text
            assert outcome.text == map_back(flint_factor_text(text), relabelling, "factor")
            continue
        assert outcome.text == map_back(whole_process_text(text), relabelling, "factor")
        check_same_value(row["squared_raw"], outcome.text)  # the mapped-back form is the row's own square
        renamed += not relabelling.is_identity()
    assert renamed > 10  # orderings were really mapped back from another row's form
    assert stats["classes"] < stats["distinct_raw"]


def test_whole_process_rows_have_their_own_cache_entries(raw, tmp_path):
    options = SimplifyOptions(cache_dir=str(tmp_path / "cache"), retries=0)
    text = raw["2->2"]
    outcomes, stats = simplify_expressions([text, text], options, whole=[False, True])
    assert [o.status for o in outcomes] == ["ok", "ok"]
    assert outcomes[0].text == flint_factor_text(text) and outcomes[1].text == whole_process_text(text)
    assert stats.computed == 2
    again, stats = simplify_expressions([text, text], options, whole=[True, False])
    assert stats.cached == 2 and again == outcomes[::-1]


def test_a_corrupted_form_is_an_error_and_the_raw_text_stays(raw, monkeypatch):
    here = Path(__file__).resolve().parent
    monkeypatch.setattr(simplifier_module, "WORKER_MODULE", "corrupting_worker")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(here), os.environ.get("PYTHONPATH", "")]))
    text = raw["2->2"]
    outcomes, stats = simplify_expressions([text, text], SimplifyOptions(retries=1), whole=[True, False])
    assert outcomes[0].status == "error" and outcomes[0].text == text
    assert "differs from the raw text at random point" in outcomes[0].message
    assert "\n" not in outcomes[0].message
    assert outcomes[1] == simplifier_module.Outcome("ok", flint_factor_text(text))  # per-diagram: untouched
    assert stats.error == 1 and stats.retried == 1
