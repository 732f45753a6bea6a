"""Create eventwire's topics before the worker subscribes to them."""

from __future__ import annotations

import contextlib
import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

log = logging.getLogger(__name__)


async def ensure_topics(
    bootstrap: str, names: list[str], partitions: int, configs: dict[str, str] | None = None
) -> None:
    """Create the topics that do not exist yet; existing ones are left as they are."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="eventwire-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [name for name in names if name not in existing]
        if not missing:
            return
        new = [
            NewTopic(name, num_partitions=partitions, replication_factor=1, topic_configs=configs)
            for name in missing
        ]
        with contextlib.suppress(TopicAlreadyExistsError):  # another replica was first
            await admin.create_topics(new)
        log.info("created topics %s", ", ".join(missing))
    finally:
        await admin.close()


async def delete_topics(bootstrap: str, names: list[str]) -> None:
    """Delete topics that exist (the benchmark's own, once it is done with them)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="eventwire-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [name for name in names if name in existing]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()
