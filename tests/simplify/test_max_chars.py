"""simplify.max_chars: expressions over the cap are kept raw without reaching a worker."""

import pytest

from symba.simplify import SimplifyOptions
from symba.simplify.simplifier import simplify_expressions

SHORT = "s_12^2 + 2*s_12*s_13 + s_13^2"  # factors to (s_12 + s_13)^2
LONG = " + ".join(f"{k}*s_12*s_13^{k % 5}" for k in range(1, 40))


def test_long_expressions_are_kept_raw_and_counted_short_ones_simplified(tmp_path):
    options = SimplifyOptions(max_chars=len(SHORT) + 1, timeout=30, cache_dir=str(tmp_path))
    outcomes, stats = simplify_expressions([SHORT, LONG, LONG], options)
    assert outcomes[0].status == "ok" and outcomes[0].text.replace(" ", "") == "(s_12+s_13)^2"
    assert [o.status for o in outcomes[1:]] == ["raw", "raw"]
    assert outcomes[1].text == LONG  # nothing lost
    assert "max_chars" in outcomes[1].message
    assert stats.over_max_chars == 1 and stats.computed == 1 and stats.cached == 0
    # a raw outcome is not cached: a later run with a larger cap simplifies it
    outcomes, stats = simplify_expressions([LONG], SimplifyOptions(max_chars=0, timeout=30, cache_dir=str(tmp_path)))
    assert outcomes[0].status == "ok" and stats.over_max_chars == 0


def test_negative_cap_is_refused():
    with pytest.raises(ValueError, match="max_chars"):
        SimplifyOptions(max_chars=-1)


def test_rows_over_the_cap_skip_the_relabelling_classes(monkeypatch):
    # The class of a row is its smallest relabelling: renaming a megabyte text many times took
    # minutes per shard, for a text that is kept raw anyway.
    import symba.simplify.shards as shards

    asked = []
    real = shards.representative
    monkeypatch.setattr(shards, "representative", lambda text, *a: asked.append(text) or real(text, *a))
    rows = [
        {"squared_raw": text, "process": "e- e+ -> mu- mu+", "canonical_process": "e- e+ -> mu- mu+", "diagram": 0}
        for text in (SHORT, LONG)
    ]
    outcomes, _ = shards.simplify_rows(rows, SimplifyOptions(max_chars=len(SHORT) + 1, timeout=30))
    assert asked == [SHORT]
    assert [o.status for o in outcomes] == ["ok", "raw"] and outcomes[1].text == LONG
