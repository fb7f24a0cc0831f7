"""The workflow on a live SLURM cluster, through Snakemake's executor plugin and profiles/slurm.

tools/local-slurm.sh starts a one-node cluster (root; Debian's SLURM packages). Without root, the
packages or the plugin, the module is skipped with the reason, unless SYMBA_REQUIRE_SLURM=1 (as
.ci/run sets it): then missing packages are installed, and anything else missing is a failure.
"""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

pytestmark = [pytest.mark.slurm, pytest.mark.slow]  # minutes: CI runs it with the slow tests

ROOT = Path(__file__).resolve().parents[2]
SNAKEFILE = ROOT / "Snakefile"
PROFILE = ROOT / "profiles" / "slurm"
TINY = yaml.safe_load((Path(__file__).parent / "tiny.yaml").read_text())
START_SCRIPT = ROOT / "tools" / "local-slurm.sh"
REQUIRED = os.environ.get("SYMBA_REQUIRE_SLURM") == "1"
RUN_TIMEOUT_S = 600  # one Snakemake run of the tiny config; about 2 min on a loaded 2-core machine

# LOCAL_SLURM_ACCOUNTING=1: the cluster runs slurmdbd, so sacct works (tools/local-slurm.sh).
ACCOUNTING = os.environ.get("LOCAL_SLURM_ACCOUNTING") == "1"

# The profile as a user runs it: the test cluster's node declares this machine's real CPUs and
# memory (2 CPUs on the project's machine), so what does not fit a small node shows here too.
SLURM_ARGS = [
    "--workflow-profile",
    str(PROFILE),
    "--default-resources",
    "slurm_partition=cpu",
    "--slurm-init-seconds-before-status-checks",
    "2",
]
SUBMITTED = re.compile(r"has been submitted with SLURM jobid (\d+)")


