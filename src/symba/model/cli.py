"""``symba train``, ``symba evaluate`` and ``symba predict``.

Bad input (a config value, a model or shard file, an amplitude, an option) is one line on
stderr and exit code 2.  Only the model stage's own input errors are caught here
(:mod:`symba.model.errors`, and FileNotFoundError for paths given by the user): anything
else is a bug and shows its traceback.
"""

from __future__ import annotations

import argparse
import functools
import io
import json
import math
import queue
import sys
import threading
from pathlib import Path

import yaml

from symba.files import UndecodableLine, stdin_lines

from .config import EvalConfig, check_sections
from .errors import ModelInputError
from .report import headline

# Each command imports its own module inside its handler: train, evaluate and predict load torch
# (1.2 s), which `symba --help` and the other commands should not pay.


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
    run_training(
        train,
        _shards(args.shards),
        args.vocab,
        str(out / "model.pt"),
        args.checkpoint_dir or str(out / "checkpoints"),
        str(out / "metrics.csv"),
        str(out / "lr.png"),
        str(out / "curves.png"),
    )
    print(f"model written to {out / 'model.pt'}")
    return 0


@_reports_input_errors
def cmd_evaluate(args) -> int:
    from .evaluate import run_evaluation

    _, evaluate = _checked_sections(args.config)
    out = Path(args.out)
    result = run_evaluation(
        args.model,
        _shards(args.shards),
        args.vocab,
        evaluate,
        str(out / "metrics.json"),
        str(out / "calibration.png"),
        str(out / "length.png"),
    )
    for line in headline(result):
        print(line)
    print(f"metrics written to {out / 'metrics.json'}")
    return 0


@_reports_input_errors
def cmd_predict(args) -> int:
    # Cheap checks first: a bad option or a missing file is answered before torch is imported.
    if args.beam is not None and args.beam < 1:
        raise ModelInputError(f"--beam must be at least 1 (1: greedy), not {args.beam}")
    if args.threshold is not None and not math.isfinite(args.threshold):
        raise ModelInputError(f"--threshold must be a finite number, not {args.threshold}")
    if not Path(args.model).is_file():
        raise ModelInputError(f"model file {args.model} does not exist")
    if args.workers is not None and args.workers < 1:
        raise ModelInputError(f"--workers must be at least 1, not {args.workers}")
    from .answers import AnswerPool, run_dataset

    pool = AnswerPool(args.workers, dataset=run_dataset(args.model))  # they start importing while we import torch
    try:
        from .predict import Predictor, choose_threshold, evaluated_search, find_metrics

        wanted = args.threshold is None or args.beam is None or args.relabel_flavours is None
        metrics = find_metrics(args.model, args.metrics) if wanted else None
        search = evaluated_search(metrics)  # decode as the evaluation that chose the threshold did
        threshold = choose_threshold(args.model, args.threshold, metrics)[0] if args.fallback else None
        if threshold is not None and math.isinf(threshold):
            threshold = None  # the evaluation found no safe threshold: recompute every answer
        beam = args.beam if args.beam is not None else search.get("beam_size", _eval_default("beam_size"))
        predictor = Predictor(
            args.model,
            beam_size=beam,
            vocab_path=args.vocab,
            length_penalty=search.get("length_penalty", _eval_default("length_penalty")),
            relabel_legs=args.relabel_legs,
            relabel_flavours=(
                search.get("relabel_flavours", False) if args.relabel_flavours is None else args.relabel_flavours
            ),
            fallback=args.fallback,
            threshold=threshold if args.fallback else None,
            theory=args.theory,
            pool=pool,
            alternatives=args.amplitude != "-" and not args.jsonl,  # only the full answer shows them
        )
    except BaseException:
        pool.close()
        raise
    with predictor:
        if args.amplitude == "-":
            return _predict_stream(predictor, args)
        request = {"amplitude": args.amplitude, "process": args.process, "diagram": args.diagram}
        (pred,) = predictor.predict([request])
        if pred.error is not None:
            raise ModelInputError(pred.error)
        print(json.dumps(_json_record(pred)) if args.jsonl else _format_prediction(pred))
    return 0


def _eval_default(name: str):
    return getattr(EvalConfig, name)


def _json_record(pred) -> dict:
    from .predict import json_record

    return json_record(pred)


def _format_prediction(pred) -> str:
    from .predict import format_prediction

    return format_prediction(pred)


