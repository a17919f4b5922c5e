"""argparse options built from a job's config declarations, and the config back from the args.

Every option defaults to "not given" (``argparse.SUPPRESS``), so only what the user typed
reaches the config, over the declared defaults (or a preset), and a root option such as
``advtui --device cpu sweep`` is never overwritten by a subcommand's default. Values are
parsed and validated by the engine (:func:`engine.fields.from_texts`); its messages name
config fields, and :func:`cli_error` puts the flags in their place.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, NoReturn

from engine.errors import UsageError
from engine.fields import FieldError, Spec, from_texts, render_mentions, show, specs


class OneLineParser(argparse.ArgumentParser):
    """Bad options give one line (and exit 2), like every other bad input of ``advtui``:
    argparse's own errors would print the whole usage first."""

    def error(self, message: str) -> NoReturn:
        first = message.strip().splitlines()[0] if message.strip() else "bad arguments"
        first = first if len(first) <= 300 else first[:297] + "..."
        print(f"advtui: error: {first} (see: {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)


def help_text(spec: Spec) -> str:
    """The declared help with the default (and the presets that differ from it)."""
    default = show(spec.default)
    text = spec.option.help
    if default and (spec.kind is not bool or spec.default is True):  # flags say when on
        text += f" (default {default}"
        others = {k: show(v) for k, v in spec.option.presets.items() if v != spec.default}
        if spec.app_default != spec.default:
            others["the app's"] = show(spec.app_default)
        if others:
            text += "; " + ", ".join(f"{k} {v}" for k, v in others.items())
        text += ")"
    if spec.option.used_by:
        text += f" [{'/'.join(spec.option.used_by)} only]"
    return text.replace("%", "%%")


def add_options(parser: argparse.ArgumentParser, cls: type, skip: tuple[str, ...] = ()) -> None:
    """One option per declared CLI field of ``cls`` (a flag that is no ``--x`` is positional)."""
    for spec in specs(cls):
        if not spec.option.cli or spec.name in skip:
            continue
        help_ = help_text(spec)
        if not spec.flag.startswith("-"):
            parser.add_argument(spec.name, metavar=spec.flag, help=help_)
        elif spec.kind is bool:
            parser.add_argument(
                spec.flag,
                dest=spec.name,
                action=argparse.BooleanOptionalAction,
                default=argparse.SUPPRESS,
                help=help_,
            )
        elif spec.kind is tuple and spec.option.sep is None:
            parser.add_argument(
                spec.flag, dest=spec.name, action="append", default=argparse.SUPPRESS, help=help_
            )
        else:
            metavar = "|".join(spec.option.choices) if spec.option.choices else None
            parser.add_argument(
                spec.flag, dest=spec.name, default=argparse.SUPPRESS, metavar=metavar, help=help_
            )


def add_command(
    sub: Any,
    name: str,
    func: Any,
    help: str,
    description: str = "",
    config: type | None = None,
    epilog: str | None = None,
) -> argparse.ArgumentParser:
    """A subcommand running ``func``, with ``config``'s declared options when it has one."""
    parser = sub.add_parser(
        name,
        help=help,
        description=description or help,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    if config is not None:
        add_options(parser, config)
    parser.set_defaults(func=func)
    return parser


def flags(cls: type) -> dict[str, str]:
    """Field name -> how the CLI calls it."""
    return {s.name: s.flag for s in specs(cls)}


def cli_error(exc: UsageError, cls: type) -> UsageError:
    """The engine's message with the CLI's flags in place of the config field names."""
    names = flags(cls)
    if isinstance(exc, FieldError):
        return UsageError(f"{names.get(exc.field, exc.field)} {render_mentions(exc.reason, names)}")
    return UsageError(render_mentions(str(exc), names))


def config_from_args(cls: type, args: argparse.Namespace, base: Any = None, **values: Any) -> Any:
    """The validated config: ``base`` (or the defaults), what the user typed, then ``values``."""
    texts: dict[str, str] = {}
    given = dict(values)
    for spec in specs(cls):
        if spec.name in values or not hasattr(args, spec.name):
            continue
        value = getattr(args, spec.name)
        if isinstance(value, bool):
            given[spec.name] = value
        elif isinstance(value, list):  # a repeated option: one text per occurrence
            given[spec.name] = tuple(t for v in value for t in _parsed_list(spec, v))
        elif value is not None:
            texts[spec.name] = value
    try:
        return from_texts(cls, texts, base, **given)
    except UsageError as exc:
        raise cli_error(exc, cls) from None


def resume_base(cls: type, args: argparse.Namespace, kind: str, fallback: Any = None) -> Any:
    """The settings of the run folder ``--resume`` names, as the defaults that the options
    typed beside it override (``fallback`` when not resuming, or when the path is a bare file
    with no run folder around it)."""
    from engine.fields import check_text
    from engine.runs import saved_config

    text = getattr(args, "resume", None)
    if not text:
        return fallback
    try:
        path = check_text(cls, "resume", text)
        if path is None:
            return fallback
        folder = Path(path).expanduser()
        folder = folder if folder.is_dir() else folder.parent
        if fallback is not None and not (folder / "config.json").is_file():
            return fallback
        return saved_config(cls, path, kind)
    except UsageError as exc:
        raise cli_error(exc, cls) from None


def _parsed_list(spec: Spec, text: str) -> tuple[str, ...]:
    from engine.fields import parse

    return parse(spec, text)
