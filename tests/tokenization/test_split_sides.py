"""The template split's two held-out sides: test_orderings (known templates under another flavour or
leg order) and test_templates (templates never trained on); no template on both sides."""

from collections import defaultdict

from symba.physics.orderings import distinct_orderings, relabel_squared
from symba.tokenization.splits import (
    SIDES_OF_SPLIT,
    TEST_ORDERINGS,
    TEST_TEMPLATES,
    group_id,
    template_side,
)
from symba.tokenization.token_shards import tokenize_rows

TRAINING_SIDE = {"train", TEST_ORDERINGS}
FLAVOURS = {"mu": ("mu- mu+", "m_mu"), "ta": ("ta- ta+", "m_tau"), "u": ("u u~", "m_u"), "c": ("c c~", "m_c")}


def row(process, squared, diagram=0):
    amplitude = "-i*e^2*vbar(e,p_2,d1)*gamma(mu1,d1,d2)*u(e,p_1,d2)/(2*m_e^2 + 2*s_12)"
    return {
        "process": process,
        "theory": "qed",
        "multiplicity": "2->2",
        "diagram": diagram,
        "amplitude": amplitude + f"*{len(process)}",
        "squared_raw": squared,
        "squared": squared,
        "status": "ok",
        "backend": "builtin",
        "engine_version": "1",
    }


def family(k: int) -> list[dict]:
    """One template, written for several flavours and every leg ordering (relabelled by the
    orderings library, independently of the split).  Families differ by a power k."""
    rows = []
    for final, mass in FLAVOURS.values():
        canonical = f"e- e+ -> {final}"
        squared = f"{k + 2}*e^4*(s_13*s_24^{k + 1} + {mass}^2*s_12 + m_e^2*s_34)/(m_e^2 + s_12)^2"
        for ordering in distinct_orderings(canonical):
            rows.append(row(ordering.process, relabel_squared(squared, ordering.permutation)))
    return rows


def test_relabellings_and_flavours_share_one_template_but_not_one_process_key():
    out, _ = tokenize_rows(family(1), split="template", seed=3)
    assert len(out) == 16  # 4 flavours x 4 orderings
    assert len({r["group"] for r in out}) == 1
    # a template's rows are either all in training templates, all valid, or all test_templates
    sides = {r["split"] for r in out}
    assert sides <= TRAINING_SIDE or sides in ({"valid"}, {TEST_TEMPLATES})


def test_no_template_on_the_training_side_and_in_test_templates():
    rows = [r for k in range(60) for r in family(k)]
    out, stats = tokenize_rows(rows, split="template", seed=11)
    sides_of_family = defaultdict(set)
    for r in out:
        sides_of_family[r["squared"].split("*")[0]].add(r["split"])  # the family's leading coefficient
    assert len(sides_of_family) == 60
    for sides in sides_of_family.values():
        assert sides <= TRAINING_SIDE or sides in ({"valid"}, {TEST_TEMPLATES}), sides
    # the same check on the recorded template groups
    sides_of_group = defaultdict(set)
    for r in out:
        sides_of_group[r["group"]].add(r["split"])
    assert not any(s & {"train"} and TEST_TEMPLATES in s for s in sides_of_group.values())
    # every side is used, and a process is never both trained on and held out
    assert all(stats["rows_per_side"][s] > 0 for s in SIDES_OF_SPLIT["template"])
    sides_of_process = defaultdict(set)
    for r in out:
        if r["split"] in TRAINING_SIDE:
            sides_of_process[r["process"], r["squared"].split("*")[0]].add(r["split"])
    assert all(len(s) == 1 for s in sides_of_process.values())


def test_template_side_reads_the_template_hash_first():
    low, high = "0" * 32, "f" * 32
    assert template_side(high, low) == TEST_TEMPLATES  # the process hash cannot pull it back
    assert template_side("e" + "0" * 31, low) == "valid"  # 0.875: between 0.8 and 0.9
    assert template_side(low, low) == TEST_ORDERINGS  # a training template, process under 0.1
    assert template_side(low, high) == "train"
    assert group_id("k", 1) != group_id("k", 2)


def test_every_ordering_of_a_2_to_3_process_has_one_template():
    # a long numerator (the cheap first comparison skips it) over a small denominator
    numerator = " + ".join(
        f"{k + 1}*s_{i}{j}*s_{j}{m}"
        for k, (i, j, m) in enumerate(
            [(1, 2, 3), (1, 3, 4), (2, 3, 5), (1, 4, 5), (2, 4, 5), (3, 4, 5), (1, 2, 5), (2, 3, 4), (1, 3, 5)]
        )
    )
    squared = f"e^6*({numerator} + m_mu^2*s_12)/(s_34*(m_mu^2 + s_45)*s_12^2)"
    orderings = distinct_orderings("e- e+ -> mu- mu+ a")
    assert len(orderings) == 12
    rows = [dict(row(o.process, relabel_squared(squared, o.permutation)), multiplicity="2->3") for o in orderings]
    out, _ = tokenize_rows(rows, split="template")
    assert len(out) == 12 and len({r["group"] for r in out}) == 1
    # s_12 (the two incoming legs) -> s_13 (incoming with outgoing): no relabelling maps one to the other
    other = squared.replace("s_12^2", "s_13^2")
    out_other, _ = tokenize_rows([row("e- e+ -> mu- mu+ a", other)], split="template")
    assert out_other[0]["group"] != out[0]["group"]
