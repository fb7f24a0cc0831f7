"""Run under torchrun by test_distributed.py: train to a step, as a kill would stop a run there.

    torchrun --nproc_per_node N tests/model/ddp_worker.py ARGS.json
ARGS.json: {"config": train section, "shards": [...], "vocab": path, "checkpoint_dir": path,
"metrics": path, "stop_after": step}
"""

import json
import sys

import torch.distributed as dist

from symba.model.batches import load_vocab
from symba.model.config import train_config
from symba.model.train import Trainer

args = json.loads(open(sys.argv[1]).read())
vocab = load_vocab(args["vocab"])
trainer = Trainer(
    train_config(args["config"]), args["shards"], vocab, args["vocab"], args["checkpoint_dir"], args["metrics"]
)
trainer.run(stop_after_step=args["stop_after"])
dist.destroy_process_group()
