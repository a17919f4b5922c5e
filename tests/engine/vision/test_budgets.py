import pytest

from engine.errors import UsageError
from engine.vision.budgets import parse_budgets


def test_list_range_and_fractions():
    assert parse_budgets("0.01,0,0.001") == [0.0, 0.001, 0.01]
    assert parse_budgets("0:0.1:0.01") == pytest.approx([i / 100 for i in range(11)])
    assert parse_budgets("2/255, 8/255") == pytest.approx([2 / 255, 8 / 255])
    assert parse_budgets("0:8/255:2/255") == pytest.approx([0, 2 / 255, 4 / 255, 6 / 255, 8 / 255])
    assert parse_budgets("0,1,5", integer=True) == [0.0, 1.0, 5.0]


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty budget list"),
        ("0,abc", "not a number"),
        ("0:1", "start:stop:step"),
        ("1:0:0.1", "step > 0 and stop >= start"),
        ("-0.1", ">= 0"),
        ("1/0", "not a number"),
        ("0:1:0.0001", "1000 at most"),
    ],
)
def test_bad_budgets_are_one_line_errors(text, message):
    with pytest.raises(UsageError, match=message) as err:
        parse_budgets(text)
    assert "\n" not in str(err.value)


def test_pixel_budgets_must_be_whole():
    with pytest.raises(UsageError, match="whole numbers"):
        parse_budgets("0,1.5", integer=True)
