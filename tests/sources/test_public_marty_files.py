"""Every line of the public SYMBA/MARTY 2->2 files (QED 360, QCD 234): the canonical text is MARTY's amplitude.

The files are not in the repository; set ``SYMBA_MARTY_FILES`` to the folder holding
``QED-2-to-2-diag-TreeLevel-*.txt`` and ``QCD-2-to-2-diag-TreeLevel-*.txt`` (skipped otherwise).
Truth is the brute-force evaluator (tests/physics/bruteforce.py: P&S spinors for every
helicity, Gell-Mann matrices for every colour): MARTY's text, only translated into our
syntax, and the imported canonical row text are one amplitude up to its overall sign, so
they square to the same value; and the row text is the engine's text of a diagram.
"""

import glob
import os
from pathlib import Path

import numpy as np
import pytest
from physics.bruteforce import AmplitudeEvaluator, BruteForce, kinematics_from_point

from symba.physics.canonical import engine_amplitudes, without_sign
from symba.physics.kinematics import random_point
from symba.physics.marty import translate_amplitude
from symba.physics.process import parse_process
from symba.sources.marty_amplitudes import AMPLITUDE_RENAMES, _fermion_labels
from symba.sources.symba_text import import_files

FOLDER = os.environ.get("SYMBA_MARTY_FILES", "")


def _files(theory: str) -> list[str]:
    return sorted(glob.glob(str(Path(FOLDER) / f"{theory.upper()}-2-to-2-diag-TreeLevel-*.txt"))) if FOLDER else []


@pytest.mark.parametrize("theory", ["qed", "qcd"])
def test_every_public_line_is_canonical_and_keeps_its_amplitude(theory):
    paths = _files(theory)
    if not paths:
        pytest.skip("set SYMBA_MARTY_FILES to the folder of the public MARTY 2->2 files")
    rows, stats = import_files(paths, theory=theory)
    assert stats["untranslated_amplitude"] == 0 and stats["noncanonical_amplitude"] == 0
    lines = [line for p in paths for line in Path(p).read_text().splitlines() if line.strip()]
    assert len(rows) == len(lines)
    evaluators: dict = {}
    for row, line in zip(rows, lines):
        proc = parse_process(row["process"], theory)  # our process names, legs in MARTY's order
        assert row["amplitude"] in [without_sign(a) for a in engine_amplitudes(proc)]
        fields = [f.strip() for f in line[len("Interaction:") :].split(" : ")]
        marty = translate_amplitude(" : ".join(fields[2:-1]), _fermion_labels(theory), rename=AMPLITUDE_RENAMES[theory])
        if row["process"] not in evaluators:
            brute = BruteForce(proc)
            evaluators[row["process"]] = [
                AmplitudeEvaluator(
                    brute, kinematics_from_point(random_point(proc.leg_masses(), 2, seed=s), 2), "feynman"
                )
                for s in (3, 4)
            ]
        for evaluate in evaluators[row["process"]]:
            want, got = evaluate(marty), evaluate(row["amplitude"])
            scale = np.max(np.abs(want))
            assert scale > 0
            assert min(np.max(np.abs(got - want)), np.max(np.abs(got + want))) <= 1e-9 * scale, (line, row["amplitude"])
