"""The composition root: the one place where settings become a running worker. It builds
the Faust app, the Redis and Kafka adapters, the process stage, its agent and timers, the
webhook deliverer and the admin API, and wires them together."""

from __future__ import annotations

import gc
import tempfile
from pathlib import Path
from typing import Any

import faust
from aiokafka.structs import TopicPartition

from eventwire.admin.limits import MAX_REQUEST_LINE, web_options
from eventwire.admin.routes import register as register_admin
from eventwire.collector.http import Collector, aiokafka_produce
from eventwire.config_service import ConfigService, Holder
from eventwire.core.decode import Limits
from eventwire.core.topics import Topics
from eventwire.core.webhooks.destinations import Allowlist
from eventwire.core.webhooks.retries import RetryPolicy
from eventwire.gc_tuning import tune_gc
from eventwire.kafka.deliver_agent import Deliverer
from eventwire.kafka.faust_internals import (
    ChunkedTransport,
    aiokafka_producer,
    allow_long_request_lines,
)
from eventwire.kafka.process_agent import make_process_agent
from eventwire.kafka.publisher import Publisher
from eventwire.kafka.scheduler import make_scheduler
from eventwire.kafka.transactions import PartitionTransactions
from eventwire.metrics import CONSUMER_LAG, TASK_ERRORS
from eventwire.redis_store.config_store import ConfigStore
from eventwire.redis_store.connection import connect
from eventwire.redis_store.identities import IdentityStore
from eventwire.redis_store.keys import Keys
from eventwire.redis_store.owners import OwnerStore
from eventwire.redis_store.producer_ids import ProducerIds
from eventwire.redis_store.stats import StatsStore
from eventwire.redis_store.webhooks import WebhookQueue
from eventwire.retry import OUTAGES, never_fatal, next_tick_on_outage
from eventwire.settings import Settings
from eventwire.stages.process import ProcessStage
from eventwire.webhooks.client import WebhookClient


