"""``symba amplitudes``: the readable summary cuts long expressions and says how long they were."""

import json

from symba.cli import main
from symba.physics.cli import SUMMARY_CHARS, shorten


def test_shorten_keeps_short_text_and_cuts_long_text_with_its_length():
    assert shorten("s_12*e^2") == "s_12*e^2"
    text = "x" * (SUMMARY_CHARS + 1234)
    cut = shorten(text)
    assert cut.startswith("x" * SUMMARY_CHARS + " ... [cut: ")
    assert f"{len(text):,} characters" in cut and len(cut) < SUMMARY_CHARS + 100


def test_summary_lines_are_bounded_and_full_and_json_print_everything(capsys):
    process = ["amplitudes", "e- e+ -> mu- mu+ a"]  # its whole-process square has ~7,000 characters
    assert main([*process, "--json"]) == 0
    whole = json.loads(capsys.readouterr().out)["squared_amplitude"]
    assert len(whole) > SUMMARY_CHARS
    assert main(process) == 0
    summary = capsys.readouterr().out.splitlines()
    assert max(len(line) for line in summary) < SUMMARY_CHARS + 100
    assert summary[-1].strip() == shorten(whole)
    assert main([*process, "--full"]) == 0
    assert capsys.readouterr().out.splitlines()[-1].strip() == whole
