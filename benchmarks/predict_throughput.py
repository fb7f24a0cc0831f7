"""Wall time of ``symba predict --jsonl --fallback -`` on held-out amplitudes of the default run.

    snakemake --cores 2                                   # the default run, once
    python benchmarks/predict_throughput.py               # 200 lines, plain amplitude text
    python benchmarks/predict_throughput.py --json-lines  # {"amplitude", "process", "diagram"} lines
    PYTHONPATH=/other/checkout/src python benchmarks/predict_throughput.py --json-lines   # another version

The input is the dataset rows (``results/default/dataset``) whose (amplitude, squared) pair is not in the
training split of the token shards, in shard order, repeated to ``--n`` lines.  The command runs
as a user would run it (a fresh ``python -m symba``, start-up included); the script prints one
JSON line: wall time, time to the first answer, CPU seconds of the command and its workers, the
answers' sources, errors, and how many predictions equal the row's ``squared`` text exactly.
With ``--runs N`` the command runs N times and the times are medians (each run's in ``runs``):
on a shared machine compare CPU seconds, and runs of two versions taken in turn.
Issue 24's goal: 200 lines in <= 5 s on a quiet 2-core machine.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import pyarrow.parquet as pq


def held_out_rows(results: str) -> list[dict]:
    split = {}
    for path in sorted(glob.glob(f"{results}/tokens/*/*.parquet")):
        for r in pq.read_table(path, columns=["amplitude", "squared", "split"]).to_pylist():
            split[(r["amplitude"], r["squared"])] = r["split"]
    rows = []
    for path in sorted(glob.glob(f"{results}/dataset/*/*.parquet")):
        columns = ["amplitude", "squared", "process", "theory", "diagram"]
        for r in pq.read_table(path, columns=columns).to_pylist():
            if split.get((r["amplitude"], r["squared"]), "train") != "train":
                rows.append(r)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results/default")
    parser.add_argument("--model", default=None, help="default: RESULTS/model/model.pt")
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--json-lines", action="store_true", help="send process and diagram with each amplitude")
    parser.add_argument("--runs", type=int, default=1, help="run the command this many times; times are medians")
    parser.add_argument("extra", nargs="*", help="more predict options, after --")
    args = parser.parse_args()
    rows = held_out_rows(args.results)
    if not rows:
        sys.exit("no held-out rows: run the default workflow first (snakemake --cores 2)")
    lines = [rows[k % len(rows)] for k in range(args.n)]
    results = [run_once(args, lines) for _ in range(max(1, args.runs))]
    report = dict(results[-1])
    for key in ("wall_s", "first_answer_s", "cpu_s", "loadavg"):
        report[key] = round(statistics.median(r[key] for r in results), 2)
    if len(results) > 1:
        report["runs"] = [{key: r[key] for key in ("wall_s", "first_answer_s", "cpu_s", "loadavg")} for r in results]
    print(json.dumps(report))
    return 0


def run_once(args, lines: list[dict]) -> dict:
    """One run of the command on ``lines``: its times, answers and errors."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as fh:
        for r in lines:
            if args.json_lines:
                request = {"amplitude": r["amplitude"], "process": r["process"], "theory": r["theory"]}
                fh.write(json.dumps(dict(request, diagram=r["diagram"])) + "\n")
            else:
                fh.write(r["amplitude"] + "\n")
        fh.flush()
        model = args.model or f"{args.results}/model/model.pt"
        command = [
            sys.executable,
            "-m",
            "symba",
            "predict",
            "--model",
            model,
            "--jsonl",
            "--fallback",
            *args.extra,
            "-",
        ]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with open(fh.name, "rb") as stdin, tempfile.TemporaryFile() as errors:
            start = time.perf_counter()
            proc = subprocess.Popen(command, stdin=stdin, stdout=subprocess.PIPE, stderr=errors)
            first = proc.stdout.readline()
            first_s = time.perf_counter() - start
            rest = proc.stdout.read()
            proc.wait()
            wall = time.perf_counter() - start
            errors.seek(0)
            err = errors.read()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = []
    for line in (first + rest).decode().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            out.append({"error": f"not a JSON line: {line[:200]!r}"})
    identical = sum(o.get("prediction") == r["squared"] for o, r in zip(out, lines))
    return {
        "lines": len(lines),
        "distinct_lines": len({r["amplitude"] for r in lines}),
        "json_lines": args.json_lines,
        "wall_s": round(wall, 2),
        "first_answer_s": round(first_s, 2),
        "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2),
        "answers": len(out),
        "exact": sum(o.get("source") == "exact" for o in out),
        "model": sum(o.get("source") == "model" for o in out),
        "errors": sum("error" in o for o in out),
        "first_error": next((o["error"] for o in out if "error" in o), None),
        "identical_to_dataset": identical,
        "exit_code": proc.returncode,
        "stderr_tail": err.decode()[-300:],
        "loadavg": os.getloadavg()[0],
    }


if __name__ == "__main__":
    sys.exit(main())
