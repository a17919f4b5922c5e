"""What a ``target`` setting may say, torch-free: the config validates it, the attacks resolve
it (:mod:`engine.vision.attacks.targets`)."""

from __future__ import annotations

from engine.fields import FieldError, shown

TargetSpec = int | str | None
TARGET_CHOICES = ("least-likely", "random")


def parse_target(value: TargetSpec) -> TargetSpec:
    """``None``, a class index, or one of :data:`TARGET_CHOICES`; a FieldError otherwise."""
    if value is None or isinstance(value, int) and not isinstance(value, bool):
        if isinstance(value, int) and value < 0:
            raise FieldError("target", f"must be a class index >= 0, got {value}")
        return value
    text = str(value).strip().lower().replace("_", "-")
    if text in ("", "none"):
        return None
    if text.isdigit():
        return int(text)
    if text in ("least", "ll"):
        text = "least-likely"
    if text not in TARGET_CHOICES:
        raise FieldError(
            "target", f"must be a class index, least-likely or random, got {shown(value)}"
        )
    return text
