"""The latency plot for docs/benchmarks.md: the distribution of produce → output latency per run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

TARGET_MS = 50.0


def cumulative(latencies_ms: Sequence[float]) -> tuple[list[float], list[float]]:
    """Sorted latencies (at least 0.5 ms, for a log axis) and the % of messages at or below."""
    ordered = sorted(max(0.5, value) for value in latencies_ms)
    n = len(ordered)
    return ordered, [100.0 * (i + 1) / n for i in range(n)]


def latency_plot(series: Mapping[str, Sequence[float]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 4.5), dpi=110)
    for label, latencies in series.items():
        if latencies:
            xs, ys = cumulative(latencies)
            axes.plot(xs, ys, label=label, linewidth=1.8)
    axes.axvline(TARGET_MS, linestyle="--", color="grey", label=f"{TARGET_MS:.0f} ms target")
    axes.set_xscale("log")
    axes.set_xlabel("latency, raw message produced → its output published (ms, log scale)")
    axes.set_ylabel("% of messages")
    axes.set_ylim(0, 100)
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(loc="lower right")
    axes.set_title(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path)
    plt.close(figure)
