# symba: amplitudes -> simplified Parquet dataset -> tokens -> transformer -> evaluation.
# Run: snakemake --cores 2 --workflow-profile profiles/default   (see README, "Workflow")
from snakemake.utils import min_version, validate

min_version("9.0")


# A --configfile (e.g. config/qcd-2to2.yaml) replaces config.yaml instead of merging into it,
# so that its `theories:` are the only ones.
if not workflow.overwrite_configfiles:

    configfile: "config.yaml"


validate(config, schema="workflow/schemas/config.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/amplitudes.smk"
include: "workflow/rules/tokenize.smk"
include: "workflow/rules/model.smk"
include: "workflow/rules/slurm.smk"


rule all:
    input:
        final_targets(),
    default_target: True
