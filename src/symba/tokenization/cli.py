"""``symba tokenize``, ``symba detokenize`` and ``symba import-symba``.

Text that starts with ``-`` must follow ``--`` (``symba tokenize -- "-e^2*s_12"``),
or come on stdin with ``-``.
"""

from __future__ import annotations

import sys

from symba.files import UndecodableLine, stdin_lines

from .notations import DEFAULT_NOTATION, NOTATIONS, detokenize, tokenize

KINDS = ("squared", "amplitude", "marty-amplitude")


def register(subparsers) -> None:
    tok = subparsers.add_parser("tokenize", help="print the tokens of a squared amplitude (or an amplitude)")
    tok.add_argument("expression", help="the expression, or '-' to read one per line from stdin")
    _common(tok)
    tok.set_defaults(handler=_tokenize)

    detok = subparsers.add_parser("detokenize", help="print the expression of space-separated tokens")
    detok.add_argument("tokens", help="the tokens, or '-' to read one sequence per line from stdin")
    _common(detok)
    detok.set_defaults(handler=_detokenize)

    imp = subparsers.add_parser("import-symba", help="import public SYMBA/MARTY text files into Parquet")
    imp.add_argument("files", nargs="+", help="labelled 'Interaction: ...' files, or amplitude/sqamplitude file pairs")
    imp.add_argument("-o", "--output", required=True, help="the Parquet file to write")
    imp.add_argument(
        "--theory",
        choices=("qed", "qcd"),
        default=None,
        help="decides what 't' means (default: each file's, from its name QED_/QCD_ or else its particles)",
    )
    imp.add_argument(
        "--reg-prop", choices=("keep", "zero"), default="keep", help="keep MARTY's reg_prop or set it to 0"
    )
    imp.set_defaults(handler=_import)


def _common(parser) -> None:
    parser.add_argument("--notation", choices=NOTATIONS, default=DEFAULT_NOTATION)
    parser.add_argument(
        "--kind",
        choices=KINDS,
        default="squared",
        help="squared amplitude (default), amplitude text, or MARTY amplitude text (imported SYMBA data)",
    )


def _run(arg: str, fn) -> int:
    """Print ``fn`` of the argument, or of each stdin line for '-'.

    On stdin every line gets its output line, in order: a line that cannot be read (not UTF-8,
    too long, empty) or not converted gets ``error: ...`` in its place, the others are still
    answered, and one line on stderr at the end names the first problem (exit code 2)."""
    if arg != "-":
        try:
            print(fn(arg))
        except ValueError as exc:
            raise ValueError(f"argument: {exc}") from None
        return 0
    problems = []
    total = 0
    for k, line in stdin_lines():
        total += 1
        if isinstance(line, UndecodableLine):
            why = f"stdin {line}"
        elif not line.strip():  # skipping it would shift every later output line against its input
            why = f"stdin line {k}: empty line; give one item per line"
        else:
            try:
                print(fn(line.strip()), flush=False)
                continue
            except ValueError as exc:
                why = f"stdin line {k}: {exc}"
        problems.append(why)
        print(f"error: {why.splitlines()[0]}", flush=False)
    sys.stdout.flush()
    return _report(problems, total)


def _report(problems: list[str], total: int) -> int:
    if not problems:
        return 0
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    print(
        f"symba: error: {problems[0].splitlines()[0]}{more}; {len(problems)} of {total} line(s) failed, "
        "their output lines start with 'error:'",
        file=sys.stderr,
    )
    return 2


def _tokenize(args) -> int:
    if args.kind != "squared":
        from .amplitude_tokens import tokenize_amplitude  # lazy: see _import

        syntax = "marty" if args.kind == "marty-amplitude" else "symba"
        return _run(args.expression, lambda t: " ".join(tokenize_amplitude(t, args.notation, syntax)))
    return _run(args.expression, lambda t: " ".join(tokenize(t, args.notation)))


def _detokenize(args) -> int:
    if args.kind != "squared":  # a MARTY sequence is recognised by its first token
        from .amplitude_tokens import detokenize_amplitude  # lazy: see _import

        return _run(args.tokens, lambda t: detokenize_amplitude(t.split(), args.notation))
    return _run(args.tokens, lambda t: str(detokenize(t.split(), args.notation)))


def _import(args) -> int:
    # lazy, with the amplitude tokenizer above: `symba --help` imports every command module, and
    # these two (the canonical form, the importer) would add 40 ms to it
    from symba.sources.symba_text import import_symba

    stats = import_symba(args.files, args.output, theory=args.theory, reg_prop=args.reg_prop)
    kept = [
        (stats.get("unmapped_process"), "with process names kept as written"),
        (stats.get("untranslated_amplitude"), "with MARTY's amplitude text kept (backend symba-import-marty)"),
        (
            stats.get("noncanonical_amplitude"),
            "with amplitudes not in the canonical form (backend symba-import-noncanonical)",
        ),
    ]
    extra = "".join(f", {n} {what}" for n, what in kept if n)
    print(f"wrote {stats['rows']} rows to {args.output}{extra}")
    return 0
