"""Config fields declared once: type, default, help, form label and validation, for every job.

A job's config is a dataclass whose fields are made with :func:`option`. From that one
declaration the CLI builds its argparse options (``tui/options.py``), the app builds its forms
(``tui/widgets/config_form.py``), and :func:`validate` checks a config here, in the engine, so
the CLI (exit 2) and the form (under the field) print the same line. Messages name the config
field (``steps must be at least 1, got 0``); front ends swap in their own name for it (the
CLI its flag) with :func:`mention` markers. Torch-free: the UI imports configs before torch.
"""

from __future__ import annotations

import dataclasses
import math
import re
import types
import typing
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from engine.errors import UsageError
from engine.files import kind, path_reason

C = TypeVar("C")
MAX_TEXT = 4096  # longest text a field takes (a path, a budget list)
_UNSET: Any = object()
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_MENTION = re.compile(r"`([a-z_][a-z0-9_]*)`")


class FieldError(UsageError):
    """A bad value for one config field; ``reason`` reads after the field's name."""

    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(f"{field} {reason}")


def mention(name: str) -> str:
    """A field named inside a message, so each front end can show it its own way."""
    return f"`{name}`"


def render_mentions(message: str, names: Mapping[str, str]) -> str:
    """Replace :func:`mention` markers by ``names[field]`` (a CLI flag, a form label)."""
    return _MENTION.sub(lambda m: names.get(m.group(1), m.group(1)), message)


# --------------------------------------------------------------------------- checks


@dataclasses.dataclass(frozen=True)
class Check:
    """A rule a field's value must pass.

    ``ok(value)`` must hold, else the message is the ``reason`` and the value; a rule whose
    reason depends on the value gives ``explain(value) -> reason or None`` instead. ``bad`` is
    a value that fails, so tests can show that every front end says the same thing."""

    reason: str
    bad: Any
    ok: Callable[[Any], bool] | None = None
    explain: Callable[[Any], str | None] | None = None

    def __call__(self, value: Any) -> str | None:
        if self.explain is not None:
            return self.explain(value)
        assert self.ok is not None
        return None if self.ok(value) else f"{self.reason}, got {shown(value)}"


def rule(explain: Callable[[Any], str | None], bad: Any) -> Check:
    """A check whose reason depends on the value (a budget list that does not parse)."""
    return Check("", bad, explain=explain)


def at_least(low: float) -> Check:
    return Check(f"must be at least {low:g}", low - 1, lambda v: v >= low)


def at_most(high: float) -> Check:
    return Check(f"must be at most {high:g}", high + 1, lambda v: v <= high)


def between(low: float, high: float) -> Check:
    return Check(f"must be between {low:g} and {high:g}", high + 1, lambda v: low <= v <= high)


def positive() -> Check:
    return Check("must be more than 0", 0, lambda v: v > 0)


def existing_path() -> Check:
    return Check(
        "must be an existing file or folder", "/nonexistent/advtui", lambda v: kind(v) is not None
    )


def existing_file() -> Check:
    return Check("must be an existing file", "/nonexistent/advtui", lambda v: kind(v) == "file")


def path_name() -> Check:
    """A path that may not exist yet, but that the system can name (a new folder, a file to
    write)."""
    return rule(path_reason, "x" * 300)


def shown(value: Any, limit: int = 40) -> str:
    """A value as a message quotes it: short, one line."""
    if isinstance(value, tuple):
        value = ",".join(map(str, value))
    if isinstance(value, float):
        return f"{value:g}"
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --------------------------------------------------------------------------- declarations


@dataclasses.dataclass(frozen=True)
class Option:
    """Everything about a field beyond its type and default (see :func:`option`)."""

    help: str
    label: str = ""
    checks: tuple[Check, ...] = ()
    app_default: Any = _UNSET
    choices: tuple[str, ...] = ()
    placeholder: str = ""
    flag: str = ""
    cli: bool = True
    form: bool = True
    sep: str | None = ","
    presets: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    used_by: tuple[str, ...] = ()


