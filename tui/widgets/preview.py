"""The sample preview: original, adversarial and amplified difference of one sample at one
budget, with true and predicted classes coloured by correct / wrong.

Left/right browse budgets (attack by attack, in the order they finished), up/down browse
samples. While the user has not moved away from the newest budget, a new one takes its place.
``pixels`` switches to true-pixel images (Kitty graphics or Sixel through textual-image) where
the terminal speaks one; anything going wrong there falls back to half-blocks.
"""

from __future__ import annotations

from typing import Any

from rich.console import Console, ConsoleOptions, Group, RenderResult
from rich.segment import Segment
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widgets import Static

from tui import format as fmt
from tui.widgets.halfblock import PreviewSet, fit_size, image_lines

AXIS_LABEL = {"eps": "eps", "pixels": "pixels"}
GAP = 2  # cells between images
_CONSOLE = Console(width=200, color_system="truecolor")  # only for turning Text into segments


class PreviewGrid:
    """Three half-block images side by side with captions, sized to the width Rich offers.

    Frames are built from segments directly (no layout engine in between) and cached by
    (sample, size) in ``cache``, so a repaint costs a dictionary lookup.
    """

    def __init__(self, pset: PreviewSet, sample: int, cache: dict | None = None) -> None:
        self.pset, self.sample = pset, sample
        self.cache = {} if cache is None else cache

    def frame(self, width: int) -> list[list[Segment]]:
        p, i = self.pset, self.sample
        native = p.original.shape[2]
        size, spacing = fit_size(width, native=native), GAP
        if 3 * size + 2 * GAP > width:  # tight: one-cell gaps buy a larger image
            size, spacing = fit_size(width, gap=1, native=native), 1
        key = (i, size)
        if key not in self.cache:
            ok = p.correct(i)
            gap = [Segment(" " * spacing)]
            images = [image_lines(a[i], size) for a in (p.original, p.adversarial, p.amplified)]
            captions = [
                Text("original", style="bold"),
                Text("adversarial", style="bold"),
                Text(f"difference x{p.gain[i]:.0f}", style="bold"),
            ]
            labels = [
                Text(f"true {p.true_name(i)}", style="green"),
                Text(f"pred {p.pred_name(i)}", style="bold green" if ok else "bold red"),
                Text("still correct" if ok else "fooled", style="green" if ok else "red"),
            ]

            def text_row(texts: list[Text]) -> list[Segment]:
                row: list[Segment] = []
                for k, t in enumerate(texts):
                    t = t.copy()
                    t.truncate(size, overflow="ellipsis", pad=True)
                    row += list(t.render(_CONSOLE)) + (gap if k < 2 else [])
                return row

            rows = [text_row(captions)]
            for y in range(len(images[0])):
                rows.append(images[0][y] + gap + images[1][y] + gap + images[2][y])
            rows.append(text_row(labels))
            self.cache[key] = rows
        return self.cache[key]

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for row in self.frame(options.max_width):
            yield from row
            yield Segment.line()


