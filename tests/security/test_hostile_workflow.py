"""Hostile and careless workflow configs and manifests: each stops the dry run before any job,
with exit code 2 and one line naming the key or the file line, no traceback, no code run."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

# Run by .ci/run's second pass (python -m pytest -m slow): each case runs Snakemake (about 3 min on 2 cores).
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
BASE = {
    "targets": ["evaluation"],
    "theories": {"qed": {"multiplicities": [], "processes": ["e- e+ -> mu- mu+"]}},
}
MARKER = "PWNED-marker"
INJECTION = f"__import__('os').system('touch {MARKER}')"

# id, config changes, manifest text (None: no manifest), message fragment
CASES = [
    ("train typo", {"train": {"max_stepz": 3}}, None, "train.max_stepz"),
    ("evaluate typo", {"evaluate": {"beam_sise": 2}}, None, "evaluate.beam_sise"),
    ("train bad type", {"train": {"max_steps": "many"}}, None, "train.max_steps"),
    (
        "fractions over 1",
        {"tokenize": {"fractions": [0.9, 0.9, 0.9]}},
        None,
        "tokenize.fractions (train, valid, test) must sum to 1",
    ),
    ("fractions count", {"tokenize": {"fractions": [0.5, 0.5]}}, None, "tokenize.fractions"),
    ("notation", {"tokenize": {"notation": "postfix"}}, None, "tokenize.notation: 'postfix' is not one of"),
    ("simplify method", {"simplify": {"method": "expand"}}, None, "simplify.method: 'expand' is not one of"),
    ("simplify timeout", {"simplify": {"timeout": -1}}, None, "simplify.timeout"),
    ("unknown key", {"orderings": ["canonical"]}, None, "'orderings' was unexpected"),
    ("targets", {"targets": ["everything"]}, None, "targets.0: 'everything' is not one of"),
    (
        "particle",
        {"theories": {"qed": {"particles": ["e-", "zz"]}}},
        None,
        "theories.qed.particles: unknown particle 'zz'",
    ),
    (
        "process",
        {"theories": {"qed": {"multiplicities": [], "processes": ["e- e+ -> zz"]}}},
        None,
        "theories.qed.processes: unknown particle 'zz'",
    ),
    (
        "injected process",
        {"theories": {"qed": {"multiplicities": [], "processes": [INJECTION + " -> e-"]}}},
        None,
        "theories.qed.processes",
    ),
    ("manifest theory", {}, "qed\te- e+ -> mu- mu+\nqxd\te- e+ -> mu- mu+\n", "manifest.tsv:2: unknown theory 'qxd'"),
    ("manifest particle", {}, "qed\te- e+ -> zz zz\n", "manifest.tsv:1: unknown particle 'zz'"),
    ("manifest format", {}, "qed e- e+ -> mu- mu+\n", "manifest.tsv:1: expected 'theory<TAB>process'"),
    ("manifest injection", {}, f"qed\t{INJECTION} -> e-\n", "manifest.tsv:1:"),
    ("manifest missing", {"manifest": "nowhere.tsv"}, None, "nowhere.tsv"),
]


def model_check_rejects(section, key):
    """The model library refuses unknown keys (guards the cases that need it)."""
    from symba.model.config import eval_config, train_config

    build = train_config if section == "train" else eval_config
    try:
        build({key: 1})
    except ValueError:
        return True
    return False


@pytest.mark.parametrize("case_id, changes, manifest, fragment", CASES, ids=[c[0] for c in CASES])
def test_bad_input_stops_the_dry_run_with_one_line(tmp_path, case_id, changes, manifest, fragment):
    config = dict(BASE, **changes)
    if manifest is not None:
        (tmp_path / "manifest.tsv").write_text(manifest)
        config["manifest"] = "manifest.tsv"
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(ROOT / "Snakefile"),
        "--directory",
        str(tmp_path),
        "--cores",
        "1",
        "--dry-run",
    ]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 2, output[-2000:]
    lines = [line for line in output.splitlines() if fragment in line]
    assert len(lines) == 1 and lines[0].startswith("symba: bad "), output[-2000:]
    assert "Traceback" not in output and 'File "' not in output
    assert not (tmp_path / "results").exists()  # no job ran, nothing was written
    assert not (tmp_path / MARKER).exists() and not (ROOT / MARKER).exists()


def test_the_model_library_refuses_the_typos_used_above():
    assert model_check_rejects("train", "max_stepz") and model_check_rejects("evaluate", "beam_sise")
