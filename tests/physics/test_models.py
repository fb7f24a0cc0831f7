"""Models are data: what the engine needs about a theory is read from its Model."""

from __future__ import annotations

import re

import pytest

from symba.physics.form.program import FORM_MASS, MASS_FROM_FORM
from symba.physics.theories import ALL_COUPLINGS, ALL_MASSES, MODELS, Field


def test_mass_symbols_and_couplings_come_from_the_models():
    assert MODELS["qed"].mass_symbols == ("m_e", "m_mu", "m_tau", "m_u", "m_d", "m_s", "m_c", "m_b", "m_t")
    assert MODELS["qcd"].mass_symbols == ("m_u", "m_d", "m_s", "m_c", "m_b", "m_t")
    assert ALL_MASSES == MODELS["qed"].mass_symbols  # the order tokens are named in
    assert ALL_COUPLINGS == ("e", "g_s")


def test_colour_is_a_property_of_the_fields():
    assert not MODELS["qed"].coloured  # quarks carry charge and no colour in the QED datasets
    assert MODELS["qcd"].coloured


def test_every_mass_has_one_form_name_and_back():
    assert set(FORM_MASS) == set(ALL_MASSES)
    assert len(set(FORM_MASS.values())) == len(FORM_MASS)
    assert all(re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name) for name in FORM_MASS.values())
    assert {MASS_FROM_FORM[FORM_MASS[m]] for m in ALL_MASSES} == set(ALL_MASSES)
    assert FORM_MASS["m_mu"] == "Mmu" and FORM_MASS["m_u"] == "Mu"


@pytest.mark.parametrize("mass", ["m-x", "mx", "m_", "m_x y"])
def test_a_field_with_a_mass_symbol_form_cannot_name_is_refused(mass):
    with pytest.raises(ValueError, match="mass symbol"):
        Field("X-", "X+", "X", 1, mass=mass)


def test_a_field_with_an_unknown_colour_representation_is_refused():
    with pytest.raises(ValueError, match="colour must be 1, 3 or 8"):
        Field("q6", "q6~", "q6", 1, colour=6)
