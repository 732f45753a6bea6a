"""Raw messages to accepted events or rejections, for a whole batch: prepare each message,
resolve identities for all of them in one go, finish each. The first half of the process
stage. A bug on one message rejects that message; a Redis outage is retried."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from eventwire.core.decode import Limits
from eventwire.core.ingest import Outcome, Prepared, Rejected, finish, prepare, reject
from eventwire.core.raw import RawMessage
from eventwire.core.reasons import Code, Reason
from eventwire.core.registry import Registry
from eventwire.redis_store.identities import IdentityStore
from eventwire.retry import REDIS_OUTAGES, retry_outages

log = logging.getLogger(__name__)


def _internal_error(raw: RawMessage) -> Rejected:
    log.exception("bug while ingesting %s/%s/%s", raw.topic, raw.partition, raw.offset)
    return reject(
        raw, None, [Reason(Code.INTERNAL_ERROR, None, "eventwire failed on this message")]
    )


async def ingest_batch(
    raws: Sequence[RawMessage],
    registry: Registry,
    limits: Limits,
    identities: IdentityStore,
    now_ms: int,
) -> list[Outcome]:
    steps: list[Prepared | Rejected] = []
    for raw in raws:
        try:
            steps.append(prepare(raw, registry, limits))
        except Exception:
            steps.append(_internal_error(raw))
    prepared = [step for step in steps if isinstance(step, Prepared)]
    profiles = iter(
        await retry_outages(
            lambda: identities.resolve(prepared, now_ms), REDIS_OUTAGES, "resolving identities"
        )
    )
    outcomes: list[Outcome] = []
    for step in steps:
        if isinstance(step, Rejected):
            outcomes.append(step)
            continue
        try:
            outcomes.append(finish(step, next(profiles)))
        except Exception:
            outcomes.append(_internal_error(step.raw))
    return outcomes
