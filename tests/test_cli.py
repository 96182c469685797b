"""The CLI's error handling: bad flags and bad values give one line and exit code 2."""

import subprocess
import sys
from pathlib import Path

import pytest

from slmlab.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[1]


def _run(*args):
    return subprocess.run([sys.executable, "-m", "slmlab", *args], capture_output=True,
                          text=True, cwd=ROOT)


def test_help_lists_working_subcommands():
    out = _run("--help")
    assert out.returncode == 0
    names = set(build_parser()._subparsers._group_actions[0].choices)
    assert names, "no subcommand registered"
    for name in names:
        assert name in out.stdout


def test_unknown_flag_is_one_line_exit_2():
    out = _run("--no-such-flag")
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "unrecognized arguments: --no-such-flag" in lines[0]


def test_unknown_subcommand_is_one_line_exit_2():
    out = _run("frobnicate")
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1
    assert "invalid choice" in out.stderr


@pytest.mark.parametrize("name", ["world", "corpus", "train", "evaluate", "probe", "generate",
                                  "experiment", "app", "quickstart"])
def test_each_subcommand_has_help(name):
    choices = build_parser()._subparsers._group_actions[0].choices
    if name not in choices:
        pytest.skip(f"{name} not registered")
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0


def test_value_error_from_a_command_is_one_line_exit_2(capsys):
    import argparse

    def boom(args):
        raise ValueError("p must be in [0, 1]; got 2")

    parser = build_parser()
    args = argparse.Namespace(func=boom, command="train")
    parser.parse_args = lambda argv=None: args  # route main() to the failing command
    import slmlab.cli as cli

    real = cli.build_parser
    cli.build_parser = lambda: parser
    try:
        assert cli.main([]) == 2
    finally:
        cli.build_parser = real
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["slmlab train: error: p must be in [0, 1]; got 2"]


@pytest.mark.parametrize("err, want", [
    (OSError(28, "No space left on device", "/run/x"),
     "No space left on device (/run/x); free some space and rerun the same command"),
    (OSError(30, "Read-only file system", "/ro/out"),
     "Read-only file system (/ro/out); the file system is read-only: give a writable output path"),
    (OverflowError("cannot convert float infinity to integer"),
     "a number is out of range (cannot convert float infinity to integer)"),
    (RuntimeError("Expected one of cpu, cuda device type at start of device string: bogus"),
     "device string: bogus; check --device"),
])
def test_system_errors_are_one_line_exit_2(monkeypatch, capsys, err, want):
    import argparse

    import slmlab.cli as cli

    def boom(args):
        raise err

    parser = build_parser()
    parser.parse_args = lambda argv=None: argparse.Namespace(func=boom, command="corpus")
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    assert cli.main([]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("slmlab corpus: error: ") and want in lines[0]


def test_other_runtime_errors_still_raise(monkeypatch):
    """Only errors a user can fix become one line; a bug keeps its traceback."""
    import argparse

    import slmlab.cli as cli

    def boom(args):
        raise RuntimeError("shape mismatch in layer 3")

    parser = build_parser()
    parser.parse_args = lambda argv=None: argparse.Namespace(func=boom, command="train")
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    with pytest.raises(RuntimeError, match="shape mismatch"):
        cli.main([])


def test_slmlab_warnings_are_one_line():
    import slmlab.cli as cli
    from slmlab.speech.audio import AudioWarning

    assert cli._format_warning("cut.wav is truncated", AudioWarning, "f.py", 3) == \
        "slmlab: warning: cut.wav is truncated\n"
    other = cli._format_warning("old API", UserWarning, "f.py", 3)  # others keep their form
    assert "f.py:3: UserWarning: old API" in other
