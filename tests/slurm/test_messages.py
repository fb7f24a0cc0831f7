"""The SLURM run's plain-words messages, from texts SLURM writes (no cluster needed)."""

from symba.pipeline import slurm

# slurmstepd's lines, as SLURM 22.05 wrote them on the local test cluster (OverMemoryKill) ...
OVER_MEMORY_LOG = """slurmstepd-localhost: error: StepId=18.batch exceeded memory limit (110006272 > 83886080), being killed
slurmstepd-localhost: error: *** JOB 18 ON localhost CANCELLED AT 2026-12-01T12:18:05 ***
slurmstepd-localhost: error: Exceeded job memory limit
"""
# ... and as SLURM writes them for a time limit and for a cgroup OOM kill.
OVER_TIME_LOG = "slurmstepd: error: *** JOB 7 ON node12 CANCELLED AT 2026-12-01T10:00:00 DUE TO TIME LIMIT ***\n"
CGROUP_OOM_LOG = (
    "slurmstepd: error: Detected 1 oom_kill event in StepId=9.batch. Some of the step tasks have been OOM Killed.\n"
)


def test_memory_kill_names_use_and_request_in_mb():
    kind, text = slurm.kill_reason(OVER_MEMORY_LOG)
    assert kind == "mem"
    assert "used 105 MB" in text and "request of 80 MB" in text  # 110006272 / 2**20, 83886080 / 2**20


def test_time_and_cgroup_kills_are_recognised_and_plain_failures_are_not():
    assert slurm.kill_reason(OVER_TIME_LOG)[0] == "runtime"
    assert slurm.kill_reason(CGROUP_OOM_LOG)[0] == "mem"
    assert slurm.kill_reason("Traceback (most recent call last):\nValueError: bad\n") is None


def test_rule_of_a_plugin_log_path():
    assert slurm.rule_of_log("/w/.snakemake/slurm_logs/group_amplitudes_amplitudes/18.log") == "amplitudes"
    assert slurm.rule_of_log("/w/.snakemake/slurm_logs/rule_length_report/15.log") == "length_report"
    assert slurm.rule_of_log("/w/.snakemake/slurm_logs/rule_train/17.log") == "train"


def test_explain_failures_reads_the_logs_of_this_runs_submissions(tmp_path):
    log_dir = tmp_path / ".snakemake/slurm_logs/group_simplify_simplify"
    log_dir.mkdir(parents=True)
    (log_dir / "18.log").write_text(OVER_MEMORY_LOG)
    gone = tmp_path / ".snakemake/slurm_logs/rule_vocabulary/17.log"  # succeeded: the plugin deleted it
    run_log = (
        f"Job 3 has been submitted with SLURM jobid 17 (log: {gone}).\n"
        f"Job ab-12 has been submitted with SLURM jobid 18 (log: {log_dir / '18.log'}).\n"
    )
    (line,) = slurm.explain_failures(run_log)
    assert line.startswith("SLURM killed job 18 of rule simplify: ")
    assert "request of 80 MB" in line and "resources.simplify_mem_mb" in line


def test_partition_problem_names_the_partition_its_rules_and_the_choices():
    assert slurm.partition_problem({"cpu": {"amplitudes"}}, {"cpu", "gpu"}) is None
    line = slurm.partition_problem({"cpuu": {"tokenize", "amplitudes"}, "gpu": {"train"}}, {"cpu", "gpu"})
    assert "\n" not in line
    assert (
        line.startswith("SLURM partition 'cpuu' (rules amplitudes, tokenize) does not exist")
        and "it has cpu, gpu" in line
    )


def test_status_command_other_than_sacct_needs_no_probe():
    assert slurm.status_command_problem("squeue") is None
    assert slurm.status_command_problem(None) is None


# `sinfo --Node --noheader --format=%N|%P|%c|%m|%G`, as SLURM 22.05 printed it for the local test
# cluster (one 2-CPU node in two partitions), plus a GPU node as larger clusters list them.
SINFO = """localhost|cpu*|2|20489|gpu:1
localhost|gpu|2|20489|gpu:1
g01|gpu|64|512000|gpu:a100:4(S:0-1),shard:8
"""


def test_nodes_and_default_partition_from_sinfo():
    nodes, default = slurm.parse_nodes(SINFO)
    assert default == "cpu"
    assert [(n.name, n.partition, n.cpus, n.mem_mb, n.gpus) for n in nodes] == [
        ("localhost", "cpu", 2, 20489, 1),
        ("localhost", "gpu", 2, 20489, 1),
        ("g01", "gpu", 64, 512000, 4),
    ]
    assert slurm.gpu_count("(null)") == 0 and slurm.gpu_count("gpu") == 1 and slurm.gpu_count("gpu:2,gpu:v100:1") == 3


def request(rule="amplitudes", cpus=1, mem_mb=1000, gpus=0, partition=None, group=True, threads=1):
    return slurm.Request((rule,), 4 if group else 1, "g" if group else None, partition, cpus, mem_mb, gpus, threads)


