"""CPU training throughput of the transformer (tokens/s, source + target, padding excluded).

    python benchmarks/model_throughput.py --shards results/default/tokens/qed/*.parquet --vocab results/default/tokens/vocab.json
    python benchmarks/model_throughput.py            # synthetic shard of random sequences

Runs ``--steps`` optimizer steps after ``--warmup`` untimed ones, with the default
``train:`` config (or ``--config config.yaml``), and prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import torch
import yaml

from symba.dataset_schema import SCHEMA, TOKEN_COLUMNS, write_table_atomic
from symba.model.batches import load_vocab
from symba.model.config import train_config
from symba.model.train import Trainer
from symba.tokenization.vocab import write_vocabulary


def synthetic_shard(folder: Path, vocab, n_rows=512, seed=0) -> str:
    rng = random.Random(seed)
    rows = []
    for _ in range(n_rows):
        src = [rng.randrange(4, len(vocab)) for _ in range(rng.randint(40, 130))]
        tgt = [rng.randrange(4, len(vocab)) for _ in range(rng.randint(30, 260))]
        rows.append(
            {
                "process": "e- e+ -> mu- mu+",
                "theory": "qed",
                "multiplicity": "2->2",
                "diagram": 0,
                "amplitude": "",
                "squared_raw": "",
                "squared": "",
                "status": "ok",
                "backend": "builtin",
                "engine_version": "1",
                "split": "train",
                "group": "g",
                "amplitude_ids": src,
                "squared_ids": tgt,
            }
        )
    path = folder / "synthetic.parquet"
    write_table_atomic(pa.Table.from_pylist(rows, schema=pa.schema(list(SCHEMA) + list(TOKEN_COLUMNS))), path)
    return str(path)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shards", nargs="*")
    ap.add_argument("--vocab")
    ap.add_argument("--config", help="config.yaml; its train: section is used")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()
    overrides = {}
    if args.config:
        overrides = (yaml.safe_load(Path(args.config).read_text()) or {}).get("train", {}) or {}
    overrides = {
        **overrides,
        "num_threads": args.threads,
        "valid_every": 0,
        "max_steps": args.steps + args.warmup,
        "checkpoint_every": 10**9,
        "log_every": 10**9,
    }
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        vocab_path = args.vocab or str(tmp / "vocab.json")
        if not args.vocab:
            write_vocabulary(vocab_path, "hybrid-short")
        vocab = load_vocab(vocab_path)
        shards = args.shards or [synthetic_shard(tmp, vocab)]
        trainer = Trainer(train_config(overrides), shards, vocab, vocab_path, tmp / "ck", tmp / "metrics.csv")
        trainer.run(stop_after_step=args.warmup)
        before = trainer.tokens_processed
        t0 = time.perf_counter()
        trainer.run()
        wall = time.perf_counter() - t0
        tokens = trainer.tokens_processed - before
        steps = args.steps
    print(
        json.dumps(
            {
                "device": str(trainer.device),
                "threads": torch.get_num_threads(),
                "parameters": trainer.model.n_parameters(),
                "steps": steps,
                "tokens": tokens,
                "wall_s": round(wall, 2),
                "tokens_per_s": round(tokens / wall, 1),
                "model": {k: v for k, v in vars(trainer.model_cfg).items()},
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
