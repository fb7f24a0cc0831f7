"""The command table of ``symba.cli``: a command line imports only the module of its command."""

from __future__ import annotations

import subprocess
import sys

import pytest

from symba import cli


def test_each_command_is_registered_by_the_module_the_table_names():
    everything = cli.build_parser()
    (sub,) = [a for a in everything._actions if a.dest == "command"]
    assert sorted(sub.choices) == sorted(cli.COMMANDS)
    for command, module in cli.COMMANDS.items():
        (own,) = [a for a in cli.build_parser([command])._actions if a.dest == "command"]
        assert command in own.choices, (command, module)
        registered_by_module = [c for c, m in cli.COMMANDS.items() if m == module]
        assert sorted(own.choices) == sorted(registered_by_module)


@pytest.mark.parametrize("argv", [["--help"], ["nonsense"]])
def test_help_and_unknown_commands_still_list_every_command(argv, capsys):
    with pytest.raises(SystemExit):
        cli.main(argv)
    out = capsys.readouterr()
    shown = out.out + out.err
    for command in cli.COMMANDS:
        assert command in shown


def test_predict_does_not_import_sympy_for_its_parser():
    code = "import sys; from symba import cli; cli.build_parser(['predict']); print('sympy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"
