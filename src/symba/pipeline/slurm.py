"""Plain-words checks and messages for runs through Snakemake's SLURM executor plugin.

Before submitting (workflow/rules/slurm.smk `onstart`): a partition the cluster lacks, a status
command that cannot work, and a job asking for more CPUs, memory or GPUs than any node of its
partition has, stop the run with one line each. The plugin would otherwise print one sbatch error
per job, wait forever (`sacct` on a cluster without accounting), or leave the job pending forever
(reason `PartitionConfig`) without a word.
After a failure (`onerror`): a job SLURM killed for exceeding its memory or time request is named
with its rule and its request, read from the job's SLURM log.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
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

# Rule -> the config key that sets its threads (CPUs per job).
THREADS_KEYS = {"simplify": "simplify.workers", "process": "simplify.workers"}

_SUBMITTED = re.compile(r"has been submitted with SLURM jobid (\d+) \(log: (.+?)\)\.?$", re.M)
_OVER_MEMORY = re.compile(r"exceeded memory limit \((\d+) > (\d+)\)")  # jobacct_gather OverMemoryKill
_OOM_KILLED = re.compile(r"oom_kill event|OOM Killed|OUT_OF_MEMORY")  # cgroup memory limit
_OVER_TIME = re.compile(r"CANCELLED AT \S+ DUE TO TIME LIMIT")
_GPU_GRES = re.compile(r"^gpu(?::[^:(,]+)?:(\d+)")  # gpu:2, gpu:a100:4(S:0-1); a bare "gpu" is 1
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


@dataclass(frozen=True)
class Node:
    """One node as one partition offers it (`sinfo --Node` lists a node once per partition)."""

    name: str
    partition: str
    cpus: int
    mem_mb: int
    gpus: int


@dataclass(frozen=True)
class Request:
    """What one SLURM submission asks for: one rule's job, or a group job of several shards."""

    rules: tuple[str, ...]
    jobs: int  # shards in the submission; 1 for a job outside a group
    group: str | None
    partition: str | None  # None: the cluster's default partition
    cpus: int
    mem_mb: int | None
    gpus: int
    threads: int = 1  # CPUs of one member job
    runtime: int | None = None  # minutes (sbatch -t)


def gpu_count(gres: str) -> int:
    """GPUs in a `sinfo %G` or `gres` text: 'gpu:2', 'gpu:a100:4(S:0-1),shard:8', 'gpu', '(null)'."""
    total = 0
    for item in gres.split(","):
        item = item.strip()
        if item == "gpu" or item.startswith("gpu("):
            total += 1
        elif match := _GPU_GRES.match(item):
            total += int(match.group(1))
    return total


def parse_nodes(sinfo_text: str) -> tuple[list[Node], str | None]:
    """Nodes and the default partition (marked *) from `sinfo --Node --format=%N|%P|%c|%m|%G`."""
    nodes, default = [], None
    for line in sinfo_text.splitlines():
        fields = line.strip().split("|")
        if len(fields) != 5:
            continue
        name, partition, cpus, mem_mb, gres = fields
        if partition.endswith("*"):
            partition = partition[:-1]
            default = partition
        try:  # "2+" when sinfo folds nodes of different sizes: the smallest is a safe bound
            nodes.append(Node(name, partition, int(cpus.rstrip("+")), int(mem_mb.rstrip("+")), gpu_count(gres)))
        except ValueError:
            continue
    return nodes, default


def cluster_nodes() -> tuple[list[Node], str | None] | None:
    """Every node of every partition, and the default partition; None when sinfo cannot answer."""
    try:
        listed = _run("sinfo", "--Node", "--noheader", "--format=%N|%P|%c|%m|%G")
    except (OSError, subprocess.TimeoutExpired):
        return None
    if listed.returncode != 0:
        return None
    return parse_nodes(listed.stdout)


