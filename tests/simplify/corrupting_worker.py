"""The simplify worker with a whole-process form that is off by one term: the equality check must catch it.

Run as the worker module by tests/simplify/test_whole_process.py (``python -m corrupting_worker ...``).
"""

from symba.simplify import whole
from symba.simplify.worker import main

_grouped = whole.grouped_factored_text


def _off_by_one_term(text: str, engine: str = "flint") -> str:
    return _grouped(text, engine) + " + e^4/s_12"


whole.grouped_factored_text = _off_by_one_term

if __name__ == "__main__":
    main()
