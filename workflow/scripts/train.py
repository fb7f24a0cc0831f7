# Train the transformer; resumes from params.checkpoint_dir (undeclared, survives failures).
# With resources gpu: N > 1 (profiles/slurm), N processes train under torchrun (docs/distributed.md).
from symba.model.train import run_training_processes
from symba.pipeline.scripting import rule_logging

with rule_logging(snakemake):
    run_training_processes(
        int(getattr(snakemake.resources, "gpu", 1) or 1),
        dict(snakemake.params.config),
        list(snakemake.input.shards),
        snakemake.input.vocab,
        snakemake.output.model,
        snakemake.params.checkpoint_dir,
        snakemake.output.metrics,
        snakemake.output.lr,
        snakemake.output.curves,
    )
