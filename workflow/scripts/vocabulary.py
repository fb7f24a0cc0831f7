# The closed vocabulary of the chosen notation.
from symba.tokenization.vocab import write_vocabulary
from symba.workflow.scripting import rule_logging

with rule_logging(snakemake):
    write_vocabulary(snakemake.output.vocab, snakemake.params.notation)