def option(
    default: Any,
    help: str,
    *,
    label: str = "",
    check: Check | Iterable[Check] = (),
    app: Any = _UNSET,
    choices: Iterable[str] = (),
    placeholder: str = "",
    flag: str = "",
    cli: bool = True,
    form: bool = True,
    sep: str | None = ",",
    presets: Mapping[str, Any] | None = None,
    used_by: Iterable[str] = (),
) -> Any:
    """A dataclass field with its declaration.

    ``check``: the :class:`Check` rules the value must pass (after its type).
    ``app``: a lighter default for the app's form than for the CLI.
    ``choices``: the values allowed. ``flag``: the CLI flag when not ``--field-name``.
    ``cli``/``form``: whether the field appears there. ``sep``: how a tuple field splits its
    text. ``presets``: other defaults keyed by a preset name (the words model).
    ``used_by``: the preset names that read the field (others ignore it; the form hides it).
    """
    checks = (check,) if isinstance(check, Check) else tuple(check)
    meta = Option(
        help, label, checks, app, tuple(choices), placeholder, flag, cli, form, sep,
        dict(presets or {}), tuple(used_by),
    )  # fmt: skip
    return dataclasses.field(default=default, metadata={"option": meta})


@dataclasses.dataclass(frozen=True)
class Spec:
    """One field resolved: name, value type, whether None is allowed, default, declaration."""

    name: str
    kind: type  # int, float, str, bool or tuple (of str)
    optional: bool
    default: Any
    option: Option

    @property
    def label(self) -> str:
        return self.option.label or self.name.replace("_", " ")

    @property
    def flag(self) -> str:
        return self.option.flag or "--" + self.name.replace("_", "-")

    @property
    def app_default(self) -> Any:
        app = self.option.app_default
        return self.default if app is _UNSET else app

    def preset(self, key: str) -> Any:
        return self.option.presets.get(key, self.default)

    def used(self, key: str) -> bool:
        return not self.option.used_by or key in self.option.used_by


_SPECS: dict[type, tuple[Spec, ...]] = {}


def specs(cls: type) -> tuple[Spec, ...]:
    """The declared fields of config class ``cls``, in order (cached)."""
    if cls not in _SPECS:
        hints = typing.get_type_hints(cls)
        out = []
        for f in dataclasses.fields(cls):
            opt = f.metadata.get("option")
            if opt is None:
                raise TypeError(f"{cls.__name__}.{f.name} is not declared with option()")
            kind, optional = _kind(hints[f.name])
            out.append(Spec(f.name, kind, optional, f.default, opt))
        _SPECS[cls] = tuple(out)
    return _SPECS[cls]


def spec_of(cls: type, name: str) -> Spec:
    for s in specs(cls):
        if s.name == name:
            return s
    raise KeyError(name)


def _kind(hint: Any) -> tuple[type, bool]:
    args = typing.get_args(hint)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in args if a is not type(None)]
        return _kind(inner[0])[0], True
    if origin is tuple:
        return tuple, False
    if hint in (int, float, str, bool):
        return hint, False
    raise TypeError(f"unsupported config field type {hint!r}")


# --------------------------------------------------------------------------- text -> value


def parse(spec: Spec, text: str) -> Any:
    """A field's text as its value (the CLI's and the form's one way in); FieldError if not."""
    text = text.strip()
    if len(text) > MAX_TEXT:
        raise FieldError(spec.name, f"is too long ({len(text):,} characters; {MAX_TEXT} at most)")
    if _CONTROL.search(text):
        raise FieldError(spec.name, "must not contain control characters")
    if not text:
        if spec.optional:
            return None
        if spec.kind in (str, tuple):
            return "" if spec.kind is str else ()
        raise FieldError(spec.name, f"is empty; {_expected(spec)}")
    if spec.kind is bool:
        return _parse_bool(spec, text)
    if spec.kind is int:
        try:
            return int(text)
        except ValueError:
            raise FieldError(spec.name, f"must be a whole number, got {shown(text)}") from None
    if spec.kind is float:
        try:
            value = float(text)
        except ValueError:
            raise FieldError(spec.name, f"must be a number, got {shown(text)}") from None
        if not math.isfinite(value):
            raise FieldError(spec.name, f"must be a finite number, got {shown(text)}")
        return value
    if spec.kind is tuple:
        parts = text.split(spec.option.sep) if spec.option.sep else [text]
        return tuple(p.strip() for p in parts if p.strip())
    return text


