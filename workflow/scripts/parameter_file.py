# A content-named parameter file (a stamp or a shard's process list).  A script, not a `run:`
# block: Snakemake runs a `run:` job in a new process that parses the whole workflow again
# (~12 s per job for the 3,039 processes of config/qed-3to3.yaml, 64 shard manifests).
from symba.pipeline.manifest import write_parameter_file

write_parameter_file(snakemake.output[0], snakemake.params.text, snakemake.wildcards.digest, snakemake.log[0])
