"""Library code behind the Snakemake workflow: manifests and sharding, per-shard
amplitude computation, timeout-guarded simplification, Parquet shard I/O."""
