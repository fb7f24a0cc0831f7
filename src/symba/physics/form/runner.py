"""Running FORM: the binary, its memory setup, the subprocess, its printed expressions."""

from __future__ import annotations

import os
import re
import resource
import shutil
import subprocess

from form_bin import form_command

from symba.workers import die_with_parent

from ..tempdirs import make_owned_dir


class FormError(RuntimeError):
    """FORM failed; the message carries FORM's own output."""


class FormTimeout(FormError):
    """FORM ran past its time limit and was killed."""


FORM_DEFAULTS_NEED = 4 << 30  # FORM's default buffers reserve about 2.1 GB at once; tform threads more


def form_setup(workers: int = 1) -> tuple[str, int]:
    """(``#:`` setup lines, threads) that fit FORM in this process's address-space cap, which
    FORM inherits (the worker's ``--memory-mb``).  Under about 4 GB FORM's defaults cannot even
    allocate their sort buffers, so they are sized from the cap: half of it in all, one thread
    (tform's threads each reserve buffers of their own).  No cap, or a large one: the defaults."""
    cap = resource.getrlimit(resource.RLIMIT_AS)[0]
    if cap == resource.RLIM_INFINITY or cap >= FORM_DEFAULTS_NEED:
        return "", workers
    budget = cap // 2
    sizes = {
        "LargeSize": budget // 8,
        "SmallSize": budget // 32,
        "SmallExtension": budget // 16,
        "ScratchSize": budget // 32,
        "HideSize": budget // 32,
        "WorkSpace": cap // 512,  # in 4-byte words; too small a WorkSpace makes FORM hang, not fail
    }
    return "".join(f"#: {key} {value}\n" for key, value in sizes.items()), 1


def form_workers() -> int:
    """tform threads: two when this process may use two cores, else one."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return 2 if cores >= 2 else 1


def run_form(program: str, timeout: float | None, workers: int = 1) -> dict[str, str]:
    """Run a FORM program in a private temporary directory; return printed expressions.

    ``workers`` > 1 runs tform with that many threads; ``timeout`` None: no bound."""
    setup, workers = form_setup(workers)
    tmp = make_owned_dir("symba-form-")
    try:
        path = os.path.join(tmp, "square.frm")
        with open(path, "w") as fh:
            fh.write(setup + program)
        threads = ["-w" + str(workers)] if workers > 1 else []
        cmd = [form_command[0], *threads, "-q", "-t", tmp, "-ts", tmp, path]
        try:
            res = subprocess.run(
                cmd, cwd=tmp, capture_output=True, text=True, timeout=timeout, preexec_fn=die_with_parent
            )
        except subprocess.TimeoutExpired:
            raise FormTimeout(f"FORM timed out after {timeout:g} s") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    out = res.stdout
    if res.returncode != 0:
        lines = [ln.strip() for ln in (out + res.stderr).splitlines() if ln.strip()]
        raise FormError("FORM failed: " + " | ".join(lines[-6:]))
    exprs: dict[str, str] = {}
    for m in re.finditer(r"^\s*([A-Za-z]\w*)\s*=(.*?);", out, flags=re.S | re.M):
        exprs[m.group(1)] = re.sub(r"\s+", "", m.group(2)).lstrip("+")
    return exprs


# What FORM prints for a polynomial in our symbols: names, numbers, + - * / ^ and brackets.
FORM_RESULT_RE = re.compile(r"[A-Za-z0-9_+\-*/^().]+")


def check_form_results(proc, results: dict[str, str], expected: list[str]) -> None:
    """Every expression FORM was asked for is there and well formed: never a silent zero."""
    missing = [name for name in expected if name not in results]
    if missing:
        raise FormError(
            f"FORM output for process '{proc}' lacks expression(s) {', '.join(missing[:5])}"
            + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        )
    for name in expected:
        if not FORM_RESULT_RE.fullmatch(results[name]):
            raise FormError(
                f"FORM output for process '{proc}' has a malformed expression {name}: {results[name][:80]!r}"
            )