def test_requests_that_fit_a_node_pass():
    nodes, default = slurm.parse_nodes(SINFO)
    fitting = [request(cpus=2, mem_mb=20489), request("train", cpus=64, gpus=4, partition="gpu", group=False)]
    assert slurm.fit_problems(fitting, nodes, default) == []
    # An unknown partition is partition_problem's to name, not this check's.
    assert slurm.fit_problems([request(cpus=99, partition="nope")], nodes, default) == []


def test_a_grouped_job_over_the_node_cpus_names_rule_request_and_the_cores_key():
    nodes, default = slurm.parse_nodes(SINFO)
    (line,) = slurm.fit_problems([request(cpus=8), request(cpus=8)], nodes, default)  # the same request once
    assert "\n" not in line
    assert line.startswith("SLURM: rule amplitudes (4 shards in one grouped job) asks for 8 CPUs, ")
    assert "partition 'cpu' have at most 2 CPUs" in line and "`cores` in profiles/slurm/config.yaml" in line
    assert "--cores 2" in line


def test_memory_and_gpu_requests_name_their_keys():
    nodes, default = slurm.parse_nodes(SINFO)
    (memory,) = slurm.fit_problems([request("simplify", cpus=2, mem_mb=40000)], nodes, default)
    assert "asks for 40000 MB" in memory and "at most 20489 MB" in memory
    assert "lower resources.simplify_mem_mb in the config" in memory
    (light,) = slurm.fit_problems([request("length_report", mem_mb=30000, group=False)], nodes, default)
    assert "set-resources length_report: mem_mb in profiles/slurm/config.yaml" in light
    (gpu,) = slurm.fit_problems([request("train", cpus=2, gpus=8, partition="gpu", group=False)], nodes, default)
    assert "asks for 8 GPUs" in gpu and "at most 4 GPUs" in gpu and "set-resources train:" in gpu
    (none,) = slurm.fit_problems([request("train", gpus=1, group=False)], [slurm.Node("n", "cpu", 2, 1000, 0)], "cpu")
    assert "asks for 1 GPU," in none and "at most 0 GPUs" in none


def test_threads_over_the_node_name_the_threads_key():
    nodes, default = slurm.parse_nodes(SINFO)
    (line,) = slurm.fit_problems([request("simplify", cpus=4, group=False, threads=4)], nodes, default)
    assert "lower simplify.workers in the config" in line


def test_a_combination_no_single_node_has():
    nodes = [slurm.Node("big-cpu", "p", 64, 1000, 0), slurm.Node("big-mem", "p", 2, 500000, 0)]
    (line,) = slurm.fit_problems([request(cpus=8, mem_mb=100000)], nodes, "p")
    assert "asks for 8 CPUs and 100000 MB" in line and "no node of partition 'p' has all of them" in line


class _Rule:
    def __init__(self, name):
        self.name = name


class _Job:
    """The few attributes of a Snakemake job (or group job) that requests_of reads."""

    def __init__(self, rule, threads=1, is_local=False, **resources):
        self.rule, self.threads, self.is_local, self.resources = _Rule(rule), threads, is_local, resources


class _Group:
    def __init__(self, jobs, threads, **resources):
        self.jobs, self.threads, self.resources, self.groupid = jobs, threads, resources, "amplitudes"


def test_requests_of_jobs_one_per_submission_as_the_plugin_would_make_it():
    shards = [_Job("amplitudes", mem_mb=1000) for _ in range(4)]
    group = _Group(shards, threads=2, mem_mb=2000, _cores=2)
    train = _Job("train", threads=2, mem_mb=16000, gpu=1, slurm_partition="gpu", cpus_per_gpu=8)
    local = _Job("all", is_local=True)
    per_cpu = _Job("length_report", threads=3, mem_mb_per_cpu=500, tasks=1)
    requests = slurm.requests_of([*shards, train, local, per_cpu], lambda job: group if job in shards else None)
    assert [(r.rules, r.jobs, r.cpus, r.mem_mb, r.gpus, r.partition) for r in requests] == [
        (("amplitudes",), 4, 2, 2000, 0, None),
        (("train",), 1, 8, 16000, 1, "gpu"),  # cpus_per_gpu x GPUs, as sbatch --cpus-per-gpu gets them
        (("length_report",), 1, 3, 1500, 0, None),
    ]


def test_slurm_time_limits_in_minutes():
    # The formats of `sinfo %l` (SLURM's documented time formats), worked by hand.
    assert [slurm.minutes(t) for t in ("infinite", "2-00:00:00", "12:00:00", "30:00", "30", "1-12", "1-12:30")] == [
        None,
        2880,
        720,
        30,
        30,
        2160,
        2190,
    ]


def test_a_grouped_job_longer_than_the_partition_allows_names_group_components_and_runtime_key():
    grouped = slurm.Request(("amplitudes",), 16, "g", None, 1, 2000, 0, 1, runtime=16 * 600)
    assert slurm.time_problems([grouped], {"cpu": None}, "cpu") == []  # no limit
    (line,) = slurm.time_problems([grouped, grouped], {"cpu": 2880}, "cpu")
    assert line.startswith("SLURM: rule amplitudes (16 shards in one grouped job, run one after another) asks for 9600")
    assert "at most 2880" in line and "group-components amplitudes" in line
    assert "resources.amplitudes_runtime_min" in line
