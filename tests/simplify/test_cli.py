"""``symba simplify``: one output line per input line, bad input one line and exit code 2."""

from __future__ import annotations

import subprocess
import sys


def run(*args, stdin=""):
    return subprocess.run(
        [sys.executable, "-m", "symba", "simplify", *args], input=stdin, capture_output=True, text=True, timeout=300
    )


def test_argument_with_imaginary_unit_comes_out_real():
    out = run("2*I*e^2*(I*e^2*(s_12 + m_e^2))")
    assert out.returncode == 0, out.stderr
    assert out.stdout == "-2*e^4*(m_e^2 + s_12)\n"  # I*I = -1, by hand


def test_stdin_one_line_per_line_and_bad_line_named():
    out = run("-", "--engine", "sympy", stdin="s_12^2 - s_13^2\n1/(s_12\n4*s_12/2\n")
    assert out.stdout.splitlines() == ["(s_12 + s_13)*(s_12 - s_13)", "1/(s_12", "2*s_12"]
    assert out.returncode == 2
    assert len(out.stderr.splitlines()) == 1 and "stdin line 2" in out.stderr and "Traceback" not in out.stderr


def test_bad_options_and_empty_lines_are_one_line_errors():
    for args, stdin, needle in [
        (["x", "--timeout", "0"], "", "timeout must be > 0"),
        (["-"], "s_12\n\ns_13\n", "stdin line 2: empty line"),
        (["x", "--engine", "maple"], "", "invalid choice"),
    ]:
        out = run(*args, stdin=stdin)
        assert out.returncode == 2 and len(out.stderr.splitlines()) == 1 and needle in out.stderr, out.stderr