def create_app(settings: Settings, holder: Holder) -> faust.App:
    topics = Topics(settings.topic_prefix)
    app = faust.App(
        settings.app_id,
        broker=[f"kafka://{address.strip()}" for address in settings.kafka_bootstrap.split(",")],
        store="memory://",
        datadir=str(Path(tempfile.gettempdir()) / f"eventwire-{settings.app_id}"),
        web_host=settings.web_host,
        web_bind=settings.web_host,
        web_port=settings.web_port,
        topic_partitions=settings.partitions,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=settings.commit_interval,
        broker_session_timeout=settings.kafka_session_timeout,
        broker_heartbeat_interval=min(3.0, settings.kafka_session_timeout / 4),
        producer_acks=-1,
        producer_linger_ms=5,
        producer_max_batch_size=512 * 1024,  # one record batch per partition per publish
        stream_buffer_maxsize=max(4096, settings.batch_size * 2),
        # A fetched chunk is at most one batch: a route's queue holds a few chunks, so
        # memory stays bounded however far behind the worker is.
        broker_max_poll_records=settings.batch_size,
        web_in_thread=False,
        web_application_options=web_options(settings.admin_max_body),
    )
    allow_long_request_lines(app, MAX_REQUEST_LINE)
    # Set before any topic or agent asks for the transport (see kafka/faust_internals.py).
    transport = app.transport = ChunkedTransport(app.conf.broker_consumer, app)

    def bytes_topic(name: str) -> Any:
        return app.topic(name, key_type=bytes, value_type=bytes, value_serializer="raw")

    raw_topic = bytes_topic(topics.raw)
    timers_topic = bytes_topic(topics.timers)
    # aiokafka's own producer under Faust's (started with the app), for its batch API.
    publisher = Publisher(lambda: aiokafka_producer(app))
    # redis-py connects on first use, so creating the client here does no I/O.
    redis_client = connect(settings.redis_url.get_secret_value())
    keys = Keys(settings.redis_prefix)
    owners = OwnerStore(redis_client, keys)
    queue = WebhookQueue(redis_client, keys)
    stage = ProcessStage(
        lambda: holder.current,
        Limits(settings.max_message_bytes, settings.max_depth),
        IdentityStore(redis_client, keys, settings.identify_ttl),
        owners,
        queue,
        topics,
        int(settings.session_timeout * 1000),
        ProducerIds(redis_client, keys, settings.dedupe_window),
    )
    transactions = None
    if settings.guarantee == "exactly_once":
        transactions = _transactions(app, settings, {topics.raw, topics.timers})
        transport.transactional_topics.update((topics.raw, topics.timers))
    stats = StatsStore(redis_client, keys)
    for topic, run, name in (
        (raw_topic, stage.run, "eventwire.process"),
        (timers_topic, stage.run_timers, "eventwire.timers"),
    ):
        agent = make_process_agent(
            stage, run, stats, publisher, transport.route(topic), settings.batch_size, transactions
        )
        app.agent(topic, name=name)(agent)
    app.timer(interval=settings.scheduler_interval, name="eventwire.scheduler")(
        next_tick_on_outage(make_scheduler(owners, topics, publisher), OUTAGES, "firing timers")
    )

    @app.on_before_shutdown.connect
    async def _close_redis(*_: Any, **__: Any) -> None:
        if transactions is not None:
            await transactions.close()
        await deliverer.close()
        await redis_client.aclose()

    deliverer = Deliverer(
        queue,
        WebhookClient(
            Allowlist.parse(settings.webhook_allowed_hosts),
            settings.webhook_connect_timeout,
            settings.webhook_read_timeout,
        ),
        RetryPolicy(
            settings.webhook_max_attempts,
            settings.webhook_max_total,
            settings.webhook_first_backoff,
            settings.webhook_max_backoff,
        ),
        settings.webhook_secret.get_secret_value() if settings.webhook_secret else None,
        topics,
        publisher,
        settings.webhook_concurrency,
        int(settings.webhook_lease * 1000),
    )
    app.timer(interval=0.2, name="eventwire.deliver")(
        next_tick_on_outage(deliverer.tick, OUTAGES, "delivering webhooks")
    )

    async def consumer_lag() -> None:
        """Messages not yet consumed, per topic this replica reads."""
        lag: dict[str, int] = {}
        for tp in app.consumer.assignment():
            position = await app.consumer.position(tp)
            # No high-water mark yet (a partition just assigned, or a peer stalled): skip it.
            highwater = app.consumer.highwater(tp)
            if position is not None and highwater is not None:
                lag[tp.topic] = lag.get(tp.topic, 0) + max(0, highwater - position)
        for topic, value in lag.items():
            CONSUMER_LAG.labels(topic).set(value)

    app.timer(interval=5.0, name="eventwire.lag")(
        never_fatal(
            consumer_lag,
            "measuring consumer lag",
            TASK_ERRORS.labels("consumer_lag").inc,
        )
    )

    config = ConfigService(ConfigStore(redis_client, keys), holder)
    app.timer(interval=settings.config_refresh, name="eventwire.config")(
        next_tick_on_outage(config.refresh, OUTAGES, "refreshing the configuration")
    )
    Collector(
        lambda: holder.current,
        Limits(settings.max_message_bytes, settings.max_depth),
        topics.raw,
        aiokafka_produce(lambda: aiokafka_producer(app)),
        settings.collector_origins,
        settings.collector_max_in_flight,
        settings.collector_produce_timeout,
    ).register(app)
    register_admin(
        app,
        settings,
        config,
        owners,
        StatsStore(redis_client, keys),
        publisher.publish,
        stage.identities,
    )

    @app.on_after_configured.connect
    def _tune_gc(*_: Any, **__: Any) -> None:
        tune_gc()

    async def _freeze_startup_objects() -> None:
        # What exists once the worker runs lives for good: keep it out of every collection.
        gc.freeze()

    app.task(_freeze_startup_objects)

    return app


def _transactions(app: faust.App, settings: Settings, consumed: set[str]) -> PartitionTransactions:
    """Exactly once: one transactional producer per partition of the ``consumed`` topics
    this replica owns, started when the partition is assigned (fencing its last owner)."""
    transactions = PartitionTransactions(
        settings.kafka_bootstrap, settings.app_id, group_id=settings.app_id
    )

    def ours(tps: Any) -> list[TopicPartition]:
        return [TopicPartition(tp.topic, tp.partition) for tp in tps if tp.topic in consumed]

    @app.on_partitions_assigned.connect  # type: ignore[arg-type]
    async def _fence_on_assignment(_sender: Any, *args: Any, **__: Any) -> None:
        await transactions.assigned(ours(args[0]))

    @app.on_partitions_revoked.connect  # type: ignore[arg-type]
    async def _forget_on_revocation(_sender: Any, *args: Any, **__: Any) -> None:
        await transactions.revoked(ours(args[0]))

    return transactions
