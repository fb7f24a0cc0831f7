"""Digest of every FORM program the builtin engine writes and every square it returns.

Run by hand:  python benchmarks/form_programs_digest.py [--dump DIR] > digest.txt
Run it before and after a change to the FORM code: the two outputs must be equal
(same programs, same squares).  ``--dump`` also writes each program's text to DIR,
for a diff when they are not.  Covers every route: QED 2->2 (all processes), a few
QED 2->3, with and without masses; QCD with quarks and gluons, the pure-gauge route
(gluons only), the whole-process route with traces, the former "pairs" route and a
non-default polarisation reference.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess

from symba.physics import enumerate_processes
from symba.physics.builtin import compute_builtin
from symba.physics.diagrams import build_diagrams
from symba.physics.process import parse_process
from symba.physics.squaring import square

QED_2TO3 = ["e- e+ -> mu- mu+ a", "e- e- -> e- e- a", "e- a -> e- a a", "e- e+ -> a a a"]
QCD = [
    "u u~ -> d d~",
    "u d -> u d",
    "u u~ -> g g",
    "g g -> u u~",
    "u g -> u g",
    "g g -> g g",
    "u u~ -> g g g",
    "g g -> g g g",
    "u g -> u g g",
]
MASSLESS = [("e- e+ -> mu- mu+", "qed", ["m_e"]), ("u u~ -> g g", "qcd", ["m_u"])]
PAIRS_ROUTE = ["u u~ -> g g", "g g -> g g"]
OTHER_REFERENCES = [("u u~ -> g g", {3: 2}), ("g g -> g g", {1: 3, 2: 3, 3: 0})]


def digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:16]


class ProgramRecorder:
    """Catches the .frm file of every FORM call (the seam is FORM's command line)."""

    def __init__(self, dump: str | None):
        self.dump = dump
        self.programs: list[str] = []
        self.real_run = subprocess.run

    def __enter__(self):
        def run(cmd, *args, **kwargs):
            frm = [a for a in cmd if isinstance(a, str) and a.endswith(".frm")]
            if frm:
                with open(frm[-1]) as fh:
                    self.programs.append(fh.read())
            return self.real_run(cmd, *args, **kwargs)

        subprocess.run = run
        return self

    def __exit__(self, *exc):
        subprocess.run = self.real_run

    def take(self, label: str) -> list[str]:
        lines = []
        for k, text in enumerate(self.programs):
            lines.append(f"{label} | program {k} | {digest(text)}")
            if self.dump:
                name = label.replace(" ", "_").replace(">", "").replace("~", "bar") + f".{k}.frm"
                with open(os.path.join(self.dump, name), "w") as fh:
                    fh.write(text)
        self.programs.clear()
        return lines


def result_lines(label: str, per_diagram: list[str], total: str) -> list[str]:
    lines = [f"{label} | diagram {k} | {digest(sq)}" for k, sq in enumerate(per_diagram)]
    return lines + [f"{label} | total | {digest(total)}"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", help="folder for the programs' text")
    args = ap.parse_args()
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)
    cases = [(str(p), "qed", [], None) for p in enumerate_processes("qed", ["2->2"])]
    cases += [(t, "qed", [], None) for t in QED_2TO3]
    cases += [(t, "qcd", [], None) for t in QCD]
    cases += [(t, th, m, None) for t, th, m in MASSLESS]
    cases += [(t, "qcd", [], refs) for t, refs in OTHER_REFERENCES]
    with ProgramRecorder(args.dump) as recorder:
        for text, theory, massless, refs in cases:
            proc = parse_process(text, theory).with_massless(massless)
            label = f"{theory} {text}" + (f" massless {','.join(massless)}" if massless else "")
            label += f" refs {sorted(refs.items())}" if refs else ""
            result = compute_builtin(proc, timeout=600.0, physical_references=refs)
            lines = recorder.take(label)
            lines += result_lines(label, [d.squared_amplitude for d in result.diagrams], result.squared_amplitude)
            print("\n".join(lines), flush=True)
        for text in PAIRS_ROUTE:
            proc = parse_process(text, "qcd")
            per_diagram, total = square(proc, build_diagrams(proc), timeout=600.0, whole_process_route="pairs")
            label = f"qcd {text} pairs"
            print("\n".join(recorder.take(label) + result_lines(label, per_diagram, total)), flush=True)


if __name__ == "__main__":
    main()
