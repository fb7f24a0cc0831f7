"""``symba simplify``: simplify squared amplitudes given by hand, one per line.

One output line per input line.  Each expression runs in a worker process under
the timeout, as in the workflow.  Bad input (malformed, or not real) is one line
on stderr naming the input line, exit code 2; a timeout is exit code 1.  In both
cases the raw expression is still printed on its line, so no line goes missing.
"""

from __future__ import annotations

import sys

from .expressions import ENGINES, METHODS, SimplifyOptions, simplify_expressions

MAX_STDIN_CHARS = 256_000_000  # whole-process 3->3 squares are about 1.2 MB each


def register(subparsers) -> None:
    cmd = subparsers.add_parser("simplify", help="simplify squared amplitudes (FLINT factor by default)")
    cmd.add_argument("expression", help="the expression, or '-' to read one per line from stdin")
    cmd.add_argument("--method", choices=METHODS, default="factor")
    cmd.add_argument("--engine", choices=ENGINES, default="flint", help="engine of --method factor (default flint)")
    cmd.add_argument("--timeout", type=float, default=30.0, help="seconds per expression and attempt (default 30)")
    cmd.set_defaults(handler=_simplify)


def _read_stdin() -> list[str]:
    text = sys.stdin.read(MAX_STDIN_CHARS + 1)
    if len(text) > MAX_STDIN_CHARS:
        raise ValueError(f"stdin holds more than {MAX_STDIN_CHARS} characters; split the input")
    lines = [line.strip() for line in text.splitlines()]
    for k, line in enumerate(lines, start=1):
        if not line:  # skipping it would shift every later output line against its input
            raise ValueError(f"stdin line {k}: empty line; give one expression per line")
    if not lines:
        raise ValueError("stdin holds no expression")
    return lines


def _simplify(args) -> int:
    texts = _read_stdin() if args.expression == "-" else [args.expression]
    labels = [f"stdin line {k}" for k in range(1, len(texts) + 1)] if args.expression == "-" else ["argument"]
    options = SimplifyOptions(method=args.method, engine=args.engine, timeout=args.timeout)
    outcomes, _ = simplify_expressions(texts, options)
    for outcome in outcomes:
        print(outcome.text)
    errors = [(label, o) for label, o in zip(labels, outcomes) if o.status == "error"]
    timeouts = [(label, o) for label, o in zip(labels, outcomes) if o.status == "timeout"]
    for problems, code in ((errors, 2), (timeouts, 1)):
        if problems:
            label, outcome = problems[0]
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            message = outcome.message.splitlines()[0] if outcome.message else outcome.status
            print(f"symba: error: {label}: {message}{more}; printed unchanged", file=sys.stderr)
            return code
    return 0
