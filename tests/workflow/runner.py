"""Running the Snakemake workflow through its CLI in a temporary directory (shared by the tests)."""

import os
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SNAKEFILE = ROOT / "Snakefile"
PROCESSES = ["e- e+ -> mu- mu+", "e- mu- -> e- mu-", "e- a -> e- a"]
SLUGS = ["e-_e+__mu-_mu+", "e-_mu-__e-_mu-", "e-_a__e-_a"]


def tiny_config(**overrides):
    config = {
        "targets": ["dataset"],
        "theories": {"qed": {"multiplicities": [], "processes": PROCESSES}},
        "simplify": {"timeout": 60},
    }
    config.update(overrides)
    return config


def snakemake(workdir, *args, config=None, env=None, timeout=600):
    if config is not None:
        (Path(workdir) / "config.yaml").write_text(yaml.safe_dump(config))
    cmd = [sys.executable, "-m", "snakemake", "-s", str(SNAKEFILE), "--directory", str(workdir), "--cores", "2", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=dict(os.environ, **(env or {})))


def ok(result):
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def broken_form(directory, sleep_s=0):
    """A PYTHONPATH entry whose ``form_bin`` points at a FORM that fails (after ``sleep_s``)."""
    package = Path(directory) / "form_bin"
    package.mkdir(parents=True)
    script = Path(directory) / "tform"
    script.write_text(f"#!/bin/sh\nsleep {sleep_s}\necho 'FORM is broken' >&2\nexit 1\n")
    script.chmod(0o755)
    (package / "__init__.py").write_text(f"form_command = [{str(script)!r}]\n")
    return {"PYTHONPATH": os.pathsep.join([str(directory), os.environ.get("PYTHONPATH", "")])}