class SamplePreview(Vertical, can_focus=True):
    """Browsable previews of the sweep's samples (one :class:`PreviewSet` per finished budget)."""

    HELP = "Adversarial samples: left/right change budget, up/down change sample."
    BINDINGS = [
        Binding("left", "budget(-1)", "Budget -"),
        Binding("right", "budget(1)", "Budget +"),
        Binding("up", "sample(-1)", "Sample -", show=False),
        Binding("down", "sample(1)", "Sample +", show=False),
    ]

    index: reactive[int] = reactive(0, init=False)
    sample: reactive[int] = reactive(0, init=False)
    pixels: reactive[bool] = reactive(False, init=False)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.sets: list[PreviewSet] = []
        self._frames: dict[int, dict] = {}  # per set index: (sample, size) -> frame
        self._rows = -1

    def compose(self) -> ComposeResult:
        yield Static("Samples appear here as each budget finishes.", classes="preview-title")
        yield Static("", classes="preview-grid")

    # ------------------------------------------------------------------ state

    @property
    def current(self) -> PreviewSet | None:
        return self.sets[self.index] if self.sets else None

    def clear(self) -> None:
        self.sets = []
        self._frames = {}
        self.index = 0
        self.sample = 0
        self._redraw()

    def add(self, pset: PreviewSet) -> None:
        """Append a finished budget; follow it if the user was on the newest one."""
        following = not self.sets or self.index == len(self.sets) - 1
        self.sets.append(pset)
        if following:
            self.index = len(self.sets) - 1
        self._redraw()

    def action_budget(self, step: int) -> None:
        if self.sets:
            self.index = (self.index + step) % len(self.sets)

    def action_sample(self, step: int) -> None:
        if self.current is not None:
            self.sample = (self.sample + step) % len(self.current)

    def watch_index(self) -> None:
        self._redraw()

    def watch_sample(self) -> None:
        self._redraw()

    def watch_pixels(self) -> None:
        self._redraw()

    # ------------------------------------------------------------------ drawing

    def title_text(self) -> str:
        p = self.current
        if p is None:
            return "Samples appear here as each budget finishes."
        name = f"{p.model} {p.attack}" if p.model else p.attack
        return (
            f"{name}  {AXIS_LABEL.get(p.axis, p.axis)} {fmt.budget(p.budget)}"
            f"  [{self.index + 1}/{len(self.sets)}]  sample {self.sample + 1}/{len(p)}"
        )

    def labels(self) -> tuple[str, str, bool]:
        """True class, predicted class and correctness of the sample on show."""
        p = self.current
        if p is None:
            return "", "", True
        return p.true_name(self.sample), p.pred_name(self.sample), p.correct(self.sample)

    def _redraw(self) -> None:
        if not self.is_mounted:
            return
        p = self.current
        title = Text(self.title_text(), style="bold")
        self.query_one(".preview-title", Static).update(title, layout=False)
        grid = self.query_one(".preview-grid", Static)
        if p is None:
            grid.update("")
            return
        self.sample = min(self.sample, len(p) - 1)
        if self.pixels and self._show_pixels(p):
            grid.update(Group(*self._captions(p)))
            return
        self._hide_pixels()
        frame = PreviewGrid(p, self.sample, self._frames.setdefault(self.index, {}))
        rows = len(frame.frame(grid.content_size.width or self.app.size.width))
        grid.update(frame, layout=rows != self._rows)  # same height: no layout pass needed
        self._rows = rows

    def _captions(self, p: PreviewSet) -> list[Text]:
        true, pred, ok = self.labels()
        return [
            Text.assemble(
                ("true ", ""), (true, "green"), ("  pred ", ""), (pred, "green" if ok else "red")
            )
        ]

    def _show_pixels(self, p: PreviewSet) -> bool:
        """Draw the three images with textual-image; False (and half-blocks) if that fails."""
        try:
            from PIL import Image as PILImage
            from textual_image.widget import Image as PixelImage

            row = self.query(".preview-pixels")
            if not row:
                self.mount(
                    Horizontal(
                        *(PixelImage(classes="pixel-image") for _ in range(3)),
                        classes="preview-pixels",
                    ),
                    before=self.query_one(".preview-grid"),
                )
                self.call_after_refresh(self._redraw)
                return True
            images = [p.original, p.adversarial, p.amplified]
            for widget, arr in zip(row.first().query(".pixel-image"), images, strict=True):
                widget.image = PILImage.fromarray(arr[self.sample])
            row.first().display = True
            return True
        except Exception as exc:  # a terminal or library without support: half-blocks stay
            self.pixels = False
            self.notify(
                f"true-pixel images unavailable ({exc}); using half-blocks", severity="warning"
            )
            return False

    def _hide_pixels(self) -> None:
        for row in self.query(".preview-pixels"):
            row.display = False
