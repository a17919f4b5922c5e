"""The training form of the train screen, built from ``TrainConfig``'s declarations."""

from __future__ import annotations

from engine.vision.events import TrainConfig
from tui.widgets.config_form import ConfigForm


class TrainForm(ConfigForm):
    """Dataset, model and the optimiser's settings for training a classifier."""

    HELP = "Training settings: tab between fields."
    CONFIG = TrainConfig
