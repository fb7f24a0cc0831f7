# Parse-time setup: config checks, the process list, shards, parameter stamps.  Parsing only
# reads files; everything written (shard manifests, stamps, the enumeration cache) is written
# by jobs or by `onstart`, so a dry run or a run refused by the lock changes nothing.
import json

from snakemake.exceptions import WorkflowError

from symba.dataset_schema import TOKEN_SHARD_VERSION, check_complete
from symba.physics.engine import ENGINE_VERSION
from symba.pipeline import manifest as mf, runs
from symba.sources.symba_text import ENGINE_VERSION as IMPORTER_VERSION, plan_import_shards
from symba.pipeline.config_check import stop_on_bad_input, symba_file_paths

# Each run writes only under its own folder, results/<run>/ (symba.pipeline.runs); caches keyed
# by their whole input are shared by all runs.
RESULTS = runs.run_folder(config["results"], config["run"])
CACHE = runs.cache_folder(config["results"])
STAMPS = f"{RESULTS}/params"


wildcard_constraints:
    theory="qed|qcd",
    shard="[^/]+",
    slug="[^/]+__[^/]+",
    family="amplitudes|imports|simplify|tokenize|train|evaluate",
    digest="[0-9a-f]{16}",


# Enumerations found at parse time and not yet cached; stored once the run has the lock.
_ENUMERATIONS_TO_CACHE = {}


def _processes_by_theory():
    if config["manifest"]:
        with stop_on_bad_input("manifest"):
            return mf.read_manifest_file(config["manifest"])
    found = {}
    for theory, spec in config["theories"].items():
        path = mf.manifest_cache_path(theory, spec, f"{CACHE}/manifest")
        processes = mf.read_cached_manifest(path, theory, spec)
        if processes is None:
            with stop_on_bad_input("config"):
                processes = mf.enumerate_theory(theory, spec)
            _ENUMERATIONS_TO_CACHE[path] = (theory, spec, processes)
        found[theory] = processes
    return found


SHARDS = {
    theory: mf.assign_shards(theory, processes, config["sharding"]["batch_size"])
    for theory, processes in _processes_by_theory().items()
}


# Public SYMBA files (`symba_files:`): {theory: {"symba-<stem>": files}}, imported by rule
# import_symba (imports.smk); engine shard names (h000, slugs) never start with "symba-".
with stop_on_bad_input("symba_files"):
    IMPORTED = plan_import_shards(symba_file_paths(config["symba_files"]))
IMPORTED_SHARD = "symba-[^/]+"
ENGINE_SHARD = "(?!symba-)[^/]+"


def imported_files(theory, shard):
    try:
        return IMPORTED[theory][shard]
    except KeyError:
        raise WorkflowError(f"no imported shard {theory}/{shard} in this config") from None


def cache_enumerations():
    """Called from the Snakefile's one `onstart:`: after the lock, never on a dry run."""
    for path, (theory, spec, processes) in _ENUMERATIONS_TO_CACHE.items():
        mf.write_cached_manifest(path, theory, spec, processes)


def theory_orderings(theory):
    """`orderings` of a theory: canonical, or all (every leg ordering, by relabelling)."""
    if config["manifest"]:
        return "canonical"
    return (config["theories"].get(theory) or {}).get("orderings", "canonical")


# Amplitude shards depend on the orderings; only a non-default value enters the stamp, so that
# canonical runs keep their stamp.
_ORDERINGS = {theory: theory_orderings(theory) for theory in SHARDS}
_ORDERINGS = {theory: value for theory, value in _ORDERINGS.items() if value != "canonical"}


# Parameter stamps: one file per parameter set, named by the digest of its content (written by
# the rules of params.smk).  New parameters name a new file: the set of input files of exactly
# the rules that read it changes, so the `input` rerun trigger reruns them and what follows.
PARAMS = {
    "amplitudes": dict(config["amplitudes"], engine_version=ENGINE_VERSION, **({"orderings": _ORDERINGS} if _ORDERINGS else {})),
    # Parallelism and caching do not change results, so they stay out of the stamp.
    "imports": {"importer_version": IMPORTER_VERSION},  # a new importer reimports the files
    "simplify": {k: v for k, v in config["simplify"].items() if k not in ("workers", "cache")},
    # the canonical-form switches enter only when on, so that earlier runs keep their stamp
    "tokenize": dict(
        {k: v for k, v in config["tokenize"].items() if v or k not in ("relabel_flavours", "canonical_training")},
        token_shard_version=TOKEN_SHARD_VERSION,
    ),
    "train": config["train"],
    "evaluate": config["evaluate"],
}
STAMP_TEXT = {family: mf.stamp_text(params) for family, params in PARAMS.items()}


