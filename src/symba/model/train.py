"""Training: teacher forcing, AdamW, warmup + one-cycle schedule, checkpoints that resume exactly.

Single process by default (CPU unless the config names a device).  Under ``torchrun``
(``WORLD_SIZE`` > 1; ``torchrun --nproc_per_node N -m symba train ...``) each process trains one
DistributedDataParallel replica (NCCL on GPUs, gloo on CPU) on every N-th batch of the one batch
order, which is a pure function of the seed.  Each rank's loss is weighted by its share of the
step's target tokens, so a step of N processes equals one process on the N batches together.
Rank 0 writes the checkpoints, and they record how many processes ran: a run resumes on any N
(docs/distributed.md).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

from symba.files import atomic_write

from . import batches, checkpoint
from .batches import (
    TRAIN_READ_COLUMNS,
    Example,
    Specials,
    collate,
    examples,
    iter_rows,
    training_stream,
    vocab_notation,
)
from .checkpoint import METRIC_FIELDS, empty_window
from .config import TrainConfig, train_config
from .errors import ModelFileError, ModelInputError
from .plots import plot_training
from .transformer import Seq2SeqTransformer

log = logging.getLogger(__name__)

CHECKPOINT_NAME = "last.pt"


def lr_at(step: int, cfg: TrainConfig) -> float:
    """Linear warmup to the peak, then cosine decay to ``final_lr_ratio`` of it (one cycle)."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    span = max(1, cfg.max_steps - cfg.warmup_steps)
    progress = min(1.0, (step - cfg.warmup_steps) / span)
    low = cfg.lr * cfg.final_lr_ratio
    return low + (cfg.lr - low) * 0.5 * (1.0 + math.cos(math.pi * progress))


def make_optimizer(model: torch.nn.Module, cfg: TrainConfig) -> torch.optim.AdamW:
    """AdamW with weight decay on matrices (dim >= 2) only: not on biases and norms."""
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [
        {"params": [p for p in params if p.dim() >= 2], "weight_decay": cfg.weight_decay},
        {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0},
    ]
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=(cfg.beta1, cfg.beta2))


def teacher_forcing_loss(model, src, tgt, pad: int, label_smoothing: float = 0.0):
    """Cross-entropy of each next target token given the true previous ones.

    Returns (loss, correct next-token predictions, target tokens counted)."""
    tgt_in, tgt_out = tgt[:, :-1], tgt[:, 1:]
    logits = model(src, tgt_in).float()
    loss = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1), ignore_index=pad, label_smoothing=label_smoothing
    )
    real = tgt_out != pad
    correct = ((logits.argmax(-1) == tgt_out) & real).sum()
    return loss, correct, real.sum()


