"""Raw messages to accepted events or rejections, for a whole batch: prepare each message,
resolve identities for all of them in one go, finish each. The first half of the process
stage. A bug on one message rejects that message; a Redis outage is retried."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from eventwire.core.decode import Limits
from eventwire.core.ingest import (
    Accepted,
    Outcome,
    Prepared,
    Rejected,
    finish,
    prepare,
    reject,
    reject_prepared,
)
from eventwire.core.producer_ids import Claim, claims, duplicates
from eventwire.core.raw import RawMessage
from eventwire.core.reasons import Code, Reason
from eventwire.core.registry import Registry
from eventwire.redis_store.identities import IdentityStore
from eventwire.redis_store.producer_ids import ProducerIds
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
    producer_ids: ProducerIds | None = None,
) -> list[Outcome]:
    steps = _prepare_all(raws, registry, limits)
    prepared = [step for step in steps if isinstance(step, Prepared)]
    profiles = await retry_outages(
        lambda: identities.resolve(prepared), REDIS_OUTAGES, "resolving identities"
    )
    outcomes = _finish_all(steps, profiles)
    if producer_ids is not None:
        await retry_outages(
            lambda: _absorb_producer_retries(steps, outcomes, producer_ids),
            REDIS_OUTAGES,
            "checking producer ids",
        )
    return outcomes


async def validate_batch(
    raws: Sequence[RawMessage], registry: Registry, limits: Limits, identities: IdentityStore
) -> list[Outcome]:
    """What ``ingest_batch`` would answer, writing nothing: identities are only read (an
    event that would create its profile has ``profile_id`` null and ``new_profile``), and
    producer ids are not claimed (a producer's retry is not reported as a duplicate)."""
    steps = _prepare_all(raws, registry, limits)
    prepared = [step for step in steps if isinstance(step, Prepared)]
    found = await identities.preview(prepared)
    outcomes = _finish_all(steps, [profile for profile, _ in found])
    new = iter(created for _, created in found)
    for step, outcome in zip(steps, outcomes, strict=True):
        if isinstance(step, Prepared) and next(new) and isinstance(outcome, Accepted):
            for event in outcome.events:
                event["new_profile"] = True
    return outcomes


def _prepare_all(
    raws: Sequence[RawMessage], registry: Registry, limits: Limits
) -> list[Prepared | Rejected]:
    steps: list[Prepared | Rejected] = []
    for raw in raws:
        try:
            steps.append(prepare(raw, registry, limits))
        except Exception:
            steps.append(_internal_error(raw))
    return steps


def _finish_all(
    steps: Sequence[Prepared | Rejected], profiles: Sequence[str | Reason | None]
) -> list[Outcome]:
    found = iter(profiles)
    outcomes: list[Outcome] = []
    for step in steps:
        if isinstance(step, Rejected):
            outcomes.append(step)
            continue
        try:
            outcomes.append(finish(step, next(found)))
        except Exception:
            outcomes.append(_internal_error(step.raw))
    return outcomes


async def _absorb_producer_retries(
    steps: Sequence[Prepared | Rejected], outcomes: list[Outcome], producer_ids: ProducerIds
) -> None:
    """Reject, as ``duplicate_event``, every accepted message that carries a producer id
    another message from the same source was accepted with (one round trip for the batch)."""
    asked: list[tuple[int, list[Claim]]] = []
    for i, (step, outcome) in enumerate(zip(steps, outcomes, strict=True)):
        if isinstance(step, Prepared) and isinstance(outcome, Accepted):
            found = claims(step)
            if found:
                asked.append((i, found))
    flat = [claim for _, found in asked for claim in found]
    answers = iter(await producer_ids.claim(flat))
    unkept: list[Claim] = []
    for i, found in asked:
        taken = [(claim, next(answers)) for claim in found]
        reasons = duplicates(taken)
        if reasons:
            step = steps[i]
            assert isinstance(step, Prepared)
            outcomes[i] = reject_prepared(step, reasons)
            unkept += (claim for claim, first in taken if first is None)
    await producer_ids.release(unkept)
