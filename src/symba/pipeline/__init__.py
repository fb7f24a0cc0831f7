"""Library code behind the Snakemake workflow: manifests and sharding, amplitudes per shard,
parameter checks and logging for the rules' scripts.  Simplification is its own stage, symba.simplify."""