class Trainer:
    def __init__(
        self, cfg: TrainConfig, shard_paths: list[str], vocab, vocab_path: str, checkpoint_dir: str, metrics_csv: str
    ):
        self.cfg = cfg
        self.paths = [str(p) for p in shard_paths]
        if not self.paths:
            raise ModelInputError("no token shards given")
        self.vocab, self.vocab_path = vocab, str(vocab_path)
        batches.check_shards(self.paths, len(vocab))
        self.specials = Specials(vocab)
        self.checkpoint = Path(checkpoint_dir) / CHECKPOINT_NAME
        self.metrics_csv = Path(metrics_csv)
        self.world_size = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.is_main = self.rank == 0
        self.device = self._setup_device()
        mcfg = cfg.model
        if mcfg.vocab_size not in (0, len(vocab)):
            raise ModelInputError(
                f"train.model.vocab_size is {mcfg.vocab_size} but the vocabulary has {len(vocab)} tokens"
            )
        self.model_cfg = replace(mcfg, vocab_size=len(vocab), pad_id=self.specials.pad)
        self.cfg = cfg = replace(cfg, model=self.model_cfg)
        torch.manual_seed(cfg.seed)
        self.model = Seq2SeqTransformer(self.model_cfg).to(self.device)
        self.optimizer = make_optimizer(self.model, cfg)
        # position: (epoch, index) of rank 0's last batch; the step took position_batches batches
        self.step, self.position, self.position_batches = 0, None, self.world_size
        self.window = empty_window()
        self.tokens_processed = 0  # in this process (benchmarks); not part of a checkpoint
        self.rows: list[dict] = []
        self.provenance = checkpoint.provenance(asdict(self.cfg), self.paths, vocab)
        self.resumed = self._resume()
        self.train_model = self.model
        if cfg.compile:
            self.train_model = torch.compile(self.train_model)
        if self.world_size > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.train_model = DistributedDataParallel(self.train_model, device_ids=ids)
        self.autocast = self.device.type == "cuda" and cfg.bf16
        self.valid = self._valid_examples()

    def _setup_device(self) -> torch.device:
        cfg = self.cfg
        if self.world_size > 1:
            cuda = cfg.device.startswith("cuda")
            if not dist.is_initialized():
                dist.init_process_group(backend="nccl" if cuda else "gloo")
            device = torch.device(f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}" if cuda else "cpu")
        else:
            try:
                device = torch.device(cfg.device)
            except RuntimeError as exc:
                raise ModelInputError(f"train.device {cfg.device!r} is not a torch device") from exc
        if device.type == "cuda":
            if not torch.cuda.is_available():
                raise ModelInputError(f"train.device is {cfg.device!r} but CUDA is not available")
            torch.cuda.set_device(device)
            torch.backends.cuda.matmul.allow_tf32 = True
        else:
            torch.set_num_threads(cfg.num_threads)
            torch.use_deterministic_algorithms(True)
        return device

    # -- checkpoints -------------------------------------------------------------------

    def _state(self) -> dict:
        """Tensors and plain data only (checkpoint.py): read back with weights_only=True."""
        return {
            "format": checkpoint.FORMAT_CHECKPOINT,
            "version": checkpoint.CHECKPOINT_VERSION,
            "provenance": self.provenance,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "step": self.step,
            "position": None if self.position is None else list(self.position),
            "position_batches": self.position_batches,
            "window": self.window,
            "rows": self.rows,
            "cpu_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None,
        }

    def save_checkpoint(self) -> None:
        if self.is_main:
            checkpoint.save(self._state(), self.checkpoint)

    def _resume(self) -> bool:
        """Continue from the checkpoint when it was made from this very data, vocabulary and
        config; otherwise start afresh and say why in one log line.  Never keeps stale weights."""
        if not self.checkpoint.exists():
            return False
        state = checkpoint.load_checkpoint(self.checkpoint)
        why = (
            "has an older format"
            if state is None
            else "; ".join(checkpoint.provenance_mismatch(state.get("provenance"), self.provenance))
        )
        if why:
            if self.is_main:
                log.warning("checkpoint %s %s; training afresh", self.checkpoint, why)
                self._write_metrics()  # the old run's metrics describe another model
            return False
        try:
            self.model.load_state_dict(state["model"])
            self.optimizer.load_state_dict(state["optimizer"])
            torch.set_rng_state(state["cpu_rng"])
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:  # same provenance, damaged content
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ModelFileError(
                f"checkpoint {self.checkpoint} is damaged ({reason}); delete it to start afresh"
            ) from None
        self.step = state["step"]
        self.position = None if state["position"] is None else tuple(state["position"])
        # batches one step took when it was saved (its world size); older checkpoints: one process
        self.position_batches = int(state.get("position_batches") or 1)
        self.window, self.rows = state["window"], state["rows"]
        if state.get("cuda_rng") is not None and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        if self.is_main:
            self._write_metrics()  # drop rows a killed run logged after its last checkpoint
        return True

    # -- metrics -------------------------------------------------------------------------

    def _write_metrics(self) -> None:
        text = io.StringIO()
        writer = csv.DictWriter(text, fieldnames=METRIC_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write(self.metrics_csv, text.getvalue())

    def _valid_examples(self) -> list[Example]:
        if not self.cfg.valid_every:
            return []
        out = []
        rows = iter_rows(
            self.paths, "valid", TRAIN_READ_COLUMNS, vocab_size=len(self.vocab), max_ids=self.model_cfg.max_len
        )
        for ex in examples(rows, self.specials, self.model_cfg.max_len):
            out.append(ex)
            if len(out) >= self.cfg.valid_max_rows:
                break
        return out

    @torch.no_grad()
    def validate(self) -> tuple[float, float]:
        self.model.eval()
        loss_sum = correct = tokens = 0.0
        ordered = sorted(self.valid, key=lambda e: len(e.tgt))
        bs = max(1, min(self.cfg.max_batch_size, 64))
        for i in range(0, len(ordered), bs):
            src, tgt = (t.to(self.device) for t in collate(ordered[i : i + bs], self.specials.pad))
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
                loss, c, n = teacher_forcing_loss(self.model, src, tgt, self.specials.pad)
            loss_sum += loss.item() * n.item()
            correct += c.item()
            tokens += n.item()
        self.model.train()
        return loss_sum / max(tokens, 1), correct / max(tokens, 1)

    def _log(self, epoch: int) -> None:
        w = self.window
        stats = torch.tensor([w["loss"], w["correct"], w["tokens"], w["all_tokens"]], dtype=torch.float64)
        if self.world_size > 1:
            stats = stats.to(self.device)
            dist.all_reduce(stats)
            stats = stats.cpu()
        loss, correct, tokens, all_tokens = stats.tolist()
        before = self.rows[-1] if self.rows else {}
        row = {
            "step": self.step,
            "epoch": epoch,
            "loss": round(loss / max(tokens, 1), 6),
            "token_accuracy": round(correct / max(tokens, 1), 6),
            "lr": lr_at(self.step - 1, self.cfg),
            "tokens_per_s": round(all_tokens / max(w["seconds"], 1e-9), 1),
            "tokens_seen": int(before.get("tokens_seen", 0)) + int(all_tokens),
            "train_s": round(float(before.get("train_s", 0.0)) + w["seconds"], 3),
            "valid_loss": "",
            "valid_token_accuracy": "",
        }
        if self.valid and (self.step % self.cfg.valid_every == 0 or self.step == self.cfg.max_steps):
            vl, va = self.validate()
            row["valid_loss"], row["valid_token_accuracy"] = round(vl, 6), round(va, 6)
        self.rows.append(row)
        self.window = empty_window()
        if self.is_main:
            self._write_metrics()

    # -- the loop ------------------------------------------------------------------------

    def _backward(self, loss: torch.Tensor, n: torch.Tensor) -> None:
        """Backward of the step's loss.  DDP averages the ranks' gradients; weighting each rank's
        token-mean loss by world_size x its share of the step's target tokens makes that average
        the gradient of the token mean over all ranks' batches together."""
        if self.world_size > 1:
            total = n.detach().to(torch.float64).clone()
            dist.all_reduce(total)
            loss = loss * (n.to(torch.float64) * self.world_size / total.clamp(min=1)).to(loss.dtype)
        loss.backward()

    def run(self, stop_after_step: int | None = None) -> None:
        """Train to ``max_steps``; ``stop_after_step`` stops early, as a kill would (tests)."""
        cfg = self.cfg
        if self.step >= cfg.max_steps:
            return
        # resume after the last step's batches, however many processes took them
        start, drop = ((0, 0), 0) if self.position is None else (tuple(self.position), self.position_batches)
        stream = training_stream(
            self.paths,
            self.specials,
            self.model_cfg.max_len,
            cfg.batch_tokens,
            cfg.max_batch_size,
            cfg.buffer_rows,
            cfg.seed,
            start,
            drop,
            self.rank,
            self.world_size,
            vocab_size=len(self.vocab),
        )
        bar = tqdm(
            total=cfg.max_steps,
            initial=self.step,
            disable=not self.is_main,
            desc="train",
            unit="step",
            mininterval=2.0,
            dynamic_ncols=True,
        )
        self.model.train()
        t0 = time.perf_counter()  # tokens/s counts reading and batching too, not validation
        for epoch, index, batch in stream:
            lr = lr_at(self.step, cfg)
            for group in self.optimizer.param_groups:
                group["lr"] = lr
            src, tgt = (t.to(self.device, non_blocking=True) for t in collate(batch, self.specials.pad))
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
                loss, correct, n = teacher_forcing_loss(
                    self.train_model, src, tgt, self.specials.pad, cfg.label_smoothing
                )
            self._backward(loss, n)
            if cfg.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            self.step += 1
            self.position, self.position_batches = (epoch, index), self.world_size
            w = self.window
            n_tok = n.item()
            w["loss"] += loss.item() * n_tok
            w["correct"] += correct.item()
            w["tokens"] += n_tok
            all_tokens = int((src != self.specials.pad).sum().item()) + n_tok
            w["all_tokens"] += all_tokens
            self.tokens_processed += all_tokens
            w["seconds"] += time.perf_counter() - t0
            w["steps"] += 1
            if self.step % cfg.log_every == 0 or self.step == cfg.max_steps:
                self._log(epoch)
                last = self.rows[-1]
                bar.set_postfix(loss=last["loss"], acc=last["token_accuracy"], tok_s=last["tokens_per_s"])
            bar.update(1)
            if self.step % cfg.checkpoint_every == 0 or self.step == cfg.max_steps:
                self.save_checkpoint()
            if self.step >= cfg.max_steps or (stop_after_step is not None and self.step >= stop_after_step):
                break
            t0 = time.perf_counter()
        bar.close()

    def model_record(self) -> dict:
        """What the final model file holds: enough to rebuild and use the model."""
        return checkpoint.model_record(
            self.model,
            asdict(self.model_cfg),
            os.path.abspath(self.vocab_path),
            vocab_notation(self.vocab),
            {"pad": self.specials.pad, "bos": self.specials.bos, "eos": self.specials.eos},
            asdict(self.cfg),
            self.step,
            self.provenance,
        )


def run_training(
    config: dict,
    shard_paths: list[str],
    vocab_path: str,
    model_out: str,
    checkpoint_dir: str,
    metrics_csv: str,
    lr_png: str,
    curves_png: str,
) -> None:
    """Train (resuming from ``checkpoint_dir`` if a checkpoint is there) and write the model,
    the metrics CSV and the plots.  ``config`` is the ``train:`` section of config.yaml."""
    cfg = train_config(config)
    vocab = batches.load_vocab(vocab_path)
    trainer = Trainer(cfg, shard_paths, vocab, vocab_path, checkpoint_dir, metrics_csv)
    try:
        if trainer.is_main and not trainer.resumed and os.path.exists(model_out):
            os.unlink(model_out)  # another run's model: a kill must not leave it beside new metrics
        trainer.run()
        if trainer.is_main:
            checkpoint.save(trainer.model_record(), model_out)
            plot_training(metrics_csv, lr_png, curves_png)
    finally:
        if trainer.world_size > 1:
            if dist.is_initialized():
                dist.destroy_process_group()


def run_training_processes(processes: int, *args) -> None:
    """:func:`run_training` on ``processes`` processes: under torchrun already, or with 1, in this
    process; else this process launches ``torchrun --standalone --nproc_per_node N`` on this
    module and waits (the workflow's train rule, given ``gpu: N`` in the SLURM profile)."""
    if processes <= 1 or int(os.environ.get("WORLD_SIZE", "1")) > 1:
        run_training(*args)
        return
    with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="symba-train-") as fh:
        json.dump(list(args), fh)
        fh.flush()
        command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(processes)]
        code = subprocess.call([*command, "-m", "symba.model.train", fh.name])
    if code:
        raise RuntimeError(f"training on {processes} processes failed (torchrun exit code {code}); see the log above")


if __name__ == "__main__":  # torchrun's entry from run_training_processes: one rank
    run_training(*json.loads(Path(sys.argv[1]).read_text()))
