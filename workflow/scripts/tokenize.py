# Token columns and split for one dataset shard.
from symba.pipeline.scripting import rule_logging
from symba.tokenization.token_shards import tokenize_shard

with rule_logging(snakemake) as log:
    stats = tokenize_shard(
        snakemake.input.shard,
        snakemake.output[0],
        notation=snakemake.params.notation,
        split=snakemake.params.split,
        fractions=tuple(snakemake.params.fractions),
        seed=snakemake.params.seed,
        max_tokens=snakemake.params.max_tokens,
        relabel_flavours=snakemake.params.relabel_flavours,
        canonical_training=snakemake.params.canonical_training,
        lengths_out=snakemake.output.lengths,
    )
    log.info("tokenize: %s", stats)
