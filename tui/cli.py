"""The ``advtui`` command: the app by default, or a headless subcommand.

Exit codes: 0 ok, 2 bad usage or input (one line on stderr), 1 failure. Parsing imports no
torch, so ``--help`` is instant and the app paints before the engine has loaded.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from engine.jobs import DEVICE_HELP
from tui.options import OneLineParser
from tui.runs_cli import add_runs_parser
from tui.vision_cli import add_vision_parsers
from tui.words_cli import add_words_parser


def build_parser() -> argparse.ArgumentParser:
    parser = OneLineParser(
        prog="advtui",
        description="Adversarial attacks and word embeddings, in the terminal. "
        "With no command, opens the app.",
    )
    # every job's own --device defaults to "not given", so this one holds unless it is given
    parser.add_argument("--device", default="auto", help=f"{DEVICE_HELP} (default auto)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    add_vision_parsers(sub)
    add_words_parser(sub)
    add_runs_parser(sub)
    return parser


def run_app(args: argparse.Namespace) -> int:
    from tui.app import AdvTUI
    from tui.terminal_images import probe

    # asked before Textual owns the terminal; instant unless the terminal looks capable
    AdvTUI(device=args.device, graphics=probe()).run()
    return 0


def _terminated(_signum: int, _frame: object) -> None:
    """SIGTERM outside a running job (while loading): stop as Ctrl-C would."""
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    func = getattr(args, "func", None) or run_app
    if func is not run_app:
        quiet_other_ranks()
    previous = None
    if func is not run_app:  # a job installs its own handlers while it runs (tui.console)
        previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        return func(args)
    except KeyboardInterrupt:
        print("advtui: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for the user, never a traceback
        from engine.errors import UsageError, one_line

        line = one_line(exc)
        line = line if len(line) <= 500 else line[:497] + "..."
        bad_input = isinstance(exc, UsageError)
        print(f"advtui: {'error' if bad_input else 'failed'}: {line}", file=sys.stderr)
        return 2 if bad_input else 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def quiet_other_ranks() -> None:
    """Under ``torchrun`` every process runs the command: only rank 0 (which speaks for the
    job, with every rank's progress) prints; the others' output goes to /dev/null, unless
    ``ADVTUI_RANK_OUTPUT=1``. A rank that fails still makes torchrun report it."""
    if int(os.environ.get("RANK", "0") or 0) == 0 or os.environ.get("ADVTUI_RANK_OUTPUT"):
        return
    null = os.open(os.devnull, os.O_WRONLY)
    for fd in (1, 2):
        os.dup2(null, fd)
    os.close(null)


if __name__ == "__main__":
    sys.exit(main())
