"""The workflow under faults: parsing writes nothing, locked-out and dry runs leave no trace,
failed shards are not taken for finished ones, truncated shards are found, files are readable."""

import os
import shutil
import signal
import stat
import subprocess
import sys
import time

import pyarrow.parquet as pq
import pytest
import yaml

from .runner import ROOT, SLUGS, SNAKEFILE, broken_form, ok, snakemake, tiny_config


def snapshot(directory):
    """{relative path: (mtime_ns, content)} of every file below ``directory``."""
    return {
        str(p.relative_to(directory)): (p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(directory.rglob("*"))
        if p.is_file()
    }


def statuses(workdir):
    return {
        slug: {r["status"] for r in pq.read_table(workdir / f"results/default/dataset/qed/{slug}.parquet").to_pylist()}
        for slug in SLUGS
    }


def wait_for_lock(workdir, process, timeout_s=120):
    locks = workdir / ".snakemake/locks"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if locks.is_dir() and any(locks.iterdir()):
            return
        assert process.poll() is None, "the lock-holding run ended early"
        time.sleep(0.2)
    raise AssertionError("the lock-holding run never took the lock")


@pytest.mark.slow  # whole workflow runs: minutes on 2 cores
def test_dry_run_and_locked_out_run_change_nothing_and_the_next_run_rebuilds_every_shard(tmp_path):
    ok(snakemake(tmp_path, config=tiny_config()))
    assert all(s == {"ok"} for s in statuses(tmp_path).values())
    before = snapshot(tmp_path / "results")

    # A dry run with new simplify parameters plans the rebuild and writes nothing.
    dry = ok(snakemake(tmp_path, "--dry-run", config=tiny_config(simplify={"method": "none"})))
    assert "simplify" in dry
    assert snapshot(tmp_path / "results") == before

    # A run refused by the lock of a concurrent run writes nothing either.
    slow_form = broken_form(tmp_path / "slowform", sleep_s=60)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "snakemake",
            "-s",
            str(SNAKEFILE),
            "--directory",
            str(tmp_path),
            "--cores",
            "1",
            "--forcerun",
            "amplitudes",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, **slow_form),
        start_new_session=True,  # its own process group, so that its jobs end with it
    )
    try:
        wait_for_lock(tmp_path, holder)
        refused = snakemake(tmp_path, "--nolock", "--dry-run", config=tiny_config(simplify={"method": "none"}))
        ok(refused)  # (a --nolock dry run is allowed; it must not write either)
        locked = snakemake(tmp_path, config=tiny_config(simplify={"method": "none"}))
        assert locked.returncode != 0
        assert "cannot be locked" in locked.stdout + locked.stderr
        assert snapshot(tmp_path / "results/default/params") == {
            k[len("default/params/") :]: v for k, v in before.items() if k.startswith("default/params/")
        }
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
    ok(snakemake(tmp_path, "--unlock"))

    # The next real run rebuilds every shard under the new parameters: no mixed dataset.
    ok(snakemake(tmp_path, config=tiny_config(simplify={"method": "none"})))
    assert all(s == {"raw"} for s in statuses(tmp_path).values())
    # ... and going back to the old parameters rebuilds them all again.
    ok(snakemake(tmp_path, config=tiny_config()))
    assert all(s == {"ok"} for s in statuses(tmp_path).values())
    assert "Nothing to be done" in ok(snakemake(tmp_path))


