"""Does a Kafka broker answer? A Metadata v4 request over a plain socket (stdlib only, so
scripts/kafka_ready.py can use it before the virtualenv exists; v0-v3 were removed in Kafka 4)."""

from __future__ import annotations

import socket
import struct


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