def _int(value) -> int | None:
    """A resource value as an int; None for one not known yet (a TBD resource) or not a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        return None


def _gpus_of(resources) -> int:
    # The plugin's two ways to ask for GPUs: `gpu: N` (with `gpu_model`) or `gres: gpu:...`.
    if (gpus := _int(resources.get("gpu") or 0)) is not None and gpus > 0:
        return gpus
    return gpu_count(str(resources.get("gres") or ""))


def request_of(unit, rules: tuple[str, ...], jobs: int, group: str | None, threads: int) -> Request:
    """The request the plugin will submit for a job or group job (its resources, as sbatch gets them)."""
    resources = unit.resources
    gpus = _gpus_of(resources)
    tasks = _int(resources.get("tasks") or 1) or 1
    # As the plugin sets them: cpus_per_task, else cpus_per_gpu x GPUs, else the job's threads.
    if (per_task := _int(resources.get("cpus_per_task") or 0)) and per_task > 0:
        cpus = per_task * tasks
    elif gpus and (per_gpu := _int(resources.get("cpus_per_gpu") or 0)) and per_gpu > 0:
        cpus = per_gpu * gpus
    else:
        cpus = max(1, _int(unit.threads) or 1) * tasks
    if (per_cpu := _int(resources.get("mem_mb_per_cpu") or 0)) and per_cpu > 0:
        mem_mb = per_cpu * cpus
    else:
        mem_mb = _int(resources.get("mem_mb"))
    partition = resources.get("slurm_partition")
    runtime = _int(resources.get("runtime"))
    return Request(rules, jobs, group, str(partition) if partition else None, cpus, mem_mb, gpus, threads, runtime)


def requests_of(jobs, group_of) -> list[Request]:
    """One request per submission about to be made: a job outside a group, or a whole group job.

    `group_of(job)` is Snakemake's group job holding `job` (dag.get_job_group), or None.
    """
    found, seen = [], set()
    for job in jobs:
        if job.is_local:
            continue
        group = group_of(job)
        if group is None:
            found.append(request_of(job, (job.rule.name,), 1, None, _int(job.threads) or 1))
            continue
        if id(group) in seen:
            continue
        seen.add(id(group))
        members = list(group.jobs)
        rules = tuple(sorted({member.rule.name for member in members}))
        threads = max(_int(member.threads) or 1 for member in members)
        try:
            found.append(request_of(group, rules, len(members), str(group.groupid), threads))
        except Exception:  # noqa: BLE001  Snakemake cannot size the group: it says so itself when submitting
            continue
    return found


def _keys(request: Request, too_big: list[str], node_cpus: int) -> str:
    """Where to lower what does not fit: the config key, the profile key, or the command line."""
    rule = request.rules[0]
    fixes = []
    if "CPUs" in too_big:
        if request.threads > 1 and rule in THREADS_KEYS:
            fixes.append(f"lower {THREADS_KEYS[rule]} in the config")
        # A job's CPUs are its threads, which `cores` caps (a grouped job: those of one shard).
        fixes.append(f"lower `cores` in profiles/slurm/config.yaml (or run with --cores {node_cpus})")
    if "MB" in too_big:
        if rule in CONFIG_KEYS:
            fixes.append(f"lower resources.{CONFIG_KEYS[rule]}_mem_mb in the config")
        else:
            fixes.append(f"lower set-resources {rule}: mem_mb in profiles/slurm/config.yaml")
    if "GPUs" in too_big:
        fixes.append(
            f"set set-resources {rule}: slurm_partition (a partition with GPUs) or gpu in profiles/slurm/config.yaml"
        )
    return ", or ".join(fixes)


def _amount(n: int, unit: str) -> str:
    return f"{n} {unit[:-1] if n == 1 and unit != 'MB' else unit}"


def fit_problems(requests: list[Request], nodes: list[Node], default_partition: str | None) -> list[str]:
    """One line per kind of submission that no node of its partition can run: it would pend forever."""
    lines, said = [], set()
    for request in requests:
        partition = request.partition or default_partition
        members = [node for node in nodes if node.partition == partition]
        if not members:  # an unknown partition: partition_problem names it
            continue

        def fits(node, request=request):
            memory_ok = request.mem_mb is None or node.mem_mb >= request.mem_mb
            return node.cpus >= request.cpus and memory_ok and node.gpus >= request.gpus

        if any(fits(node) for node in members):
            continue
        asked = {"CPUs": request.cpus, "MB": request.mem_mb or 0, "GPUs": request.gpus}
        most = {
            "CPUs": max(n.cpus for n in members),
            "MB": max(n.mem_mb for n in members),
            "GPUs": max(n.gpus for n in members),
        }
        too_big = [unit for unit in asked if asked[unit] > most[unit]] or [u for u in asked if asked[u]]
        what = f"rule {', '.join(request.rules)}"
        if request.group:
            what += f" ({request.jobs} shards in one grouped job)"
        key = (request.rules, request.partition, request.cpus, request.mem_mb, request.gpus)
        if key in said:
            continue
        said.add(key)
        request_text = " and ".join(_amount(asked[unit], unit) for unit in too_big)
        have = " and ".join(_amount(most[unit], unit) for unit in too_big)
        if any(asked[unit] > most[unit] for unit in too_big):
            where = f"the nodes of partition '{partition}' have at most {have}"
        else:
            where = f"no node of partition '{partition}' has all of them"
        lines.append(
            f"SLURM: {what} asks for {request_text}, but {where}, so it would pend forever; "
            f"{_keys(request, too_big, most['CPUs'])}."
        )
    return lines


def minutes(limit: str) -> int | None:
    """A SLURM time limit (`sinfo %l`: 'infinite', '2-00:00:00', '12:00:00', '30:00', '30') in minutes."""
    limit = limit.strip()
    if limit.lower() in ("infinite", "unlimited", "n/a", ""):
        return None
    days, _, clock = limit.rpartition("-")
    try:
        parts = [int(x) for x in clock.split(":")]
        whole_days = int(days) if days else 0
    except ValueError:
        return None
    if len(parts) == 3:
        hours, mins, secs = parts
    elif len(parts) == 2:
        hours, (mins, secs) = (parts[0], (parts[1], 0)) if days else (0, parts)
    else:
        hours, mins, secs = (parts[0], 0, 0) if days else (0, parts[0], 0)
    return whole_days * 1440 + hours * 60 + mins + (secs > 0)


def partition_time_limits() -> dict[str, int | None] | None:
    """Partition -> its MaxTime in minutes (None: no limit); None when sinfo cannot answer."""
    try:
        listed = _run("sinfo", "--noheader", "--format=%R|%l")
    except (OSError, subprocess.TimeoutExpired):
        return None
    if listed.returncode != 0:
        return None
    return {
        name: minutes(limit)
        for name, _, limit in (line.strip().partition("|") for line in listed.stdout.splitlines())
        if name
    }


def time_problems(requests: list[Request], limits: dict[str, int | None], default_partition: str | None) -> list[str]:
    """One line per kind of submission whose time request exceeds its partition's MaxTime."""
    lines, said = [], set()
    for request in requests:
        partition = request.partition or default_partition
        limit = limits.get(partition)
        if limit is None or request.runtime is None or request.runtime <= limit:
            continue
        key = (request.rules, partition, request.runtime)
        if key in said:
            continue
        said.add(key)
        rule = request.rules[0]
        what = f"rule {', '.join(request.rules)}"
        fixes = []
        if request.group:
            what += f" ({request.jobs} shards in one grouped job, run one after another)"
            fixes.append(f"lower group-components {rule}: in profiles/slurm/config.yaml")
        if rule in CONFIG_KEYS:
            fixes.append(f"lower resources.{CONFIG_KEYS[rule]}_runtime_min in the config")
        else:
            fixes.append(f"lower set-resources {rule}: runtime in profiles/slurm/config.yaml")
        lines.append(
            f"SLURM: {what} asks for {request.runtime} minutes, but partition '{partition}' allows at most "
            f"{limit}; {', or '.join(fixes)}."
        )
    return lines


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
