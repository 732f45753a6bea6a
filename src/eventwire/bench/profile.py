"""Summarise py-spy's collapsed stacks: the inclusive share of samples per function.

``python -m eventwire.bench.profile FILE [--top N] [--match TEXT]``
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

_FRAME = re.compile(r"^(?P<name>[^ ]+) \((?P<file>[^:]+)(?::\d+)?\)$")


def frame_name(frame: str) -> str:
    """``send (aiokafka/producer/producer.py:380)`` → ``producer.py:send``."""
    found = _FRAME.match(frame.strip())
    if not found:
        return frame.strip()
    return f"{Path(found['file']).name}:{found['name']}"


def inclusive(lines: list[str]) -> tuple[Counter[str], int]:
    """Samples in which each function appears at least once, and the total of samples."""
    shares: Counter[str] = Counter()
    total = 0
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        total += n
        for name in {frame_name(f) for f in stack.split(";")}:
            shares[name] += n
    return shares, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--match", default="")
    args = parser.parse_args()
    shares, total = inclusive(args.file.read_text().splitlines())
    print(f"{total} samples")
    shown = 0
    for name, n in shares.most_common():
        if args.match in name:
            print(f"{100 * n / max(1, total):5.1f}%  {name}")
            shown += 1
            if shown >= args.top:
                break


if __name__ == "__main__":
    main()
