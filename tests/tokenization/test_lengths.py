"""The length report merged from the tokenize stage's per-shard files equals the one that parses every shard."""

import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from symba.dataset_schema import SCHEMA
from symba.tokenization.lengths import ShardLengths
from symba.tokenization.stats import length_report, length_report_from_files, shard_lengths
from symba.tokenization.token_shards import tokenize_shard

MAX_TOKENS = 8  # small enough that some pairs are over it by tokens, one by characters alone
TOO_LONG_BY_CHARACTERS = "+".join(["s_12"] * 130)  # over 64 characters per token allowed


def _shard(path, multiplicity, pairs, statuses=None):
    n = len(pairs)
    rows = {
        "process": ["e- e+ -> mu- mu+"] * n,
        "theory": ["qed"] * n,
        "multiplicity": [multiplicity] * n,
        "diagram": list(range(n)),
        "amplitude": [a for a, _ in pairs],
        "squared_raw": [s for _, s in pairs],
        "squared": [s for _, s in pairs],
        "status": statuses or ["ok"] * n,
        "backend": ["builtin"] * n,
        "engine_version": ["1"] * n,
        "canonical_process": ["e- e+ -> mu- mu+"] * n,
        "permutation": ["1,2,3,4"] * n,
    }
    pq.write_table(pa.table(rows, schema=SCHEMA), path)
    return path


@pytest.fixture
def dataset_shards(tmp_path):
    first = _shard(
        tmp_path / "h000.parquet",
        "2->2",
        [
            ("i*e", "m_mu^2*s_12"),
            ("i*e", "m_mu^2*s_12"),  # duplicate: counted once
            ("i*e*s_12", "s_12"),
            ("i*e", "s_12 +"),  # unparseable: left out
            ("i*e", TOO_LONG_BY_CHARACTERS),
            ("i*e^2*s_13/(s_12-m_mu^2)", "2*e^4*(s_12^2+s_13^2)/s_12^2"),  # over MAX_TOKENS in some notations
            ("i*e", "s_13"),
        ],
        statuses=["ok", "ok", "ok", "ok", "ok", "ok", "error"],  # an error row is left out
    )
    second = _shard(tmp_path / "h001.parquet", "2->3", [("-i*e^3*s_23", "e^6*s_23/s_12"), ("i*e", "m_mu^2*s_12")])
    return [first, second]


def test_merged_report_equals_the_report_over_dataset_shards(dataset_shards, tmp_path):
    direct = length_report(dataset_shards, tmp_path / "direct.json", tmp_path / "direct.png", MAX_TOKENS)
    length_files = []
    for shard in dataset_shards:
        length_files.append(tmp_path / "lengths" / f"{shard.stem}.json")
        tokenize_shard(
            shard, tmp_path / f"{shard.stem}.tokens.parquet", max_tokens=MAX_TOKENS, lengths_out=length_files[-1]
        )
        assert ShardLengths.read(length_files[-1]) == shard_lengths(shard, MAX_TOKENS)
    merged = length_report_from_files(length_files, tmp_path / "merged.json", tmp_path / "merged.png", MAX_TOKENS)
    assert merged == direct
    assert (tmp_path / "merged.json").read_text() == (tmp_path / "direct.json").read_text()
    assert (tmp_path / "merged.png").read_bytes() == (tmp_path / "direct.png").read_bytes()
    # the fixture's own counts: 3 + 2 usable unique pairs, one too long by characters
    assert merged["notations"]["prefix"]["squared"]["n"] == 5
    assert merged["notations"]["prefix"]["dropped_over_max_tokens"]["pairs_over_by_characters"] == 1
    assert merged["notations"]["prefix"]["dropped_over_max_tokens"]["pairs"] > 1
    assert set(merged["by_multiplicity"]) == {"2->2", "2->3"}


def test_tokenized_shards_keep_their_split_in_the_lengths(dataset_shards, tmp_path):
    tokenized = tmp_path / "tokens.parquet"
    tokenize_shard(dataset_shards[0], tokenized, split="random")
    record = shard_lengths(tokenized)
    assert len(record.splits) == len(record.multiplicities) == 4  # no cap: the long sum is tokenized too
    record.write(tmp_path / "split.json")
    assert ShardLengths.read(tmp_path / "split.json") == record


def test_a_length_file_of_another_shape_is_one_line_naming_it(tmp_path):
    bad = tmp_path / "h000.json"
    bad.write_text(json.dumps({"format": 1, "lengths": {}}))
    with pytest.raises(ValueError, match=r"h000\.json: not a shard length file") as exc:
        ShardLengths.read(bad)
    assert "\n" not in str(exc.value)
    (tmp_path / "text.json").write_text("not json")
    with pytest.raises(ValueError, match="not a shard length file"):
        ShardLengths.read(tmp_path / "text.json")


def test_lengths_recorded_under_another_cap_are_refused(dataset_shards, tmp_path):
    record = shard_lengths(dataset_shards[1], max_tokens=0)
    record.write(tmp_path / "h001.json")
    with pytest.raises(ValueError, match="recorded with max_tokens 0, not 8"):
        length_report_from_files([tmp_path / "h001.json"], tmp_path / "l.json", tmp_path / "l.png", MAX_TOKENS)
