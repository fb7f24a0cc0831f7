"""The Snakemake workflow, run through its CLI on a tiny config in a temporary directory."""

import pyarrow.parquet as pq
import pytest

from symba.dataset_schema import SCHEMA
from symba.physics.engine import ENGINE_VERSION
from symba.physics.kinematics import numerically_equal
from symba.physics.process import parse_process

from .runner import PROCESSES, SLUGS, ok, snakemake, tiny_config

# Run by .ci/run's second pass (python -m pytest -m slow): end-to-end Snakemake runs (about 4 min on 2 cores).
pytestmark = pytest.mark.slow

# docs/physics.md worked example: the one diagram of e- e+ -> mu- mu+.
EE_MUMU = "2*e^4*(s_13*s_24 + s_14*s_23 + m_mu^2*s_12 + m_e^2*s_34 + 2*m_e^2*m_mu^2) / (m_e^2 + s_12)^2"


def mtimes(workdir, kind):
    return {slug: (workdir / f"results/default/{kind}/qed/{slug}.parquet").stat().st_mtime_ns for slug in SLUGS}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("wf")
    ok(snakemake(workdir, config=tiny_config()))
    return workdir


def test_dataset_schema_and_content(run_dir):
    for process, slug in zip(PROCESSES, SLUGS):
        table = pq.read_table(run_dir / f"results/default/dataset/qed/{slug}.parquet")
        assert table.schema.equals(SCHEMA)
        rows = table.to_pylist()
        assert {r["process"] for r in rows} == {process}
        diagrams = sorted(r["diagram"] for r in rows)
        assert diagrams[0] == -1 and diagrams[1:] == list(range(len(rows) - 1))  # per diagram + whole process
        proc = parse_process(process, "qed")
        for r in rows:
            assert r["theory"] == "qed" and r["multiplicity"] == "2->2" and r["backend"] == "builtin"
            assert r["engine_version"] == ENGINE_VERSION
            assert r["status"] == "ok"
            assert r["squared"] != r["squared_raw"]  # simplification changed the text ...
            assert numerically_equal(r["squared"], r["squared_raw"], proc.leg_masses(), proc.n_in)  # ... not the value
    (ee_mumu,) = [
        r
        for r in pq.read_table(run_dir / "results/default/dataset/qed/e-_e+__mu-_mu+.parquet").to_pylist()
        if r["diagram"] == 0
    ]
    assert numerically_equal(ee_mumu["squared"], EE_MUMU, ["m_e", "m_e", "m_mu", "m_mu"], 2)


def test_second_run_does_nothing(run_dir):
    assert "Nothing to be done" in ok(snakemake(run_dir))


def test_simplify_parameter_change_reruns_simplify_only(run_dir):
    amplitudes, dataset = mtimes(run_dir, "amplitudes"), mtimes(run_dir, "dataset")
    ok(snakemake(run_dir, config=tiny_config(simplify={"timeout": 45})))
    assert mtimes(run_dir, "amplitudes") == amplitudes
    assert all(after > dataset[slug] for slug, after in mtimes(run_dir, "dataset").items())
    assert "Nothing to be done" in ok(snakemake(run_dir))


def job_counts(output):
    """{rule: count} from the first 'Job stats' table of a Snakemake run."""
    lines = output[output.index("Job stats:") :].splitlines()[3:]
    counts = {}
    for line in lines:
        parts = line.split()
        if len(parts) != 2 or parts[0] == "total":
            break
        counts[parts[0]] = int(parts[1])
    return counts


def test_forcerun_simplify_reruns_exactly_that_rule(run_dir):
    amplitudes = mtimes(run_dir, "amplitudes")
    planned = job_counts(ok(snakemake(run_dir, "--forcerun", "simplify", "--dry-run")))
    assert planned == {"simplify": 3, "all": 1}
    ok(snakemake(run_dir, "--forcerun", "simplify"))
    assert mtimes(run_dir, "amplitudes") == amplitudes


def test_single_process_target(run_dir):
    target = "results/default/amplitudes/qed/e-_e+__mu-_mu+.parquet"
    before_amp, before_data = mtimes(run_dir, "amplitudes"), mtimes(run_dir, "dataset")
    ok(snakemake(run_dir, "--forcerun", target, "--", "results/default/dataset/qed/e-_e+__mu-_mu+.parquet"))
    after_amp, after_data = mtimes(run_dir, "amplitudes"), mtimes(run_dir, "dataset")
    changed = {slug for slug in SLUGS if after_amp[slug] != before_amp[slug] or after_data[slug] != before_data[slug]}
    assert changed == {"e-_e+__mu-_mu+"}
    # The stand-alone per-process rule works whatever the sharding.
    ok(snakemake(run_dir, "results/default/process/qed/e-_a__e-_a.parquet"))
    single = pq.read_table(run_dir / "results/default/process/qed/e-_a__e-_a.parquet")
    assert single.equals(pq.read_table(run_dir / "results/default/dataset/qed/e-_a__e-_a.parquet"))


def test_hashed_shards_hold_every_process(tmp_path):
    ok(snakemake(tmp_path, config=tiny_config(sharding={"batch_size": 2}, simplify={"method": "none"})))
    shards = sorted((tmp_path / "results/default/dataset/qed").glob("h*.parquet"))
    assert 1 <= len(shards) <= 2  # two hash buckets for three processes
    rows = [r for s in shards for r in pq.read_table(s).to_pylist()]
    assert sorted({r["process"] for r in rows}) == sorted(PROCESSES)
    assert {r["status"] for r in rows} == {"raw"}


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"simplfy": {}}, "'simplfy' was unexpected"),
        ({"simplify": {"method": "expand"}}, "'expand' is not one of"),
        ({"sharding": {"batch_size": 0}}, "0 is less than the minimum of 1"),
    ],
)
def test_bad_config_stops_with_a_message_naming_it(tmp_path, bad, message):
    result = snakemake(tmp_path, "--dry-run", config=dict(tiny_config(), **bad))
    assert result.returncode != 0
    assert message in result.stdout + result.stderr
    assert not (tmp_path / "results/default/amplitudes").exists()


def test_tiny_timeout_keeps_raw_expression_and_job_succeeds(tmp_path):
    config = tiny_config(
        theories={"qed": {"multiplicities": [], "processes": PROCESSES[:1]}},
        simplify={"timeout": 0.001, "retries": 1, "cache": False, "engine": "sympy"},  # FLINT can beat 1 ms
    )
    ok(snakemake(tmp_path, config=config))
    rows = pq.read_table(tmp_path / "results/default/dataset/qed/e-_e+__mu-_mu+.parquet").to_pylist()
    assert len(rows) == 2
    assert all(r["status"] == "timeout" and r["squared"] == r["squared_raw"] and r["squared_raw"] for r in rows)
    log = (tmp_path / "results/default/logs/simplify/qed/e-_e+__mu-_mu+.log").read_text()
    # one text, simplified as a diagram and as the whole process (two forms): each given its second attempt
    assert "'retried': 2" in log
