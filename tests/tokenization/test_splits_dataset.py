"""Shard tokenization: dedupe, template/random splits (stable, disjoint), token-id columns."""

from collections import defaultdict

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from symba.dataset_schema import SCHEMA, TOKEN_COLUMNS
from symba.physics.amplitude_syntax import canonical
from symba.physics.orderings import relabel_amplitude, relabel_squared
from symba.tokenization.amplitude_tokens import detokenize_amplitude
from symba.tokenization.notations import detokenize, parse_squared
from symba.tokenization.splits import SIDES_OF_SPLIT, check_fractions, group_id, side_of
from symba.tokenization.token_shards import tokenize_rows, tokenize_shard
from symba.tokenization.vocab import build_vocabulary

AMP_MUMU = "-i*e^2*vbar(e,p_2,d1)*gamma(mu1,d1,d2)*u(e,p_1,d2)*ubar(mu,p_3,d3)*gamma(mu1,d3,d4)*v(mu,p_4,d4)/(2*m_e^2 + 2*s_12)"
AMP_UU = "-2/3*i*e^2*vbar(e,p_2,d1)*gamma(mu1,d1,d2)*u(e,p_1,d2)*ubar(u,p_3,d3)*gamma(mu1,d3,d4)*v(u,p_4,d4)/(2*m_e^2 + 2*s_12)"
SQ_MUMU = "2*e^4*(s_13*s_24 + s_14*s_23 + m_mu^2*s_12 + m_e^2*s_34 + 2*m_e^2*m_mu^2)/(m_e^2 + s_12)^2"
SQ_UU = "8/9*e^4*(s_13*s_24 + s_14*s_23 + m_u^2*s_12 + m_e^2*s_34 + 2*m_e^2*m_u^2)/(m_e^2 + s_12)^2"
AMP_AA = "i*e^2*vbar(e,p_2,d1)*gamma(mu1,d1,d2)*slash(p_1-p_3,d2,d3)*gamma(mu2,d3,d4)*u(e,p_1,d4)*epsc(A,p_3,mu1)*epsc(A,p_4,mu2)/(m_e^2 - 2*s_13)"
SQ_AA = "e^4*s_14*s_24/s_13^2"


def row(process, amplitude, squared, diagram=0, status="ok"):
    return {
        "process": process,
        "theory": "qed",
        "multiplicity": "2->2",
        "diagram": diagram,
        "amplitude": amplitude,
        "squared_raw": squared,
        "squared": squared,
        "status": status,
        "backend": "builtin",
        "engine_version": "1",
    }


ROWS = [
    row("e- e+ -> mu- mu+", AMP_MUMU, SQ_MUMU),
    row("e- e+ -> u u~", AMP_UU, SQ_UU),
    row("e- e+ -> mu- mu+", AMP_MUMU, SQ_MUMU, diagram=-1),  # same pair again: a duplicate
    row("e- e+ -> a a", AMP_AA, SQ_AA),
    row("e- e+ -> a a", AMP_AA, "", diagram=1, status="timeout"),
]


def write_shard(path, rows):
    pq.write_table(pa.table({n: [r.get(n) for r in rows] for n in SCHEMA.names}, schema=SCHEMA), path)


def test_shard_gets_token_columns_that_decode_back(tmp_path):
    src, dst = tmp_path / "in.parquet", tmp_path / "out.parquet"
    write_shard(src, ROWS)
    stats = tokenize_shard(src, dst, notation="hybrid-short", split="template")
    table = pq.read_table(dst)
    assert table.schema.names == SCHEMA.names + TOKEN_COLUMNS.names
    assert table.schema.field("squared_ids").type == pa.list_(pa.int32())
    assert stats["rows_in"] == 5 and stats["rows_out"] == 3
    assert stats["skipped"] == {"duplicate": 1, "status timeout": 1}
    vocab = build_vocabulary("hybrid-short")
    for r in table.to_pylist():
        assert detokenize(vocab.decode(r["squared_ids"]), "hybrid-short") == parse_squared(r["squared"])
        assert detokenize_amplitude(vocab.decode(r["amplitude_ids"]), "hybrid-short") == canonical(r["amplitude"])
        assert r["split"] in SIDES_OF_SPLIT["template"]


