"""Numeric equivalence of a predicted squared amplitude, with a process-level timeout.

Model output is untrusted text: it is read only by the project's bounded parser
(:func:`symba.physics.expression_parser.parse_expression`), never ``sympify``.  Even
within the bounds a prediction can be slow (a sum of a hundred thousand terms),
and SymPy cannot be interrupted, so detokenizing and checking both run in a
worker process (:class:`symba.workers.LineWorker`) that is killed at the
timeout.  This module does not import torch, so the worker starts quickly.
"""

from __future__ import annotations

import sys
from functools import lru_cache

import sympy

from symba.physics.expression_parser import parse_expression
from symba.physics.kinematics import numerically_equal
from symba.physics.process import parse_process
from symba.tokenization.notations import detokenize, parse_squared, tokenize
from symba.workers import LineWorker, WorkerDied, serve

from .verify import verify_candidate

WORKER_MEMORY_MB = 4096  # a check that needs more is a pathological prediction


@lru_cache(maxsize=1024)
def _kinematics(process: str, theory: str):
    proc = parse_process(process, theory, check=False)
    return tuple(proc.leg_masses()), proc.n_in


def numerically_equivalent(prediction: str, truth: str, process: str, theory: str, n_points: int = 4) -> bool:
    """Whether ``prediction`` equals ``truth`` at random phase-space points of ``process``.

    Unparseable predictions, and ones with symbols the process does not have, are wrong.
    """
    try:
        predicted = parse_expression(prediction)
        leg_masses, n_in = _kinematics(process, theory)
        return bool(numerically_equal(predicted, truth, list(leg_masses), n_in, n_points=n_points))
    except (ValueError, ArithmeticError, TypeError):  # unparseable or not evaluable: wrong
        return False


def detokenized_text(tokens: list[str], notation: str) -> str | None:
    """The expression text of a token sequence, or None if the tokens are not one."""
    try:
        return sympy.sstr(detokenize(list(tokens), notation))
    except (ValueError, ArithmeticError, TypeError):  # a malformed sequence has no expression
        return None


def expression_tokens(text: str, notation: str) -> list[str] | None:
    """The tokens of an expression's text, or None if it has no token form."""
    try:
        return list(tokenize(parse_squared(text), notation))
    except (ValueError, ArithmeticError, TypeError):
        return None


def verification(request: dict) -> dict:
    """The physics checks of one candidate (:mod:`symba.model.verify`) as a JSON-able verdict."""
    verdict = verify_candidate(
        request["candidate"],
        request["amplitude"],
        request["process"],
        request["theory"],
        request["diagram"],
        request.get("massless") or (),
        request.get("n_points", 3),
    )
    return {"failed": verdict.failed, "skipped": verdict.skipped}


def _handle(request: dict):
    if request["op"] == "verify":
        return verification(request)
    if request["op"] == "detokenize":
        return {"text": detokenized_text(request["tokens"], request["notation"])}
    if request["op"] == "tokenize":
        return {"tokens": expression_tokens(request["text"], request["notation"])}
    return {
        "equivalent": numerically_equivalent(
            request["prediction"], request["truth"], request["process"], request["theory"], request["n_points"]
        )
    }


class NumericChecker:
    """Detokenizes and checks predictions in one worker process, each request under ``timeout_s``.

    The worker is a fresh interpreter (``python -m symba.model.numeric``), not a fork of
    the caller, so it never re-runs the caller's main script (Snakemake ``script:`` files
    have no main guard).  A request that times out counts as wrong (``timeouts`` counts
    them); the worker is killed and restarted on the next request.
    """

    def __init__(self, timeout_s: float = 20.0, n_points: int = 4):
        self.timeout_s, self.n_points = timeout_s, n_points
        self.timeouts = 0
        self._worker = LineWorker("symba.model.numeric", [str(WORKER_MEMORY_MB)])

    def _ask(self, request: dict) -> dict | None:
        if not self._worker.alive():
            self._worker.kill()
            self._worker.start()  # a worker that cannot start is an error, not a wrong prediction
        try:
            answer = self._worker.request(request, self.timeout_s)
        except WorkerDied as exc:
            self.timeouts += exc.timed_out
            return None
        return None if "error" in answer else answer

    def check(self, prediction: str, truth: str, process: str, theory: str) -> bool:
        answer = self._ask(
            {
                "op": "check",
                "prediction": prediction,
                "truth": truth,
                "process": process,
                "theory": theory,
                "n_points": self.n_points,
            }
        )
        return bool(answer and answer["equivalent"])

    def verify(
        self, candidate: str, amplitude: str, process: str, theory: str, diagram: int, massless=(), n_points: int = 3
    ) -> dict:
        """The physics checks of a candidate without its answer: ``{"failed": [...], "skipped": [...]}``;
        a check over the timeout, or one that raised, fails as ``"timeout_or_error"``."""
        answer = self._ask(
            {
                "op": "verify",
                "candidate": candidate,
                "amplitude": amplitude or "",
                "process": process,
                "theory": theory,
                "diagram": int(diagram if diagram is not None else 0),
                "massless": list(massless or ()),
                "n_points": n_points,
            }
        )
        return answer if answer else {"failed": ["timeout_or_error"], "skipped": []}

    def detokenize(self, tokens: list[str], notation: str) -> str | None:
        """The expression text of model output tokens, or None (malformed, or over the timeout)."""
        answer = self._ask({"op": "detokenize", "tokens": list(tokens), "notation": notation})
        return answer["text"] if answer else None

    def tokenize(self, text: str, notation: str) -> list[str] | None:
        """The tokens of predicted text (a prediction renamed to other legs), or None."""
        answer = self._ask({"op": "tokenize", "text": text, "notation": notation})
        return answer["tokens"] if answer else None

    def close(self) -> None:
        self._worker.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


if __name__ == "__main__":
    serve(_handle, memory_mb=int(sys.argv[1]) if len(sys.argv) > 1 else 0)
