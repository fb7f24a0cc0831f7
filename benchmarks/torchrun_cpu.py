"""Training on 1 against 2 CPU processes (torchrun, gloo): tokens/s and loss curves.

    snakemake --cores 2                     # the default run's token shards, once
    python benchmarks/torchrun_cpu.py       # --steps 200; prints one JSON line per run

Runs ``torchrun --standalone --nproc_per_node N -m symba train`` on the default run's token
shards with config.yaml's ``train:`` section (``max_steps`` = ``--steps``, no validation, one
thread per process), for: 1 process; 2 processes with the same ``batch_tokens`` each (twice the
global batch); 2 processes with half of it each (the same global batch as 1 process).  Tokens/s
counts source + target tokens of all ranks (metrics.csv); the loss curve is every 20th step.
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml


def run(processes: int, train: dict, shards: list[str], vocab: str, folder: Path) -> dict:
    config = folder / "config.yaml"
    config.write_text(yaml.safe_dump({"train": train}))
    out = folder / "out"
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes)]
    command += ["-m", "symba", "train", "--config", str(config), "--vocab", vocab, "--out", str(out), *shards]
    start = time.perf_counter()
    subprocess.run(command, check=True, env=dict(os.environ, OMP_NUM_THREADS="1"), capture_output=True)
    wall = time.perf_counter() - start
    with open(out / "metrics.csv") as fh:
        rows = list(csv.DictReader(fh))
    last = rows[-1]
    return {
        "processes": processes,
        "batch_tokens_per_process": train["batch_tokens"],
        "steps": int(last["step"]),
        "wall_s": round(wall, 1),
        "train_s": float(last["train_s"]),
        "tokens_seen": int(last["tokens_seen"]),
        "tokens_per_s": round(int(last["tokens_seen"]) / float(last["train_s"]), 1),
        "loss_every_20_steps": [float(r["loss"]) for r in rows if int(r["step"]) % 20 == 0],
        "loadavg": os.getloadavg()[0],
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default="results")
    parser.add_argument("--config", default="config.yaml")
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    shards = sorted(glob.glob(f"{args.results}/tokens/*/*.parquet"))
    if not shards:
        sys.exit("no token shards: run the default workflow first (snakemake --cores 2)")
    base = dict(yaml.safe_load(Path(args.config).read_text()).get("train") or {})
    base.update(max_steps=args.steps, valid_every=0, checkpoint_every=args.steps, log_every=10, num_threads=1)
    base["warmup_steps"] = min(base.get("warmup_steps", 30), args.steps // 4)
    half = dict(base, batch_tokens=base.get("batch_tokens", 1024) // 2)
    for processes, train in ((1, base), (2, base), (2, half)):
        with tempfile.TemporaryDirectory() as folder:
            print(json.dumps(run(processes, train, shards, f"{args.results}/tokens/vocab.json", Path(folder))))
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
