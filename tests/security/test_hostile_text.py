"""Hostile and careless text never runs code, never hangs, and fails with one line.

Every command runs in a subprocess with a hard kill (``subprocess.run(timeout=...)``).
The injection strings would create the file MARKER in the working directory if
anything evaluated them as Python (``sympify`` does: that was issue 14).
"""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symba.cli import main
from symba.tokenization.notations import NOTATIONS, notation_tokens

HARD_KILL_S = 20
INJECTION = "__import__('os').system('touch MARKER')"
LABELLED_OK = "Interaction: e_-(X) e_+(X) to mu_-(X) mu_+(X) : s : amp : 2*e^4*(s_13*s_24 + s_14*s_23)/s_12^2"
TRUTH = "2*e^4*(s_13*s_24 + s_14*s_23 + m_mu^2*s_12 + m_e^2*s_34 + 2*m_e^2*m_mu^2) / (m_e^2 + s_12)^2"
PROCESS = "e- e+ -> mu- mu+"


@dataclass
class Case:
    name: str
    args: list[str]
    exit_code: int
    fragment: str  # expected in stderr (exit 2) or stdout (exit 0)
    files: dict[str, bytes] = field(default_factory=dict)
    stdin: str | None = None


def _deep_tokens(depth: int) -> str:
    return " ".join(["neg"] * depth + ["s_12"])


