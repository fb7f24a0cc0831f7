# symba: amplitudes -> simplified Parquet dataset -> tokens -> transformer -> evaluation.
# Run: snakemake --cores 2   (profiles/default is picked up; docs/workflow.md says the rest)
from pathlib import Path

from snakemake.utils import min_version, validate

from symba.pipeline.config_check import check_config, fill_theory_defaults, stop_on_bad_input
from symba.pipeline.console import quiet_scheduling

min_version("9.0")
quiet_scheduling()  # with the default profile: one progress line per job on the console


# Snakemake's documented rule: a --configfile (e.g. config/qcd-2to2.yaml) is merged over this
# file. config.yaml leaves `theories:` to the schema default, so a preset's theories are the
# only ones.
configfile: "config.yaml"


# Every key, train: and evaluate: included, is checked before any job runs; a problem is one
# line on stderr and exit code 2.
with stop_on_bad_input("config"):
    check_config(config, Path(workflow.basedir) / "workflow/schemas/config.schema.yaml")
validate(config, schema="workflow/schemas/config.schema.yaml")
fill_theory_defaults(config)


include: "workflow/rules/common.smk"
include: "workflow/rules/params.smk"
include: "workflow/rules/amplitudes.smk"
include: "workflow/rules/imports.smk"
include: "workflow/rules/tokenize.smk"
include: "workflow/rules/model.smk"
include: "workflow/rules/slurm.smk"


rule all:
    input:
        final_targets(),
    default_target: True


# The one `onstart:` (Snakemake keeps only the last one defined): runs after the lock is taken,
# never on a dry run.
onstart:
    slurm_preflight()
    cache_enumerations()
    record_run()
    repair_parameter_files()


# The last lines of a run: where its outputs are, and both held-out test sets of metrics.json.
# symba.model.report imports no torch: the Snakemake process stays light.
onsuccess:
    from symba.model.report import print_run_summary

    print_run_summary(RESULTS, config["targets"])
