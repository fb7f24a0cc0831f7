"""Orderings, simplification per relabelling class and the token cap, through the workflow's library.

Truth: direct computation of each ordered process (``compute_process``) and direct
simplification of each row's own text.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict

import pyarrow.parquet as pq
import pytest

from symba.dataset_schema import SCHEMA, read_shard
from symba.physics.engine import compute_process
from symba.physics.expression_parser import parse_expression
from symba.physics.kinematics import numerically_equal
from symba.physics.orderings import distinct_orderings, ordered_process, parse_permutation
from symba.physics.process import parse_process
from symba.pipeline.amplitude_shards import compute_amplitude_shard
from symba.simplify import SimplifyOptions
from symba.simplify.classes import map_back, representative
from symba.simplify.flint import flint_factor_text
from symba.simplify.shards import simplify_rows
from symba.simplify.whole import whole_process_text
from symba.tokenization.stats import length_report
from symba.tokenization.token_shards import tokenize_rows

from .runner import snakemake, tiny_config

PROCESSES = ["e- e+ -> mu- mu+", "e- e- -> e- e-", "e- a -> e- a"]


@pytest.fixture(scope="module")
def all_rows(tmp_path_factory):
    path = tmp_path_factory.mktemp("orderings") / "shard.parquet"
    stats = compute_amplitude_shard(PROCESSES, "qed", path, orderings="all")
    table = read_shard(path)
    assert table.schema.equals(SCHEMA)
    return stats, table.to_pylist()


def _masses(process):
    return parse_process(process, "qed", check=False).leg_masses()


def test_all_orderings_are_written_once_each_and_trace_back(all_rows):
    stats, rows = all_rows
    per_process = Counter(r["canonical_process"] for r in rows)
    for canonical in PROCESSES:
        n_rows = len(compute_process(canonical, "qed").diagrams) + 1
        orderings = {o.process for o in distinct_orderings(canonical)}
        assert per_process[canonical] == len(orderings) * n_rows  # e- e- -> e- e-: 1 ordering, not 4
        ours = [r for r in rows if r["canonical_process"] == canonical]
        assert {r["process"] for r in ours} == orderings
        for r in ours:
            assert ordered_process(canonical, parse_permutation(r["permutation"])) == r["process"]
            if r["process"] == canonical:
                assert r["permutation"] == ",".join(str(k) for k in range(1, 5))
    assert stats["rows"] == len(rows)


def test_relabelled_whole_process_equals_direct_computation(all_rows):
    _, rows = all_rows
    whole = [r for r in rows if r["diagram"] == -1 and r["process"] != r["canonical_process"]]
    assert whole
    for r in whole:
        direct = compute_process(r["process"], "qed").squared_amplitude
        assert numerically_equal(r["squared_raw"], direct, _masses(r["process"]), n_in=2)


def test_canonical_option_writes_identity_rows_only(tmp_path):
    path = tmp_path / "shard.parquet"
    compute_amplitude_shard(["e- a -> e- a"], "qed", path)
    rows = pq.read_table(path).to_pylist()
    assert {(r["process"], r["canonical_process"], r["permutation"]) for r in rows} == {
        ("e- a -> e- a", "e- a -> e- a", "1,2,3,4")
    }
    with pytest.raises(ValueError, match="orderings must be one of canonical, all"):
        compute_amplitude_shard(["e- a -> e- a"], "qed", tmp_path / "x.parquet", orderings="some")


@pytest.mark.parametrize("split", ["template", "random"])
def test_orderings_of_a_canonical_row_share_its_split_group(all_rows, split):
    _, rows = all_rows
    out, stats = tokenize_rows([dict(r, squared=r["squared_raw"]) for r in rows], split=split)
    assert set(stats["skipped"]) <= {"duplicate"}  # a one-diagram process repeats its pair as the whole process
    assert stats["rows_out"] + stats["skipped"].get("duplicate", 0) == len(rows)
    groups = defaultdict(set)
    for r in out:
        groups[(r["canonical_process"], r["diagram"])].add(r["group"])
    assert all(len(g) == 1 for g in groups.values()), groups
    # Each ordering row sits on the side of its canonical row.  Under the template split, one
    # exception by design: an ordering of a training template may be held out as test_orderings.
    seen = {"train": "seen template", "test_orderings": "seen template"}

    def side_of_template(split_name):
        return seen.get(split_name, split_name) if split == "template" else split_name

    side = {
        (r["canonical_process"], r["diagram"]): side_of_template(r["split"])
        for r in out
        if r["process"] == r["canonical_process"]
    }
    assert all(side_of_template(r["split"]) == side[(r["canonical_process"], r["diagram"])] for r in out)


def test_simplification_once_per_class_equals_direct_simplification(all_rows, tmp_path):
    _, rows = all_rows
    options = SimplifyOptions(cache_dir=str(tmp_path / "cache"))
    outcomes, stats = simplify_rows(rows, options)
    reps = [representative(r["squared_raw"], r["process"], r["canonical_process"], r["permutation"]) for r in rows]
    rep_outcomes = {text: flint_factor_text(text) for text, _ in reps}
    # whole-process rows get the grouped form (symba.simplify.whole), a sum: compared as an expression
    whole_rows = {r["squared_raw"]: whole_process_text(r["squared_raw"]) for r in rows if r["diagram"] == -1}

    def representative_text(row):
        return representative(row["squared_raw"], row["process"], row["canonical_process"], row["permutation"])[0]

    assert stats["classes"] < stats["distinct_raw"]  # orderings and t/u exchanges share their class
    for r, outcome, (_, legs) in zip(rows, outcomes, reps):
        assert outcome.status == "ok"
        if r["diagram"] == -1:
            assert parse_expression(outcome.text) == parse_expression(whole_rows[r["squared_raw"]])
            continue
        direct = flint_factor_text(r["squared_raw"])
        assert parse_expression(outcome.text) == parse_expression(direct)  # structurally: the direct result
        assert map_back(rep_outcomes[representative_text(r)], legs, "factor", reprint=True) == direct  # and as text
    again, stats2 = simplify_rows(rows, options)
    assert stats2["cached"] == stats2["distinct"] and stats2["computed"] == 0 and again == outcomes


def test_class_mapping_of_a_sympy_method_equals_the_row_numerically(all_rows):
    _, rows = all_rows
    sample = [r for r in rows if r["canonical_process"] == "e- e+ -> mu- mu+" and r["diagram"] == -1]
    outcomes, stats = simplify_rows(sample, SimplifyOptions(method="cancel"))
    assert stats["classes"] == 1 and len(sample) == 4
    for r, outcome in zip(sample, outcomes):
        assert outcome.status == "ok"
        assert numerically_equal(outcome.text, r["squared_raw"], _masses(r["process"]), n_in=2)


def test_rows_over_max_tokens_are_dropped_and_counted(all_rows, tmp_path):
    _, rows = all_rows
    rows = [dict(r, squared=r["squared_raw"]) for r in rows if r["process"] == r["canonical_process"]]
    full, _ = tokenize_rows(rows, notation="prefix")
    lengths = sorted(max(len(r["amplitude_ids"]), len(r["squared_ids"])) for r in full)
    cap = lengths[len(lengths) // 2]
    over = sum(1 for n in lengths if n > cap)
    capped, stats = tokenize_rows(rows, notation="prefix", max_tokens=cap)
    assert 0 < over < len(full)
    assert stats["skipped"]["over_max_tokens"] == over and len(capped) == len(full) - over
    shard = tmp_path / "shard.parquet"
    import pyarrow as pa

    pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), shard)
    report = length_report([shard], tmp_path / "lengths.json", tmp_path / "lengths.png", max_tokens=cap)
    assert json.loads((tmp_path / "lengths.json").read_text())["max_tokens"] == cap
    assert report["notations"]["prefix"]["dropped_over_max_tokens"]["pairs"] == over
    with pytest.raises(ValueError, match="max_tokens must be >= 0"):
        tokenize_rows(rows, max_tokens=-1)


def test_unknown_orderings_value_is_one_line_at_parse_time(tmp_path):
    config = tiny_config()
    config["theories"]["qed"]["orderings"] = "every"
    result = snakemake(tmp_path, "-n", config=config, timeout=300)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if "orderings" in line]
    assert len(lines) == 1 and "'every' is not one of ['canonical', 'all']" in lines[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr
