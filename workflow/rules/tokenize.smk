# Tokens per shard, the closed vocabulary, and sequence-length statistics.


rule tokenize:
    input:
        shard=rules.simplify.output[0],
        stamp=TOKENIZE_STAMP,
    output:
        f"{RESULTS}/tokens/{{theory}}/{{shard}}.parquet",
        # the shard's lengths in every notation, from the parse done here anyway: the report only merges them
        lengths=f"{RESULTS}/reports/lengths/{{theory}}/{{shard}}.json",
    params:
        notation=config["tokenize"]["notation"],
        split=config["tokenize"]["split"],
        fractions=config["tokenize"]["fractions"],
        seed=config["tokenize"]["seed"],
        max_tokens=config["tokenize"]["max_tokens"],
        relabel_flavours=config["tokenize"]["relabel_flavours"],
        canonical_training=config["tokenize"]["canonical_training"],
    log:
        f"{RESULTS}/logs/tokenize/{{theory}}/{{shard}}.log",
    group:
        "tokenize"
    conda:
        "../../envs/tokenize.yaml"
    script:
        "../scripts/tokenize.py"


rule vocabulary:
    input:
        stamp=TOKENIZE_STAMP,
    output:
        vocab=f"{RESULTS}/tokens/vocab.json",
    params:
        notation=config["tokenize"]["notation"],
    log:
        f"{RESULTS}/logs/vocabulary.log",
    conda:
        "../../envs/tokenize.yaml"
    script:
        "../scripts/vocabulary.py"


rule length_report:
    input:
        lengths=shard_paths("reports/lengths", ".json"),
    params:
        max_tokens=config["tokenize"]["max_tokens"],
    output:
        json=f"{RESULTS}/reports/lengths.json",
        png=report(f"{RESULTS}/reports/lengths.png", caption="../report/lengths.rst", category="Tokens"),
    log:
        f"{RESULTS}/logs/length_report.log",
    conda:
        "../../envs/tokenize.yaml"
    script:
        "../scripts/length_report.py"
