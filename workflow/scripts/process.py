# One process, independent of sharding: amplitudes, then simplification.
from pathlib import Path

from symba.pipeline.amplitude_shards import compute_amplitude_shard
from symba.pipeline.manifest import slug_to_process
from symba.pipeline.scripting import rule_logging
from symba.simplify import SimplifyOptions, simplify_shard

with rule_logging(snakemake) as log:
    out = Path(snakemake.output[0])
    raw = out.with_name(f".{out.stem}.raw.parquet")
    amp = snakemake.params.amplitudes
    compute_amplitude_shard(
        [slug_to_process(snakemake.wildcards.slug)],
        snakemake.wildcards.theory,
        raw,
        backend=amp["backend"],
        timeout=amp["timeout"],
        on_error="fail",
        massless=amp["massless"],
        orderings=snakemake.params.orderings,
    )
    options = SimplifyOptions(
        **snakemake.params.options, workers=snakemake.threads, cache_dir=snakemake.params.cache_dir
    )
    log.info("simplify: %s", simplify_shard(raw, out, options))
    raw.unlink()
