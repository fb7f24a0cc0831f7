"""Plain-words checks and messages for runs through Snakemake's SLURM executor plugin.

Before submitting (workflow/rules/slurm.smk `onstart`): a partition the cluster lacks, and a
status command that cannot work, stop the run with one line each. The plugin would otherwise
print one sbatch error per job, or, with `sacct` on a cluster without accounting, wait forever.
After a failure (`onerror`): a job SLURM killed for exceeding its memory or time request is named
with its rule and its request, read from the job's SLURM log.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

COMMAND_TIMEOUT_S = 30
MAX_LOG_BYTES = 1 << 20  # read at most the last MiB of a SLURM log

# Rule -> the config key that sets its memory and time; other rules take the profile's set-resources.
CONFIG_KEYS = {
    "amplitudes": "amplitudes",
    "simplify": "simplify",
    "train": "train",
    "evaluate": "train",
}

_SUBMITTED = re.compile(r"has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.?$", re.M)
_OVER_MEMORY = re.compile(r"exceeded memory limit \((\d+) > (\d+)\)")  # jobacct_gather OverMemoryKill
_OOM_KILLED = re.compile(r"oom_kill event|OOM Killed|OUT_OF_MEMORY")  # cgroup memory limit
_OVER_TIME = re.compile(r"CANCELLED AT \S+ DUE TO TIME LIMIT")
_LOG_DIR = re.compile(r"slurm_logs/(rule|group)_([A-Za-z_0-9]+?)(?:_\2)*/")


def _run(*cmd: str) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)


def cluster_partitions() -> set[str] | None:
    """Partition names `sinfo` lists, or None when sinfo cannot answer."""
    try:
        listed = _run("sinfo", "--noheader", "--format=%R")
    except (OSError, subprocess.TimeoutExpired):
        return None
    if listed.returncode != 0:
        return None
    return set(listed.stdout.split())


def partition_problem(requested: dict[str, set[str]], available: set[str]) -> str | None:
    """One line naming each requested partition the cluster lacks, and the rules asking for it."""
    unknown = {name: rules for name, rules in requested.items() if name not in available}
    if not unknown:
        return None
    named = "; ".join(f"'{name}' (rules {', '.join(sorted(rules))})" for name, rules in sorted(unknown.items()))
    return (
        f"SLURM partition {named} does not exist on this cluster; it has {', '.join(sorted(available))}. "
        f"Set it with --default-resources slurm_partition=NAME, or in profiles/slurm/config.yaml."
    )


def requested_partitions(jobs) -> dict[str, set[str]]:
    """Partition -> rules, over the jobs about to run."""
    requested: dict[str, set[str]] = {}
    for job in jobs:
        if job.is_local:  # e.g. `all`: runs on the submit host, never submitted
            continue
        partition = job.resources.get("slurm_partition")
        if partition:
            requested.setdefault(str(partition), set()).add(job.rule.name)
    return requested


def status_command_problem(status_command: str | None) -> str | None:
    """The plugin polls with sacct by default; without accounting that hangs, so say so first."""
    if status_command != "sacct":
        return None
    try:
        probe = _run("sacct", "--noheader", "--allocations", "--starttime", "now", "--format=JobID")
    except (OSError, subprocess.TimeoutExpired):
        return None
    if probe.returncode == 0:
        return None
    reason = (probe.stderr.strip().splitlines() or ["sacct failed"])[-1]
    return (
        f"sacct does not work on this cluster ({reason}), and the SLURM plugin would wait for "
        f"its jobs forever: run with --slurm-status-command squeue."
    )


def kill_reason(slurm_log: str) -> tuple[str, str] | None:
    """("mem", how much) or ("runtime", "") when slurmstepd's lines in a job's log say it killed the job."""
    if match := _OVER_MEMORY.search(slurm_log):
        used, limit = (int(n) / 2**20 for n in match.groups())
        return "mem", f"it used {used:.0f} MB, over the job's request of {limit:.0f} MB (mem_mb)"
    if _OOM_KILLED.search(slurm_log):
        return "mem", "it ran out of its memory request (mem_mb)"
    if _OVER_TIME.search(slurm_log):
        return "runtime", "it ran past its time request (runtime)"
    return None


def rule_of_log(path: str) -> str:
    """Rule or group of a plugin log path: .../slurm_logs/group_amplitudes_amplitudes/18.log."""
    if match := _LOG_DIR.search(path.replace("\\", "/")):
        return match.group(2)
    return "?"


def _job_field(job_id: str, field: str) -> str | None:
    """A field of `scontrol show job` (gone once the cluster forgets the job, after MinJobAge)."""
    try:
        shown = _run("scontrol", "show", "job", "--oneliner", job_id)
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(rf"\b{field}=(\S+)", shown.stdout)
    return match.group(1) if shown.returncode == 0 and match else None


def _tail(path: Path) -> str:
    with open(path, "rb") as f:
        f.seek(max(0, path.stat().st_size - MAX_LOG_BYTES))
        return f.read().decode("utf-8", "replace")


def explain_failures(snakemake_log: str) -> list[str]:
    """One line per job of this run that SLURM killed for its memory or time request."""
    lines = []
    for job_id, log_path in _SUBMITTED.findall(snakemake_log):
        path = Path(log_path)
        if not path.is_file():  # the plugin deletes the logs of jobs that succeeded
            continue
        killed = kill_reason(_tail(path))
        if killed is None:
            continue
        kind, reason = killed
        rule = rule_of_log(log_path)
        field = "TimeLimit" if kind == "runtime" else "MinMemoryNode"
        if "MB" not in reason and (limit := _job_field(job_id, field)):
            reason += f", {field}={limit}"
        key = f"resources.{CONFIG_KEYS[rule]}_{'mem_mb' if kind == 'mem' else 'runtime_min'}"
        where = (
            f"raise {key} in the config"
            if rule in CONFIG_KEYS
            else f"raise set-resources {rule}: {'mem_mb' if kind == 'mem' else 'runtime'} in profiles/slurm/config.yaml"
        )
        lines.append(f"SLURM killed job {job_id} of rule {rule}: {reason}; {where} (log: {log_path})")
    return lines
