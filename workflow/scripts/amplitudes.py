# Amplitudes of the processes of one shard -> Parquet (status "raw"); skipped processes -> TSV.
from symba.files import atomic_write
from symba.pipeline.amplitude_shards import compute_amplitude_shard, skipped_tsv
from symba.pipeline.scripting import rule_logging

with rule_logging(snakemake) as log:
    stats = compute_amplitude_shard(
        list(snakemake.params.processes),
        snakemake.wildcards.theory,
        snakemake.output.shard,
        backend=snakemake.params.backend,
        timeout=snakemake.params.timeout,
        on_error=snakemake.params.on_error,
        massless=snakemake.params.massless,
        allow_empty=snakemake.params.allow_empty,
        orderings=snakemake.params.orderings,
    )
    atomic_write(snakemake.output.skipped, skipped_tsv(snakemake.wildcards.theory, stats["skipped"]))
    log.info("amplitudes: %s", stats)
