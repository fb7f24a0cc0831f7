"""The ``symba`` command line.

Each command family lives with its library and exposes ``register(subparsers)``;
this module only dispatches.  Bad input exits with code 2 and one line on stderr;
a bug shows its traceback.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import sys

# Modules that each add their subcommands (kept here so the order of --help is stable).
COMMAND_MODULES = (
    "symba.physics.cli",  # amplitudes
    "symba.tokenization.cli",  # tokenize, detokenize, import-symba
    "symba.simplify.cli",  # simplify
    "symba.model.cli",  # train, evaluate, predict
)
# The module of each command: a command line imports only its own (the others pull in SymPy and
# pyarrow, ~0.8 CPU-s that `symba predict` does not need).  tests/test_cli_commands.py checks it.
COMMANDS = {
    "amplitudes": "symba.physics.cli",
    "tokenize": "symba.tokenization.cli",
    "detokenize": "symba.tokenization.cli",
    "import-symba": "symba.tokenization.cli",
    "simplify": "symba.simplify.cli",
    "train": "symba.model.cli",
    "evaluate": "symba.model.cli",
    "predict": "symba.model.cli",
}


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit code 2, like every other bad input
        print(f"symba: error: {message}", file=sys.stderr)
        sys.exit(2)


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The parser of every command; with ``argv`` naming a command first, of that one's module only."""
    parser = _ArgumentParser(prog="symba", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_ArgumentParser)
    command = argv[0] if argv else None
    for name in (COMMANDS[command],) if command in COMMANDS else COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if name.startswith(exc.name or "\0"):  # that command family is not part of this build
                continue
            raise
        module.register(sub)
    return parser


_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _defined_here(cls: type) -> bool:
    return cls.__module__ == "symba" or cls.__module__.startswith("symba.")


def _raised_here(exc: BaseException) -> bool:
    """Whether the innermost frame of the exception's traceback is in this package."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename).startswith(_PACKAGE_DIR + os.sep)


def is_input_error(exc: BaseException) -> bool:
    """Bad input, reported as one line: the project's own error types, a ValueError the project
    raised itself, a file that cannot be read or written, a missing optional dependency.
    Anything else (a KeyError, a RuntimeError, a ValueError from deep inside a library) is a bug."""
    if any(_defined_here(cls) for cls in type(exc).__mro__ if issubclass(cls, Exception)):
        return True
    if isinstance(exc, ValueError):
        return _raised_here(exc)
    return isinstance(exc, (OSError, ModuleNotFoundError))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        if not is_input_error(exc):
            raise
        print(f"symba: error: {error_line(exc)}", file=sys.stderr)
        return 2


def error_line(exc: BaseException) -> str:
    """The one line that reports ``exc``; a full disk says so in words, with what to do."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        where = f" writing {exc.filename}" if exc.filename else ""
        return f"disk full (no space left on device){where}; free some space and run again"
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


if __name__ == "__main__":
    sys.exit(main())
