"""Peak memory of the model stages as the dataset grows: the goal is flat.

Run by hand (long on 2 cores: generating the 1M-row shards takes a few minutes)::

    nice -n 10 python benchmarks/model_memory.py                       # 10k, 100k, 1M rows
    nice -n 10 python benchmarks/model_memory.py --rows 10000 100000 --shards 4 --steps 10

For each size it writes ``--shards`` synthetic token shards (random ids in the real
vocabulary; source and target lengths log-normal around 150 and 100 tokens, capped
below the model's 512, as in the SYMBA data) the way the tokenize stage writes them
(one ``pq.write_table`` per shard, so up to 1Mi rows in one row group), then runs each
stage in a fresh interpreter and reports its peak RSS (``ru_maxrss``):

- ``stream``: the shard check and ``--steps`` batches of the training stream, no model;
- ``train``: ``run_training`` for ``--steps`` steps of a small model (check, fingerprint,
  validation rows, checkpoint, model file, plots);
- ``evaluate``: ``run_evaluation`` over at most ``--eval-examples`` rows per test side,
  greedy, numeric checks in 2 worker processes (their peak is ``children_peak_mb``).

Prints one JSON line per (rows, stage) and a Markdown table at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NOTATION = "hybrid-short"
SPLITS = (("train", 0.8), ("valid", 0.1), ("test_orderings", 0.05), ("test_templates", 0.05))
N_GROUPS = 2000  # templates: a fixed number, as a physics scope has
SQUARED = "2*e^4*(s_13*s_24 + s_14*s_23)/s_12^2"
MODEL = {"d_model": 32, "n_heads": 2, "n_encoder_layers": 1, "n_decoder_layers": 1, "d_ff": 64, "max_len": 512}


def _rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def write_shards(directory: Path, rows: int, n_shards: int, seed: int = 0) -> list[str]:
    import numpy as np
    import pyarrow as pa

    from symba.dataset_schema import SCHEMA, TOKEN_COLUMNS, write_table_atomic
    from symba.tokenization.vocab import write_vocabulary

    vocab = write_vocabulary(directory / "vocab.json", NOTATION)
    rng = np.random.default_rng(seed)
    names = [s for s, _ in SPLITS]
    weights = [w for _, w in SPLITS]
    paths = []
    for k in range(n_shards):
        n = rows // n_shards + (k < rows % n_shards)
        split = rng.choice(names, size=n, p=weights)
        group = rng.integers(0, N_GROUPS, size=n)
        group = np.where(split == "test_templates", group + N_GROUPS, group)  # never seen in training

        def ids(median):
            lengths = np.clip(rng.lognormal(np.log(median), 0.5, size=n), 5, 500).astype(np.int32)
            offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
            values = rng.integers(4, len(vocab), size=int(offsets[-1]), dtype=np.int32)
            return pa.ListArray.from_arrays(pa.array(offsets), pa.array(values))

        def const(value):
            return pa.array([value] * n, pa.string())

        columns = {
            "process": const("e- e+ -> mu- mu+"),
            "theory": const("qed"),
            "multiplicity": const("2->2"),
            "diagram": pa.array(np.zeros(n, dtype=np.int32)),
            "amplitude": const("-i*e^2*vbar(e,p_2,d1)*gamma(mu1,d1,d2)*u(e,p_1,d2)/s_12"),
            "squared_raw": const(SQUARED),
            "squared": const(SQUARED),
            "status": const("ok"),
            "backend": const("builtin"),
            "engine_version": const("1"),
            "canonical_process": const("e- e+ -> mu- mu+"),
            "permutation": const("1,2,3,4"),
            "split": pa.array(split.tolist(), pa.string()),
            "group": pa.array([f"g{g:05d}" for g in group.tolist()], pa.string()),
            "amplitude_ids": ids(150),
            "squared_ids": ids(100),
        }
        schema = pa.schema(list(SCHEMA) + list(TOKEN_COLUMNS))
        path = directory / f"shard-{k:03d}.parquet"
        write_table_atomic(pa.table(columns, schema=schema), path)
        paths.append(str(path))
    return paths


# -- one stage, in a fresh interpreter -------------------------------------------------------


def run_stage(stage: str, directory: Path, steps: int, eval_examples: int) -> dict:
    import logging

    logging.disable(logging.WARNING)
    os.environ["TQDM_DISABLE"] = "1"
    from symba.model import batches
    from symba.model.config import train_config

    paths = sorted(str(p) for p in directory.glob("shard-*.parquet"))
    vocab_path = str(directory / "vocab.json")
    train = {"max_steps": steps, "log_every": steps, "checkpoint_every": steps, "valid_every": steps}
    train.update({"num_threads": 1, "warmup_steps": 1, "model": MODEL})
    baseline = _rss_mb()
    t0 = time.perf_counter()
    if stage == "stream":
        cfg = train_config(train)
        vocab = batches.load_vocab(vocab_path)
        batches.check_shards(paths, len(vocab))
        stream = batches.training_stream(
            paths,
            batches.Specials(vocab),
            cfg.model.max_len,
            cfg.batch_tokens,
            cfg.max_batch_size,
            cfg.buffer_rows,
            cfg.seed,
            vocab_size=len(vocab),
        )
        for _ in zip(range(steps), stream, strict=False):
            pass
    elif stage == "train":
        from symba.model.train import run_training

        out = directory / "train"
        shutil.rmtree(out, ignore_errors=True)  # a checkpoint of the same data would resume: no training
        out.mkdir()
        run_training(
            train,
            paths,
            vocab_path,
            str(directory / "model.pt"),
            str(out),
            str(out / "metrics.csv"),
            str(out / "lr.png"),
            str(out / "curves.png"),
        )
    elif stage == "evaluate":
        from symba.model.evaluate import run_evaluation

        out = directory / "evaluation"
        out.mkdir(exist_ok=True)
        config = {"beam_size": 1, "max_examples": eval_examples, "max_output_len": 24, "workers": 2}
        run_evaluation(
            str(directory / "model.pt"),
            paths,
            vocab_path,
            config,
            str(out / "metrics.json"),
            str(out / "calibration.png"),
            str(out / "length.png"),
        )
    else:
        raise SystemExit(f"unknown stage {stage!r}")
    return {
        "stage": stage,
        "seconds": round(time.perf_counter() - t0, 1),
        "baseline_mb": round(baseline, 1),
        "peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "children_peak_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--eval-examples", type=int, default=16)
    ap.add_argument("--stages", nargs="+", default=["stream", "train", "evaluate"])
    ap.add_argument("--workdir", help="keep the shards here (default: a temporary directory, removed)")
    ap.add_argument("--stage", help=argparse.SUPPRESS)  # internal: run one stage on --workdir
    args = ap.parse_args()
    if args.stage:
        print(json.dumps(run_stage(args.stage, Path(args.workdir), args.steps, args.eval_examples)))
        return 0

    root = Path(args.workdir or tempfile.mkdtemp(prefix="symba-memory-"))
    results = []
    try:
        for rows in args.rows:
            directory = root / f"rows-{rows}"
            directory.mkdir(parents=True, exist_ok=True)
            t0 = time.perf_counter()
            if not (directory / f"shard-{args.shards - 1:03d}.parquet").exists():
                write_shards(directory, rows, args.shards)
            size_mb = sum(p.stat().st_size for p in directory.glob("shard-*.parquet")) / 2**20
            print(f"# {rows} rows: {args.shards} shards, {size_mb:.0f} MB on disk ({time.perf_counter() - t0:.0f} s)")
            for stage in args.stages:
                command = [sys.executable, __file__, "--stage", stage, "--workdir", str(directory)]
                command += ["--steps", str(args.steps), "--eval-examples", str(args.eval_examples)]
                done = subprocess.run(command, capture_output=True, text=True)
                if done.returncode:
                    print(done.stderr[-3000:], file=sys.stderr)
                    raise SystemExit(f"stage {stage} failed on {rows} rows (exit {done.returncode})")
                result = {"rows": rows, "shards": args.shards, "disk_mb": round(size_mb), **json.loads(done.stdout)}
                print(json.dumps(result), flush=True)
                results.append(result)
    finally:
        if not args.workdir:
            shutil.rmtree(root, ignore_errors=True)
    print("\n| rows | stage | peak RSS MB | baseline MB | workers' peak MB | seconds |\n|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['rows']:,} | {r['stage']} | {r['peak_mb']:.0f} | {r['baseline_mb']:.0f} | "
            f"{r['children_peak_mb']:.0f} | {r['seconds']} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
