"""Process parsing, conservation checks, enumeration, and the amplitudes CLI."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

import pytest

from symba.physics.process import (
    Process,
    ProcessError,
    check_conservation,
    crossing_key,
    enumerate_processes,
    has_tree_diagram,
    parse_process,
)


def test_parse_numbers_legs_in_order():
    proc = parse_process("e- e+ -> mu- mu+", "qed")
    assert proc.legs == ("e-", "e+", "mu-", "mu+")
    assert (proc.n_in, proc.n_out, proc.multiplicity) == (2, 2, "2->2")
    assert proc.leg_masses() == ["m_e", "m_e", "m_mu", "m_mu"]
    assert str(proc) == "e- e+ -> mu- mu+"


@pytest.mark.parametrize(
    "text, theory, reason",
    [
        ("e- e+ -> mu- x", "qed", "unknown particle 'x'"),
        ("e- e+ -> g g", "qed", "unknown particle 'g'"),
        ("e- e+ -> mu- mu+", "qcd", "unknown particle 'e-'"),
        ("e- e+ mu- mu+", "qed", "malformed process"),
        ("e- e+ -> ", "qed", "malformed process"),
        ("e- -> e+ a", "qed", "breaks charge conservation"),
        ("e- mu+ -> e+ mu-", "qed", "breaks lepton-flavour conservation"),
        ("d d -> u~ a", "qed", "breaks baryon-number conservation"),
        ("u u -> g g", "qcd", "breaks baryon-number conservation"),
        ("a -> a a", "qed", "no tree-level diagram"),
        ("u -> c a", "qed", "no tree-level diagram"),
        # 7 and 8 legs: FeynGraph and FORM would compute them, but p_7 and s_17 have no name or token
        ("e- e+ -> mu- mu+ a a a", "qed", "7 external particles (2 -> 5); at most 6 are supported"),
        ("u u~ d -> u u~ d g g", "qcd", "8 external particles (3 -> 5); at most 6 are supported"),
    ],
)
def test_rejections_name_the_reason(text, theory, reason):
    with pytest.raises(ProcessError) as err:
        parse_process(text, theory)
    msg = str(err.value)
    assert reason in msg and "\n" not in msg


def test_unknown_theory():
    with pytest.raises(ValueError, match="unknown theory 'qfd'"):
        parse_process("e- e+ -> mu- mu+", "qfd")


def test_enumeration_is_canonical_and_complete_for_a_subset():
    procs = enumerate_processes("qed", ["2->2"], particles=["e-", "e+", "a"])
    texts = {str(p) for p in procs}
    # Compton, pair annihilation/creation, Bhabha, Moller and its antiparticle version
    assert texts == {
        "e- e- -> e- e-",
        "e- e+ -> e- e+",
        "e- e+ -> a a",
        "e- a -> e- a",
        "e+ e+ -> e+ e+",
        "e+ a -> e+ a",
        "a a -> e- e+",
    }
    for p in procs:
        parse_process(str(p), "qed")  # every enumerated process is accepted


@pytest.mark.parametrize("theory", ["qed", "qcd"])
def test_enumeration_counts(theory):
    counts = {m: len(enumerate_processes(theory, [m])) for m in ("1->2", "2->2")}
    expected = {"qed": {"1->2": 27, "2->2": 279}, "qcd": {"1->2": 19, "2->2": 133}}[theory]
    # 1->2 QED: 9 fermions x (f -> f a, fbar -> fbar a, a -> f fbar) = 27;
    # 1->2 QCD: 6 quarks x 3 + g -> g g = 19.
    assert counts == expected


def test_enumeration_rejects_bad_multiplicity():
    with pytest.raises(ProcessError, match="unsupported multiplicity '4->4'"):
        enumerate_processes("qed", ["4->4"])


def test_every_conserving_qed_2to2_candidate_has_diagrams_iff_flavours_are_conserved():
    # QED conserves each fermion flavour separately; tree diagrams exist exactly then.
    procs = enumerate_processes("qed", ["2->2"], particles=["e-", "e+", "mu-", "mu+", "u", "u~", "c", "c~", "a"])
    for p in procs:
        assert has_tree_diagram(p)
    assert Process("qed", ("u", "u~"), ("c", "c~")) in procs
    assert not has_tree_diagram(Process("qed", ("u", "c~"), ("c", "u~")))


def _qed_tree_exists(proc: Process) -> bool:
    """Independent rule: with every leg outgoing, a QED tree diagram exists iff each fermion
    flavour comes with as many antiparticles (one f fbar photon vertex, no flavour change) and
    there is at least one fermion line (photons alone do not couple at tree level)."""
    model = proc.model
    outgoing = [model.anti(n) for n in proc.incoming] + list(proc.outgoing)
    balance: dict[str, int] = {}
    for name in outgoing:
        particle = model.particle(name)
        if particle.fermion:
            balance[particle.field.name] = balance.get(particle.field.name, 0) + (-1 if particle.is_anti else 1)
    return bool(balance) and all(n == 0 for n in balance.values())


def _every_candidate(theory: str, n_in: int, n_out: int, names: list[str]) -> list[Process]:
    return [
        Process(theory, ins, outs)
        for ins in itertools.combinations_with_replacement(names, n_in)
        for outs in itertools.combinations_with_replacement(names, n_out)
    ]


@pytest.mark.parametrize("n_in, n_out", [(1, 2), (2, 1), (2, 2), (2, 3), (3, 2)])
def test_qed_enumeration_is_the_flavour_rule(n_in, n_out):
    names = ["e-", "e+", "mu-", "mu+", "u", "u~", "d", "d~", "a"]
    expected = [p for p in _every_candidate("qed", n_in, n_out, names) if _qed_tree_exists(p)]
    assert enumerate_processes("qed", [f"{n_in}->{n_out}"], particles=names) == expected


@pytest.mark.slow
def test_qed_3to3_enumeration_is_the_flavour_rule():
    names = list(parse_process("e- e+ -> a a", "qed").model.particles)
    expected = [p for p in _every_candidate("qed", 3, 3, names) if _qed_tree_exists(p)]
    assert len(expected) == 3039
    assert enumerate_processes("qed", ["3->3"]) == expected


def test_qcd_enumeration_equals_feyngraph_on_every_candidate():
    # The enumeration pairs sides by their quantum numbers and asks FeynGraph once per crossing
    # class; asking it about every conserving candidate must give the same list.
    names = ["u", "u~", "d", "d~", "g"]
    for mult in ("2->2", "2->3"):
        n_in, n_out = (int(x) for x in mult.split("->"))
        expected = []
        for p in _every_candidate("qcd", n_in, n_out, names):
            try:
                check_conservation(p)
            except ProcessError:
                continue
            if has_tree_diagram(p):
                expected.append(p)
        assert enumerate_processes("qcd", [mult], particles=names) == expected


def test_crossing_key_makes_every_leg_outgoing():
    assert crossing_key(Process("qed", ("e-", "e+"), ("mu-", "mu+"))) == ("e+", "e-", "mu+", "mu-")
    assert crossing_key(Process("qed", ("e+", "a"), ("e+", "a"))) == crossing_key(
        Process("qed", ("e-", "e+"), ("a", "a"))
    )


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "symba", *args], capture_output=True, text=True)


def test_cli_json_is_one_object_with_the_documented_keys():
    res = _cli("amplitudes", "e- e+ -> mu- mu+", "--theory", "qed", "--json")
    assert res.returncode == 0, res.stderr
    obj = json.loads(res.stdout)
    assert set(obj) == {"process", "theory", "backend", "diagrams", "squared_amplitude"}
    assert obj["backend"] == "builtin" and obj["process"] == "e- e+ -> mu- mu+"
    (diag,) = obj["diagrams"]
    assert set(diag) == {"index", "propagators", "amplitude", "squared_amplitude"}
    assert diag["propagators"] == ["A(p_1+p_2)"]


@pytest.mark.parametrize(
    "args",
    [
        ["amplitudes", "e- e+ -> mu- x"],
        ["amplitudes", "e- e+ -> mu- e+"],
        ["amplitudes", "nonsense"],
        ["amplitudes", "e- e+ -> mu- mu+", "--theory", "qfd"],
        ["amplitudes", "e- e+ -> mu- mu+", "--backend", "nope"],
    ],
)
def test_cli_bad_input_is_one_line_exit_2(args):
    res = _cli(*args)
    assert res.returncode == 2
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("symba: error:"), res.stderr
    assert "Traceback" not in res.stderr
