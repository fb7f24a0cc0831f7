"""One MARTY call in its own process: ``python -m symba.physics._marty_worker IN.json OUT.json``.

Kept free of heavy imports so that the worker starts fast.  The result (or
the error) goes to OUT.json, never to stdout, which MARTY's Fortran parts
could write to.
"""

from __future__ import annotations

import json
import sys


def main(argv: list[str]) -> int:
    in_path, out_path = argv
    with open(in_path) as fh:
        job = json.load(fh)
    import importlib.util

    try:
        import symba_marty
    except ImportError as exc:
        if importlib.util.find_spec("symba_marty") is None:
            result = {"status": "missing", "message": str(exc)}
        else:
            result = {"status": "unloadable", "message": f"{type(exc).__name__}: {exc}"}
    else:
        try:
            payload = symba_marty.compute(
                job["theory"],
                [tuple(x) for x in job["incoming"]],
                [tuple(x) for x in job["outgoing"]],
                job["diagram_squares"],
                job["process_square"],
            )
            result = {"status": "ok", "payload": payload}
        except symba_marty.MartyError as exc:
            result = {"status": "marty-error", "message": str(exc)}
    with open(out_path, "w") as fh:
        json.dump(result, fh)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