@pytest.mark.slow  # whole workflow runs: minutes on 2 cores
def test_a_shard_whose_processes_all_fail_fails_and_is_recomputed_after_the_fix(tmp_path):
    config = tiny_config(amplitudes={"on_error": "skip"}, simplify={"method": "none"})
    failed = snakemake(tmp_path, config=config, env=broken_form(tmp_path / "brokenform"))
    assert failed.returncode != 0
    # The run stops at the first failed shard; whichever it was, its log says why.
    logs = [p.read_text() for p in (tmp_path / "results/default/logs/amplitudes/qed").glob("*.log")]
    assert any("all 1 processes of the shard failed" in log and "amplitudes.allow_empty_shards" in log for log in logs)
    assert not list((tmp_path / "results/default/amplitudes").rglob("*.parquet"))  # no empty shard passes for done
    # FORM fixed: the same command computes every process.
    ok(snakemake(tmp_path))
    assert all(s == {"raw"} for s in statuses(tmp_path).values())
    assert (tmp_path / "results/default/reports/skipped.tsv").read_text() == "theory\tprocess\treason\n"


@pytest.mark.slow  # whole workflow runs: minutes on 2 cores
def test_empty_shards_when_allowed_and_skips_listed(tmp_path):
    config = tiny_config(amplitudes={"on_error": "skip", "allow_empty_shards": True}, simplify={"method": "none"})
    ok(snakemake(tmp_path, config=config, env=broken_form(tmp_path / "brokenform")))
    assert all(pq.read_table(tmp_path / f"results/default/dataset/qed/{slug}.parquet").num_rows == 0 for slug in SLUGS)
    lines = (tmp_path / "results/default/reports/skipped.tsv").read_text().splitlines()
    assert lines[0] == "theory\tprocess\treason"
    assert sorted(line.split("\t")[1] for line in lines[1:]) == sorted(tiny_config()["theories"]["qed"]["processes"])
    assert all("FORM is broken" in line or "FORM" in line for line in lines[1:])


@pytest.mark.slow  # whole workflow runs: minutes on 2 cores
def test_a_truncated_shard_is_named_before_any_job_and_rebuilt_once_deleted(tmp_path):
    ok(snakemake(tmp_path, config=tiny_config(simplify={"method": "none"})))
    shard = tmp_path / f"results/default/dataset/qed/{SLUGS[1]}.parquet"
    shard.write_bytes(shard.read_bytes()[: shard.stat().st_size // 2])
    for args in (("--dry-run",), ()):
        result = snakemake(tmp_path, *args)
        assert result.returncode == 2
        (line,) = result.stderr.strip().splitlines()[-1:]
        assert f"results/default/dataset/qed/{SLUGS[1]}.parquet is truncated or not Parquet" in line
    shard.unlink()
    ok(snakemake(tmp_path))
    assert pq.read_table(shard).num_rows > 0


@pytest.mark.slow  # whole workflow runs: minutes on 2 cores
def test_outputs_are_readable_by_others_under_a_022_umask(tmp_path):
    old = os.umask(0o022)
    try:
        ok(snakemake(tmp_path, config=tiny_config(simplify={"method": "none"}, sharding={"batch_size": 2})))
    finally:
        os.umask(old)
    written = [
        p
        for p in (tmp_path / "results").rglob("*")
        if p.is_file() and p.suffix in (".parquet", ".json", ".txt", ".tsv")
    ]
    assert {p.parent.name for p in written} >= {"qed", "simplify", "amplitudes"}  # shards and stamps
    assert any(p.suffix == ".txt" for p in written)  # hashed shards' manifests
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in written), [
        (str(p), oct(p.stat().st_mode)) for p in written if stat.S_IMODE(p.stat().st_mode) != 0o644
    ]


def test_a_preset_configfile_runs_only_its_theories(tmp_path):
    preset = tmp_path / "preset.yaml"
    preset.write_text(
        yaml.safe_dump(
            {"targets": ["dataset"], "theories": {"qcd": {"multiplicities": [], "processes": ["u u~ -> g g"]}}}
        )
    )
    shutil.copy(ROOT / "config.yaml", tmp_path / "config.yaml")  # merged under the preset, as in the repository
    result = ok(snakemake(tmp_path, "--dry-run", "--configfile", str(preset)))
    assert "results/default/dataset/qcd/h000.parquet" in result  # the preset's theory, config.yaml's sharding
    assert "results/default/dataset/qed/" not in result
