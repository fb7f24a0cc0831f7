# Sequence lengths per notation over all dataset shards, merged from what each tokenize job recorded.
from symba.pipeline.scripting import rule_logging
from symba.tokenization.stats import length_report_from_files

with rule_logging(snakemake):
    length_report_from_files(
        list(snakemake.input.lengths), snakemake.output.json, snakemake.output.png, snakemake.params.max_tokens
    )
