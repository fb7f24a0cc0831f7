"""Hostile and careless input to ``symba amplitudes`` and the engine: one line, exit 2, in bounded time.

Each CLI case runs in a subprocess with a hard kill, with TMPDIR pointed at a
fresh folder, which must be empty once the command has ended.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from symba.cli import is_input_error
from symba.physics import gluon_sums, squaring
from symba.physics.builtin import compute_builtin
from symba.physics.engine import EngineOptionError, compute_process
from symba.physics.form.runner import FormError
from symba.physics.process import ProcessError, feyngraph_guard, parse_process
from symba.physics.tempdirs import remove_stale_dirs

# Run by .ci/run's second pass (python -m pytest -m slow): subprocesses wait for FORM and engine timeouts.
pytestmark = pytest.mark.slow

SRC = str(Path(__file__).resolve().parents[2] / "src")
FIVE_THOUSAND = " ".join(["e-"] * 5000) + " -> " + " ".join(["e-"] * 5000)
EIGHT_ELECTRONS = "e- e- e- e- -> e- e- e- e-"
# Builds its 123 diagrams in milliseconds, then keeps FORM busy for minutes (four external gluons).
SLOW_IN_FORM = ["u u~ -> g g g g", "--theory", "qcd"]


def _env(tmp: Path) -> dict:
    path = os.pathsep.join(filter(None, [SRC, os.environ.get("PYTHONPATH")]))
    return dict(os.environ, PYTHONPATH=path, TMPDIR=str(tmp))


def _amplitudes(args, tmp: Path, hard_limit_s: float):
    started = time.monotonic()
    res = subprocess.run(
        [sys.executable, "-m", "symba", "amplitudes", *args],
        capture_output=True,
        text=True,
        env=_env(tmp),
        timeout=hard_limit_s,
    )
    return res, time.monotonic() - started


# (arguments, stderr fragment, wall-clock bound in seconds)
CASES = [
    pytest.param([FIVE_THOUSAND], "at most 200 are accepted", 30, id="5000->5000"),
    pytest.param(["e- e- e- e- e- -> e- e- e- e- e-"], "at most 6 are supported", 30, id="5->5"),
    pytest.param(["e- -> e-"], "needs at least 3", 30, id="1->1-qed"),
    pytest.param(["u -> u", "--theory", "qcd"], "needs at least 3", 30, id="1->1-qcd"),
    pytest.param(["e- e+ -> mu- mu+", "--timeout", "inf"], "timeout must be a finite number", 30, id="timeout-inf"),
    pytest.param(["e- e+ -> mu- mu+", "--timeout", "-1"], "timeout must be a finite number", 30, id="timeout--1"),
    pytest.param(["e- e+ -> mu- mu+", "--timeout", "0"], "timeout must be a finite number", 30, id="timeout-0"),
    pytest.param(["e- e+ -> mu- mu+", "--timeout", "nan"], "timeout must be a finite number", 30, id="timeout-nan"),
    pytest.param(["e- e+ -> mu- mu+", "--memory-mb", "10"], "memory cap must be", 30, id="memory-10"),
    pytest.param([EIGHT_ELECTRONS, "--timeout", "10"], "at most 6 are supported", 25, id="4->4-refused"),
    pytest.param(["e- e+ -> mu- x"], "unknown particle 'x'", 30, id="unknown-particle"),
    pytest.param(["e- -> e+ a"], "breaks charge conservation", 60, id="charge"),
    pytest.param(["a -> a a"], "no tree-level diagram", 60, id="no-diagram"),
]


@pytest.mark.parametrize("args, fragment, bound_s", CASES)
def test_bad_input_is_one_line_exit_2_in_bounded_time(args, fragment, bound_s, tmp_path):
    res, seconds = _amplitudes(args, tmp_path, hard_limit_s=bound_s + 30)
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 2, res.stderr
    assert len(lines) == 1 and lines[0].startswith("symba: error:"), res.stderr
    assert fragment in lines[0] and "Traceback" not in res.stderr
    assert seconds < bound_s, f"took {seconds:.1f} s"
    assert res.stdout == ""
    assert list(tmp_path.iterdir()) == []  # no temporary folder left behind


def test_oversized_process_is_refused_before_any_work():
    with pytest.raises(ProcessError, match="at most 200"):
        compute_process(FIVE_THOUSAND)
    with pytest.raises(ProcessError, match="at most 6"):
        parse_process("e- e- e- e- e- -> e- e- e- e- e-", check=False)


@pytest.mark.parametrize("timeout", [float("inf"), -1, 0, float("nan"), "soon"])
def test_engine_refuses_bad_timeouts(timeout):
    with pytest.raises(EngineOptionError, match="timeout must be"):
        compute_process("e- e+ -> mu- mu+", timeout=timeout)


def test_feyngraph_panics_become_one_line_process_errors():
    class PanicException(BaseException):  # the name pyo3 gives a Rust panic
        pass

    proc = parse_process("e- e+ -> mu- mu+", check=False)
    with pytest.raises(ProcessError, match="FeynGraph failed on process 'e- e\\+ -> mu- mu\\+': index out of bounds"):
        with feyngraph_guard(proc):
            raise PanicException("index out of bounds: the len is 0\nsecond line")
    with pytest.raises(KeyboardInterrupt):  # other BaseExceptions pass through
        with feyngraph_guard(proc):
            raise KeyboardInterrupt


@pytest.mark.parametrize(
    "form_output, fragment",
    [
        ({}, "lacks expression(s) E0, T"),
        ({"E0": "e^4*s_12"}, "lacks expression(s) T"),
        ({"E0": "", "T": "1"}, "malformed expression E0"),
        ({"E0": "2*s12", "T": "__import__('os')"}, "malformed expression T"),
    ],
)
def test_empty_or_malformed_form_output_is_an_error_naming_the_process(monkeypatch, form_output, fragment):
    monkeypatch.setattr(squaring, "run_form", lambda program, timeout: dict(form_output))
    proc = parse_process("e- e+ -> mu- mu+")
    with pytest.raises(FormError, match="e- e\\+ -> mu- mu\\+") as err:
        compute_builtin(proc, timeout=None)
    assert fragment in str(err.value)


def test_missing_whole_process_square_of_gluons_is_an_error_not_zero(monkeypatch):
    monkeypatch.setattr(gluon_sums, "run_form", lambda program, timeout, workers: {})
    proc = parse_process("u u~ -> g g", "qcd")
    with pytest.raises(FormError, match="u u~ -> g g.*lacks expression\\(s\\) T"):
        compute_builtin(proc, timeout=None)


def test_form_killed_by_the_timeout_leaves_no_folder(tmp_path):
    res, seconds = _amplitudes([*SLOW_IN_FORM, "--timeout", "8"], tmp_path, hard_limit_s=60)
    assert res.returncode == 2 and "not computed within 8 s" in res.stderr, res.stderr
    assert len(res.stderr.strip().splitlines()) == 1
    assert seconds < 30
    assert list(tmp_path.iterdir()) == []


def _processes_under(folder: Path) -> list[int]:
    """Processes whose command line names the folder (the worker's FORM)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(folder) in (entry / "cmdline").read_bytes().decode(errors="replace"):
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc")
@pytest.mark.slow
def test_a_killed_caller_takes_worker_and_form_along_and_its_folder_is_swept(tmp_path):
    caller = subprocess.Popen(
        [sys.executable, "-m", "symba", "amplitudes", *SLOW_IN_FORM],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=_env(tmp_path),
    )
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("symba-engine-*/symba-form-*")):
            assert time.monotonic() < deadline, "FORM never started"
            assert caller.poll() is None, "the command ended early"
            time.sleep(0.2)
        time.sleep(1)  # FORM is running now
    finally:
        caller.send_signal(signal.SIGKILL)
        caller.wait()
    deadline = time.monotonic() + 20
    while _processes_under(tmp_path):
        assert time.monotonic() < deadline, "FORM outlived its killed caller"
        time.sleep(0.2)
    (left,) = tmp_path.iterdir()  # the caller could not clean up ...
    assert left.name.startswith(f"symba-engine-{caller.pid}-")
    res, _ = _amplitudes(["e- e+ -> mu- mu+"], tmp_path, hard_limit_s=120)
    assert res.returncode == 0, res.stderr
    assert list(tmp_path.iterdir()) == []  # ... the next run did


def test_stale_folders_of_live_processes_and_other_names_are_kept(tmp_path):
    (tmp_path / f"symba-form-{os.getpid()}-abc").mkdir()  # ours, alive
    (tmp_path / "symba-form-notapid").mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / f"symba-form-{dead.stdout.strip()}-xyz").mkdir()
    assert remove_stale_dirs("symba-form-", root=str(tmp_path)) == [
        str(tmp_path / f"symba-form-{dead.stdout.strip()}-xyz")
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"symba-form-{os.getpid()}-abc", "symba-form-notapid"]


def test_only_the_projects_own_errors_are_one_line():
    assert is_input_error(ProcessError("bad process"))
    assert is_input_error(FormError("FORM failed"))
    assert is_input_error(FileNotFoundError("no such file"))
    try:
        parse_process("e- e+ -> mu- mu+", "qfd")  # a plain ValueError raised by the project
    except ValueError as exc:
        assert is_input_error(exc)
    assert not is_input_error(KeyError("m_x"))
    assert not is_input_error(RuntimeError("bug"))
    try:
        int("not a number")  # a ValueError from outside the project's code
    except ValueError as exc:
        assert not is_input_error(exc)
