"""Checks that need MARTY itself (``pytest -m marty``); skipped when the bridge is absent.

Cross-validation: per-diagram and whole-process squares of both backends agree
numerically at random physical phase-space points.
"""

import json
import subprocess
import sys

import pytest

from symba.physics import marty
from symba.physics.engine import compute_process
from symba.physics.kinematics import numerically_equal
from symba.physics.process import enumerate_processes, parse_process

pytestmark = pytest.mark.marty  # skipped by conftest.py when the bridge is absent

QED_2TO2 = [str(p) for p in enumerate_processes("qed", ("2->2",))]
QED_2TO3_SAMPLE = ["e- e+ -> mu- mu+ a", "e- mu- -> e- mu- a", "e- e+ -> u u~ a", "e- a -> e- a a"]
QCD_2TO2 = [p for p in enumerate_processes("qcd", ("2->2",))]
QCD_2TO2_NO_GLUON_PAIRS = [str(p) for p in QCD_2TO2 if not marty.whole_square_needs_builtin(p)]
QCD_2TO2_GLUON_PAIRS = [str(p) for p in QCD_2TO2 if marty.whole_square_needs_builtin(p)]


def assert_backends_agree(text: str, theory: str) -> None:
    proc = parse_process(text, theory)
    ours = compute_process(proc, theory, backend="marty")
    builtin = compute_process(proc, theory, backend="builtin")
    masses = proc.leg_masses()
    assert ours.backend == "marty" and ours.process == builtin.process
    assert [d.index for d in ours.diagrams] == [d.index for d in builtin.diagrams]
    assert [d.propagators for d in ours.diagrams] == [d.propagators for d in builtin.diagrams]
    for mine, ref in zip(ours.diagrams, builtin.diagrams):
        assert "reg_prop" not in mine.squared_amplitude
        assert numerically_equal(mine.squared_amplitude, ref.squared_amplitude, masses, proc.n_in), (
            f"diagram {mine.index} of {text}: {mine.squared_amplitude} != {ref.squared_amplitude}"
        )
    if marty.whole_square_needs_builtin(proc):
        # MARTY's own whole square is unphysical here; the builtin one is used and labelled so.
        assert ours.whole_process_backend == "builtin"
        assert ours.to_json()["whole_process_backend"] == "builtin"
        assert ours.squared_amplitude == builtin.squared_amplitude
    else:
        assert ours.whole_process_backend == "marty" and "whole_process_backend" not in ours.to_json()
        assert numerically_equal(ours.squared_amplitude, builtin.squared_amplitude, masses, proc.n_in)


@pytest.mark.parametrize("text", QED_2TO2)
def test_qed_2to2_matches_builtin(text):
    assert_backends_agree(text, "qed")


@pytest.mark.parametrize("text", QED_2TO3_SAMPLE)
def test_qed_2to3_sample_matches_builtin(text):
    assert_backends_agree(text, "qed")


@pytest.mark.parametrize("text", QCD_2TO2_NO_GLUON_PAIRS)
def test_qcd_2to2_without_gluon_pairs_matches_builtin(text):
    assert_backends_agree(text, "qcd")


@pytest.mark.parametrize("text", QCD_2TO2_GLUON_PAIRS)
def test_qcd_2to2_with_gluon_pairs_keeps_marty_diagrams(text):
    assert_backends_agree(text, "qcd")


