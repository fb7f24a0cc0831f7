"""The three ways the MARTY backend can fail, each with its own one-line message.

These run without MARTY: a fake ``symba_marty`` package on PYTHONPATH stands in
for a bridge that cannot load, or for one whose MARTY raises.  The probe and the
worker are fresh interpreters that inherit PYTHONPATH, as in real use.
"""

import os
import subprocess
import sys
import textwrap

import pytest

from symba.physics import marty
from symba.physics.engine import compute_process
from symba.physics.process import parse_process

PROCESS = "e- e+ -> mu- mu+"
LOADER_ERROR = "libooptools.so: cannot open shared object file: No such file or directory"


def fake_bridge(tmp_path, monkeypatch, init_text: str) -> None:
    """Put a ``symba_marty`` package with ``init_text`` first on the probe's and worker's path."""
    package = tmp_path / "fake" / "symba_marty"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(textwrap.dedent(init_text))
    paths = [str(tmp_path / "fake")] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(paths))


def test_bridge_missing(tmp_path, monkeypatch):
    # `python -S` drops site-packages, so the probe cannot see an installed bridge either.
    interpreter = tmp_path / "python-without-site"
    interpreter.write_text(f'#!/bin/sh\nexec "{sys.executable}" -S "$@"\n')
    interpreter.chmod(0o755)
    monkeypatch.setattr(sys, "executable", str(interpreter))
    status = marty.bridge_status()
    assert not status.loadable
    assert status.reason.startswith("module symba_marty is not installed; install MARTY, then")
    with pytest.raises(marty.MartyUnavailable) as err:
        marty.compute_marty(parse_process(PROCESS, "qed"))
    message = str(err.value)
    assert message.startswith("MARTY backend not available: module symba_marty is not installed")
    assert "`MARTY_ROOT=<prefix> pip install ./cpp/marty_bindings`" in message
    assert "\n" not in message


def test_bridge_installed_but_unloadable(tmp_path, monkeypatch):
    fake_bridge(tmp_path, monkeypatch, f"raise ImportError({LOADER_ERROR!r})\n")
    expected = (
        "MARTY backend not available: module symba_marty is installed but cannot be loaded "
        f"(ImportError: {LOADER_ERROR}); reinstall it with "
        "`MARTY_ROOT=<prefix> pip install --force-reinstall ./cpp/marty_bindings`"
    )
    assert not marty.bridge_installed()
    with pytest.raises(marty.MartyUnavailable) as err:
        compute_process(PROCESS, "qed", backend="marty")
    assert str(err.value).startswith(expected)
    # The worker classifies an import failure the same way, should the bridge break after the probe.
    with pytest.raises(marty.MartyUnavailable) as err:
        marty.run_in_worker("qed", [("e", False), ("e", True)], [("mu", False), ("mu", True)], True, True, 120)
    assert str(err.value).startswith(expected)


def test_bridge_unloadable_is_one_line_with_exit_code_2_from_the_cli(tmp_path, monkeypatch):
    fake_bridge(tmp_path, monkeypatch, f"raise ImportError({LOADER_ERROR!r})\n")
    done = subprocess.run(
        [sys.executable, "-m", "symba", "amplitudes", PROCESS, "--backend", "marty"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr
    assert "cannot be loaded (ImportError: libooptools.so: cannot open shared object file" in lines[0]


def test_marty_error(tmp_path, monkeypatch):
    fake_bridge(
        tmp_path,
        monkeypatch,
        """
        class MartyError(RuntimeError):
            pass

        def compute(theory, incoming, outgoing, diagram_squares=True, process_square=True):
            raise MartyError('NameError: particle "zz" not found in model')
        """,
    )
    assert marty.bridge_installed()
    with pytest.raises(marty.MartyFailure) as err:
        compute_process(PROCESS, "qed", backend="marty")
    assert str(err.value) == f"MARTY failed on '{PROCESS}': NameError: particle \"zz\" not found in model"


def test_bridge_that_crashes_the_interpreter_on_import_is_reported_not_fatal(tmp_path, monkeypatch):
    # A module linked against the wrong libmarty.so can abort at load time; only the probe dies.
    fake_bridge(tmp_path, monkeypatch, "import os\nos.abort()\n")
    status = marty.bridge_status()
    assert not status.loadable
    assert status.reason.startswith("module symba_marty is installed but importing it crashed (exit code -6)")
