# Simplify the squared amplitudes of one shard (timeout-guarded, deduplicated, cached).
from symba.pipeline.scripting import rule_logging
from symba.simplify import SimplifyOptions, simplify_shard

with rule_logging(snakemake) as log:
    options = SimplifyOptions(
        **snakemake.params.options, workers=snakemake.threads, cache_dir=snakemake.params.cache_dir
    )
    stats = simplify_shard(snakemake.input.shard, snakemake.output[0], options)
    log.info("simplify: %s", stats)