def stamp(family):
    return f"{STAMPS}/{family}/{mf.content_digest(STAMP_TEXT[family])}.json"


AMPLITUDE_STAMP = stamp("amplitudes")
IMPORT_STAMP = stamp("imports")
SIMPLIFY_OPTIONS = PARAMS["simplify"]
SIMPLIFY_STAMP = stamp("simplify")
TOKENIZE_STAMP = stamp("tokenize")
TRAIN_STAMP = stamp("train")
EVALUATE_STAMP = stamp("evaluate")


def shard_processes(theory, shard):
    try:
        return SHARDS[theory][shard]
    except KeyError:
        raise WorkflowError(f"no shard {theory}/{shard} in this config") from None


def manifest_text(theory, shard):
    return mf.shard_manifest_text(shard_processes(theory, shard))


def shard_manifest(wildcards):
    """The shard's process list, named by its digest: a changed shard gets a new file, which
    reruns it.  Per-process shards need none: the name is the process and cannot change."""
    if config["sharding"]["batch_size"] == mf.PER_PROCESS:
        return []
    text = manifest_text(wildcards.theory, wildcards.shard)
    return f"{RESULTS}/manifest/{wildcards.theory}/{wildcards.shard}/{mf.content_digest(text)}.txt"


def shard_paths(kind, suffix=".parquet"):
    """Paths of every shard of a stage, computed and imported (an import skips nothing, so it has
    no skip list: a bad line stops it)."""
    sources = [SHARDS] if kind == "reports/skipped" else [SHARDS, IMPORTED]
    return [
        f"{RESULTS}/{kind}/{theory}/{shard}{suffix}"
        for source in sources
        for theory, shards in source.items()
        for shard in shards
    ]


# Another configuration's shards in this run's folder would mix into its dataset: stop here.
PROCESSES = {theory: [p for shard in shards.values() for p in shard] for theory, shards in SHARDS.items()}
with stop_on_bad_input("config"):
    runs.check_own_folder(
        config["run"],
        RESULTS,
        {t: [*SHARDS.get(t, ()), *IMPORTED.get(t, ())] for t in {*SHARDS, *IMPORTED}},
        PROCESSES,
    )


def record_run():
    """Called from the Snakefile's one `onstart:`: the processes this run's folder is made with."""
    runs.record_processes(RESULTS, PROCESSES)


# A shard cut short (disk full, a copy interrupted) would pass for a finished one: stop here.
# Jobs write shards atomically and verify them, so only damage from outside is found.
with stop_on_bad_input("shard"):
    check_complete(shard_paths("amplitudes") + shard_paths("dataset") + shard_paths("tokens"))


STAGES = ["dataset", "tokens", "model", "evaluation"]


def final_targets():
    """Outputs of every stage up to the furthest one named in `targets:`."""
    last = max(STAGES.index(target) for target in config["targets"])
    targets = shard_paths("dataset") + [rules.skipped_report.output[0]]
    if last >= STAGES.index("tokens"):
        targets += shard_paths("tokens") + [rules.vocabulary.output.vocab, rules.length_report.output.json]
    if last >= STAGES.index("model"):
        targets += [rules.train.output.model]
    if last >= STAGES.index("evaluation"):
        targets += [rules.evaluate.output.metrics]
    return targets


# Content-named parameter files (params.smk): an edited or damaged one is found at parse time.
def _parameter_files():
    """Every content-named file of this config: path -> the text it must hold."""
    files = {stamp(family): text for family, text in STAMP_TEXT.items()}
    if config["sharding"]["batch_size"] != mf.PER_PROCESS:
        for theory, shards in SHARDS.items():
            for shard in shards:
                text = manifest_text(theory, shard)
                files[f"{RESULTS}/manifest/{theory}/{shard}/{mf.content_digest(text)}.txt"] = text
    return files


# An edited or damaged one is named now and rewritten by `onstart:` (parsing writes nothing).
_DAMAGED_PARAMETER_FILES = mf.damaged_parameter_files(_parameter_files())


def repair_parameter_files():
    """Called from the Snakefile's one `onstart:`: after the lock, never on a dry run."""
    mf.repair_parameter_files(_DAMAGED_PARAMETER_FILES)
