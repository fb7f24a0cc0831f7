"""What SLURM costs and what group-components saves (run by hand, as root, on a machine that may
start a local cluster: tools/local-slurm.sh).

    python benchmarks/slurm_overhead.py            # both measurements
    python benchmarks/slurm_overhead.py --jobs-only   # only the dry-run job counts (no cluster)

1. tests/slurm/tiny.yaml, local (`--cores 2`) against SLURM (profiles/slurm), side by side:
   wall time, SLURM submissions, and the overhead per submission,
   (SLURM wall - local wall) / submissions.
2. config/qed-2to3.yaml, dry run: SLURM submissions grouped (the profile's group-components)
   against ungrouped (group-components 1).
"""

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SNAKEFILE = ROOT / "Snakefile"
PROFILE = ROOT / "profiles" / "slurm"
TINY = ROOT / "tests" / "slurm" / "tiny.yaml"
QED_2TO3 = ROOT / "config" / "qed-2to3.yaml"
SLURM_ARGS = [
    "--workflow-profile",
    str(PROFILE),
    "--cores",
    "2",
    "--default-resources",
    "slurm_partition=cpu",
    "--slurm-init-seconds-before-status-checks",
    "2",
]


def snakemake(workdir, configfile, *args, timeout=3600):
    cmd = [
        sys.executable,
        "-m",
        "snakemake",
        "-s",
        str(SNAKEFILE),
        "--directory",
        str(workdir),
        "--configfile",
        str(configfile),
        *args,
    ]
    start = time.perf_counter()
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"snakemake failed ({' '.join(args)}):\n{(result.stdout + result.stderr)[-3000:]}")
    return result.stdout + result.stderr, elapsed


def submissions(dry_run_output):
    """Cluster submissions a dry run announces: group jobs, plus ungrouped jobs of non-local rules."""
    groups = len(re.findall(r"^\[[^\]]+\] Group job ", dry_run_output, re.M))
    # Members of a group are indented; `all` has no action and is never submitted.
    singles = len(re.findall(r"^rule (?!all:)\w+:", dry_run_output, re.M))
    return groups + singles


def tiny_local_against_slurm():
    subprocess.run([str(ROOT / "tools" / "local-slurm.sh"), "start"], check=True, timeout=900)
    with tempfile.TemporaryDirectory(prefix="symba-slurm-bench-") as tmp:
        _, local_s = snakemake(Path(tmp) / "local", TINY, "--cores", "2")
        output, slurm_s = snakemake(Path(tmp) / "slurm", TINY, *SLURM_ARGS)
    submitted = len(re.findall(r"has been submitted with SLURM jobid", output))
    rule_jobs = len(re.findall(r"Finished jobid: \d+ \(Rule: (?!all\))", output))
    print(
        f"tiny config: local {local_s:.0f} s, SLURM {slurm_s:.0f} s "
        f"({rule_jobs} rule jobs in {submitted} SLURM submissions); "
        f"overhead {(slurm_s - local_s) / submitted:.1f} s per submission"
    )


def grouped_against_ungrouped():
    with tempfile.TemporaryDirectory(prefix="symba-slurm-dry-") as tmp:
        # One workdir, so the second dry run reuses the first's process manifest.
        grouped, grouped_s = snakemake(Path(tmp), QED_2TO3, *SLURM_ARGS, "--dry-run")
        ungrouped, _ = snakemake(
            Path(tmp),
            QED_2TO3,
            *SLURM_ARGS,
            "--dry-run",
            "--group-components",
            "amplitudes=1",
            "simplify=1",
            "tokenize=1",
        )
    print(
        f"config/qed-2to3.yaml dry run ({grouped_s:.0f} s): {submissions(grouped)} SLURM submissions grouped, "
        f"{submissions(ungrouped)} ungrouped"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs-only", action="store_true", help="only the dry-run job counts")
    args = parser.parse_args()
    if not args.jobs_only:
        tiny_local_against_slurm()
    grouped_against_ungrouped()


if __name__ == "__main__":
    main()