def test_test_rows_carry_their_canonical_order_decode_columns():
    """An ordered test row carries the canonical row's very token ids and the permutation back; a
    canonical row and every training row carry none (decoded as written)."""
    ordered = dict(
        row("e+ e- -> mu+ mu-", relabel_amplitude(AMP_MUMU, (2, 1, 4, 3)), relabel_squared(SQ_MUMU, (2, 1, 4, 3))),
        canonical_process="e- e+ -> mu- mu+",
        permutation="2,1,4,3",
    )
    out, _ = tokenize_rows([ROWS[0], ordered], "hybrid-short", split="random", fractions=(0, 0, 1))
    canonical_row, ordered_row = out
    assert canonical_row["decode_permutation"] is None and canonical_row["decode_amplitude_ids"] is None
    assert ordered_row["decode_permutation"] == "2,1,4,3"
    assert ordered_row["decode_amplitude_ids"] == canonical_row["amplitude_ids"]
    assert ordered_row["decode_squared_ids"] == canonical_row["squared_ids"]
    train, _ = tokenize_rows([ordered], "hybrid-short", split="random", fractions=(1, 0, 0))
    assert train[0]["split"] == "train" and train[0]["decode_permutation"] is None


def test_template_split_groups_flavours_and_charges_together():
    out, _ = tokenize_rows(ROWS, split="template")
    by_process = {r["process"]: r for r in out}
    assert by_process["e- e+ -> mu- mu+"]["group"] == by_process["e- e+ -> u u~"]["group"]
    assert by_process["e- e+ -> mu- mu+"]["split"] == by_process["e- e+ -> u u~"]["split"]
    assert by_process["e- e+ -> a a"]["group"] != by_process["e- e+ -> mu- mu+"]["group"]
    random_out, _ = tokenize_rows(ROWS, split="random")
    assert len({r["group"] for r in random_out}) == 3


def many_rows(n):
    # distinct pairs in a handful of templates: coefficient and flavour change, structure does not
    masses = ["m_mu", "m_tau", "m_u", "m_d", "m_c"]
    rows = []
    for k in range(1, n + 1):
        m = masses[k % len(masses)]
        squared = [f"{k}*e^4*{m}^2*s_12/s_13^2", f"{k}*e^4*(s_14 + {m}^2)/s_12", f"{k}*e^4*s_34*s_12^{k % 3 + 2}"][
            k % 3
        ]
        rows.append(row(f"e- e+ -> {m[2:]}- {m[2:]}+" if m in ("m_mu",) else "e- e+ -> a a", AMP_AA, squared))
    return rows


@pytest.mark.parametrize("split", ["random", "template"])
def test_split_is_stable_disjoint_and_survives_added_data(split):
    rows = many_rows(150)
    first, _ = tokenize_rows(rows, split=split)
    again, _ = tokenize_rows(rows, split=split)
    assert [(r["group"], r["split"]) for r in first] == [(r["group"], r["split"]) for r in again]
    # more data, in another order: every old row keeps its group and side
    grown, _ = tokenize_rows(many_rows(220)[::-1], split=split)
    where = {(r["amplitude"], r["squared"]): (r["group"], r["split"]) for r in grown}
    for r in first:
        assert where[(r["amplitude"], r["squared"])] == (r["group"], r["split"])
    sides = defaultdict(set)
    for r in grown:
        sides[r["group"]].add(r["split"])
    assert all(len(s) == 1 for s in sides.values())


def test_random_split_follows_the_fractions():
    out, stats = tokenize_rows(many_rows(300), split="random", fractions=(0.6, 0.2, 0.2))
    counts = stats["rows_per_side"]
    assert sum(counts.values()) == 300
    assert 0.5 < counts["train"] / 300 < 0.7
    assert 0.1 < counts["test"] / 300 < 0.3


def test_side_of_and_seed():
    assert side_of("0" * 32, (0.8, 0.1, 0.1)) == "train"
    assert side_of("f" * 32, (0.8, 0.1, 0.1)) == "test"
    assert side_of("e" + "0" * 31, (0.8, 0.1, 0.1)) == "valid"  # 0xe/16 = 0.875: between 0.8 and 0.9
    assert group_id("k", seed=0) == group_id("k", seed=0) != group_id("k", seed=1)


def test_bad_parameters():
    with pytest.raises(ValueError, match="fractions"):
        check_fractions((0.5, 0.5, 0.5))
    with pytest.raises(ValueError, match="split"):
        tokenize_rows(ROWS, split="alphabetical")


def test_untokenizable_rows_are_counted_with_a_reason():
    rows = [row("e- e+ -> mu- mu+", "Prod,-1,Prod,i", SQ_MUMU), row("e- e+ -> mu- mu+", AMP_MUMU, "x*s_12")]
    out, stats = tokenize_rows(rows)
    assert out == []
    assert stats["skipped"] == {"untokenizable": 2}
    assert len(stats["errors"]) == 2 and "'x'" in stats["errors"][1]
