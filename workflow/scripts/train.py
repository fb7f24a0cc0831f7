# Train the transformer; resumes from params.checkpoint_dir (undeclared, survives failures).
from symba.model.train import run_training
from symba.workflow.scripting import rule_logging

with rule_logging(snakemake):
    run_training(
        dict(snakemake.params.config),
        list(snakemake.input.shards),
        snakemake.input.vocab,
        snakemake.output.model,
        snakemake.params.checkpoint_dir,
        snakemake.output.metrics,
        snakemake.output.lr,
        snakemake.output.curves,
    )
