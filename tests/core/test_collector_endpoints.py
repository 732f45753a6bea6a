"""The collector's rules without a server: what each endpoint refuses at once, what it writes
to raw (headers whatever their case), and the answers it derives from where messages land."""

from __future__ import annotations

import base64

import orjson
from pydantic import SecretStr

from eventwire.collector.endpoints import ENDPOINTS, Admitted, Refusal, admit, answer
from eventwire.core import ids
from eventwire.core.decode import Limits
from eventwire.core.sources import SourceSpec
from tests.core.factories import registry

REGISTRY = registry().with_sources(
    [SourceSpec(id="talon-app", secret=SecretStr("talon-key-123")), SourceSpec(id="seg-key")]
)
BY_PATH = {e.path: e for e in ENDPOINTS}
TALON = {"source": "talon-app", "authorization": "ApiKey-v1 talon-key-123"}
LIMITS = Limits(max_bytes=2000)


def run(path, body, headers=None, query=None, params=None):
    return admit(
        BY_PATH[path],
        body if isinstance(body, bytes) else orjson.dumps(body),
        headers or {},
        query or {},
        {"request_id": "r-1", **(params or {})},
        REGISTRY,
        LIMITS,
    )


def test_header_names_of_any_case_authenticate_and_are_handed_on_in_lower_case():
    talon = {"type": "pageview", "sessionId": "s", "profileId": "p", "attributes": {}}
    done = run(
        "/v1/events", talon, {"Source": "talon-app", "Authorization": "ApiKey-v1 talon-key-123"}
    )
    assert isinstance(done, Admitted), done
    [(value, headers)] = done.messages
    assert value == orjson.dumps(talon)  # the body as it came
    assert headers == {
        "source": b"talon-app",
        "authorization": b"ApiKey-v1 talon-key-123",
        "format": b"talon",
    }
    wrong = run("/v1/events", talon, {"SOURCE": "talon-app", "authorization": "ApiKey-v1 nope"})
    assert isinstance(wrong, Refusal)
    assert (wrong.status, wrong.code) == (401, "unauthorized")


def test_the_fast_refusals():
    assert run("/track", b"{oops").status == 400
    assert run("/track", b"[1]").status == 400
    assert run("/track", b'{"x": "' + b"y" * 3000 + b'"}').status == 413
    nobody = run("/v1/batch", {"batch": [{"type": "track", "event": "e", "userId": "u"}]})
    assert (nobody.status, nobody.code) == (401, "unauthorized")


def test_segment_single_calls_get_their_type_and_batches_split_per_user_with_keys():
    key = {"authorization": "Basic " + base64.b64encode(b"seg-key:").decode()}
    single = run("/v1/track", {"event": "e", "userId": "u-1", "messageId": "m-1"}, key)
    assert isinstance(single, Admitted), single
    assert orjson.loads(single.messages[0][0])["type"] == "track"
    assert single.keys == [b"u-1"]
    calls = [
        {"type": "track", "event": "a", "userId": "u-1", "messageId": "m-a"},
        {"type": "track", "event": "b", "anonymousId": "x-9", "messageId": "m-b"},
    ]
    split = run("/v1/batch", {"batch": calls}, key)
    assert isinstance(split, Admitted), split
    assert [orjson.loads(v)["batch"] for v, _ in split.messages] == [[calls[0]], [calls[1]]]
    assert split.keys == [b"u-1", b"x-9"]
    assert split.event_ids == [["m-a"], ["m-b"]]
    assert answer(BY_PATH["/v1/batch"], split, [("raw", 0, 1), ("raw", 2, 3)]) == (
        200,
        {"success": True},
    )


def test_answers_derive_ids_from_where_the_messages_landed():
    tracardi = {"source": {"id": "open"}, "session": {"id": "s"}, "events": [{"type": "x"}]}
    done = run("/track", tracardi)
    assert isinstance(done, Admitted), done
    assert answer(BY_PATH["/track"], done, [("ew.raw", 2, 40)]) == (
        200,
        {"profile": {"id": ids.derived_id("profile", "message", "ew.raw", 2, 40)}},
    )
    collect = run(
        "/collect/{event_type}/{source_id}",
        {"url": "/"},
        params={"event_type": "page.viewed", "source_id": "open"},
    )
    assert isinstance(collect, Admitted), collect
    written = orjson.loads(collect.messages[0][0])
    assert written["events"] == [{"type": "page.viewed", "properties": {"url": "/"}}]
    assert written["session"] == {"id": "r-1"}
    talon = {"type": "pageview", "sessionId": "s", "profileId": "p", "attributes": {}}
    events = run(
        "/v1/events", talon, {"source": "talon-app", "authorization": "ApiKey-v1 talon-key-123"}
    )
    assert isinstance(events, Admitted)
    assert answer(BY_PATH["/v1/events"], events, [("ew.raw", 1, 7)]) == (
        202,
        {"event_ids": [ids.event_id("ew.raw", 1, 7, 0)]},
    )
