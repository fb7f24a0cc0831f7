# Parse-time setup: manifest, shards, parameter stamps.  Pure Python, no jobs.
from symba.physics.engine import ENGINE_VERSION
from symba.workflow import manifest as mf

RESULTS = config["results"]
STAMPS = f"{RESULTS}/params"


wildcard_constraints:
    theory="qed|qcd",
    shard="[^/]+",
    slug="[^/]+__[^/]+",


def _processes_by_theory():
    if config["manifest"]:
        return mf.read_manifest_file(config["manifest"])
    return {
        theory: mf.cached_manifest(theory, spec, f"{RESULTS}/.cache/manifest")
        for theory, spec in config["theories"].items()
    }


SHARDS = {
    theory: mf.assign_shards(theory, processes, config["sharding"]["batch_size"])
    for theory, processes in _processes_by_theory().items()
}
for _theory, _shards in SHARDS.items():
    mf.write_shard_manifests(f"{RESULTS}/manifest/{_theory}", _shards)

# Stamps: rules take them as inputs so that a parameter change reruns exactly the
# rules that depend on it, even under `--rerun-triggers mtime`.
AMPLITUDE_PARAMS = dict(config["amplitudes"], engine_version=ENGINE_VERSION)
AMPLITUDE_STAMP = mf.write_stamp(f"{STAMPS}/amplitudes.json", AMPLITUDE_PARAMS)
# Parallelism and caching do not change results, so they stay out of the stamp.
SIMPLIFY_OPTIONS = {k: v for k, v in config["simplify"].items() if k not in ("workers", "cache")}
SIMPLIFY_STAMP = mf.write_stamp(f"{STAMPS}/simplify.json", SIMPLIFY_OPTIONS)
TOKENIZE_STAMP = mf.write_stamp(f"{STAMPS}/tokenize.json", config["tokenize"])
TRAIN_STAMP = mf.write_stamp(f"{STAMPS}/train.json", config["train"])
EVALUATE_STAMP = mf.write_stamp(f"{STAMPS}/evaluate.json", config["evaluate"])


def shard_paths(kind):
    return [f"{RESULTS}/{kind}/{theory}/{shard}.parquet" for theory, shards in SHARDS.items() for shard in shards]


STAGES = ["dataset", "tokens", "model", "evaluation"]


def final_targets():
    """Outputs of every stage up to the furthest one named in `targets:`."""
    last = max(STAGES.index(target) for target in config["targets"])
    targets = shard_paths("dataset")
    if last >= STAGES.index("tokens"):
        targets += shard_paths("tokens") + [rules.vocabulary.output.vocab, rules.length_report.output.json]
    if last >= STAGES.index("model"):
        targets += [rules.train.output.model]
    if last >= STAGES.index("evaluation"):
        targets += [rules.evaluate.output.metrics]
    return targets
