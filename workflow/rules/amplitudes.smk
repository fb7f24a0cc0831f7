# Fan-out: one job per shard (a shard is one process when sharding.batch_size == 1).


rule amplitudes:
    input:
        manifest=shard_manifest,
        stamp=AMPLITUDE_STAMP,
    output:
        shard=f"{RESULTS}/amplitudes/{{theory}}/{{shard}}.parquet",
        skipped=f"{RESULTS}/reports/skipped/{{theory}}/{{shard}}.tsv",
    wildcard_constraints:
        shard=ENGINE_SHARD,  # symba-* shards are imported (imports.smk)
    params:
        processes=lambda wildcards: shard_processes(wildcards.theory, wildcards.shard),
        engine_version=ENGINE_VERSION,
        backend=config["amplitudes"]["backend"],
        timeout=config["amplitudes"]["timeout"],
        on_error=config["amplitudes"]["on_error"],
        massless=config["amplitudes"]["massless"],
        allow_empty=config["amplitudes"]["allow_empty_shards"],
        orderings=lambda wildcards: theory_orderings(wildcards.theory),
    log:
        f"{RESULTS}/logs/amplitudes/{{theory}}/{{shard}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/amplitudes/{{theory}}/{{shard}}.tsv"
    group:
        "amplitudes"
    resources:
        mem_mb=config["resources"]["amplitudes_mem_mb"],
        runtime=config["resources"]["amplitudes_runtime_min"],
    conda:
        "../../envs/physics.yaml"
    script:
        "../scripts/amplitudes.py"


rule simplify:
    input:
        shard=rules.amplitudes.output.shard,
        stamp=SIMPLIFY_STAMP,
    output:
        f"{RESULTS}/dataset/{{theory}}/{{shard}}.parquet",
    params:
        options=SIMPLIFY_OPTIONS,
        cache_dir=f"{CACHE}/simplify" if config["simplify"]["cache"] else None,
    log:
        f"{RESULTS}/logs/simplify/{{theory}}/{{shard}}.log",
    benchmark:
        f"{RESULTS}/benchmarks/simplify/{{theory}}/{{shard}}.tsv"
    threads: config["simplify"]["workers"]
    group:
        "simplify"
    resources:
        mem_mb=config["resources"]["simplify_mem_mb"],
        runtime=config["resources"]["simplify_runtime_min"],
    conda:
        "../../envs/simplify.yaml"
    script:
        "../scripts/simplify.py"


# One process, whatever the sharding: amplitudes and simplification in one job.
rule process:
    input:
        amplitude_stamp=AMPLITUDE_STAMP,
        simplify_stamp=SIMPLIFY_STAMP,
    output:
        f"{RESULTS}/process/{{theory}}/{{slug}}.parquet",
    params:
        engine_version=ENGINE_VERSION,
        amplitudes=config["amplitudes"],
        orderings=lambda wildcards: theory_orderings(wildcards.theory),
        options=SIMPLIFY_OPTIONS,
        cache_dir=f"{CACHE}/simplify" if config["simplify"]["cache"] else None,
    log:
        f"{RESULTS}/logs/process/{{theory}}/{{slug}}.log",
    threads: config["simplify"]["workers"]
    conda:
        "../../envs/simplify.yaml"
    script:
        "../scripts/process.py"


# Every process left out by `on_error: skip`, in one file (empty when none was).
rule skipped_report:
    input:
        shard_paths("reports/skipped", ".tsv"),
    output:
        f"{RESULTS}/reports/skipped.tsv",
    log:
        f"{RESULTS}/logs/skipped_report.log",
    localrule: True
    conda:
        "../../envs/physics.yaml"
    script:
        "../scripts/skipped_report.py"