def unavailable(reason):
    if REQUIRED:
        pytest.fail(f"SYMBA_REQUIRE_SLURM=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def cluster():
    """A running local cluster; stops, at the end, only the daemons this fixture started."""
    if os.name != "posix" or os.geteuid() != 0:
        unavailable("starting a local SLURM cluster needs root: run these tests with sudo (tools/local-slurm.sh)")
    try:
        import snakemake_executor_plugin_slurm  # noqa: F401
    except ImportError:
        unavailable('the SLURM executor plugin is not installed (pip install "symba[slurm]")')
    try:
        # Packages are installed only where the test is required (CI); elsewhere their absence skips it.
        env = dict(os.environ, LOCAL_SLURM_NO_INSTALL="0" if REQUIRED else "1")
        started = subprocess.run([str(START_SCRIPT), "start"], capture_output=True, text=True, timeout=900, env=env)
        stderr, timed_out = started.stderr, False
    except subprocess.TimeoutExpired as expired:  # the script bounds every wait; this is a last guard
        stderr, timed_out = expired.stderr or "", True
        stderr = stderr.decode(errors="replace") if isinstance(stderr, bytes) else stderr
    ours = re.findall(r"starting (\w+)", stderr)
    try:
        assert not timed_out, f"tools/local-slurm.sh start took more than 15 min:\n{stderr[-3000:]}"
        if started.returncode == 3:
            unavailable(stderr.strip().splitlines()[-1])
        assert started.returncode == 0 and started.stdout.strip() == "slurm ready", stderr[-3000:]
        yield
    finally:
        if ours:
            subprocess.run([str(START_SCRIPT), "stop", *ours], capture_output=True, timeout=120)


def command(workdir, *args, config=None):
    (workdir / "config.yaml").write_text(yaml.safe_dump(config or TINY))
    return [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(SNAKEFILE),
        "--directory",
        str(workdir),
        "--configfile",
        str(workdir / "config.yaml"),
        *args,
    ]


def snakemake(workdir, *args, config=None, timeout=RUN_TIMEOUT_S):
    return subprocess.run(
        command(workdir, *args, config=config), capture_output=True, text=True, timeout=timeout, env=_env()
    )


def _env():
    # Jobs inherit the environment (sbatch --export=ALL): they import this checkout's symba.
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    return env


def output_of(result):
    return result.stdout + result.stderr


def ok(result):
    assert result.returncode == 0, output_of(result)[-4000:]
    return output_of(result)


def slurm_records(job_ids):
    """SLURM's own record of each job: id -> state, partition, TRES asked for, comment (rule or group)."""
    listed = subprocess.run(
        [
            "squeue",
            "--states=all",
            "--noheader",
            "--jobs",
            ",".join(job_ids),
            "--Format=JobID:24,State:24,Partition:24,tres-per-job:40,Comment:200",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    fields = ("state", "partition", "tres", "comment")
    return {line.split()[0]: dict(zip(fields, line.split()[1:])) for line in listed.stdout.splitlines() if line.strip()}


def running_job(rule, timeout_s=300):
    """Id of the first job of RULE (or group) that SLURM reports running."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        listed = subprocess.run(
            ["squeue", "--noheader", "--states=RUNNING", "--format=%i|%k"], capture_output=True, text=True, timeout=30
        )
        for line in listed.stdout.split():
            job_id, comment = line.split("|", 1)
            if comment.startswith(f"rule_{rule}"):
                return job_id
        time.sleep(0.2)
    pytest.fail(f"no SLURM job of {rule} was running within {timeout_s} s")


def rows(workdir, kind):
    files = sorted((workdir / "results/default" / kind / "qed").glob("*.parquet"))
    return {f.name: pq.read_table(f).to_pylist() for f in files}


@pytest.fixture(scope="module")
def local_run(cluster, tmp_path_factory):
    """The reference run, local. It starts at once, to overlap the SLURM runs' waits; call to wait for it."""
    workdir = tmp_path_factory.mktemp("local")
    with open(workdir / "snakemake.log", "w") as log:
        proc = subprocess.Popen(command(workdir, "--cores", "2"), stdout=log, stderr=subprocess.STDOUT, env=_env())

    def finished():
        returncode = proc.wait(timeout=RUN_TIMEOUT_S)
        assert returncode == 0, (workdir / "snakemake.log").read_text()[-4000:]
        return workdir

    yield finished
    if proc.poll() is None:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def slurm_runs(cluster, local_run, tmp_path_factory):
    """First run: one job is scancel'ed while it runs. Then a rerun, then a third submission."""
    workdir = tmp_path_factory.mktemp("slurm")
    cmd = command(workdir, *SLURM_ARGS, "--retries", "0")
    with open(workdir / "killed-run.log", "w") as log:
        first = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=_env())
    try:
        victim = running_job("amplitudes")
        time.sleep(3)  # let the job's own Snakemake start and mark its outputs incomplete
        subprocess.run(["scancel", victim], check=True, timeout=30)
        first.wait(timeout=RUN_TIMEOUT_S)
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    killed_output = (workdir / "killed-run.log").read_text()
    left_after_kill = sorted(p.name for p in (workdir / "results").rglob("amplitudes/qed/*.parquet"))
    victim_state = slurm_records([victim])[victim]["state"]  # now: the cluster forgets jobs after MinJobAge
    rerun = snakemake(workdir, *SLURM_ARGS)
    rerun_ids = SUBMITTED.findall(output_of(rerun))
    rerun_records = slurm_records(rerun_ids) if rerun_ids else {}
    third = snakemake(workdir, *SLURM_ARGS)
    return {
        "workdir": workdir,
        "victim": victim,
        "killed": (first.returncode, killed_output),
        "left": left_after_kill,
        "victim_state": victim_state,
        "rerun": rerun,
        "rerun_records": rerun_records,
        "third": third,
    }


def test_a_job_cancelled_by_slurm_fails_the_run_and_the_rerun_completes(slurm_runs):
    returncode, output = slurm_runs["killed"]
    assert returncode != 0, output[-3000:]
    assert "Error in group amplitudes" in output, output[-3000:]
    assert slurm_runs["victim_state"] == "CANCELLED"
    assert slurm_runs["left"] == []  # nothing the killed job wrote is kept
    ok(slurm_runs["rerun"])


def local_rules() -> set[str]:
    """Rules the workflow runs on the submit host (`localrule: True`), and `all`."""
    names, rule = {"all"}, None
    for smk in sorted((ROOT / "workflow" / "rules").glob("*.smk")):
        for line in smk.read_text().splitlines():
            if line.startswith("rule "):
                rule = line.split()[1].rstrip(":")
            elif line.strip() == "localrule: True" and rule:
                names.add(rule)
    return names


def test_every_job_went_through_slurm(slurm_runs):
    output = ok(slurm_runs["rerun"])
    job_ids = SUBMITTED.findall(output)
    records = slurm_runs["rerun_records"]
    assert set(records) == set(job_ids)
    assert {record["state"] for record in records.values()} == {"COMPLETED"}
    # Every rule but the local ones ran inside a SLURM job; grouped shards share one.
    finished = set(re.findall(r"Finished jobid: \d+ \(Rule: (\w+)\)", output)) - local_rules()
    assert "amplitudes" in finished and "skipped_report" not in finished
    comments = " ".join(record["comment"] for record in records.values())
    assert finished and all(f"rule_{rule}" in comments for rule in finished), (finished, comments)
    assert len(job_ids) < len(re.findall(r"Finished jobid", output)), "group-components batched no shards"
    # The profile's GPU request for training, and the partition named on the command line for the rest.
    (train,) = [record for record in records.values() if record["comment"] == "rule_train"]
    assert train["partition"] == "gpu" and train["tres"] == "gres:gpu:1"
    assert {record["partition"] for record in records.values() if record is not train} == {"cpu"}


def test_slurm_results_equal_the_local_run_row_for_row(slurm_runs, local_run):
    workdir, local_run = slurm_runs["workdir"], local_run()
    for kind in ("amplitudes", "dataset", "tokens"):
        local = rows(local_run, kind)
        assert len(local) == len(TINY["theories"]["qed"]["processes"])
        assert rows(workdir, kind) == local, kind
    assert (workdir / "results/default/model/model.pt").stat().st_size > 0
    assert (workdir / "results/default/tokens/vocab.json").read_text() == (
        local_run / "results/default/tokens/vocab.json"
    ).read_text()


def test_second_submission_is_a_no_op(slurm_runs):
    output = ok(slurm_runs["third"])
    assert "Nothing to be done" in output
    assert not SUBMITTED.search(output)


def test_a_job_over_its_memory_request_fails_naming_rule_and_request(cluster, tmp_path):
    config = dict(TINY, targets=["dataset"], resources=dict(TINY["resources"], amplitudes_mem_mb=40))
    result = snakemake(tmp_path, *SLURM_ARGS, "--retries", "0", config=config)
    assert result.returncode != 0
    # Four grouped shards, run one after another: the job asks for the memory of one, 40 MB.
    (line,) = [line for line in output_of(result).splitlines() if line.startswith("SLURM killed job")]
    assert " of rule amplitudes: " in line and "request of 40 MB (mem_mb)" in line, line
    assert "resources.amplitudes_mem_mb" in line


def one_line_error(result, start):
    """The run stopped before any submission, with exit code 2 and one line starting with START."""
    assert result.returncode == 2, output_of(result)[-3000:]
    lines = output_of(result).splitlines()
    assert not any(SUBMITTED.search(line) for line in lines)
    assert not any("Traceback" in line or line.startswith("  File ") for line in lines), output_of(result)[-3000:]
    (message,) = [line for line in lines if line.startswith(start)]
    return message


def test_a_misspelt_partition_gives_one_clear_line(cluster, tmp_path):
    result = snakemake(tmp_path, *SLURM_ARGS, "--default-resources", "slurm_partition=cpuu", timeout=300)
    message = one_line_error(result, "SLURM partition 'cpuu'")
    assert message.startswith("SLURM partition 'cpuu' (rules amplitudes, ") and "it has cpu, gpu" in message


def node_size():
    """CPUs and MB of the test cluster's node, as SLURM has them."""
    shown = subprocess.run(["sinfo", "--noheader", "--format=%c %m"], capture_output=True, text=True, timeout=30)
    cpus, mem_mb = shown.stdout.split()[:2]
    return int(cpus), int(mem_mb)


def test_requests_no_node_can_meet_stop_the_run_naming_rule_request_and_key(cluster, tmp_path):
    cpus, mem_mb = node_size()
    config = dict(
        TINY,
        simplify=dict(TINY["simplify"], workers=cpus + 1),
        resources=dict(TINY["resources"], amplitudes_mem_mb=mem_mb + 1),
    )
    result = snakemake(tmp_path, *SLURM_ARGS, "--cores", str(cpus + 1), config=config, timeout=300)
    memory = one_line_error(result, "SLURM: rule amplitudes ")
    assert f"asks for {mem_mb + 1} MB" in memory and f"at most {mem_mb} MB" in memory
    assert "resources.amplitudes_mem_mb" in memory
    (threads,) = [line for line in output_of(result).splitlines() if line.startswith("SLURM: rule simplify ")]
    assert f"asks for {cpus + 1} CPUs" in threads and "simplify.workers" in threads


def test_sacct_without_accounting_gives_one_clear_line_instead_of_hanging(cluster, tmp_path):
    if ACCOUNTING:
        pytest.skip("the cluster runs with accounting (LOCAL_SLURM_ACCOUNTING=1): sacct works there")
    result = snakemake(tmp_path, *SLURM_ARGS, "--slurm-status-command", "sacct", timeout=300)
    message = one_line_error(result, "sacct does not work on this cluster")
    assert "--slurm-status-command squeue" in message
