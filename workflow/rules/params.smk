# Content-named parameter files, written by jobs (never while the workflow is parsed): the
# stamps of results/params/<family>/ and the process lists of results/manifest/<theory>/<shard>/.
# (Their check and repair, repair_parameter_files, are in common.smk.)


rule parameter_stamp:
    output:
        f"{STAMPS}/{{family}}/{{digest}}.json",
    params:
        text=lambda wildcards: STAMP_TEXT[wildcards.family],
    log:
        f"{RESULTS}/logs/params/{{family}}/{{digest}}.log",
    localrule: True
    conda:
        "../../envs/physics.yaml"
    script:
        "../scripts/parameter_file.py"


rule shard_manifest:
    output:
        f"{RESULTS}/manifest/{{theory}}/{{shard}}/{{digest}}.txt",
    params:
        text=lambda wildcards: manifest_text(wildcards.theory, wildcards.shard),
    log:
        f"{RESULTS}/logs/manifest/{{theory}}/{{shard}}/{{digest}}.log",
    localrule: True
    conda:
        "../../envs/physics.yaml"
    script:
        "../scripts/parameter_file.py"
