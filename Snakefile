# symba: amplitudes -> simplified Parquet dataset -> tokens -> transformer -> evaluation.
# Run: snakemake --cores 2 --workflow-profile profiles/default   (see README, "Workflow")
from snakemake.utils import min_version, validate

min_version("9.0")


configfile: "config.yaml"


validate(config, schema="workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/amplitudes.smk"
include: "workflow/rules/tokenize.smk"
include: "workflow/rules/model.smk"


rule all:
    input:
        final_targets(),
    default_target: True
