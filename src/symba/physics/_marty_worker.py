"""The MARTY worker: ``python -m symba.physics._marty_worker``, one JSON request per line.

Kept free of heavy imports so that it starts fast.  :func:`symba.workers.serve` keeps the
answers on a private copy of stdout, so MARTY's Fortran parts may print without harm.
"""

from __future__ import annotations

import importlib.util

from symba.workers import serve


def compute(job: dict) -> dict:
    """One MARTY call; the status says whether the bridge is missing or unloadable, or MARTY failed."""
    try:
        import symba_marty  # lazy: an optional bridge; missing or broken, that is the answer, not a crash
    except ImportError as exc:
        if importlib.util.find_spec("symba_marty") is None:
            return {"status": "missing", "message": str(exc)}
        return {"status": "unloadable", "message": f"{type(exc).__name__}: {exc}"}
    try:
        payload = symba_marty.compute(
            job["theory"],
            [tuple(x) for x in job["incoming"]],
            [tuple(x) for x in job["outgoing"]],
            job["diagram_squares"],
            job["process_square"],
        )
    except symba_marty.MartyError as exc:
        return {"status": "marty-error", "message": str(exc)}
    return {"status": "ok", "payload": payload}


if __name__ == "__main__":
    serve(compute)
