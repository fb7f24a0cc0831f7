# One public SYMBA file (or amplitude/squared pair) -> an amplitude shard (status "raw"), written
# whole or not at all.  A malformed line ends the job with one line naming the file and line.
import sys

from symba.pipeline.scripting import rule_logging
from symba.sources.symba_text import SymbaFormatError, import_symba

with rule_logging(snakemake) as log:
    try:
        stats = import_symba(snakemake.input.files, snakemake.output.shard, theory=snakemake.wildcards.theory)
    except SymbaFormatError as exc:
        log.error("bad SYMBA file: %s", exc)
        print(f"symba: bad SYMBA file: {exc}", file=sys.__stderr__)  # the console; stderr is the log here
        sys.exit(2)
    log.info("import_symba: %s", stats)