CASES = [
    # issue 14: hangs
    Case("huge power", ["tokenize", "9^999999999"], 2, "exponent must be an integer from -64 to 64"),
    Case("power tower", ["tokenize", "2^2^2^2^2^2"], 2, "(65536)"),
    Case(
        "huge power tokens",
        ["detokenize", "--notation", "prefix", "pow INT+ 9 INT+ 9 9 9 9 9 9 9 9 9"],
        2,
        "'pow' at position 0: exponent must be an integer",
    ),
    # code in text
    Case("injection tokenize", ["tokenize", INJECTION], 2, "unknown symbol '__import__'"),
    Case("injection amplitude", ["tokenize", "--kind", "amplitude", INJECTION], 2, "unexpected character"),
    Case(
        "injection marty amplitude",
        ["tokenize", "--kind", "marty-amplitude", INJECTION],
        2,
        "unexpected character '_' at position 0",
    ),
    # the other bounds of the expression parser
    Case("long integer", ["tokenize", "1" * 400], 2, "more than 300 digits"),
    Case("folded number", ["tokenize", "(16*e)^64*(16*e)^64*(16*e)^64*(16*e)^64*(16*e)^64"], 2, "more than 300 digits"),
    Case("deep parentheses", ["tokenize", "(" * 5000 + "e" + ")" * 5000], 2, "nests deeper than 100 levels"),
    Case("many signs", ["tokenize", "--", "-" * 100001 + "e"], 0, "neg e"),
    Case("division by zero", ["tokenize", "s_12/(e - e)"], 2, "division by zero"),
    Case("float", ["tokenize", "0.5*e"], 2, "unexpected character '.'"),
    Case(
        "distributing again and again",
        ["tokenize", "(" + "+".join(f"s_12^{k}" for k in range(1, 60)) + ")" + "*(-1)" * 3000],
        2,
        "rebuild more than 10 terms per character",
    ),
    # the bounds of token sequences
    Case("deep tokens", ["detokenize", "--notation", "hybrid", _deep_tokens(5000)], 2, "nests deeper than 200 levels"),
    Case("long integer tokens", ["detokenize", "INT+ " + "9 " * 400], 2, "more than 300 digits"),
    Case(
        "folded product tokens",
        ["detokenize", "--notation", "hybrid", "mul( " + "INT+ 9 9 9 9 9 9 9 9 9 9 " * 120 + ")"],
        2,
        "more than 300 digits",
    ),
    Case(
        "zero to a negative power", ["detokenize", "--notation", "hybrid-short", "pow-2 INT+ 0"], 2, "division by zero"
    ),
    Case(
        "symbolic exponent", ["detokenize", "--notation", "prefix", "pow s_12 s_13"], 2, "exponent must be an integer"
    ),
    Case(
        "deep amplitude",
        ["tokenize", "--kind", "amplitude", "(" * 1000 + "e" + ")" * 1000],
        2,
        "nesting deeper than 40",
    ),
    Case(
        "deep amplitude tokens",
        ["detokenize", "--kind", "amplitude", "--notation", "hybrid", _deep_tokens(5000)],
        2,
        "nests deeper than 200 levels",
    ),
    Case("blank stdin line", ["tokenize", "-"], 2, "stdin line 2: empty line", stdin="s_12\n\ns_13\n"),
    # import-symba
    Case(
        "labelled injection",
        ["import-symba", "p.txt", "-o", "out.parquet"],
        2,
        "p.txt:2: cannot parse squared amplitude",
        files={
            "p.txt": f"{LABELLED_OK}\nInteraction: e_-(X) e_+(X) to mu_-(X) mu_+(X) : s : amp : {INJECTION}\n".encode()
        },
    ),
    Case(
        "pair injection",
        ["import-symba", "QED_amplitudes_1to2.txt", "QED_sqamplitudes_1to2.txt", "-o", "out.parquet"],
        2,
        "QED_sqamplitudes_1to2.txt:2: cannot parse squared amplitude",
        files={
            "QED_amplitudes_1to2.txt": b"Prod,e\nProd,e\n",
            "QED_sqamplitudes_1to2.txt": f"e^2\n{INJECTION}\n".encode(),
        },
    ),
    Case(
        "binary file",
        ["import-symba", "data.bin", "-o", "out.parquet"],
        2,
        "data.bin:2: not UTF-8 text (byte 128)",
        files={"data.bin": bytes(range(256)) * 4},
    ),
    Case(
        "NUL in file",
        ["import-symba", "p.txt", "-o", "out.parquet"],
        2,
        "p.txt:2: NUL character",
        files={"p.txt": f"{LABELLED_OK}\n\0\0\n".encode()},
    ),
    Case(
        "truncated line",
        ["import-symba", "p.txt", "-o", "out.parquet"],
        2,
        "p.txt:2: cannot parse squared amplitude '2*e^4*(s_12': expected ')'",
        files={
            "p.txt": f"{LABELLED_OK}\nInteraction: e_-(X) e_+(X) to mu_-(X) mu_+(X) : s : amp : 2*e^4*(s_12".encode()
        },
    ),
    Case(
        "truncated fields",
        ["import-symba", "p.txt", "-o", "out.parquet"],
        2,
        "p.txt:2: expected '<process> : <topology>",
        files={"p.txt": f"{LABELLED_OK}\nInteraction: e_-(X) e_+(X) to mu".encode()},
    ),
    Case(
        "good import",
        ["import-symba", "p.txt", "-o", "out.parquet"],
        0,
        "wrote 1 rows",
        files={"p.txt": f"{LABELLED_OK}\n".encode()},
    ),
]


def _run_cli(args: list[str], cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "symba", *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=HARD_KILL_S,
    )


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_cli_input(case: Case, tmp_path):
    for name, data in case.files.items():
        (tmp_path / name).write_bytes(data)
    result = _run_cli(case.args, tmp_path, case.stdin)
    assert result.returncode == case.exit_code, result.stderr
    assert "Traceback" not in result.stderr
    if case.exit_code == 2:
        assert result.stderr.endswith("\n") and result.stderr.count("\n") == 1, result.stderr
        assert case.fragment in result.stderr
        assert not (tmp_path / "out.parquet").exists()  # no partial output
    else:
        assert case.fragment in result.stdout and result.stderr == ""
    assert not (tmp_path / "MARKER").exists()
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]  # no temporary left behind