def _expected(spec: Spec) -> str:
    return {int: "type a whole number", float: "type a number", bool: "type on or off"}.get(
        spec.kind, "type a value"
    )


def _parse_bool(spec: Spec, text: str) -> bool:
    low = text.lower()
    if low in ("1", "on", "true", "yes", "y"):
        return True
    if low in ("0", "off", "false", "no", "n"):
        return False
    raise FieldError(spec.name, f"must be on or off, got {shown(text)}")


def show(value: Any) -> str:
    """A value as a form shows it and the CLI help quotes it (None is an empty field)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


# --------------------------------------------------------------------------- configs


def check_text(cls: type, name: str, text: str) -> Any:
    """One field's text parsed and checked on its own (a form checks a field as it is left);
    rules across fields wait for :func:`validate`."""
    spec = spec_of(cls, name)
    value = parse(spec, text)
    if value is not None:
        _check_value(spec, value)
    return value


def validate(config: Any) -> None:
    """Check every field of ``config`` against its declaration, then its ``check()`` for rules
    across fields. The first problem raises a one-line :class:`FieldError`."""
    for spec in specs(type(config)):
        value = getattr(config, spec.name)
        if value is None:
            if spec.optional:
                continue
            raise FieldError(spec.name, "must be set")
        _check_value(spec, value)
    across = getattr(config, "check", None)
    if callable(across):
        across()


def _check_value(spec: Spec, value: Any) -> None:
    _check_type(spec, value)
    if spec.option.choices and not _in_choices(spec, value):
        raise FieldError(
            spec.name, f"must be one of {', '.join(spec.option.choices)}, got {shown(value)}"
        )
    for check in spec.option.checks:
        reason = check(value)
        if reason:
            raise FieldError(spec.name, reason)


def _check_type(spec: Spec, value: Any) -> None:
    kind = spec.kind
    ok = isinstance(value, kind) and not (kind is int and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        ok = True
    if not ok:
        raise FieldError(spec.name, f"must be {kind.__name__}, got {shown(value)}")
    if kind is float and not math.isfinite(value):
        raise FieldError(spec.name, f"must be a finite number, got {shown(value)}")
    if kind is str and (len(value) > MAX_TEXT or _CONTROL.search(value)):
        raise FieldError(spec.name, "must be one line of at most 4096 characters")


def _in_choices(spec: Spec, value: Any) -> bool:
    items = value if isinstance(value, tuple) else (value,)
    return all(item in spec.option.choices for item in items)


def defaults(cls: type, *, app: bool = False, preset: str | None = None) -> dict[str, Any]:
    """Each field's default: the CLI's, the app's (``app``), or a preset's (``preset``)."""
    out = {}
    for s in specs(cls):
        value = s.app_default if app else s.default
        out[s.name] = s.option.presets.get(preset, value) if preset else value
    return out


def from_texts(cls: type[C], texts: Mapping[str, str], base: C | None = None, **values: Any) -> C:
    """A validated config: ``base`` (or the defaults), the fields typed as ``texts``, then
    ``values`` as they are. Fields not named keep their value from ``base``."""
    given = {s.name: parse(s, texts[s.name]) for s in specs(cls) if s.name in texts}
    given.update(values)
    config = dataclasses.replace(base, **given) if base is not None else cls(**given)
    validate(config)
    return config


def with_preset(config: C, key: str, keep: Iterable[str] = ()) -> C:
    """``config`` with every preset field set to preset ``key``'s value (``keep`` excepted)."""
    kept = set(keep)
    changes = {
        s.name: s.option.presets[key]
        for s in specs(type(config))
        if key in s.option.presets and s.name not in kept
    }
    return dataclasses.replace(config, **changes)


def asdict(config: Any) -> dict[str, Any]:
    """A config as plain JSON-ready values (tuples as lists)."""
    return {
        s.name: list(v) if isinstance(v := getattr(config, s.name), tuple) else v
        for s in specs(type(config))
    }


def from_dict(cls: type[C], payload: Mapping[str, Any]) -> C:
    """A config from :func:`asdict` output (a run folder's config.json); unknown keys dropped."""
    values = {}
    for s in specs(cls):
        if s.name in payload:
            v = payload[s.name]
            values[s.name] = tuple(v) if s.kind is tuple and isinstance(v, list) else v
    return cls(**values)
