"""Flavour renaming is an exact symmetry: a process's amplitudes and squares, renamed to canonical
flavours, are the engine's own computation of the canonical process (no FORM output of the
renamed process is produced by the renaming itself)."""

from __future__ import annotations

import itertools

import pytest

from symba.physics.canonical import canonical_amplitude
from symba.physics.engine import compute_process
from symba.physics.expression_parser import parse_expression
from symba.physics.kinematics import numerically_equal
from symba.physics.leg_relabelling import DecodeLabelling, relabelling_of_process
from symba.physics.orderings import OrderingError
from symba.physics.process import parse_process


@pytest.mark.parametrize(
    ("process", "theory", "canonical"),
    [
        ("c g -> c g", "qcd", "u g -> u g"),
        ("b~ t -> b~ t", "qcd", "u d~ -> u d~"),
        ("g g -> s s~", "qcd", "g g -> u u~"),
        ("mu- c -> mu- c", "qed", "e- u -> e- u"),
        ("ta+ ta- -> b b~ a", "qed", "e- e+ -> d d~ a"),
    ],
)
def test_renamed_rows_are_the_engine_rows_of_the_canonical_process(process, theory, canonical):
    relabelling = relabelling_of_process(process, theory, flavours=True)
    assert relabelling.canonical_process == canonical and not relabelling.identity
    variant = compute_process(process, theory, timeout=120)
    reference = compute_process(canonical, theory, timeout=120)
    reference_rows = {amplitude: squared for _, amplitude, squared in reference.rows()}
    masses = parse_process(canonical, theory, check=False).leg_masses()
    written = parse_process(process, theory, check=False)
    for diagram, amplitude, squared in variant.rows():
        renamed = relabelling.canonical_amplitude(amplitude)
        if diagram >= 0:
            # each diagram is one of the canonical process's: found by value (canonical_amplitude
            # compares a text with the engine's own diagrams at random points)
            engine_text = canonical_amplitude(renamed, canonical, theory)
            assert engine_text in reference_rows, (process, diagram)
            truth = reference_rows[engine_text]
        else:
            truth = reference.squared_amplitude
        to_canonical = relabelling.squared_to_canonical(squared)
        assert numerically_equal(parse_expression(to_canonical), truth, masses, written.n_in)
        back = DecodeLabelling.from_text(relabelling.decode_text).squared(to_canonical)
        assert numerically_equal(parse_expression(back), squared, written.leg_masses(), written.n_in)


def test_every_flavour_variant_has_one_canonical_process():
    quarks = ["u", "d", "s", "c", "b", "t"]
    canonical = set()
    for q, r in itertools.permutations(quarks, 2):
        for text in (f"{q} {r}~ -> {q} {r}~", f"{r}~ {q} -> {r}~ {q}", f"{q}~ {r} -> {q}~ {r}"):
            canonical.add(relabelling_of_process(text, "qcd", flavours=True).canonical_process)
    assert canonical == {"u d~ -> u d~"}


def test_classes_are_kept_apart():
    # e, u and d are each the first of their class in QED: nothing moves; QCD has no leptons
    assert relabelling_of_process("e- u -> e- u", "qed", flavours=True).identity
    assert relabelling_of_process("d e- -> d e-", "qed", flavours=True).flavours.is_identity
    qed = relabelling_of_process("s c~ -> s c~", "qed", flavours=True)
    assert qed.canonical_process == "u~ d -> u~ d"  # s stays down-type, c up-type
    without = relabelling_of_process("c g -> c g", "qcd")
    assert without.identity and without.decode_text == "1,2,3,4"


def test_a_renaming_names_every_symbol_a_model_may_write():
    relabelling = relabelling_of_process("c g -> c g", "qcd", flavours=True)
    decode = DecodeLabelling.from_text(relabelling.decode_text)
    # m_u is the written c; a square that also names m_d (absent from the process) renames it to a
    # quark mass too, one the checks then reject: never to nothing, never two to one
    assert decode.squared("m_u^2*s_12 + m_d^2") == "m_c^2*s_12 + m_u^2"


@pytest.mark.parametrize(
    "text",
    ["1,2,3,4|m_c>m_u", "1,2,3,4|m_c>x", "1,2,3,4|m_c>m_u,m_c>m_d", "1,1,3,4|", "1,2,3,4|" + "m_c>m_u," * 200],
)
def test_malformed_decode_texts_are_one_line_errors(text):
    with pytest.raises(OrderingError) as info:
        DecodeLabelling.from_text(text)
    assert "\n" not in str(info.value)
