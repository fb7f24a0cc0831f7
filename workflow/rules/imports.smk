# Public SYMBA/MARTY text files (`symba_files:`) become amplitude shards
# results/amplitudes/<theory>/symba-<stem>.parquet; the simplify and tokenize rules take them on
# like computed shards.  An import reruns when its file changes (an input) or the importer does
# (its version is in the `imports` stamp).


rule import_symba:
    input:
        files=lambda wildcards: imported_files(wildcards.theory, wildcards.shard),
        stamp=IMPORT_STAMP,
    output:
        shard=f"{RESULTS}/amplitudes/{{theory}}/{{shard}}.parquet",
    wildcard_constraints:
        shard=IMPORTED_SHARD,
    log:
        f"{RESULTS}/logs/import_symba/{{theory}}/{{shard}}.log",
    conda:
        "../../envs/tokenize.yaml"
    script:
        "../scripts/import_symba.py"
