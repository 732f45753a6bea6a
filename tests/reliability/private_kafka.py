"""A Kafka broker of one test's own (scripts/services.sh in its own directory, on a free
port), so the test can stop it and start it again without touching the shared one."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
from pathlib import Path

from tests.conftest import ROOT, free_port

SCRIPT = str(ROOT / "scripts" / "services.sh")


class PrivateKafka:
    def __init__(self, directory: Path, redis_url: str) -> None:
        port = free_port()
        while free_port() == port + 1:  # the broker takes the port after it too
            pass
        self.bootstrap = f"127.0.0.1:{port}"
        self._env = {
            **os.environ,
            "EVENTWIRE_KAFKA_BOOTSTRAP": self.bootstrap,
            "EVENTWIRE_SERVICES_DIR": str(directory),
            "EVENTWIRE_REDIS_URL": redis_url,
        }
        self._pidfile = directory / "kafka" / "kafka.pid"

    async def start(self) -> None:
        await asyncio.to_thread(
            subprocess.run,
            [SCRIPT, "start"],
            env=self._env,
            check=True,
            capture_output=True,
            timeout=300,
        )

    def kill(self) -> None:
        """The outage: the broker stops (SIGTERM), as a host losing its broker does."""
        os.kill(int(self._pidfile.read_text()), signal.SIGTERM)

    async def stop(self) -> None:
        await asyncio.to_thread(
            subprocess.run, [SCRIPT, "stop"], env=self._env, capture_output=True, timeout=120
        )