def test_module_loads_with_a_clean_environment():
    # No LD_LIBRARY_PATH, no PYTHONPATH: the module's RPATH must find libmarty.so and its libooptools.so.
    done = subprocess.run(
        [sys.executable, "-c", "import symba_marty; print(symba_marty.compute.__doc__[:4])"],
        capture_output=True,
        text=True,
        timeout=300,
        env={"PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("comp")


def test_json_has_the_builtin_schema():
    ours = compute_process("e- e+ -> a a", "qed", backend="marty").to_json()
    builtin = compute_process("e- e+ -> a a", "qed", backend="builtin").to_json()
    assert ours.keys() == builtin.keys()
    assert [d.keys() for d in ours["diagrams"]] == [d.keys() for d in builtin["diagrams"]]
    for d in ours["diagrams"]:
        assert "reg_prop" not in d["amplitude"] and "g_s" not in d["amplitude"]
    assert "i" not in ours["squared_amplitude"].replace("m_e", "")


def _run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)


def test_bridge_is_silent():
    # print_model writes the model to MARTY's std::cout and a line to std::cerr on purpose.
    code = (
        "import symba_marty\n"
        "text = symba_marty.print_model('qed')\n"
        "symba_marty.compute('qed', [('e', False), ('e', True)], [('mu', False), ('mu', True)])\n"
        "assert 'A' in text and len(text) > 100, text\n"
    )
    done = _run_python(code)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and done.stderr == ""


def test_marty_errors_become_python_exceptions_with_marty_message():
    import symba_marty

    with pytest.raises(symba_marty.MartyError, match=r"NameError.*no_such_particle.*not found"):
        symba_marty.provoke_error("qed")
    with pytest.raises(marty.MartyFailure, match=r"NameError.*\"zz\" not found"):
        marty.run_in_worker("qed", [("zz", False)], [("e", False)], True, True, timeout=120)
    with pytest.raises(symba_marty.MartyError, match="unknown theory 'qcd2'"):
        symba_marty.compute("qcd2", [], [])


def test_timeout_is_enforced():
    with pytest.raises(marty.MartyFailure, match="timed out after 0.05 s"):
        marty.run_in_worker("qed", [("e", False), ("e", True)], [("mu", False), ("mu", True)], True, True, 0.05)


def test_repeated_calls_do_not_grow_memory():
    code = (
        "import json, symba_marty\n"
        "def rss():\n"
        "    return int(open('/proc/self/statm').read().split()[1]) * 4096\n"
        "legs = ([('e', False), ('e', True)], [('A', False), ('A', False)])\n"
        "for _ in range(10): symba_marty.compute('qed', *legs)\n"
        "warm = rss()\n"
        "for _ in range(60): symba_marty.compute('qed', *legs)\n"
        "print(json.dumps([warm, rss()]))\n"
    )
    done = _run_python(code)
    assert done.returncode == 0, done.stderr
    warm, after = json.loads(done.stdout)
    # 60 more calls; a leak of the results would cost well over 1 MB each.
    assert after - warm < 8 * 2**20, f"RSS grew by {(after - warm) / 2**20:.1f} MiB over 60 calls"


def _raw_marty_amplitudes(proc) -> list[str]:
    """MARTY's amplitudes of a process, translated into our syntax but not canonicalised."""
    incoming, outgoing = marty.marty_legs(proc)
    raw = marty.run_in_worker(proc.theory, incoming, outgoing, False, False, 300.0, what=str(proc))
    model = proc.model
    labels = {model.particle(n).label for n in model.particles if model.particle(n).fermion}
    return [marty.translate_amplitude(d["amplitude"], labels) for d in raw["diagrams"]]


@pytest.mark.parametrize("theory, text", [("qed", p) for p in QED_2TO2] + [("qcd", str(p)) for p in QCD_2TO2])
def test_canonical_form_keeps_every_marty_amplitude(theory, text):
    # Every rewrite is checked against brute-force numbers (explicit spinors, every helicity and colour):
    # the canonical text is MARTY's amplitude, sign included, so it squares to the same value.
    import numpy as np
    from physics.bruteforce import AmplitudeEvaluator, BruteForce, kinematics_from_point

    from symba.physics.canonical import canonicalise
    from symba.physics.kinematics import random_point

    proc = parse_process(text, theory)
    brute = BruteForce(proc)
    evaluate = [
        AmplitudeEvaluator(
            brute, kinematics_from_point(random_point(proc.leg_masses(), proc.n_in, seed=s), proc.n_in), "feynman"
        )
        for s in (3, 4)
    ]
    for amplitude in _raw_marty_amplitudes(proc):
        out, canonical = canonicalise(amplitude, proc, signed=True)
        if not canonical:
            assert out == amplitude  # kept as written
            continue
        for ev in evaluate:
            want, got = ev(amplitude), ev(out)
            assert np.max(np.abs(got - want)) <= 1e-9 * np.max(np.abs(want)), f"{amplitude}\n -> {out}"
