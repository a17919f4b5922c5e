"""Does this terminal draw true-pixel images (Kitty graphics protocol or Sixel)?

textual-image asks the terminal when it is imported, which must happen before Textual takes
over the terminal, and costs up to 0.2 s when the terminal stays silent. So :func:`probe` asks
only where the environment suggests a capable terminal (or ``ADVTUI_IMAGES`` says so), keeping
the first paint fast everywhere else. The answer: ``"kitty"``, ``"sixel"`` or None.
"""

from __future__ import annotations

import os

KITTY_HINTS = ("xterm-kitty", "xterm-ghostty")
PROGRAM_HINTS = ("WezTerm", "iTerm.app", "ghostty", "konsole", "mlterm", "foot", "contour")


def likely_capable(env: dict[str, str] | None = None) -> bool:
    env = dict(os.environ) if env is None else env
    if env.get("TMUX") or env.get("STY"):  # multiplexers pass neither protocol through by default
        return False
    term, program = env.get("TERM", ""), env.get("TERM_PROGRAM", "")
    return (
        term in KITTY_HINTS
        or "KITTY_WINDOW_ID" in env
        or "sixel" in term
        or term.startswith("foot")
        or program in PROGRAM_HINTS
    )


def probe() -> str | None:
    """Ask the terminal (through textual-image) when it is worth asking; never raises."""
    forced = os.environ.get("ADVTUI_IMAGES", "").lower()
    if forced in ("off", "no", "0", "halfblock"):
        return None
    if not forced and not likely_capable():
        return None
    try:
        import textual_image.widget  # noqa: F401  (queries the terminal once, caches the answer)
        from textual_image.renderable import Image, SixelImage, TGPImage
    except Exception:
        return None
    if Image is TGPImage:
        return "kitty"
    if Image is SixelImage:
        return "sixel"
    return None
