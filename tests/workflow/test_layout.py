"""Static checks of the workflow's files: lint, profiles, shipped configs."""

import subprocess
import sys
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_snakemake_lint_is_clean(tmp_path):
    (tmp_path / "config.yaml").write_text(
        "targets: [dataset]\ntheories: {qed: {multiplicities: [], processes: ['e- e+ -> mu- mu+']}}\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "-s", str(ROOT / "Snakefile"), "--directory", str(tmp_path), "--lint"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Congratulations, your workflow is in a good condition!" in result.stdout + result.stderr


def test_shipped_configs_match_the_schema():
    schema = yaml.safe_load((ROOT / "workflow/schemas/config.schema.yaml").read_text())
    for name in ("config.yaml", "config/qed-2to3.yaml", "config/qcd-2to2.yaml"):
        jsonschema.validate(yaml.safe_load((ROOT / name).read_text()), schema)


def test_profiles():
    local = yaml.safe_load((ROOT / "profiles/default/config.yaml").read_text())
    assert local["rerun-incomplete"] is True and local["cores"] >= 1
    slurm = yaml.safe_load((ROOT / "profiles/slurm/config.yaml").read_text())
    assert slurm["executor"] == "slurm" and slurm["rerun-incomplete"] is True
    assert {"amplitudes", "simplify"} <= set(slurm["group-components"])
    assert slurm["set-resources"]["train"]["gpu"] == 1
    # amplitudes, simplify and train take memory and time from the config's `resources:` (rule files)
    for rule in ("amplitudes", "simplify"):
        assert not {"mem_mb", "runtime"} & set(slurm["set-resources"].get(rule, {}))
    # Grouped shards run one after another: one group slot per SLURM job, one per shard.
    assert slurm["resources"] == ["group_slot=1"] and slurm["set-resource-scopes"] == ["group_slot=local"]
    assert all(slurm["set-resources"][rule]["group_slot"] == 1 for rule in slurm["group-components"])
