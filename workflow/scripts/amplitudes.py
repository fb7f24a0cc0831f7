# Amplitudes of the processes of one shard -> Parquet (status "raw").
from symba.workflow.manifest import read_shard_manifest
from symba.workflow.scripting import rule_logging
from symba.workflow.amplitude_shards import compute_amplitude_shard

with rule_logging(snakemake) as log:
    stats = compute_amplitude_shard(
        read_shard_manifest(snakemake.input.manifest),
        snakemake.wildcards.theory,
        snakemake.output[0],
        backend=snakemake.params.backend,
        timeout=snakemake.params.timeout,
        on_error=snakemake.params.on_error,
        massless=snakemake.params.massless,
    )
    log.info("amplitudes: %s", stats)
