"""`slmlab` command line: one subcommand per pipeline stage.

Each module in COMMAND_MODULES exposes `add_cli(subparsers)`, which adds its parser(s) with
flags generated from config dataclasses (slmlab.cli_args) and sets `func` (called with the
parsed args). A module that fails to import is an error, never a silently missing command.
Errors a user can fix (bad config, bad audio, missing files) print one line and exit 2.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import sys
import warnings

from slmlab import __version__

# the modules defining add_cli, in the order of the pipeline
COMMAND_MODULES = (
    "slmlab.cli.data",  # world, corpus, tokenizer, tokenize, resynth
    "slmlab.cli.train",  # train, stages, experiment, quickstart
    "slmlab.cli.results",  # evaluate, probe, generate
    "slmlab.cli.app",  # app
)


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one line (no usage dump) and exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"{self.prog}: error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="slmlab", description="Cross-lingual spoken language model laboratory.")
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).add_cli(sub)  # an import error propagates
    return parser


def _version() -> str:
    return f"slmlab {__version__}"


_PLAIN_FORMAT = warnings.formatwarning


def _format_warning(message, category, filename, lineno, line=None) -> str:
    """slmlab's own warnings (damaged audio, ...) are meant for people: one line each."""
    if category.__module__.startswith("slmlab"):
        return f"slmlab: warning: {message}\n"
    return _PLAIN_FORMAT(message, category, filename, lineno, line)


def main(argv: list[str] | None = None) -> int:
    warnings.formatwarning = _format_warning
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    try:
        result = args.func(args)
    except KeyboardInterrupt:
        sys.stderr.write("slmlab: interrupted\n")
        return 130
    except (ValueError, FileNotFoundError, FileExistsError) as err:
        # ConfigError, AudioError and friends are ValueErrors with a message meant for people.
        sys.stderr.write(f"slmlab {args.command}: error: {_one_line(err)}\n")
        return 2
    except OSError as err:  # disk full, read-only dir, permission: the system's reason + path
        sys.stderr.write(f"slmlab {args.command}: error: {os_error_message(err)}\n")
        return 2
    except OverflowError as err:  # int(inf) and friends from a numeric argument
        sys.stderr.write(f"slmlab {args.command}: error: a number is out of range ({err})\n")
        return 2
    except (AssertionError, RuntimeError) as err:  # torch on a device it cannot use
        text = _one_line(err)
        if "CUDA" not in text and "device string" not in text:
            raise
        sys.stderr.write(f"slmlab {args.command}: error: {text}; check --device (cpu works "
                         "everywhere)\n")
        return 2
    return int(result or 0)


def _one_line(err: BaseException) -> str:
    text = str(err).strip()
    return text.splitlines()[0] if text else type(err).__name__


def os_error_message(err: OSError) -> str:
    """One line for an OSError: what failed, on which path, and what to do."""
    where = f" ({err.filename})" if err.filename else ""
    hint = {errno.ENOSPC: "free some space and rerun the same command (finished work is kept)",
            errno.EROFS: "the file system is read-only: give a writable output path",
            errno.EACCES: "no permission: give a writable output path",
            errno.EDQUOT: "disk quota exceeded: free some space and rerun"}.get(err.errno, "")
    reason = err.strerror or _one_line(err)
    return f"{reason}{where}" + (f"; {hint}" if hint else "")


if __name__ == "__main__":
    raise SystemExit(main())
