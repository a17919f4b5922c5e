"""The Attack lab's form: what to sweep. One compact row per field, so it fits 80x24.

Field defaults that the engine owns (the attack list from the registry, each axis's budget
list) arrive with :meth:`SweepForm.engine_ready`, after torch has loaded in the background; the
form paints before that. Values leave the form as a plain dict of ``SweepConfig`` fields; the
engine validates them and its one-line errors come back as notifications.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Select, SelectionList

from engine.errors import UsageError

DATASETS = ("sample", "cifar10", "imagefolder")  # replaced by the engine's list when it loads

# (field, label, placeholder, input type, app default). The app's N and batch are smaller than
# the CLI's 1000/250 so the first sweep on a CPU answers in seconds; type 1000 for the full set.
FIELDS: tuple[tuple[str, str, str, str, str], ...] = (
    ("data_dir", "data dir", "cifar10/imagefolder copy", "text", ""),
    ("model", "model", "smallcnn, resnet18, file", "text", "smallcnn"),
    ("weights", "weights", "state_dict file (optional)", "text", ""),
    ("eps", "eps", "0,0.01 or 0:0.1:0.01", "text", ""),
    ("pixels", "pixels", "0,1,5,10", "text", ""),
    ("n", "N", "images", "integer", "200"),
    ("batch", "batch", "images per batch", "integer", "100"),
    ("steps", "steps", "attack default", "integer", ""),
    ("seed", "seed", "0", "integer", "0"),
)
ORDER = ("dataset", "attacks", *(f[0] for f in FIELDS))  # focus order, top to bottom


class SweepForm(VerticalScroll):
    """Dataset, model, attacks, budgets, N, batch, steps and seed for the next sweep."""

    HELP = "Sweep settings: tab between fields; space toggles an attack."

    def compose(self) -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Label("dataset", classes="form-label")
            yield Select(
                [(d, d) for d in DATASETS],
                value="sample",
                allow_blank=False,
                compact=True,
                id="dataset",
            )
        attacks = SelectionList[str](id="attacks", classes="form-attacks")
        attacks.border_title = "attacks (loading engine...)"
        yield attacks
        for name, label, placeholder, kind, default in FIELDS:
            with Horizontal(classes="form-row"):
                yield Label(label, classes="form-label")
                yield Input(
                    default,
                    placeholder=placeholder,
                    type=kind,
                    compact=True,
                    valid_empty=True,
                    id=name,
                )

    # ------------------------------------------------------------------ engine defaults

    def engine_ready(
        self,
        attacks: list[tuple[str, str]],
        chosen: tuple[str, ...],
        defaults: dict[str, str],
        datasets: tuple[str, ...],
    ) -> None:
        """Fill what the engine knows: the registry's attacks (with their axis), default
        budget lists, and the dataset names. Fields the user already typed in are kept."""
        sel = self.query_one("#attacks", SelectionList)
        sel.clear_options()
        sel.add_options([(f"{name} ({axis})", name, name in chosen) for name, axis in attacks])
        sel.border_title = "attacks"
        for name, value in defaults.items():
            field = self.query_one(f"#{name}", Input)
            if not field.value:
                field.value = value
        select = self.query_one("#dataset", Select)
        current = select.value
        select.set_options([(d, d) for d in datasets])
        if current in datasets:
            select.value = current

    # ------------------------------------------------------------------ values

    def values(self) -> dict[str, Any]:
        """The form as ``SweepConfig`` keyword arguments; a UsageError names a bad field."""
        text = {name: self.query_one(f"#{name}", Input).value.strip() for name, *_ in FIELDS}
        attacks = tuple(self.query_one("#attacks", SelectionList).selected)
        if not attacks:
            raise UsageError("choose at least one attack (space toggles one in the list)")
        out: dict[str, Any] = {
            "dataset": str(self.query_one("#dataset", Select).value),
            "data_dir": text["data_dir"] or None,
            "model": text["model"] or "smallcnn",
            "weights": text["weights"] or None,
            "attacks": attacks,
        }
        for name in ("eps", "pixels"):
            if text[name]:
                out[name] = text[name]
        for name, required in (("n", True), ("batch", True), ("seed", True), ("steps", False)):
            if not text[name]:
                if required:
                    raise UsageError(f"{name} is empty; type a whole number")
                out[name] = None
                continue
            try:
                out[name] = int(text[name])
            except ValueError:
                raise UsageError(f"{name} must be a whole number, got {text[name]!r}") from None
        if out["steps"] is not None and out["steps"] < 1:
            raise UsageError("steps must be at least 1 (or empty for the attack's default)")
        return out
