"""A short console for the main job: one progress line per finished job.

With the default profile's ``quiet: [rules, host]``, Snakemake still writes four scheduling lines
around each job ("Select jobs to execute...", "Execute N jobs...", a time stamp and "Finished
jobid: ..."), 300 lines for the default run.  This drops them from the console only, and only
when rule information is quiet; the run's log in .snakemake/log/ keeps them, and every other
message (progress, errors, failed jobs' logs) passes.
"""

from __future__ import annotations

import logging

SNAKEMAKE_LOGGER = "snakemake.logging"
_DROPPED_EVENTS = {"job_started", "job_finished"}
_DROPPED_MESSAGES = {"Select jobs to execute..."}


def _is_scheduling(record: logging.LogRecord) -> bool:
    event = getattr(record, "event", None)
    return str(getattr(event, "value", event)) in _DROPPED_EVENTS or record.getMessage() in _DROPPED_MESSAGES


def _rules_quiet(handler: logging.Handler) -> bool:
    return any(
        "rules" in {str(getattr(q, "name", q)).lower() for q in getattr(f, "quiet", ()) or ()} for f in handler.filters
    )


def quiet_scheduling() -> None:
    """Called while the Snakefile is parsed (the console handler exists by then)."""
    for handler in logging.getLogger(SNAKEMAKE_LOGGER).handlers:
        if handler.name == "DefaultStreamHandler" and _rules_quiet(handler):
            handler.addFilter(lambda record: not _is_scheduling(record))
