"""The SLURM run's plain-words messages, from texts SLURM writes (no cluster needed)."""

from symba.workflow import slurm

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
