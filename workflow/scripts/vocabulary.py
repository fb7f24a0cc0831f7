# The closed vocabulary of the chosen notation.
from symba.pipeline.scripting import rule_logging
from symba.tokenization.vocab import write_vocabulary

with rule_logging(snakemake):
    write_vocabulary(snakemake.output.vocab, snakemake.params.notation)
