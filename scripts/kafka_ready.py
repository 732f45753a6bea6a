"""Exit 0 once a Kafka broker answers a Metadata request; stdlib only.

`scripts/services.sh` runs this before the project's virtualenv exists, so it speaks the
Kafka wire protocol itself: a Metadata v4 request (v0-v3 were removed in Kafka 4.0) whose
response must carry our correlation id and at least one broker.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from eventwire.kafka.probe import metadata_brokers  # noqa: E402  (stdlib only)


def main() -> int:
    address = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:9092"
    wait = float(sys.argv[2]) if len(sys.argv) > 2 else 0.0
    host, _, port = address.split(",")[0].rpartition(":")
    deadline = time.monotonic() + wait
    while True:
        try:
            if metadata_brokers(host.strip("[]"), int(port)) > 0:
                return 0
        except (OSError, ValueError):
            pass
        if time.monotonic() >= deadline:
            return 1
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
