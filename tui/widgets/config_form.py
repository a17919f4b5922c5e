"""A job's config as a form, built from its field declarations (``engine.fields``).

One compact row per field (label, input) so a form fits 80x24, and under each row a line that
shows the engine's message when the field's value is refused. Every widget gives back text;
the engine parses and validates it (:func:`engine.fields.from_texts`), so the form says what
the CLI says. Fields with ``choices`` are dropdowns, tuple fields with choices a checklist
(filled by the subclass when the choices arrive with the engine), the rest text inputs.
"""

from __future__ import annotations

import contextlib
from typing import Any

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.widget import Widget
from textual.widgets import Input, Label, Select, SelectionList

from engine.errors import UsageError
from engine.fields import (
    FieldError,
    Spec,
    check_text,
    from_texts,
    render_mentions,
    show,
    specs,
)


class ConfigForm(VerticalScroll):
    """The declared form fields of ``CONFIG``, at the app's defaults."""

    CONFIG: type
    CHECKLISTS: tuple[str, ...] = ()  # tuple fields shown as a checklist (choices come later)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.specs = tuple(s for s in specs(self.CONFIG) if s.option.form)

    def compose(self) -> ComposeResult:
        for spec in self.specs:
            yield from self.field_rows(spec)

    def field_rows(self, spec: Spec) -> ComposeResult:
        """A field's row (or checklist) and its error line."""
        if spec.name in self.CHECKLISTS:
            box = SelectionList[str](id=spec.name, classes="form-checklist")
            box.border_title = spec.label
            yield box
        else:
            with Horizontal(classes="form-row", id=f"row-{spec.name}"):
                yield Label(spec.label, classes="form-label")
                yield self.input_for(spec)
        yield Label("", id=f"error-{spec.name}", classes="form-error")

    def input_for(self, spec: Spec) -> Widget:
        value = show(spec.app_default)
        if spec.kind is bool:
            options = [("off", "off"), ("on", "on")]
            return Select(options, value=value, allow_blank=False, compact=True, id=spec.name)
        if spec.option.choices:
            options = [(c, c) for c in spec.option.choices]
            return Select(options, value=value, allow_blank=False, compact=True, id=spec.name)
        placeholder = spec.option.placeholder or spec.option.help[:40]
        return Input(value, placeholder=placeholder, compact=True, id=spec.name)

    # ------------------------------------------------------------------ values

    def text(self, name: str) -> str:
        """A field's value as text, whatever widget shows it."""
        widget = self.query_one(f"#{name}")
        if isinstance(widget, SelectionList):
            return ",".join(widget.selected)
        if isinstance(widget, Select):
            return str(widget.value)
        assert isinstance(widget, Input)
        return widget.value

    def set_text(self, name: str, text: str) -> None:
        widget = self.query_one(f"#{name}")
        if isinstance(widget, Input):
            widget.value = text
        elif isinstance(widget, Select):
            widget.value = text
        elif isinstance(widget, SelectionList):
            chosen = {t.strip() for t in text.split(",")}
            widget.deselect_all()
            for value in chosen:
                with contextlib.suppress(Exception):  # a choice this list does not have
                    widget.select(value)

    def fill_from(self, config: Any, skip: tuple[str, ...] = ("resume",)) -> None:
        """Show ``config``'s settings in the fields (a run folder being resumed)."""
        for spec in self.specs:
            if spec.name not in skip:
                self.set_text(spec.name, show(getattr(config, spec.name)))

    def texts(self) -> dict[str, str]:
        return {s.name: self.text(s.name) for s in self.specs if self.shown(s)}

    def shown(self, spec: Spec) -> bool:
        """Whether the field is part of the config now (subclasses hide unused ones)."""
        return True

    def config(self, base: Any = None, **values: Any) -> Any:
        """The validated config; a refused field shows the engine's message under it."""
        self.clear_errors()
        try:
            return from_texts(self.CONFIG, self.texts(), base, **values)
        except FieldError as exc:
            self.show_error(exc.field, exc.reason)
            raise UsageError(f"{self.label_of(exc.field)} {exc.reason}") from None
        except UsageError as exc:
            labels = {s.name: s.label for s in self.specs}
            raise UsageError(render_mentions(str(exc), labels)) from None

    def check_field(self, name: str) -> bool:
        """The engine's check of one field's text (run as the field is left)."""
        error = self.query_one(f"#error-{name}", Label)
        try:
            check_text(self.CONFIG, name, self.text(name))
        except FieldError as exc:
            error.update(f"{self.label_of(name)} {exc.reason}")
            error.display = True
            return False
        error.update("")
        error.display = False
        return True

    def on_descendant_blur(self, event: Any) -> None:
        widget = event.widget
        if isinstance(widget, Input) and widget.id and any(s.name == widget.id for s in self.specs):
            self.check_field(widget.id)

    def label_of(self, name: str) -> str:
        return next((s.label for s in self.specs if s.name == name), name)

    def show_error(self, name: str, reason: str) -> None:
        """The engine's reason under the field (hidden fields: nowhere but the message)."""
        errors = self.query(f"#error-{name}")
        if errors:
            label = errors.first(Label)
            label.update(f"{self.label_of(name)} {reason}")
            label.display = True
            self.query_one(f"#{name}").focus()

    def clear_errors(self) -> None:
        for label in self.query(".form-error").results(Label):
            label.update("")
            label.display = False

    def error_text(self, name: str) -> str:
        """The message shown under a field ("" when none), for tests."""
        label = self.query_one(f"#error-{name}", Label)
        return str(label.render()) if label.display else ""
