"""Identity resolution against a real Redis."""

from __future__ import annotations

import asyncio

import orjson
import pytest

from eventwire.config_loader import load_registry
from eventwire.core.decode import Limits
from eventwire.core.identity import candidate_profile_id
from eventwire.core.ingest import Prepared, prepare
from eventwire.core.reasons import Reason
from eventwire.redis_store.connection import connect
from eventwire.redis_store.identities import IdentityStore
from tests.conftest import ROOT
from tests.core.factories import raw
from tests.kafka.harness import eventually

pytestmark = pytest.mark.services
REGISTRY = load_registry(ROOT / "tests" / "data" / "config")


def prepared(document, offset=0) -> Prepared:
    step = prepare(raw(document, offset=offset), REGISTRY, Limits())
    assert isinstance(step, Prepared), step
    return step


def arsel(offset=0, **who):
    doc = {
        "event": "order.completed",
        "data": {"order_id": "o", "total": 1},
        "source": {"id": "arsel-app", "secret": "arsel-key"},
        **who,
    }
    return prepared(doc, offset)


def simon(type_="track", offset=0, **doc):
    base = {"partnerId": "acme-partner", "partnerSecret": "acme-partner-secret", "type": type_}
    if type_ == "track":
        base["properties"] = {"eventName": "some_event", "properties": {}}
    return prepared({**base, **doc}, offset)


async def test_two_stores_racing_on_new_emails_agree_on_one_profile_each(
    redis_client, keys, redis_url
):
    other = connect(redis_url)
    try:
        stores = [IdentityStore(redis_client, keys, 60), IdentityStore(other, keys, 60)]
        emails = [f"user{i}@example.com" for i in range(50)]
        batches = [[arsel(i, email=e) for i, e in enumerate(emails)] for _ in stores]
        first, second = await asyncio.gather(
            *(store.resolve(batch) for store, batch in zip(stores, batches, strict=True))
        )
    finally:
        await other.aclose()
    assert first == second
    assert len(set(first)) == 50
    profiles = [k async for k in redis_client.scan_iter(match=keys.profile_pattern())]
    assert len(profiles) == 50


async def test_an_existing_mapping_wins_over_the_candidate(redis_client, keys):
    store = IdentityStore(redis_client, keys, 60)
    await redis_client.set(keys.identity("email", "old@example.com"), "legacy-profile")
    [profile] = await store.resolve([arsel(email="Old@Example.com")])
    assert profile == "legacy-profile"


async def test_explicit_profile_links_its_identities_once(redis_client, keys):
    store = IdentityStore(redis_client, keys, 60)
    doc = {
        "type": "order.completed",
        "source": {"id": "backend"},
        "profile": {"id": "p-1", "email": "a@b.c", "contact_id": "crm-1"},
        "properties": {"order_id": "o", "total": 1},
    }
    assert await store.resolve([prepared(doc)]) == ["p-1"]
    # Later sends by email or contact id find p-1.
    assert await store.resolve([arsel(email="A@B.C"), arsel(contact_id="crm-1")]) == [
        "p-1",
        "p-1",
    ]
    # A later event claiming the email for another profile does not steal it.
    doc["profile"] = {"id": "p-2", "email": "a@b.c"}
    assert await store.resolve([prepared(doc)]) == ["p-2"]
    assert await redis_client.get(keys.identity("email", "a@b.c")) == "p-1"
    assert await redis_client.hget(keys.profile("p-1"), "first_seen") == "2025-11-24T16:00:00.123Z"


async def test_contact_id_resolves_to_an_existing_profile_and_otherwise_is_unknown(
    redis_client, keys
):
    store = IdentityStore(redis_client, keys, 60)
    [created] = await store.resolve([arsel(email="new@example.com")])
    [found, missing] = await store.resolve([arsel(contact_id=created), arsel(contact_id="nobody")])
    assert found == created
    assert isinstance(missing, Reason)
    assert missing.code.value == "unknown_contact"


async def test_simon_identify_maps_a_client_for_the_ttl_then_expires(redis_client, keys):
    store = IdentityStore(redis_client, keys, identify_ttl_seconds=1)
    identify = simon("identify", clientId="c-1", traits={"email": "Zed@Example.com"})
    track = simon(offset=1, clientId="c-1")
    # The identify and the track in the same batch: the track sees the mapping.
    [by_identify, by_client] = await store.resolve([identify, track])
    assert by_identify == by_client == candidate_profile_id("email", "zed@example.com")
    stored = orjson.loads(await redis_client.get(keys.client("c-1")))
    assert stored == {"email": "Zed@Example.com"}
    assert 0 < await redis_client.ttl(keys.client("c-1")) <= 1
    await eventually(
        lambda: _gone(redis_client, keys.client("c-1")), 10, "the identify mapping expires"
    )
    [expired] = await store.resolve([simon(offset=2, clientId="c-1")])
    assert isinstance(expired, Reason)
    assert expired.code.value == "identity_required"


async def test_a_batch_costs_a_bounded_number_of_round_trips(redis_client, keys):
    store = IdentityStore(redis_client, keys, 60)
    batch = [arsel(i, email=f"u{i % 7}@x.io") for i in range(300)]
    batch += [simon(offset=400 + i, clientId=f"c{i}") for i in range(20)]
    await store.resolve(batch)
    assert store.round_trips == 3


async def test_a_new_profile_is_first_seen_at_its_event_time(redis_client, keys):
    """Not when it was processed: first_seen and last_seen are both event times."""
    store = IdentityStore(redis_client, keys, 60)
    [profile] = await store.resolve([arsel(email="first@example.com")])
    first_seen = await redis_client.hget(keys.profile(profile), "first_seen")
    assert first_seen == "2025-11-24T16:00:00.123Z"  # the raw message's Kafka timestamp


async def _gone(redis_client, key: str) -> bool:
    return not await redis_client.exists(key)
