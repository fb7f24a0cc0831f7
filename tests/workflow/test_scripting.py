"""A script job's bad input is one console line (and the job's log says it too); a bug keeps its traceback."""

import types

import pytest

from symba.dataset_schema import ShardError
from symba.pipeline.scripting import rule_logging


def _job(tmp_path):
    return types.SimpleNamespace(log=[str(tmp_path / "job.log")])


def test_a_damaged_shard_is_one_line_and_exit_1(tmp_path, capfd):
    with pytest.raises(SystemExit) as stop:
        with rule_logging(_job(tmp_path)):
            raise ShardError("shard results/default/dataset/qed/h000.parquet is damaged (page checksum)")
    assert stop.value.code == 1
    err = capfd.readouterr().err.strip().splitlines()
    assert err == ["symba: error: shard results/default/dataset/qed/h000.parquet is damaged (page checksum)"]
    assert "h000.parquet is damaged" in (tmp_path / "job.log").read_text()


def test_a_full_disk_says_disk(tmp_path, capfd):
    with pytest.raises(SystemExit):
        with rule_logging(_job(tmp_path)):
            raise OSError(28, "No space left on device", "results/default/tokens/qed/h000.parquet")
    (line,) = capfd.readouterr().err.strip().splitlines()
    assert "disk full" in line and "h000.parquet" in line


def test_a_bug_keeps_its_traceback(tmp_path):
    with pytest.raises(KeyError):
        with rule_logging(_job(tmp_path)):
            raise KeyError("bug")
