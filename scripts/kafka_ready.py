"""Exit 0 once a Kafka broker answers a Metadata request; stdlib only.

`scripts/services.sh` runs this before the project's virtualenv exists, so it speaks the
Kafka wire protocol itself: a Metadata v4 request (v0-v3 were removed in Kafka 4.0) whose
response must carry our correlation id and at least one broker.
"""

from __future__ import annotations

import socket
import struct
import sys
import time


def metadata_brokers(host: str, port: int, timeout: float = 2.0) -> int:
    """Send Metadata v4 (all topics) and return how many brokers the answer lists."""
    client_id = b"eventwire-ready"
    correlation_id = 7
    header = struct.pack(">hhih", 3, 4, correlation_id, len(client_id)) + client_id
    body = struct.pack(">i?", -1, False)  # null topic list = all topics; no auto-create
    request = header + body
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(struct.pack(">i", len(request)) + request)
        size = struct.unpack(">i", _read(sock, 4))[0]
        response = _read(sock, size)
    got_correlation, _throttle, brokers = struct.unpack(">iii", response[:12])
    if got_correlation != correlation_id:
        raise ValueError(f"correlation id {got_correlation} != {correlation_id}")
    return int(brokers)


def _read(sock: socket.socket, n: int) -> bytes:
    chunks = b""
    while len(chunks) < n:
        chunk = sock.recv(n - len(chunks))
        if not chunk:
            raise ConnectionError("broker closed the connection")
        chunks += chunk
    return chunks


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
