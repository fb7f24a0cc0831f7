"""``symba train``, ``symba evaluate`` and ``symba predict``.

Bad input (a config value, a model or shard file, an amplitude, an option) is one line on
stderr and exit code 2.  Only the model stage's own input errors are caught here
(:mod:`symba.model.errors`, and FileNotFoundError for paths given by the user): anything
else is a bug and shows its traceback.
"""

from __future__ import annotations

import functools
import json
import math
import sys
from pathlib import Path

from .errors import ModelInputError


def _reports_input_errors(handler):
    @functools.wraps(handler)
    def run(args) -> int:
        try:
            return handler(args)
        except (ModelInputError, FileNotFoundError) as exc:
            text = str(exc).strip()
            print(f"symba: error: {text.splitlines()[0] if text else type(exc).__name__}", file=sys.stderr)
            return 2

    return run


def _config(config_path: str | None) -> dict:
    """The parsed config.yaml (empty when no file is given)."""
    if not config_path:
        return {}
    import yaml

    path = Path(config_path)
    if not path.is_file():
        raise ModelInputError(f"config file {config_path} does not exist")
    try:
        doc = yaml.safe_load(path.read_text()) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ModelInputError(f"config file {config_path} is not valid YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(doc, dict):
        raise ModelInputError(f"config file {config_path} is not a mapping")
    return doc


def _section(doc: dict, name: str, config_path: str | None) -> dict:
    section = doc.get(name, {}) or {}
    if not isinstance(section, dict):
        raise ModelInputError(f"section {name!r} of {config_path} is not a mapping")
    return section


def _checked_sections(config_path: str | None) -> tuple[dict, dict]:
    """The train: and evaluate: sections, both validated before anything runs."""
    from .config import check_sections

    doc = _config(config_path)
    train, evaluate = _section(doc, "train", config_path), _section(doc, "evaluate", config_path)
    check_sections(train, evaluate)
    return train, evaluate


def _shards(paths: list[str]) -> list[str]:
    missing = [p for p in paths if not Path(p).is_file()]
    if missing:
        raise ModelInputError(f"token shard {missing[0]} does not exist")
    return paths


@_reports_input_errors
def cmd_train(args) -> int:
    from .train import run_training

    train, _ = _checked_sections(args.config)
    out = Path(args.out)
    run_training(train, _shards(args.shards), args.vocab, str(out / "model.pt"),
                 args.checkpoint_dir or str(out / "checkpoints"), str(out / "metrics.csv"), str(out / "lr.png"),
                 str(out / "curves.png"))
    print(f"model written to {out / 'model.pt'}")
    return 0


@_reports_input_errors
def cmd_evaluate(args) -> int:
    from .evaluate import run_evaluation

    _, evaluate = _checked_sections(args.config)
    out = Path(args.out)
    result = run_evaluation(args.model, _shards(args.shards), args.vocab, evaluate,
                            str(out / "metrics.json"), str(out / "calibration.png"), str(out / "length.png"))
    summary = {k: result[k] for k in ("n_test", "token_accuracy", "sequence_accuracy", "numeric_accuracy")}
    print(json.dumps(summary))
    return 0


@_reports_input_errors
def cmd_predict(args) -> int:
    from .predict import Predictor, apply_fallback, format_line, format_prediction

    if args.beam < 1:
        raise ModelInputError(f"--beam must be at least 1 (1: greedy), not {args.beam}")
    if not math.isfinite(args.threshold):
        raise ModelInputError(f"--threshold must be a finite number, not {args.threshold}")
    if args.fallback and not args.process:
        raise ModelInputError("--fallback needs --process (and --theory, --diagram) to compute the exact result")
    if args.amplitude == "-" and args.fallback:
        raise ModelInputError("--fallback takes one amplitude (with its --process), not stdin")
    predictor = Predictor(args.model, beam_size=args.beam, vocab_path=args.vocab)
    if args.amplitude != "-":
        pred = predictor(args.amplitude)
        if args.fallback:
            pred = apply_fallback(pred, args.threshold, args.process, args.theory, args.diagram)
        print(format_prediction(pred))
        return 0
    # One output line per input line, in order: blank in, blank out; a bad line gives "error: ...".
    failed = total = 0
    for line in sys.stdin:
        text = line.rstrip("\r\n")
        if not text.strip():
            print("", flush=True)
            continue
        total += 1
        try:
            print(format_line(predictor(text)), flush=True)
        except ModelInputError as exc:
            failed += 1
            print(f"error: {str(exc).splitlines()[0]}", flush=True)
    if failed:
        print(f"symba: error: {failed} of {total} amplitude(s) on stdin could not be predicted "
              "(their output lines start with 'error:')", file=sys.stderr)
        return 2
    return 0


def register(subparsers) -> None:
    from .config import EvalConfig

    p = subparsers.add_parser("train", help="train the transformer on token shards")
    p.add_argument("--config", help="config.yaml whose train: section overrides the defaults")
    p.add_argument("--vocab", required=True, help="vocabulary file of the token shards")
    p.add_argument("--out", required=True, help="folder for model.pt, metrics.csv, lr.png, curves.png")
    p.add_argument("--checkpoint-dir", help="where checkpoints go (default: OUT/checkpoints); resumes from it "
                   "when it was made from the same shards, vocabulary and train config, else trains afresh")
    p.add_argument("shards", nargs="+", help="token shards (Parquet)")
    p.set_defaults(handler=cmd_train)

    p = subparsers.add_parser("evaluate", help="evaluate a trained model on the test split")
    p.add_argument("--model", required=True)
    p.add_argument("--config", help="config.yaml whose evaluate: section overrides the defaults")
    p.add_argument("--vocab", help="vocabulary file (default: the one the model was trained with)")
    p.add_argument("--out", required=True, help="folder for metrics.json, calibration.png, length.png")
    p.add_argument("shards", nargs="+", help="token shards (Parquet)")
    p.set_defaults(handler=cmd_evaluate)

    p = subparsers.add_parser(
        "predict", help="predict the squared amplitude of an amplitude",
        description="With '-', reads one amplitude per stdin line and writes one line per input line, in "
                    "order: the prediction, a tab, its mean token log-probability. A blank input line gives "
                    "a blank output line; an amplitude that cannot be read gives 'error: <why>' (exit code 2).")
    p.add_argument("--model", required=True)
    p.add_argument("amplitude", help="amplitude text (amplitude syntax), or '-' to read one per line from stdin")
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
