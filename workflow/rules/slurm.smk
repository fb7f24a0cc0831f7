# Runs through the SLURM executor plugin (profiles/slurm): checks before the first submission,
# and plain words after a failure. Inert for local runs, dry runs and inside cluster jobs (--no-hooks).
import os
import sys

from snakemake.exceptions import WorkflowError

from symba.workflow import slurm as _slurm


def _on_slurm():
    return getattr(workflow.executor_plugin, "name", None) == "slurm"


def slurm_preflight():
    """Called from the Snakefile's one `onstart:` (a second `onstart:` would silently replace the first)."""
    if _on_slurm():
        _problems = [_slurm.status_command_problem(getattr(workflow.executor_settings, "status_command", None))]
        _available = _slurm.cluster_partitions()
        if _available is not None:
            _requested = _slurm.requested_partitions(workflow.dag.needrun_jobs())
            _problems.append(_slurm.partition_problem(_requested, _available))
        _problems = [p for p in _problems if p]
        if _problems:
            raise WorkflowError("\n".join(_problems))


onerror:
    if _on_slurm():
        for _path in log if isinstance(log, (list, tuple)) else [log]:
            if _path and os.path.isfile(_path):
                with open(_path, encoding="utf-8", errors="replace") as _f:
                    for _line in _slurm.explain_failures(_f.read()):
                        print(_line, file=sys.stderr)
