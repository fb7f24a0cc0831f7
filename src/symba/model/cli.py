"""``symba train``, ``symba evaluate`` and ``symba predict``."""

from __future__ import annotations

import json
from pathlib import Path


def _section(config_path: str | None, name: str) -> dict:
    """The ``name:`` section of a config.yaml (empty when no file is given)."""
    if not config_path:
        return {}
    import yaml

    path = Path(config_path)
    if not path.exists():
        raise ValueError(f"config file {config_path} does not exist")
    doc = yaml.safe_load(path.read_text()) or {}
    if not isinstance(doc, dict):
        raise ValueError(f"config file {config_path} is not a mapping")
    section = doc.get(name, {}) or {}
    if not isinstance(section, dict):
        raise ValueError(f"section {name!r} of {config_path} is not a mapping")
    return section


def _shards(paths: list[str]) -> list[str]:
    missing = [p for p in paths if not Path(p).exists()]
    if missing:
        raise ValueError(f"token shard {missing[0]} does not exist")
    return paths


def cmd_train(args) -> int:
    from .train import run_training

    out = Path(args.out)
    run_training(_section(args.config, "train"), _shards(args.shards), args.vocab, str(out / "model.pt"),
                 args.checkpoint_dir or str(out / "checkpoints"), str(out / "metrics.csv"), str(out / "lr.png"),
                 str(out / "curves.png"))
    print(f"model written to {out / 'model.pt'}")
    return 0


def cmd_evaluate(args) -> int:
    from .evaluate import run_evaluation
    from .train import load_model

    vocab = args.vocab or load_model(args.model)[1]["vocab_path"]
    out = Path(args.out)
    result = run_evaluation(args.model, _shards(args.shards), vocab, _section(args.config, "evaluate"),
                            str(out / "metrics.json"), str(out / "calibration.png"), str(out / "length.png"))
    summary = {k: result[k] for k in ("n_test", "token_accuracy", "sequence_accuracy", "numeric_accuracy")}
    print(json.dumps(summary))
    return 0


def cmd_predict(args) -> int:
    from .predict import apply_fallback, format_prediction, predict

    if args.fallback and not args.process:
        raise ValueError("--fallback needs --process (and --theory, --diagram) to compute the exact result")
    pred = predict(args.model, args.amplitude, beam_size=args.beam, vocab_path=args.vocab)
    if args.fallback:
        pred = apply_fallback(pred, args.threshold, args.process, args.theory, args.diagram)
    print(format_prediction(pred))
    return 0


def register(subparsers) -> None:
    from .config import EvalConfig

    p = subparsers.add_parser("train", help="train the transformer on token shards")
    p.add_argument("--config", help="config.yaml whose train: section overrides the defaults")
    p.add_argument("--vocab", required=True, help="vocabulary file of the token shards")
    p.add_argument("--out", required=True, help="folder for model.pt, metrics.csv, lr.png, curves.png")
    p.add_argument("--checkpoint-dir", help="where checkpoints go (default: OUT/checkpoints); resumes from it")
    p.add_argument("shards", nargs="+", help="token shards (Parquet)")
    p.set_defaults(handler=cmd_train)

    p = subparsers.add_parser("evaluate", help="evaluate a trained model on the test split")
    p.add_argument("--model", required=True)
    p.add_argument("--config", help="config.yaml whose evaluate: section overrides the defaults")
    p.add_argument("--vocab", help="vocabulary file (default: the one the model was trained with)")
    p.add_argument("--out", required=True, help="folder for metrics.json, calibration.png, length.png")
    p.add_argument("shards", nargs="+", help="token shards (Parquet)")
    p.set_defaults(handler=cmd_evaluate)

    p = subparsers.add_parser("predict", help="predict the squared amplitude of an amplitude")
    p.add_argument("--model", required=True)
    p.add_argument("amplitude", help="amplitude text (amplitude syntax)")
    p.add_argument("--beam", type=int, default=EvalConfig.beam_size, help="beam size (1: greedy)")
    p.add_argument("--vocab", help="vocabulary file (default: the one the model was trained with)")
    p.add_argument("--fallback", action="store_true",
                   help="replace a low-certainty prediction by the exact engine result")
    p.add_argument("--threshold", type=float, default=EvalConfig.certainty_threshold,
                   help="mean token log-probability below which --fallback recomputes")
    p.add_argument("--process", help='the process, e.g. "e- e+ -> mu- mu+" (for --fallback)')
    p.add_argument("--theory", default="qed", choices=("qed", "qcd"))
    p.add_argument("--diagram", type=int, help="diagram index (default: the whole process)")
    p.set_defaults(handler=cmd_predict)
