# Public SYMBA/MARTY text files (`symba_files:`) become amplitude shards
# results/amplitudes/<theory>/symba-<stem>.parquet; the simplify and tokenize rules take them on
# like computed shards.  Snakemake reruns an import when its file changes (it is an input).


rule import_symba:
    input:
        files=lambda wildcards: imported_files(wildcards.theory, wildcards.shard),
    output:
        shard=f"{RESULTS}/amplitudes/{{theory}}/{{shard}}.parquet",
    wildcard_constraints:
        shard=IMPORTED_SHARD,
    params:
        importer_version=IMPORTER_VERSION,
    log:
        f"{RESULTS}/logs/import_symba/{{theory}}/{{shard}}.log",
    conda:
        "../../envs/tokenize.yaml"
    script:
        "../scripts/import_symba.py"
