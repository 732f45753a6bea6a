"""Shared fixtures: the real services, and per-test names so tests never share data."""

from __future__ import annotations

import os
import socket
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KAFKA = os.environ.get("EVENTWIRE_KAFKA_BOOTSTRAP", "127.0.0.1:9092")
REDIS_URL = os.environ.get("EVENTWIRE_REDIS_URL", "redis://127.0.0.1:6379/0")


def _answers(address: str) -> bool:
    host, _, port = address.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def _redis_address() -> str:
    rest = REDIS_URL.split("://", 1)[-1].rsplit("@", 1)[-1].split("/", 1)[0]
    return rest if ":" in rest else f"{rest}:6379"


@pytest.fixture(scope="session")
def services() -> dict[str, str]:
    """Kafka and Redis, reused when they answer, else started by scripts/services.sh.

    Under CI a service that cannot be started fails the test; it never skips."""
    if not (_answers(KAFKA.split(",")[0]) and _answers(_redis_address())):
        result = subprocess.run(
            [str(ROOT / "scripts" / "services.sh"), "start"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if result.returncode != 0:
            message = f"could not start Kafka/Redis:\n{result.stderr[-3000:]}"
            if os.environ.get("CI") == "true":
                pytest.fail(message)
            pytest.skip(message)
    return {"kafka": KAFKA, "redis": REDIS_URL}


@dataclass(frozen=True)
class Names:
    """A test's own topic prefix, Redis key prefix and consumer group."""

    token: str

    @property
    def topic_prefix(self) -> str:
        return f"ewtest.{self.token}."

    @property
    def redis_prefix(self) -> str:
        return f"ewtest:{self.token}:"

    @property
    def app_id(self) -> str:
        return f"ewtest-{self.token}"


@pytest.fixture
def names() -> Names:
    return Names(uuid.uuid4().hex[:10])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
