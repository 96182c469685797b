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


# the subcommands users know (README): fixed here, not read from the parser under test
COMMANDS = ("world", "corpus", "tokenizer", "tokenize", "resynth", "train", "stages",
            "experiment", "quickstart", "recipe", "evaluate", "probe", "generate", "app")


def _subparsers(parser) -> dict:
    return parser._subparsers._group_actions[0].choices


def test_help_lists_every_subcommand():
    out = _run("--help")
    assert out.returncode == 0
    assert set(_subparsers(build_parser())) == set(COMMANDS)
    for name in COMMANDS:
        assert f"    {name}" in out.stdout, name


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


@pytest.mark.parametrize("name", COMMANDS)
def test_each_subcommand_has_help(name, capsys):
    with pytest.raises(SystemExit) as exc:
        main([name, "--help"])
    assert exc.value.code == 0
    assert f"slmlab {name}" in capsys.readouterr().out


def test_training_commands_need_no_audio_library():
    """A GPU machine without soundfile (or espeak-ng) can still train and run experiments:
    the CLI imports audio libraries only in the commands that read or write audio."""
    code = ("import sys; sys.modules['soundfile'] = None; sys.modules['espeakng_loader'] = None\n"
            "from slmlab.cli import main\n"
            "for cmd in ('train', 'experiment', 'stages', 'evaluate', 'probe'):\n"
            "    try:\n        main([cmd, '--help'])\n    except SystemExit as e:\n"
            "        assert e.code == 0, cmd\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]


def test_commands_need_no_plotting_library_until_they_draw():
    """A GPU machine without plotly can build a corpus (the first device call of the 64k run
    died on `No module named 'plotly'` in `corpus build`): plots import it on first use."""
    code = ("import sys; sys.modules['plotly'] = None\n"
            "from slmlab.cli import main\n"
            "for cmd in ('corpus', 'world', 'train', 'experiment', 'stages', 'evaluate'):\n"
            "    try:\n        main([cmd, '--help'])\n    except SystemExit as e:\n"
            "        assert e.code == 0, cmd\n"
            "from slmlab import plots\n"
            "try:\n    plots.go.Figure\nexcept ImportError:\n    pass\n"
            "else:\n    raise AssertionError('plotly should be needed once a figure is drawn')\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]


def test_a_command_module_that_fails_to_import_is_an_error(monkeypatch):
    """A broken stage module must not silently remove its subcommand."""
    import slmlab.cli as cli

    monkeypatch.setattr(cli, "COMMAND_MODULES", (*cli.COMMAND_MODULES, "slmlab.no_such_stage"))
    with pytest.raises(ModuleNotFoundError, match="no_such_stage"):
        cli.build_parser()


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


def _config_actions(parser):
    """(command path, action) for every flag generated from a config dataclass."""
    for name, sub in _subparsers(parser).items():
        nested = [(f"{name} {k}", p) for k, p in _subparsers(sub).items()] \
            if sub._subparsers is not None else [(name, sub)]
        for path, p in nested:
            for action in p._actions:
                if hasattr(action, "config_class"):
                    yield path, action


def test_every_flag_default_is_its_dataclass_default():
    """The acceptance line: a default lives in its dataclass only, and the parser agrees."""
    import dataclasses

    seen = set()
    for path, action in _config_actions(build_parser()):
        cls = action.config_class
        field = {f.name: f for f in dataclasses.fields(cls)}[action.dest]
        if action.required or action.config_unset:
            assert action.default is None, (path, action.dest)
            continue
        want = field.default if field.default is not dataclasses.MISSING \
            else field.default_factory()
        assert action.default == want, f"slmlab {path} --{action.dest}: {action.default!r} != {want!r}"
        seen.add(path)
    assert {"train", "stages", "experiment", "quickstart", "corpus build", "evaluate", "probe",
            "generate", "app", "world", "tokenizer train", "recipe"} <= seen


def test_experiment_logs_as_often_as_train():
    """The drift that started issue 14: one log_every default for train and experiment."""
    from slmlab.train import TrainConfig

    parser = build_parser()
    for cmd in (["train", "--corpus", "c", "--out", "o", "--steps", "1"],
                ["experiment", "--corpus", "c", "--out", "o", "--budget-tokens", "9"]):
        assert parser.parse_args(cmd).log_every == TrainConfig.log_every


def test_generated_flags_parse_like_the_old_hand_written_ones():
    parser = build_parser()
    args = parser.parse_args(["corpus", "build", "--out", "c", "--stories", "7", "--langs", "en,fr",
                              "--keep-audio", "0", "--units", "64", "--no-progress"])
    assert (args.n_stories, args.langs, args.keep_audio_sample, args.n_units, args.progress) == \
        (7, ("en", "fr"), 0, 64, False)
    args = parser.parse_args(["stages", "--corpus", "c", "--out", "o", "--tokens", "2e8",
                              "--ratios", "50,20,15", "--allow-change", "lr,batch_size"])
    assert (args.total_tokens, args.ratios, args.allow_change) == \
        (200_000_000, (50.0, 20.0, 15.0), ("lr", "batch_size"))
    args = parser.parse_args(["experiment", "--corpus", "c", "--out", "o", "--budget-tokens", "1e6",
                              "--seeds", "0", "1", "--arms", "mixed", "interleave"])
    assert (args.budget_tokens, args.seeds, args.arms) == (10**6, (0, 1), ("mixed", "interleave"))
    assert parser.parse_args(["app", "--share", "yes", "--no-umap"]).share is True
    assert parser.parse_args(["app", "--no-umap"]).umap is False


def test_field_comments_become_help():
    from slmlab.cli_args import field_comments
    from slmlab.corpus import CorpusConfig

    comments = field_comments(CorpusConfig)
    assert comments["n_stories"] == "train stories"
    assert comments["tokenizer"].endswith("or 'mimi'")  # a comment continued on the next line
    build = _subparsers(_subparsers(build_parser())["corpus"])["build"]
    helps = {a.dest: a.help for a in build._actions}
    assert helps["n_stories"] == "train stories (default 1500)"
    assert helps["langs"].endswith("(default en,fr)")


def test_a_fractional_whole_number_is_one_line_exit_2():
    out = _run("train", "--corpus", ".", "--out", "o", "--steps", "2.5")
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1 and "--steps" in out.stderr


def test_the_generator_maps_types_comments_and_required_fields():
    import argparse
    import dataclasses

    from slmlab.cli_args import add_config_args, config_kwargs

    @dataclasses.dataclass
    class Demo:
        path: str  # where it goes
        n: int = 3  # how many; a comment that goes on
        # onto the next line
        fracs: tuple[float, ...] = (0.5,)  # fractions
        loud: bool = True  # say it
        maybe: int | None = None  # optional count
        table: dict = dataclasses.field(default_factory=dict)  # not a flag

    p = argparse.ArgumentParser()
    added = add_config_args(p, Demo, flags={"n": ("--count", "-n")})
    assert added == ["path", "n", "fracs", "loud", "maybe"]  # the dict field is left out
    helps = {a.dest: a.help for a in p._actions}
    assert helps["n"] == "how many; a comment that goes on onto the next line (default 3)"
    args = p.parse_args(["--path", "x", "-n", "1e3", "--fracs", "0.1,0.2", "0.3", "--no-loud"])
    assert config_kwargs(Demo, args) == {"path": "x", "n": 1000, "fracs": (0.1, 0.2, 0.3),
                                         "loud": False, "maybe": None}
    with pytest.raises(SystemExit):  # --path has no default: required
        p.parse_args([])
    with pytest.raises(SystemExit):  # 2.5 is not a whole number
        p.parse_args(["--path", "x", "--count", "2.5"])
