# Runs through the SLURM executor plugin (profiles/slurm): checks before the first submission,
# and plain words after a failure. Inert for local runs, dry runs and inside cluster jobs (--no-hooks).
import os
import sys

from snakemake.exceptions import WorkflowError

from symba.pipeline import slurm as _slurm


def _on_slurm():
    return getattr(workflow.executor_plugin, "name", None) == "slurm"


def slurm_preflight():
    """Called from the Snakefile's one `onstart:` (a second `onstart:` would silently replace the first)."""
    if _on_slurm():
        _problems = [_slurm.status_command_problem(getattr(workflow.executor_settings, "status_command", None))]
        _jobs = list(workflow.dag.needrun_jobs())
        _available = _slurm.cluster_partitions()
        if _available is not None:
            _problems.append(_slurm.partition_problem(_slurm.requested_partitions(_jobs), _available))
        # Requests no node can meet pend forever (reason PartitionConfig) without a word from the plugin.
        _cluster = _slurm.cluster_nodes()
        if _cluster is not None:
            _requests = _slurm.requests_of(_jobs, workflow.dag.get_job_group)
            _problems.extend(_slurm.fit_problems(_requests, *_cluster))
            if (_limits := _slurm.partition_time_limits()) is not None:
                _problems.extend(_slurm.time_problems(_requests, _limits, _cluster[1]))
        _problems = [p for p in _problems if p]
        if _problems:  # one line each on stderr and exit code 2, as for a bad config; nothing was submitted
            print("\n".join(_problems), file=sys.stderr)
            raise SystemExit(2)


onerror:
    if _on_slurm():
        for _path in log if isinstance(log, (list, tuple)) else [log]:
            if _path and os.path.isfile(_path):
                with open(_path, encoding="utf-8", errors="replace") as _f:
                    for _line in _slurm.explain_failures(_f.read()):
                        print(_line, file=sys.stderr)