def _stdin_requests(args, meta, first: int = 1, most: int = 64):
    """Chunks of requests from stdin: the lines that have arrived, at most ``most`` (8 at first,
    so the first answer comes early).  A line is read by a thread as bytes, each line decoded on
    its own (:func:`symba.files.stdin_lines`): a line of invalid UTF-8 is that line's error.
    ``meta`` gets one entry per request, in order: whether it is a blank line kept blank."""
    from .predict import read_request

    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:  # a text stream without bytes under it (tests): its text, encoded
        stream = io.BytesIO(sys.stdin.read().encode("utf-8", "surrogateescape"))
    lines: queue.Queue = queue.Queue(maxsize=4 * most)  # bounded: reading never runs far ahead

    def read():
        try:
            for _, line in stdin_lines(stream=stream):
                lines.put(line)
        finally:
            lines.put(None)

    threading.Thread(target=read, name="stdin", daemon=True).start()

    def request(line):
        if isinstance(line, UndecodableLine):
            meta.append(False)
            return {"error": str(line)}
        if not line.strip() and not args.jsonl:
            meta.append(True)
            return {"error": ""}
        meta.append(False)
        try:
            found = read_request(line) if args.jsonl else {"amplitude": line}
        except ModelInputError as exc:
            return {"error": str(exc).splitlines()[0] if str(exc) else type(exc).__name__}
        return {
            "amplitude": found["amplitude"],
            "process": found.get("process") or args.process,
            "theory": found.get("theory") or args.theory,
            "diagram": found.get("diagram", args.diagram),
        }

    size, done = first, False
    while not done:
        line = lines.get()
        if line is None:
            return
        chunk = [request(line)]
        while len(chunk) < size:
            try:
                line = lines.get(timeout=0.01)  # what has arrived; never wait for a slow writer
            except queue.Empty:
                break
            if line is None:
                done = True
                break
            chunk.append(request(line))
        yield chunk
        size = min(most, 2 * size)


def _predict_stream(predictor, args) -> int:
    """One output line per input line, in order; a bad line gives an error line and, at the end,
    exit code 2.  With --jsonl each answer is a JSON object (``{"error": ...}`` for a bad line)."""
    from .predict import format_line

    failed = total = 0
    meta: list[bool] = []
    chunks = _stdin_requests(args, meta)
    for k, pred in enumerate(predictor.predict_iter(None, chunks=chunks)):
        if meta[k]:  # a blank line, answered by a blank line
            print("", flush=True)
            continue
        total += 1
        if pred.error is not None:
            failed += 1
            print(json.dumps({"error": pred.error}) if args.jsonl else f"error: {pred.error}", flush=True)
            continue
        print(json.dumps(_json_record(pred)) if args.jsonl else format_line(pred), flush=True)
    if failed:
        marked = 'are JSON objects with an "error" key' if args.jsonl else "start with 'error:'"
        print(
            f"symba: error: {failed} of {total} amplitude(s) on stdin could not be predicted "
            f"(their output lines {marked})",
            file=sys.stderr,
        )
        return 2
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("train", help="train the transformer on token shards")
    p.add_argument("--config", help="config.yaml whose train: section overrides the defaults")
    p.add_argument("--vocab", required=True, help="vocabulary file of the token shards")
    p.add_argument("--out", required=True, help="folder for model.pt, metrics.csv, lr.png, curves.png")
    p.add_argument(
        "--checkpoint-dir",
        help="where checkpoints go (default: OUT/checkpoints); resumes from it "
        "when it was made from the same shards, vocabulary and train config, else trains afresh",
    )
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
        "predict",
        help="predict the squared amplitude of an amplitude",
        description="With '-', reads one amplitude per stdin line and writes one line per input line, in "
        "order: the prediction, a tab, its mean token log-probability. A blank input line gives "
        "a blank output line; an amplitude that cannot be read gives 'error: <why>' (exit code 2). "
        "With --jsonl, each output line is a JSON object with prediction, tokens, certainty and "
        "source (model or exact), or an error key; an input line may be amplitude text or a JSON "
        "object with amplitude and, for --fallback, process, theory and diagram.",
    )
    p.add_argument("--model", required=True)
    p.add_argument("amplitude", help="amplitude text (amplitude syntax), or '-' to read one per line from stdin")
    p.add_argument(
        "--beam",
        type=int,
        help="beam size (1: greedy; default: the evaluation's, from metrics.json, else 4)",
    )
    p.add_argument(
        "--workers",
        type=int,
        help="worker processes for the answers' text and the exact fallback (default: the cores beside "
        "this process, at most 2)",
    )
    p.add_argument("--vocab", help="vocabulary file (default: the one the model was trained with)")
    p.add_argument("--jsonl", action="store_true", help="one JSON object per answer (see the description)")
    p.add_argument(
        "--fallback", action="store_true", help="replace a low-certainty prediction by the exact engine result"
    )
    p.add_argument(
        "--threshold",
        type=float,
        help="mean token log-probability below which --fallback recomputes (default: the evaluation's "
        "99.9%%-right threshold from --metrics or the workflow's metrics.json next to the model, "
        f"else {EvalConfig.certainty_threshold})",
    )
    p.add_argument("--metrics", help="metrics.json of this model's evaluation, for the --fallback threshold")
    p.add_argument(
        "--process",
        help='the process, e.g. "e- e+ -> mu- mu+" (default: read from the amplitude\'s spinors and polarisation vectors)',
    )
    p.add_argument("--theory", default="qed", choices=("qed", "qcd"))
    p.add_argument(
        "--diagram",
        type=int,
        help="diagram index for --fallback, -1: the whole process (default: the diagram whose amplitude it is)",
    )
    p.add_argument(
        "--relabel-legs",
        action=argparse.BooleanOptionalAction,
        default=EvalConfig.relabel_legs,
        help="decode with the legs in canonical order (read from --process or the amplitude), map the answer back",
    )
    p.add_argument(
        "--relabel-flavours",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="decode with fermion flavours renamed to canonical ones too (c g -> c g as u g -> u g); "
        "default: as the model's evaluation did (tokenize.relabel_flavours)",
    )
    p.set_defaults(handler=cmd_predict)
