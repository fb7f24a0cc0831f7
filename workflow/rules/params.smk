# Content-named parameter files, written by jobs (never while the workflow is parsed): the
# stamps of results/params/<family>/ and the process lists of results/manifest/<theory>/<shard>/.


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



rule parameter_stamp:
    output:
        f"{STAMPS}/{{family}}/{{digest}}.json",
    params:
        text=lambda wildcards: STAMP_TEXT[wildcards.family],
    log:
        f"{RESULTS}/logs/params/{{family}}/{{digest}}.log",
    localrule: True
    run:
        mf.write_parameter_file(output[0], params.text, wildcards.digest, log[0])


rule shard_manifest:
    output:
        f"{RESULTS}/manifest/{{theory}}/{{shard}}/{{digest}}.txt",
    params:
        text=lambda wildcards: manifest_text(wildcards.theory, wildcards.shard),
    log:
        f"{RESULTS}/logs/manifest/{{theory}}/{{shard}}/{{digest}}.log",
    localrule: True
    run:
        mf.write_parameter_file(output[0], params.text, wildcards.digest, log[0])
