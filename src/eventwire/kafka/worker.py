"""``eventwire worker``: load configuration, create topics, run the Faust worker."""

from __future__ import annotations

import asyncio
import logging
import sys

from eventwire.config_loader import ConfigError, load_registry
from eventwire.core.topics import Topics
from eventwire.kafka.admin import ensure_topics
from eventwire.kafka.app import RegistryHolder, create_app
from eventwire.settings import Settings

log = logging.getLogger(__name__)


def run_worker(settings: Settings) -> None:
    try:
        registry = load_registry(settings.config_dir)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        sys.exit(2)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(
        ensure_topics(
            settings.kafka_bootstrap, Topics(settings.topic_prefix).all(), settings.partitions
        )
    )
    import faust

    app = create_app(settings, RegistryHolder(registry))
    worker = faust.Worker(app, loglevel=settings.log_level.upper(), loop=loop)
    worker.execute_from_commandline()
