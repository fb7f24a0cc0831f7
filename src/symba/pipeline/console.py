"""A short console for the main job: one progress line per finished job.

With the default profile's ``quiet: [rules, host]``, Snakemake still writes four scheduling lines
around each job ("Select jobs to execute...", "Execute N jobs...", a time stamp and "Finished
jobid: ..."), 300 lines for the default run.  This drops them from the console only, and only
when rule information is quiet; the run's log in .snakemake/log/ keeps them, and every other
message (progress, errors, failed jobs' logs) passes.  A dry run is asked for to see the jobs,
so it shows them as it would without the profile's ``quiet``.
"""

from __future__ import annotations

import logging

SNAKEMAKE_LOGGER = "snakemake.logging"
CONSOLE_HANDLER = "DefaultStreamHandler"
_DROPPED_EVENTS = {"job_started", "job_finished"}
_DROPPED_MESSAGES = {"Select jobs to execute..."}


def _name(value) -> str:
    return str(getattr(value, "name", value)).lower()


def _is_scheduling(record: logging.LogRecord) -> bool:
    event = getattr(record, "event", None)
    return _name(getattr(event, "value", event)) in _DROPPED_EVENTS or record.getMessage() in _DROPPED_MESSAGES


def quiet_scheduling() -> None:
    """Called while the Snakefile is parsed (the console handler exists by then)."""
    for handler in logging.getLogger(SNAKEMAKE_LOGGER).handlers:
        if handler.name != CONSOLE_HANDLER:
            continue
        for quiet_filter in [
            f for f in handler.filters if "rules" in {_name(q) for q in getattr(f, "quiet", ()) or ()}
        ]:
            if getattr(quiet_filter, "dryrun", False):
                quiet_filter.quiet = {q for q in quiet_filter.quiet if _name(q) != "rules"}
            else:
                handler.addFilter(lambda record: not _is_scheduling(record))
