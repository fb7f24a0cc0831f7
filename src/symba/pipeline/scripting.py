"""Helpers for the workflow's ``script:`` files: logging to the rule's log file."""

from __future__ import annotations

import contextlib
import logging
import sys

from symba.cli import error_line, is_input_error


@contextlib.contextmanager
def rule_logging(snakemake):
    """Send logging and stderr of a script job to its ``log:`` file (if any)."""
    path = snakemake.log[0] if len(snakemake.log) else None
    handle = open(path, "w") if path else sys.stderr
    logging.basicConfig(stream=handle, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", force=True)
    log = logging.getLogger("symba.pipeline")
    try:
        with contextlib.redirect_stderr(handle):
            try:
                yield log
            except Exception as exc:  # the reason goes to the job's log too, not only to the terminal
                log.error("%s: %s", type(exc).__name__, error_line(exc))  # a full disk says "disk"
                if not is_input_error(exc):
                    raise  # a bug keeps its traceback
                # bad input (a damaged shard, a full disk): one line on the console, as the CLI does
                print(f"symba: error: {error_line(exc)}", file=sys.__stderr__)
                raise SystemExit(1) from None
    finally:
        if path:
            handle.close()
