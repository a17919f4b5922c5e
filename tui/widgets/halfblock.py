"""Images as text: one upper half block per cell, foreground = top pixel, background = bottom.

Works over any SSH link and in 256 colours (Rich downgrades each cell's colour). A 32x32
CIFAR-10 image is 32 cells by 16 rows at scale 1; :func:`fit_size` picks the largest size that
fits the space (2x nearest-neighbour where there is room, a smooth downscale where there is
not). Cell styles are cached by colour pair and the preview caches whole frames.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from rich.color import Color
from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.style import Style

if TYPE_CHECKING:  # numpy costs ~80 ms to import: it loads with the first preview, not at start
    import numpy as np

UPPER_HALF = "\u2580"
SIZES = (64, 48, 32, 24, 16)  # image width in cells (= pixels across), largest first


@dataclass(frozen=True)
class PreviewSet:
    """One (attack, budget)'s sample images as uint8 HxWx3 arrays, ready to draw.

    Built on the worker thread from the engine's ``Samples`` event so the UI never touches
    tensors. ``amplified`` is the adversarial difference stretched so its largest change spans
    half the range (``gain`` says by how much); zero change is mid grey.
    """

    attack: str
    budget: float
    axis: str
    original: np.ndarray  # [k, H, W, 3] uint8
    adversarial: np.ndarray
    amplified: np.ndarray
    gain: tuple[float, ...]
    labels: tuple[int, ...]
    preds: tuple[int, ...]
    classes: tuple[str, ...]
    model: str = ""  # set when several models are swept

    def __len__(self) -> int:
        return len(self.labels)

    def true_name(self, i: int) -> str:
        return self.classes[self.labels[i]]

    def pred_name(self, i: int) -> str:
        return self.classes[self.preds[i]]

    def correct(self, i: int) -> bool:
        return self.labels[i] == self.preds[i]


def preview_from_samples(samples: Any, axis: str = "eps") -> PreviewSet:
    """Convert the engine's ``Samples`` (float tensors [k,C,H,W] in [0,1]) on the worker thread."""
    import numpy as np

    orig = samples.original.detach().float().clamp(0, 1).cpu().numpy()
    adv = samples.adversarial.detach().float().clamp(0, 1).cpu().numpy()
    if orig.shape[1] == 1:  # grey images: repeat to RGB
        orig, adv = orig.repeat(3, axis=1), adv.repeat(3, axis=1)
    diff = adv - orig
    peak = np.abs(diff).reshape(len(diff), -1).max(axis=1)
    gain = np.where(peak > 1e-8, 0.5 / np.maximum(peak, 1e-8), 1.0)
    amplified = np.clip(0.5 + diff * gain[:, None, None, None], 0, 1)

    def to_u8(a: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray((a.transpose(0, 2, 3, 1) * 255 + 0.5).astype(np.uint8))

    return PreviewSet(
        attack=samples.attack,
        budget=float(samples.budget),
        axis=axis,
        original=to_u8(orig),
        adversarial=to_u8(adv),
        amplified=to_u8(amplified),
        gain=tuple(float(g) for g in gain),
        labels=tuple(int(v) for v in samples.labels.tolist()),
        preds=tuple(int(v) for v in samples.preds.tolist()),
        classes=tuple(samples.classes),
    )


def resize(image: np.ndarray, width: int) -> np.ndarray:
    """``image`` (HxWx3 uint8) scaled to ``width`` pixels across, keeping the aspect ratio.

    Whole-number enlargements repeat pixels (nearest neighbour keeps them crisp); anything else
    goes through Pillow's Lanczos filter.
    """
    import numpy as np

    h, w = image.shape[:2]
    if width == w:
        return image
    if width % w == 0:
        k = width // w
        return image.repeat(k, axis=0).repeat(k, axis=1)
    from PIL import Image

    height = max(2, round(h * width / w))
    return np.asarray(Image.fromarray(image).resize((width, height), Image.Resampling.LANCZOS))


def fit_size(space: int, count: int = 3, gap: int = 2, native: int = 32) -> int:
    """The largest image width (cells) from :data:`SIZES` so ``count`` images fit in ``space``."""
    for size in SIZES:
        if size <= 2 * native and count * size + (count - 1) * gap <= space:
            return size
    size = max(8, (space - (count - 1) * gap) // count)  # very narrow: whatever fits
    return size - size % 2  # even, so the half-block rows pair up


class HalfBlocks:
    """A Rich renderable drawing an HxWx3 uint8 image at ``width`` cells (height/2 rows)."""

    def __init__(self, image: np.ndarray, width: int) -> None:
        self.image = image
        self.width = width
        self._lines: list[list[Segment]] | None = None

    def lines(self) -> list[list[Segment]]:
        """Rows of cells, computed once per renderable (keep the renderable to keep them)."""
        if self._lines is None:
            self._lines = image_lines(self.image, self.width)
        return self._lines

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        for row in self.lines():
            yield from row
            yield Segment.line()

    def __rich_measure__(self, console: Console, options: ConsoleOptions) -> Any:
        from rich.measure import Measurement

        return Measurement(self.width, self.width)


def image_lines(image: np.ndarray, width: int) -> list[list[Segment]]:
    """The image as rows of upper-half-block segments, ``width`` cells across."""
    import numpy as np

    pixels = resize(image, width)
    if pixels.shape[0] % 2:  # an odd last row gets a black bottom half
        pixels = np.concatenate([pixels, np.zeros_like(pixels[:1])], axis=0)
    top, bottom = pixels[0::2].tolist(), pixels[1::2].tolist()
    return [
        [_cell(*t, *b) for t, b in zip(trow, brow, strict=True)]
        for trow, brow in zip(top, bottom, strict=True)
    ]


@lru_cache(maxsize=4096)
def _cell(r: int, g: int, b: int, r2: int, g2: int, b2: int) -> Segment:
    """One cell, shared by every image that has this colour pair (fewer objects to collect)."""
    return Segment(
        UPPER_HALF, Style(color=Color.from_rgb(r, g, b), bgcolor=Color.from_rgb(r2, g2, b2))
    )
