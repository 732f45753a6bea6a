import pytest

from eventwire.core.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("500ms", 0.5),
        ("30s", 30.0),
        ("30m", 1800.0),
        ("2h", 7200.0),
        ("7d", 604800.0),
        ("1w", 604800.0),
        ("1.5s", 1.5),
        (" 10s ", 10.0),
        (5, 5.0),
        (0.25, 0.25),
    ],
)
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10", "10 minutes", "-5s", "s", "5y", True, -1])
def test_parse_duration_refuses(text):
    with pytest.raises(DurationError):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0.5, "500ms"), (30, "30s"), (1800, "30m"), (86400 * 7, "1w"), (90, "90s")],
)
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text
