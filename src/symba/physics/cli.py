"""``symba amplitudes``: diagrams, amplitudes and squared amplitudes of one process."""

from __future__ import annotations

import argparse
import json

from .engine import (
    BACKENDS,
    DEFAULT_MEMORY_MB,
    DEFAULT_TIMEOUT_S,
    EngineOptionError,
    check_memory_mb,
    check_timeout,
    compute_process,
)
from .theories import MODELS

SUMMARY_CHARS = 1000  # longer expressions are cut in the readable summary (--json and --full print them whole)


def shorten(text: str, limit: int = SUMMARY_CHARS) -> str:
    """``text``, or its first ``limit`` characters and a note of its whole length."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]} ... [cut: {len(text):,} characters in all; --full or --json prints it whole]"


def _argument_type(check, parse):
    """An argparse type that reports a bad value as argparse's own one-line error."""

    def convert(text: str):
        try:
            return check(parse(text))
        except (EngineOptionError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    return convert


def register(sub) -> None:
    p = sub.add_parser("amplitudes", help="amplitudes and squared amplitudes of one process")
    p.add_argument("process", help='e.g. "e- e+ -> mu- mu+"')
    p.add_argument("--theory", default="qed", choices=sorted(MODELS))
    p.add_argument("--backend", default="builtin", choices=BACKENDS)
    p.add_argument("--json", action="store_true", help="print exactly one JSON object")
    p.add_argument(
        "--full",
        action="store_true",
        help=f"print whole expressions (the summary cuts them at {SUMMARY_CHARS:,} characters)",
    )
    p.add_argument(
        "--timeout",
        type=_argument_type(check_timeout, float),
        default=DEFAULT_TIMEOUT_S,
        help="seconds for the whole computation: diagrams, amplitudes and FORM (default %(default)g)",
    )
    p.add_argument(
        "--memory-mb",
        type=_argument_type(check_memory_mb, int),
        default=DEFAULT_MEMORY_MB,
        help="address-space cap of the worker that computes, in MB (default %(default)d)",
    )
    p.add_argument("--massless", default="", help="comma-separated mass symbols set to zero, e.g. m_e,m_mu")
    p.set_defaults(handler=run)


def run(args) -> int:
    massless = [m.strip() for m in args.massless.split(",") if m.strip()]
    result = compute_process(
        args.process,
        args.theory,
        backend=args.backend,
        timeout=args.timeout,
        massless=massless,
        memory_mb=args.memory_mb,
    )
    if args.json:
        print(json.dumps(result.to_json()))
        return 0
    cut = (lambda text: text) if args.full else shorten
    print(f"process: {result.process}   theory: {result.theory}   backend: {result.backend}")
    print(f"diagrams: {len(result.diagrams)}")
    for d in result.diagrams:
        print(f"\n[{d.index}] propagators: {', '.join(d.propagators) or '(contact)'}")
        print(f"  amplitude:         {cut(d.amplitude)}")
        print(f"  squared amplitude: {cut(d.squared_amplitude)}")
    print(f"\nwhole process (with interference):\n  {cut(result.squared_amplitude)}")
    return 0
