"""The Attack lab's form: what to sweep, built from ``SweepConfig``'s declarations.

The attack checklist is the registry's, so it fills in with :meth:`SweepForm.engine_ready`
once torch has loaded in the background; every other field paints at once, at the app's
defaults (fewer images than the CLI, so a first sweep on a CPU answers in seconds).
"""

from __future__ import annotations

from textual.widgets import SelectionList

from engine.fields import spec_of
from engine.vision.events import SweepConfig
from tui.widgets.config_form import ConfigForm


class SweepForm(ConfigForm):
    """Dataset, attacks, model, budgets, N, batch, steps, target and seed for the next sweep."""

    HELP = "Sweep settings: tab between fields; space toggles an attack."
    CONFIG = SweepConfig
    CHECKLISTS = ("attacks",)

    def on_mount(self) -> None:
        self.query_one("#attacks", SelectionList).border_title = "attacks (loading engine...)"

    def engine_ready(self, attacks: list[tuple[str, str]]) -> None:
        """Fill the checklist with the registry's attacks and their budget axis."""
        chosen = spec_of(SweepConfig, "attacks").app_default
        box = self.query_one("#attacks", SelectionList)
        box.clear_options()
        box.add_options([(f"{name} ({axis})", name, name in chosen) for name, axis in attacks])
        box.border_title = "attacks"
