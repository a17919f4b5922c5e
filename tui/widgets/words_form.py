"""The Embeddings form: corpus, model and hyper-parameters, built from ``WordsConfig``.

Each model has its own presets (declared with the fields): a field the user left at the old
model's preset takes the new model's when the model changes, a field they typed in keeps
their value. Rows a model does not use (``negative`` for the softmax models, ``hidden`` for
sgns) are hidden. Every input is checked by the engine as it is left (the corpus path too).
"""

from __future__ import annotations

from typing import Any

from textual.widgets import Select

from engine.fields import Spec, show
from engine.words.events import WordsConfig
from tui.widgets.config_form import ConfigForm


class WordsForm(ConfigForm):
    """Corpus, model and hyper-parameters for the next training run."""

    HELP = "Training settings: tab between fields; the model sets the defaults."
    CONFIG = WordsConfig

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._model = str(self.specs_by_name["model"].app_default)

    @property
    def specs_by_name(self) -> dict[str, Spec]:
        return {s.name: s for s in self.specs}

    def on_mount(self) -> None:
        self._apply(None, self._model)

    @property
    def model(self) -> str:
        return str(self.query_one("#model", Select).value)

    def shown(self, spec: Spec) -> bool:
        return spec.used(self._model)

    def _preset(self, spec: Spec, model: str | None) -> str:
        return show(spec.option.presets.get(model, spec.app_default) if model else None)

    def _apply(self, old: str | None, new: str) -> None:
        """Untouched fields take ``new``'s presets; unused rows hide."""
        self._model = new
        for spec in self.specs:
            if spec.name == "model" or spec.kind is bool:
                continue
            untouched = old is None or self.text(spec.name) == self._preset(spec, old)
            if untouched:
                self.set_text(spec.name, self._preset(spec, new))
            self.query_one(f"#row-{spec.name}").display = spec.used(new)

    def fill_from(self, config: Any, skip: tuple[str, ...] = ("resume",)) -> None:
        """The model first (its rows and presets, at once), then every setting."""
        if config.model != self._model:
            self._apply(self._model, config.model)
        super().fill_from(config, skip)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "model" and str(event.value) != self._model:
            self._apply(self._model, str(event.value))
