"""The benchmarks' latency plot: a cumulative distribution, written as a PNG."""

from __future__ import annotations

from eventwire.bench.plot import cumulative, latency_plot


def test_cumulative_is_sorted_and_ends_at_100_percent():
    xs, ys = cumulative([30.0, 10.0, 0.0, 20.0])
    assert xs == [0.5, 10.0, 20.0, 30.0]  # zero is lifted for the log axis
    assert ys == [25.0, 50.0, 75.0, 100.0]


def test_the_plot_is_a_png(tmp_path):
    path = tmp_path / "docs" / "latency.png"
    latency_plot({"1 replica": [5.0, 12.0, 40.0, 90.0], "empty": []}, path, "title")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 5_000
