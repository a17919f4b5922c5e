"""``advtui runs``: the run folders of every job, listed, shown, compared, renamed, deleted.

The same reading code as the app's Runs tab (:mod:`engine.run_index`); the tables come from
``tui/render.py``. Torch-free except ``show`` of a sweep (its point rows) and the PNGs
(matplotlib), which import what they need when they run.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from rich.console import Console

from tui import render
from tui.options import add_command

RUNS_EXAMPLE = """examples:
  advtui runs list                         # every run, newest first
  advtui runs list --kind words --filter sgns
  advtui runs show 20261130-145323-sgns-tinyshakespeare     # or any unique piece of the name
  advtui runs compare sgns-a cbow-b --out compare.png       # curves of several runs overlaid
  advtui runs rename RUN my-baseline
  advtui runs delete RUN --yes

RUN is a run folder's path, its name, or a piece of the name only one run has.
"""


def _root_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--root", help="runs folder (default: $ADVTUI_RUNS or the user data dir)")


def add_runs_parser(sub: Any) -> None:
    runs = add_command(
        sub, "runs", _need_action, "list, show, compare, rename and delete run folders",
        "Every job writes a run folder; find them again.", epilog=RUNS_EXAMPLE,
    )  # fmt: skip
    from tui.options import OneLineParser

    runs.error = OneLineParser.error.__get__(runs)  # type: ignore[method-assign]
    actions = runs.add_subparsers(
        dest="runs_command", metavar="ACTION", parser_class=OneLineParser
    )
    listing = add_command(actions, "list", cmd_list, "every run: date, kind, settings, status")
    listing.add_argument("--kind", help="sweep, train, words or eval")
    listing.add_argument("--filter", default="", help="words every listed run must contain")
    show = add_command(actions, "show", cmd_show, "a run's settings, status and table")
    show.add_argument("run", metavar="RUN")
    compare = add_command(
        actions, "compare", cmd_compare, "overlay the curves of several runs in one PNG"
    )
    compare.add_argument("runs", metavar="RUN", nargs="+")
    compare.add_argument("--metric", help="the curve to overlay (default: the first all have)")
    compare.add_argument("--out", required=True, help="the PNG to write")
    rename = add_command(actions, "rename", cmd_rename, "give a run a new name")
    rename.add_argument("run", metavar="RUN")
    rename.add_argument("name", metavar="NAME")
    delete = add_command(actions, "delete", cmd_delete, "delete a run folder")
    delete.add_argument("run", metavar="RUN")
    delete.add_argument("--yes", action="store_true", help="do not ask")
    for parser in (listing, show, compare, rename, delete):
        _root_option(parser)


def _need_action(_args: argparse.Namespace) -> int:
    from engine.errors import UsageError

    raise UsageError("choose an action: advtui runs list | show | compare | rename | delete")


def cmd_list(args: argparse.Namespace) -> int:
    from engine.run_index import list_runs

    runs = list_runs(args.root, args.kind, args.filter)
    if not runs:
        print("no runs found")
        return 0
    table = render.runs_table(runs)
    out = Console()
    if not out.is_terminal:  # a pipe gets whole rows, never ones wrapped at 80 columns
        from tui.console import measure_width

        out = Console(width=max(out.width, measure_width(table)))
    out.print(table)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from engine.run_index import curves, find_run, rows, run_info

    run = run_info(find_run(args.run, args.root))
    out = Console()
    out.print(f"[bold]{run.name}[/]  {run.kind}  {run.date}  {run.status}", highlight=False)
    if run.reason:
        out.print(f"reason: {run.reason}")
    out.print(f"settings: {run.settings}\nheadline: {run.headline}\nfolder: {run.path}")
    found = rows(run.path, run.kind)
    if found:
        out.print(render.rows_table(run.kind, found))
    names = ", ".join(curves(run.path, run.kind))
    if names:
        out.print(f"curves: {names}")
    for picture in sorted(run.path.glob("*.png")):
        out.print(f"picture: {picture}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from engine.run_index import find_run, overlay, run_info

    runs = [run_info(find_run(ref, args.root)) for ref in args.runs]
    data = overlay(runs, args.metric)
    from engine.charts import overlay_png

    print(overlay_png(data, args.out))
    return 0


def cmd_rename(args: argparse.Namespace) -> int:
    from engine.run_index import find_run, rename_run

    print(rename_run(find_run(args.run, args.root), args.name, args.root))
    return 0


def cmd_delete(args: argparse.Namespace) -> int:
    from engine.run_index import delete_run, find_run

    path = find_run(args.run, args.root)
    if not args.yes:
        if not sys.stdin.isatty():
            from engine.errors import UsageError

            raise UsageError(f"delete {path.name}: add --yes (no terminal to ask on)")
        answer = input(f"delete {path}? [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            print("kept")
            return 0
    delete_run(path, args.root)
    print(f"deleted {path}")
    return 0
