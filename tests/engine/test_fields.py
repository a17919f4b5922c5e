"""engine.fields: text in, typed and checked values out, one line per problem."""

from __future__ import annotations

import dataclasses

import pytest

from engine.fields import (
    FieldError,
    asdict,
    at_least,
    between,
    check_text,
    from_dict,
    from_texts,
    option,
    render_mentions,
    spec_of,
    specs,
    validate,
    with_preset,
)


@dataclasses.dataclass(frozen=True)
class Toy:
    n: int = option(10, "how many", app=3, check=at_least(1))
    rate: float = option(0.5, "a rate", check=between(0, 1), presets={"fast": 0.9})
    name: str | None = option(None, "a name")
    flag: bool = option(False, "a switch")
    kinds: tuple[str, ...] = option(("a",), "kinds", choices=("a", "b"))

    def check(self) -> None:
        if self.flag and self.name is None:
            raise FieldError("name", "is needed when flag is on")


@pytest.mark.parametrize(
    ("field", "text", "reason"),
    [
        ("n", "", "is empty; type a whole number"),
        ("n", "x", "must be a whole number, got 'x'"),
        ("n", "-1", "must be at least 1, got -1"),
        ("n", "1e309", "must be a whole number, got '1e309'"),
        ("rate", "nan", "must be a finite number, got 'nan'"),
        ("rate", "inf", "must be a finite number, got 'inf'"),
        ("rate", "1e309", "must be a finite number, got '1e309'"),
        ("rate", "2", "must be between 0 and 1, got 2"),
        ("name", "a\x07b", "must not contain control characters"),
        ("name", "x" * 10_000, "is too long (10,000 characters; 4096 at most)"),
        ("flag", "maybe", "must be on or off, got 'maybe'"),
        ("kinds", "a,c", "must be one of a, b, got 'a,c'"),
    ],
)
def test_junk_text_is_one_line_naming_the_field(field, text, reason):
    with pytest.raises(FieldError) as err:
        from_texts(Toy, {field: text})
    assert (err.value.field, err.value.reason) == (field, reason)
    assert str(err.value) == f"{field} {reason}" and "\n" not in str(err.value)


def test_good_text_parses_and_huge_values_meet_their_checks():
    toy = from_texts(Toy, {"n": " 12 ", "rate": "0.25", "name": "ünïcode", "flag": "on"})
    assert (toy.n, toy.rate, toy.name, toy.flag) == (12, 0.25, "ünïcode", True)
    assert from_texts(Toy, {"name": ""}).name is None  # empty optional: None
    assert check_text(Toy, "n", "99999999999999999999") == 99999999999999999999
    with pytest.raises(FieldError, match="kinds must be one of"):
        check_text(Toy, "kinds", "z")


def test_programmatic_configs_are_checked_too():
    with pytest.raises(FieldError, match="n must be int, got 2.5"):
        validate(Toy(n=2.5))  # type: ignore[arg-type]
    with pytest.raises(FieldError, match="name is needed when flag is on"):
        validate(Toy(flag=True))
    validate(Toy(rate=1))  # an int where a float is declared is fine


def test_defaults_presets_and_round_trip():
    assert spec_of(Toy, "n").app_default == 3 and spec_of(Toy, "n").default == 10
    assert with_preset(Toy(), "fast").rate == 0.9
    assert with_preset(Toy(), "slow").rate == 0.5
    toy = Toy(kinds=("a", "b"), name="z")
    assert from_dict(Toy, {**asdict(toy), "unknown": 1}) == toy
    assert [s.flag for s in specs(Toy)] == ["--n", "--rate", "--name", "--flag", "--kinds"]


def test_mentions_become_each_front_ends_name():
    message = "set `train_missing` to train it"
    assert render_mentions(message, {"train_missing": "--train"}) == "set --train to train it"


def test_undeclared_fields_are_refused():
    @dataclasses.dataclass
    class Bare:
        x: int = 1

    with pytest.raises(TypeError, match="not declared"):
        specs(Bare)
