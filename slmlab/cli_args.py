"""argparse flags generated from a config dataclass: each default and help text lives once.

A field `n_stories: int = 1500  # train stories` becomes `--n-stories N` with default 1500
and help "train stories (default 1500)". Types map to argparse as follows:

- `bool` -> `--x / --no-x` (argparse.BooleanOptionalAction);
- `int`, `float`, `str`, `Path` (and `X | None`) -> one value; an int also takes `2e8`;
- `tuple[T, ...]` -> one or more values, each of which may hold commas (`--langs en,fr` and
  `--langs en fr` both give ("en", "fr"));
- fields of other types (dicts, nested configs) are left to the caller.

A command may rename a field's flag or add aliases (`flags={"n_stories": ("--stories",
"--n-stories")}`), override the help, or make a field required; it never repeats a default.
The parsed value of field `f` is at `args.f` and `config_kwargs` collects them back.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import inspect
import io
import math
import textwrap
import tokenize
import types
import typing
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable

MISSING = dataclasses.MISSING


@lru_cache(maxsize=None)
def field_comments(cls: type) -> dict[str, str]:
    """{field: its trailing `# comment`} read from the class source (continuation lines that
    hold only a comment are joined); a field without a comment is absent."""
    source = textwrap.dedent(inspect.getsource(cls))
    comments: dict[int, str] = {}
    code_lines: set[int] = set()
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
        elif tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
            code_lines.add(tok.start[0])
    out: dict[str, str] = {}
    body = ast.parse(source).body[0].body  # the class statement's body
    for node in body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)):
            continue
        line, parts = node.end_lineno, []
        while line in comments and (line == node.end_lineno or line not in code_lines):
            parts.append(comments[line])
            line += 1
        if parts:
            out[node.target.id] = " ".join(parts)
    return out


def _default(f: dataclasses.Field) -> Any:
    if f.default is not MISSING:
        return f.default
    if f.default_factory is not MISSING:  # type: ignore[misc]
        return f.default_factory()  # type: ignore[misc]
    return MISSING


def _strip_optional(tp: Any) -> Any:
    """`X | None` -> X; `str | Path` -> str; anything else unchanged."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if all(a in (str, Path) for a in args):
            return str
        if len(args) == 1:
            return args[0]
    return tp


def whole_number(text: str) -> int:
    """An int flag value; `2e8` and `1_000` are accepted when they are whole numbers. inf and
    nan pass through as floats, so the config's own check names the field in its message."""
    try:
        return int(text)
    except ValueError:
        value = float(text)  # ValueError -> argparse's one-line "invalid whole_number value"
        if not math.isfinite(value):
            return value  # type: ignore[return-value]
        if not value.is_integer():
            raise
        return int(value)


def _scalar(tp: Any) -> Callable[[str], Any] | None:
    tp = _strip_optional(tp)
    if tp is int:
        return whole_number
    if tp in (float, str):
        return tp
    if tp is Path:
        return str
    return None


def _split(convert: Callable[[str], Any]) -> Callable[[str], list]:
    def parse(text: str) -> list:
        return [convert(x.strip()) for x in text.split(",") if x.strip()]

    parse.__name__ = getattr(convert, "__name__", "value")  # argparse names it in errors
    return parse


class _Tuple(argparse.Action):
    """nargs='+' whose items may hold commas; the field gets one flat tuple."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, tuple(v for chunk in values for v in chunk))


def argument_spec(cls: type, name: str) -> dict | None:
    """argparse keyword arguments for field `name` of `cls` (None: not a CLI type)."""
    hints = typing.get_type_hints(cls)
    tp = _strip_optional(hints[name])
    if tp is bool:
        return {"action": argparse.BooleanOptionalAction}
    if typing.get_origin(tp) is tuple:
        items = [a for a in typing.get_args(tp) if a is not Ellipsis]
        convert = _scalar(items[0]) if items else str
        return None if convert is None else {"nargs": "+", "type": _split(convert),
                                             "action": _Tuple}
    convert = _scalar(tp)
    return None if convert is None else {"type": convert}


def flag_name(name: str) -> str:
    return "--" + name.replace("_", "-")


def _help(text: str, default: Any) -> str:
    if default in (MISSING, None, (), "") or isinstance(default, bool):
        return text
    shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
    return f"{text} (default {shown})".replace("%", "%%")


def add_config_args(parser: argparse.ArgumentParser, cls: type, *,
                    only: Iterable[str] | None = None, skip: Iterable[str] = (),
                    flags: dict[str, tuple[str, ...]] | None = None,
                    helps: dict[str, str] | None = None, required: Iterable[str] = (),
                    unset: Iterable[str] = (), group: Any = None) -> list[str]:
    """Add one flag per CLI-typed field of dataclass `cls`; returns the field names added.

    only/skip: which fields; flags: field -> its flag names (the first is shown in help);
    helps: field -> help text instead of its comment; required: fields the user must give
    (a field without a default is required anyway); unset: fields whose flag defaults to None
    because the command derives the value when the flag is left out; group: an argument group
    to add to. Each action records `config_class` (and `config_unset`) for the defaults test."""
    target = group or parser
    flags, helps, skip, required = flags or {}, helps or {}, set(skip), set(required)
    unset = set(unset)
    comments = field_comments(cls)
    wanted = None if only is None else list(only)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    added = []
    for name in wanted or list(fields):
        f = fields[name]
        spec = argument_spec(cls, name)
        if name in skip or spec is None or not f.init:
            continue
        default = None if name in unset else _default(f)
        must = name in required or default is MISSING
        text = _help(helps.get(name, comments.get(name, "")), None if must else default)
        kw = dict(spec, dest=name, help=text)
        if must:
            kw["required"] = True
        else:
            kw["default"] = default
        if spec.get("action") is argparse.BooleanOptionalAction and must:
            kw.pop("required")
        action = target.add_argument(*flags.get(name, (flag_name(name),)), **kw)
        action.config_class, action.config_unset = cls, name in unset
        added.append(name)
    return added


def config_kwargs(cls: type, args: argparse.Namespace, skip: Iterable[str] = ()) -> dict:
    """The fields of `cls` found in `args` (by field name), as keyword arguments."""
    skip = set(skip)
    return {f.name: getattr(args, f.name) for f in dataclasses.fields(cls)
            if f.name not in skip and hasattr(args, f.name)}


def parser_defaults(parser: argparse.ArgumentParser) -> dict[str, Any]:
    """{dest: default} of every optional flag of `parser` (for the defaults test)."""
    return {a.dest: a.default for a in parser._actions
            if a.option_strings and a.dest not in ("help", "version")}
