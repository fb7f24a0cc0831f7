"""``symba simplify``: simplify squared amplitudes given by hand, one per line.

One output line per input line.  Each expression runs in a worker process under
the timeout, as in the workflow.  Bad input (malformed, or not real) is one line
on stderr naming the input line, exit code 2; a timeout is exit code 1.  In both
cases the raw expression is still printed on its line, so no line goes missing.
A stdin line that is not an expression at all (not UTF-8, empty) gets ``error: ...``.
"""

from __future__ import annotations

import sys

from symba.files import UndecodableLine, stdin_lines

from .simplifier import ENGINES, METHODS, SimplifyOptions, simplify_expressions

MAX_STDIN_CHARS = 256_000_000  # whole-process 3->3 squares are about 1.2 MB each


def register(subparsers) -> None:
    cmd = subparsers.add_parser("simplify", help="simplify squared amplitudes (FLINT factor by default)")
    cmd.add_argument("expression", help="the expression, or '-' to read one per line from stdin")
    cmd.add_argument("--method", choices=METHODS, default="factor")
    cmd.add_argument("--engine", choices=ENGINES, default="flint", help="engine of --method factor (default flint)")
    cmd.add_argument("--timeout", type=float, default=30.0, help="seconds per expression and attempt (default 30)")
    cmd.set_defaults(handler=_simplify)


def _read_stdin() -> tuple[list[tuple[str, str | None]], list[str]]:
    """(label, expression or None) of each stdin line, and the reasons of the lines that are
    not expressions (not UTF-8, too long, empty): those get ``error: ...`` as output line."""
    items, problems, chars = [], [], 0
    for k, line in stdin_lines():
        label = f"stdin line {k}"
        if isinstance(line, UndecodableLine):
            problems.append(f"stdin {line}")
            items.append((label, None))
            continue
        chars += len(line)
        if chars > MAX_STDIN_CHARS:
            raise ValueError(f"stdin holds more than {MAX_STDIN_CHARS} characters; split the input")
        if not line.strip():  # skipping it would shift every later output line against its input
            problems.append(f"{label}: empty line; give one expression per line")
            items.append((label, None))
            continue
        items.append((label, line.strip()))
    if not items:
        raise ValueError("stdin holds no expression")
    return items, problems


def _simplify(args) -> int:
    if args.expression == "-":
        items, unread = _read_stdin()
    else:
        items, unread = [("argument", args.expression)], []
    texts = [text for _, text in items if text is not None]
    options = SimplifyOptions(method=args.method, engine=args.engine, timeout=args.timeout)
    outcomes, _ = simplify_expressions(texts, options) if texts else ([], None)
    answered = iter(outcomes)
    errors, timeouts = [], []
    reasons = iter(unread)
    for label, text in items:
        if text is None:
            print(f"error: {next(reasons)}")
            continue
        outcome = next(answered)
        print(outcome.text)
        if outcome.status in ("error", "timeout"):
            message = outcome.message.splitlines()[0] if outcome.message else outcome.status
            (errors if outcome.status == "error" else timeouts).append(f"{label}: {message}; printed unchanged")
    errors = unread + errors if unread else errors
    for problems, code in ((errors, 2), (timeouts, 1)):
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            print(f"symba: error: {problems[0]}{more}", file=sys.stderr)
            return code
    return 0
