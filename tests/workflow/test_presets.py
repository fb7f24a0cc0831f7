"""Every preset under config/ passes the config check as Snakemake layers it over config.yaml."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from snakemake.utils import update_config

from symba.pipeline.config_check import check_config

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = ROOT / "workflow" / "schemas" / "config.schema.yaml"
# Overlays that only make sense on top of another preset.
OVERLAYS = {"symba-qed-gpu.yaml": "symba-qed.yaml", "gpu.yaml": "qcd-2to2.yaml"}


def _layered(*names: str) -> dict:
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    for name in names:
        update_config(config, yaml.safe_load((ROOT / "config" / name).read_text()))
    return copy.deepcopy(config)


@pytest.mark.parametrize("name", sorted(p.name for p in (ROOT / "config").glob("*.yaml")))
def test_preset_passes_the_config_check(name):
    layers = [OVERLAYS[name], name] if name in OVERLAYS else [name]
    config = _layered(*layers)
    check_config(config, SCHEMA)
    if name not in OVERLAYS and name != "marty-2to2.yaml":  # marty-2to2: one run per theory, named on the command line
        assert config["run"] == name.removesuffix(".yaml"), "a preset names its own run folder"


def test_symba_qed_is_the_cpu_recipe_and_its_overlay_the_gpu_one():
    cpu, gpu = _layered("symba-qed.yaml"), _layered("symba-qed.yaml", "symba-qed-gpu.yaml")
    assert cpu["train"].get("device", "cpu") == "cpu" and cpu["train"]["model"]["d_model"] == 128
    assert gpu["train"]["device"] == "cuda" and gpu["evaluate"]["device"] == "cuda"
    assert gpu["theories"] == cpu["theories"] and gpu["run"] == cpu["run"]
