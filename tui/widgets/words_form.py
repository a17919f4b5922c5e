"""The Embeddings form: corpus, model and hyper-parameters. One compact row per field (80x24).

Hyper-parameter defaults belong to the engine (``engine.words.train.defaults_for(model)``);
they arrive with :meth:`WordsForm.engine_ready` once torch has loaded, and change with the
model: a field the user left at the old model's default takes the new model's default, a field
they typed in keeps their value. Rows a model does not use (``negative`` for the softmax
models, ``hidden`` for sgns) are hidden. The corpus path is checked with the engine's
``open_corpus`` when the field is left or submitted; its one-line error shows under it.
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import Input, Label, Select

from engine.errors import UsageError

MODELS = ("classic", "cbow", "sgns")

# (field, label, placeholder, kind, models using it). kind: int, int?, float, float?, text
FIELDS: tuple[tuple[str, str, str, str, tuple[str, ...]], ...] = (
    ("dim", "dim", "vector size", "int", MODELS),
    ("window", "window", "context words each side", "int", MODELS),
    ("negative", "negative", "negatives per pair", "int", ("sgns",)),
    ("hidden", "hidden", "hidden units", "int", ("classic", "cbow")),
    ("epochs", "epochs", "passes", "int", MODELS),
    ("batch", "batch", "model default", "int?", MODELS),
    ("lr", "lr", "model default", "float?", MODELS),
    ("min_count", "min count", "rarer words dropped", "int", MODELS),
    ("max_vocab", "max vocab", "no cap", "int?", MODELS),
    ("max_words", "max words", "whole corpus", "int?", MODELS),
    ("sample", "sample", "subsampling, 0 = off", "float", MODELS),
    ("seed", "seed", "0", "int", MODELS),
    ("analogies", "analogies", "questions-words file", "text", MODELS),
    ("pairs", "pairs", "wordsim/simlex file", "text", MODELS),
)
KINDS = {name: kind for name, _, _, kind, _ in FIELDS}
USED_BY = {name: models for name, *_, models in FIELDS}


def parse_field(name: str, text: str) -> Any:
    """One field's text as its ``WordsConfig`` value; a one-line UsageError when it is not."""
    kind = KINDS[name]
    if kind == "text":
        return text or None
    if not text:
        if kind.endswith("?"):
            return None
        raise UsageError(f"{name} is empty; type a number")
    try:
        value: Any = int(text) if kind.startswith("int") else float(text)
    except ValueError:
        what = "a whole number" if kind.startswith("int") else "a number"
        raise UsageError(f"{name} must be {what}, got {text!r}") from None
    if value < 0:
        raise UsageError(f"{name} must not be negative, got {text}")
    return value


def show(value: Any) -> str:
    """A default value as the form shows it (None as an empty field)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


class WordsForm(VerticalScroll):
    """Corpus, model and hyper-parameters for the next training run."""

    HELP = "Training settings: tab between fields; the model sets the defaults."

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.defaults: dict[str, dict[str, Any]] = {}  # model -> WordsConfig fields
        self._model = "sgns"

    def compose(self) -> ComposeResult:
        with Horizontal(classes="form-row"):
            yield Label("corpus", classes="form-label")
            yield Input("builtin", placeholder="builtin, file or folder", compact=True, id="corpus")
        yield Label("", id="corpus-error", classes="form-error")
        with Horizontal(classes="form-row"):
            yield Label("model", classes="form-label")
            yield Select(
                [(m, m) for m in MODELS],
                value=self._model,
                allow_blank=False,
                compact=True,
                id="model",
            )
        with Horizontal(classes="form-row"):
            yield Label("stopwords", classes="form-label")
            yield Select(
                [("keep", False), ("remove", True)],
                value=False,
                allow_blank=False,
                compact=True,
                id="stopwords",
            )
        for name, label, placeholder, _, used in FIELDS:
            with Horizontal(classes="form-row", id=f"row-{name}") as row:
                row.display = self._model in used
                yield Label(label, classes="form-label")
                yield Input(placeholder=placeholder, compact=True, id=name)

    # ------------------------------------------------------------------ named parts

    def field(self, name: str) -> Input:
        return self.query_one(f"#{name}", Input)

    @property
    def model(self) -> str:
        return str(self.query_one("#model", Select).value)

    # ------------------------------------------------------------------ defaults

    def engine_ready(self, defaults: dict[str, dict[str, Any]]) -> None:
        """Fill the engine's defaults for the model on show (typed-in fields are kept)."""
        self.defaults = defaults
        self._apply(None, self.model)

    def _apply(self, old: str | None, new: str) -> None:
        before = self.defaults.get(old or "", {})
        after = self.defaults.get(new, {})
        for name, *_ in FIELDS:
            field = self.field(name)
            untouched = field.value == show(before.get(name))  # "" before any defaults
            if name in after and untouched:
                field.value = show(after[name])
            self.query_one(f"#row-{name}").display = new in USED_BY[name]
        self._model = new

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "model" and str(event.value) != self._model:
            self._apply(self._model, str(event.value))

    # ------------------------------------------------------------------ corpus check

    def check_corpus(self) -> str | None:
        """The corpus field through the engine's ``open_corpus``: None when fine, else why."""
        from engine.words.corpus import open_corpus

        error = self.query_one("#corpus-error", Label)
        try:
            open_corpus(self.field("corpus").value.strip() or "builtin")
        except UsageError as exc:
            error.update(str(exc))
            error.display = True
            return str(exc)
        error.update("")
        error.display = False
        return None

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "corpus":
            self.check_corpus()

    def on_descendant_blur(self, event: Any) -> None:
        if getattr(event.widget, "id", None) == "corpus":
            self.check_corpus()

    # ------------------------------------------------------------------ values

    def values(self) -> dict[str, Any]:
        """The form as ``WordsConfig`` keyword arguments; a UsageError names a bad field."""
        problem = self.check_corpus()
        if problem:
            raise UsageError(problem)
        model = self.model
        out: dict[str, Any] = {
            "corpus": self.field("corpus").value.strip() or "builtin",
            "model": model,
            "stopwords": bool(self.query_one("#stopwords", Select).value),
        }
        for name, *_ in FIELDS:
            if model in USED_BY[name]:
                out[name] = parse_field(name, self.field(name).value.strip())
        if out.get("epochs") == 0:
            raise UsageError("epochs must be at least 1")
        return out
