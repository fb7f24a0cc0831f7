# Sequence lengths per notation over all dataset shards (read one at a time).
from symba.pipeline.scripting import rule_logging
from symba.tokenization.stats import length_report

with rule_logging(snakemake):
    length_report(
        list(snakemake.input.shards), snakemake.output.json, snakemake.output.png, snakemake.params.max_tokens
    )
