"""``eventwire worker``: check config/, create topics, seed the shared configuration, run Faust."""

from __future__ import annotations

import asyncio
import logging
import sys

from eventwire.composition_root import create_app
from eventwire.config_loader import ConfigError, FileConfig, load_files
from eventwire.config_service import ConfigService, Holder
from eventwire.core.registry import Registry
from eventwire.core.topics import Topics
from eventwire.kafka.admin import ensure_topics
from eventwire.logs import logging_config
from eventwire.redis_store.config_store import ConfigStore
from eventwire.redis_store.connection import connect
from eventwire.redis_store.keys import Keys
from eventwire.settings import Settings

log = logging.getLogger(__name__)


async def prepare(settings: Settings, files: FileConfig) -> Holder:
    """Topics exist, config/ is seeded into Redis, and the registry in force is loaded."""
    await ensure_topics(
        settings.kafka_bootstrap, Topics(settings.topic_prefix).all(), settings.partitions
    )
    client = connect(settings.redis_url.get_secret_value())
    try:
        holder = Holder(Registry())
        await ConfigService(ConfigStore(client, Keys(settings.redis_prefix)), holder).seed(files)
        return holder
    finally:
        await client.aclose()


def run_worker(settings: Settings) -> None:
    try:
        files = load_files(settings.config_dir)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        sys.exit(2)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    holder = loop.run_until_complete(prepare(settings, files))
    import faust

    app = create_app(settings, holder)
    worker = faust.Worker(
        app,
        loglevel=settings.log_level.upper(),
        logging_config=logging_config(settings),
        loop=loop,
    )
    # Faust's terminal spinner lowers the root logger to DEBUG (so it can spin on every record)
    # and leaves only the handler filtering: every library debug call on the hot path then
    # builds a log record. No spinner: the configured level is the logger's level.
    worker.spinner = None
    worker.execute_from_commandline()
