import os

import pytest

from symba.physics.process import enumerate_processes, parse_process
from symba.pipeline import manifest as mf


def test_slug_matches_process_and_round_trips():
    for proc in enumerate_processes("qed", ("2->2",), ["e-", "e+", "mu-", "mu+", "a"]):
        assert mf.process_slug(str(proc)) == proc.slug
        assert parse_process(mf.slug_to_process(proc.slug), "qed") == proc


def test_malformed_slug_is_refused():
    with pytest.raises(ValueError, match="malformed process slug"):
        mf.slug_to_process("e-_e+_mu-_mu+")


def test_hash_is_stable_across_calls_and_processes():
    # Pinned: a change here would reshuffle every user's shards.
    assert mf.stable_hash("qed", "e- e+ -> mu- mu+") == int.from_bytes(
        __import__("hashlib").blake2b(b"qed:e- e+ -> mu- mu+", digest_size=8).digest(), "big"
    )
    assert mf.stable_hash("qed", "e- e+ -> mu- mu+") != mf.stable_hash("qcd", "e- e+ -> mu- mu+")


def fake_processes(n):
    return [f"e- e+ -> mu- mu+ {'a ' * (k % 3)}x{k}".replace("  ", " ") for k in range(n)]


def test_adding_one_process_changes_exactly_one_shard():
    processes = fake_processes(1000)
    before = mf.assign_shards("qed", processes, batch_size=16)
    after = mf.assign_shards("qed", processes + ["e- e+ -> ta- ta+ new"], batch_size=16)
    assert len(before) == len(after) == 64
    changed = [name for name in after if before.get(name) != after[name]]
    assert len(changed) == 1
    assert "e- e+ -> ta- ta+ new" in after[changed[0]]


def test_every_process_lands_in_exactly_one_shard():
    processes = fake_processes(500)
    shards = mf.assign_shards("qed", processes, batch_size=10)
    members = [p for group in shards.values() for p in group]
    assert sorted(members) == sorted(processes)
    assert mf.bucket_count(500, 10) == 64  # next power of two above 50


def test_batch_size_one_gives_one_shard_per_process_named_by_slug():
    shards = mf.assign_shards("qed", ["e- e+ -> mu- mu+", "e- a -> e- a"], batch_size=1)
    assert shards == {"e-_a__e-_a": ["e- a -> e- a"], "e-_e+__mu-_mu+": ["e- e+ -> mu- mu+"]}


def test_unchanged_text_keeps_mtime(tmp_path):
    path = tmp_path / "stamp.json"
    assert mf.write_stamp(path, {"timeout": 30}) == str(path)
    os.utime(path, (1_000_000, 1_000_000))
    mf.write_stamp(path, {"timeout": 30})
    assert path.stat().st_mtime == 1_000_000
    mf.write_stamp(path, {"timeout": 10})
    assert path.stat().st_mtime > 1_000_000
    assert '"timeout": 10' in path.read_text()


def test_manifest_file(tmp_path):
    path = tmp_path / "manifest.tsv"
    path.write_text("# theory, process\nqed\te- e+  ->  mu- mu+\n\nqcd\tu u~ -> g g\n")
    assert mf.read_manifest_file(path) == {"qed": ["e- e+ -> mu- mu+"], "qcd": ["u u~ -> g g"]}
    path.write_text("qed e- e+ -> mu- mu+\n")
    with pytest.raises(ValueError, match="manifest.tsv:1: expected 'theory<TAB>process'"):
        mf.read_manifest_file(path)


def test_cached_manifest_enumerates_once(tmp_path):
    spec = {"multiplicities": ["2->2"], "particles": ["e-", "e+", "mu-", "mu+"], "processes": ["e- a -> e- a"]}
    first = mf.cached_manifest("qed", spec, tmp_path)
    assert "e- e+ -> mu- mu+" in first and "e- a -> e- a" in first
    assert "e- e+ -> a a" not in first  # the photon is only allowed through `processes`
    (cache_file,) = tmp_path.iterdir()
    cache_file.write_text(mf.manifest_cache_text("qed", spec, ["sentinel"]))  # proves the second call reads it
    assert mf.cached_manifest("qed", spec, tmp_path) == ["sentinel"]


def test_manifest_lines_are_checked_against_the_theories(tmp_path):
    path = tmp_path / "manifest.tsv"
    path.write_text("qed\te- e+ -> mu- mu+\nqxd\te- e+ -> mu- mu+\n")
    with pytest.raises(ValueError, match=r"manifest.tsv:2: unknown theory 'qxd'"):
        mf.read_manifest_file(path)
    path.write_text("qcd\tu u~ -> e- e+\n")  # no electrons in QCD
    with pytest.raises(ValueError, match=r"manifest.tsv:1: unknown particle 'e-'"):
        mf.read_manifest_file(path)


def test_parameter_files_are_named_by_content_and_replace_their_siblings(tmp_path):
    old_text, new_text = mf.stamp_text({"timeout": 30}), mf.stamp_text({"timeout": 45})
    assert mf.content_digest(old_text) != mf.content_digest(new_text)
    old = tmp_path / f"{mf.content_digest(old_text)}.json"
    new = tmp_path / f"{mf.content_digest(new_text)}.json"
    mf.write_parameter_file(old, old_text, mf.content_digest(old_text), tmp_path / "old.log")
    mf.write_parameter_file(new, new_text, mf.content_digest(new_text), tmp_path / "new.log")
    assert new.read_text() == new_text and not old.exists()
    with pytest.raises(ValueError, match="not named by the digest"):
        mf.write_parameter_file(old, new_text, mf.content_digest(old_text), tmp_path / "x.log")
