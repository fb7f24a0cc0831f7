# The skip lists of all amplitude shards in one TSV: theory, process, reason.
from pathlib import Path

from symba.files import atomic_write
from symba.pipeline.scripting import rule_logging

with rule_logging(snakemake) as log:
    lines = [line for path in snakemake.input for line in Path(path).read_text().splitlines(keepends=True)]
    atomic_write(snakemake.output[0], "theory\tprocess\treason\n" + "".join(lines))
    log.info("skipped processes: %d", len(lines))
