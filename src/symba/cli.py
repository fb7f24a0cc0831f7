"""The ``symba`` command line.

Each command family lives with its library and exposes ``register(subparsers)``;
this module only dispatches.  Bad input exits with code 2 and one line on stderr.
"""

from __future__ import annotations

import argparse
import importlib
import sys

# Modules that each add their subcommands (kept here so the order of --help is stable).
COMMAND_MODULES = (
    "symba.physics.cli",  # amplitudes
    "symba.tokenization.cli",  # tokenize, detokenize, import-symba
    "symba.simplify.cli",  # simplify
    "symba.model.cli",  # train, evaluate, predict
)


class UsageError(ValueError):
    """Bad input from the user: reported as one line, exit code 2."""


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit code 2, like every other bad input
        print(f"symba: error: {message}", file=sys.stderr)
        sys.exit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(prog="symba", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_ArgumentParser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if name.startswith(exc.name or "\0"):  # that command family is not part of this build
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or 0)
    except (ValueError, OSError, KeyError, RuntimeError, ImportError) as exc:
        msg = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"symba: error: {msg}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