def test_predictions_never_run(tmp_path, monkeypatch):
    from symba.model.numeric import NumericChecker, numerically_equivalent

    monkeypatch.chdir(tmp_path)
    assert not numerically_equivalent(INJECTION, TRUTH, PROCESS, "qed")
    with NumericChecker(timeout_s=10, n_points=2) as checker:
        assert not checker.check(INJECTION, TRUTH, PROCESS, "qed")
        assert not checker.check(f"{TRUTH} + 0*{INJECTION}", TRUTH, PROCESS, "qed")
        assert checker.detokenize(["pow", "INT+", "9", "INT+", *"999999999"], "prefix") is None
        assert checker.detokenize(["mul(", "INT+", "2", "s_12", ")"], "hybrid") == "2*s_12"
        assert checker.check(TRUTH, TRUTH, PROCESS, "qed")  # the worker still answers
        assert checker.timeouts == 0  # refused by the bounds, not by the clock
    assert not (tmp_path / "MARKER").exists()


def test_marty_text_never_runs(tmp_path, monkeypatch):
    from symba.physics import marty

    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="unknown symbol '__import__'"):
        marty.read_square(INJECTION)
    with pytest.raises(ValueError, match="unknown symbol '__import__'"):
        marty.read_square(f"e^2*s_12 + 0*{INJECTION}")
    with pytest.raises(ValueError, match="exponent must be an integer"):
        marty.read_square("e^2*9^999999999")
    with pytest.raises(ValueError, match="cannot read MARTY amplitude"):
        marty.translate_amplitude(INJECTION, ["e"])
    assert not (tmp_path / "MARKER").exists()


# ---------------------------------------------------------------- property: random input


def _main_bounded(argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    """``symba`` in this process, with a hard bound on wall-clock time (the test fails past it)."""
    out, err, result = io.StringIO(), io.StringIO(), {}

    def target():
        old_stdin = sys.stdin
        # stdin is read as bytes; a lone surrogate becomes bytes that are not UTF-8
        sys.stdin = io.TextIOWrapper(io.BytesIO(stdin.encode("utf-8", "surrogatepass")))
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                try:
                    result["code"] = main(argv)
                except SystemExit as exc:  # argparse
                    result["code"] = exc.code
        except BaseException as exc:  # a bug: report it in the test
            result["error"] = exc
        finally:
            sys.stdin = old_stdin

    worker = threading.Thread(target=target, daemon=True)
    worker.start()
    worker.join(HARD_KILL_S)
    assert not worker.is_alive(), f"symba {argv[:3]} ran past {HARD_KILL_S} s"
    if "error" in result:
        raise result["error"]
    return result["code"], out.getvalue(), err.getvalue()


def _assert_clean(code: int, err: str) -> None:
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        assert err.endswith("\n") and err.count("\n") == 1, err


EXPRESSION_ALPHABET = st.sampled_from(
    list("0123456789+-*/^() .") + ["**", "s_12", "e", "m_e", "i", "x", INJECTION[:12]]
)
PROPERTY = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@PROPERTY
@given(st.one_of(st.text(max_size=200), st.lists(EXPRESSION_ALPHABET, max_size=60).map("".join)))
def test_random_text_into_tokenize(text):
    for notation in NOTATIONS:
        code, _, err = _main_bounded(["tokenize", "--notation", notation, "-"], text.replace("\n", " ") + "\n")
        _assert_clean(code, err)


@PROPERTY
@given(st.data())
def test_random_tokens_into_detokenize(data):
    notation = data.draw(st.sampled_from(NOTATIONS))
    vocabulary = notation_tokens(notation) + ["junk", "(", "INT+"]
    tokens = data.draw(st.lists(st.sampled_from(vocabulary), min_size=1, max_size=80))
    code, _, err = _main_bounded(["detokenize", "--notation", notation, " ".join(tokens)])
    _assert_clean(code, err)


@PROPERTY
@given(st.binary(max_size=300), st.booleans())
def test_random_bytes_into_import_symba(tmp_path_factory, payload, labelled):
    folder = tmp_path_factory.mktemp("import")
    source = folder / "random.txt"
    source.write_bytes((b"Interaction: e_-(X) e_+(X) to mu_-(X) mu_+(X) : s : amp : " if labelled else b"") + payload)
    out = folder / "out.parquet"
    code, _, err = _main_bounded(["import-symba", str(source), "-o", str(out)])
    _assert_clean(code, err)
    assert out.exists() == (code == 0)
