"""The py-spy summary: inclusive shares per function, each function counted once a sample."""

from __future__ import annotations

from eventwire.bench.profile import frame_name, inclusive


def test_frame_names_keep_the_file_and_the_function():
    assert frame_name("send (aiokafka/producer/producer.py:380)") == "producer.py:send"
    assert frame_name("<module> (eventwire/__main__.py:3)") == "__main__.py:<module>"


def test_a_function_counts_once_per_sample_even_when_recursive():
    lines = [
        "main (a/x.py:1);walk (a/y.py:2);walk (a/y.py:2) 3",
        "main (a/x.py:1);other (a/z.py:5) 1",
        "garbled line without a count",
    ]
    shares, total = inclusive(lines)
    assert total == 4
    assert shares["x.py:main"] == 4
    assert shares["y.py:walk"] == 3
    assert shares["z.py:other"] == 1
