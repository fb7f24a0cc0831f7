"""Each run in its own folder: a second configuration never rewrites or mixes into another's shards."""

import hashlib
import json

import pyarrow.parquet as pq
import pytest

from symba.pipeline.config_check import ConfigError, check_config, fill_theory_defaults
from symba.pipeline.runs import check_own_folder, foreign_shards, record_processes, recorded_processes

from .runner import ROOT, ok, snakemake

# Run by .ci/run's second pass (python -m pytest -m slow): two configs run end to end in one clone (about 1.5 min).
pytestmark = pytest.mark.slow

TWO = ["e- e+ -> mu- mu+", "e- mu- -> e- mu-"]
OTHER = ["e- a -> e- a"]


def test_a_processes_list_computes_exactly_those_processes():
    config = {"theories": {"qed": {"processes": TWO}, "qcd": {"particles": ["u", "u~", "g"]}}}
    fill_theory_defaults(config)
    assert config["theories"]["qed"]["multiplicities"] == []  # not the 2->2 default: only the list
    assert config["theories"]["qcd"]["multiplicities"] == ["2->2"]
    kept = {"theories": {"qed": {"multiplicities": ["2->2"], "processes": TWO}}}
    fill_theory_defaults(kept)
    assert kept["theories"]["qed"]["multiplicities"] == ["2->2"]


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")


def test_foreign_shards_are_the_files_this_config_would_not_make(tmp_path):
    for name in ("h000", "h001", "e-_e+__mu-_mu+", ".h002.parquet.abc"):  # the last: a write in progress
        _touch(tmp_path / "dataset/qed" / f"{name}.parquet")
    _touch(tmp_path / "tokens/qcd/h000.parquet")
    _touch(tmp_path / "tokens/vocab.json")
    found = foreign_shards(tmp_path, {"qed": ["h000", "h001"]})
    assert found == [str(tmp_path / "dataset/qed/e-_e+__mu-_mu+.parquet"), str(tmp_path / "tokens/qcd/h000.parquet")]
    assert foreign_shards(tmp_path, {"qed": ["h000", "h001", "e-_e+__mu-_mu+"], "qcd": ["h000"]}) == []


def test_a_run_refuses_a_config_that_leaves_out_its_processes_and_accepts_more(tmp_path):
    record_processes(tmp_path, {"qed": TWO})
    assert recorded_processes(tmp_path) == {"qed": sorted(TWO)}
    check_own_folder("default", tmp_path, {"qed": ["h000"]}, {"qed": TWO + OTHER})  # more processes: fine
    with pytest.raises(ConfigError) as refused:
        check_own_folder("default", tmp_path, {"qed": ["h000"]}, {"qed": OTHER})
    message = str(refused.value)
    assert "\n" not in message and "run 'default'" in message and "run=NAME" in message
    assert "'e- e+ -> mu- mu+' and 1 more" in message
    _touch(tmp_path / "amplitudes/qed/h001.parquet")
    with pytest.raises(ConfigError, match="h001.parquet"):
        check_own_folder("default", tmp_path, {"qed": ["h000"]}, {"qed": TWO})
    (tmp_path / "processes.json").write_text("[not json")
    with pytest.raises(ConfigError, match="processes.json is not a process record"):
        recorded_processes(tmp_path)


def _hashes(folder):
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*.parquet")}


def test_two_configs_in_one_clone_never_mix(tmp_path):
    first = {"targets": ["dataset"], "sharding": {"batch_size": 32}, "theories": {"qed": {"processes": TWO}}}
    console = ok(snakemake(tmp_path, config=first))
    # The quiet console (profiles/default): progress, then where the results are; no job blocks.
    assert "Select jobs to execute" not in console and "rule amplitudes" not in console
    assert "symba: done; results in results/default/" in console
    default = tmp_path / "results/default"
    before = _hashes(default)
    assert set(before) == {"amplitudes/qed/h000.parquet", "dataset/qed/h000.parquet"}

    # Same processes' bucket name h000, another config: refused in one line while it keeps its name...
    second = dict(first, theories={"qed": {"processes": OTHER}})
    refused = snakemake(tmp_path, config=second)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines()[-1].startswith("symba: bad config: run 'default': ")
    # ... and computed in its own folder once named.
    ok(snakemake(tmp_path, config=dict(second, run="other")))
    assert _hashes(default) == before
    rows = pq.read_table(tmp_path / "results/other/dataset/qed/h000.parquet").to_pylist()
    assert {r["process"] for r in rows} == set(OTHER)
    assert {r["process"] for r in pq.read_table(default / "dataset/qed/h000.parquet").to_pylist()} == set(TWO)
    assert json.loads((default / "processes.json").read_text()) == {"qed": sorted(TWO)}
    # Caches keyed by their whole input are shared by the runs.
    assert (tmp_path / "results/.cache/simplify").is_dir()
    assert not (default / ".cache").exists()


@pytest.mark.parametrize("name", ["../elsewhere", ".cache", "a/b", ""])
def test_a_run_name_stays_inside_the_results_folder(name):
    with pytest.raises(ConfigError, match="^run: "):
        check_config({"run": name}, ROOT / "workflow/schemas/config.schema.yaml")
