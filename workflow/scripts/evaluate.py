# Evaluate the trained model on the two held-out test sides.
from symba.model.evaluate import run_evaluation
from symba.model.report import headline
from symba.pipeline.scripting import rule_logging

with rule_logging(snakemake) as log:
    metrics = run_evaluation(
        snakemake.input.model,
        list(snakemake.input.shards),
        snakemake.input.vocab,
        dict(snakemake.params.config),
        snakemake.output.metrics,
        snakemake.output.calibration,
        snakemake.output.lengths,
        # verified decoding evaluates amplitudes with the dataset's masses
        massless=(snakemake.config.get("amplitudes") or {}).get("massless") or (),
    )
    for line in headline(metrics):
        log.info("evaluation: %s", line)
