"""``eventwire definitions infer`` against the real broker: a draft from the accepted
undeclared events of a type (only that type, only undeclared ones, only from --source when
given), applied unchanged with ``eventwire definitions apply``, then in force."""

from __future__ import annotations

import os

import orjson
import pytest

from eventwire.config_loader import load_yaml
from tests.kafka.harness import Cluster, collect, produce, run_eventwire
from tests.kafka.test_admin_api_e2e import CONFIG, TOKEN, acall

pytestmark = [pytest.mark.services]


def search(i: int, **extra) -> bytes:
    return orjson.dumps(
        {
            "id": f"search-{i}",
            "type": "search.performed",
            "source": {"id": "backend"},
            "profile": {"id": f"searcher-{i % 4}"},
            "properties": {
                "query": f"red shoes {i}",
                "results": i,
                "sort": ["relevance", "price"][i % 2],
                **({"page": 2} if i % 3 == 0 else {}),
                **extra,
            },
        }
    )


async def test_a_draft_inferred_from_traffic_applies_unchanged(services, names, tmp_path):
    cluster = Cluster(names, services["kafka"], CONFIG, tmp_path, settings={"admin_token": TOKEN})
    await cluster.create_topics()
    worker = cluster.add_worker()
    try:
        await worker.wait_ready(cluster.topics.raw)
        other = orjson.dumps(
            {
                "type": "note.added",
                "source": {"id": "backend"},
                "profile": {"id": "searcher-0"},
                "properties": {"text": "x"},
            }
        )
        await produce(
            cluster.kafka,
            cluster.topics.raw,
            [(search(i), {}) for i in range(30)] + [(other, {})],
        )
        await collect(
            cluster.kafka,
            [cluster.topics.events],
            lambda c: len(c.accepted(cluster.topics.events)) == 31,
            60,
        )
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("EVENTWIRE_")},
            "EVENTWIRE_KAFKA_BOOTSTRAP": cluster.kafka,
            "EVENTWIRE_TOPIC_PREFIX": cluster.names.topic_prefix,
            "EVENTWIRE_ADMIN_URL": f"http://127.0.0.1:{worker.port}",
            "EVENTWIRE_ADMIN_TOKEN": TOKEN,
        }
        done = await run_eventwire(env, "definitions", "infer", "search.performed", "--since", "1h")
        assert done.returncode == 0, done.stderr
        draft = load_yaml(done.stdout)
        fields = {f["name"]: f for f in draft["fields"]}
        assert set(fields) == {"query", "results", "sort", "page"}
        assert fields["sort"]["enum"] == ["price", "relevance"]
        assert (fields["results"]["type"], fields["results"]["required"]) == ("integer", True)
        assert "required" not in fields["page"]
        assert "# 10/30, 1 distinct" in done.stdout  # page: every third search
        elsewhere = await run_eventwire(
            env, "definitions", "infer", "search.performed", "--since", "1h", "--source", "web"
        )
        assert elsewhere.returncode != 0
        assert "no accepted undeclared" in elsewhere.stderr

        path = tmp_path / "search.yaml"
        path.write_text(done.stdout)
        applied = await run_eventwire(env, "definitions", "apply", str(path))
        assert applied.returncode == 0, applied.stderr
        assert "search.performed: version 1" in applied.stdout
        status, definition = await acall(worker.port, "GET", "/v1/definitions/search.performed")
        assert (status, definition["mode"]) == (200, "observe")

        # In force: a search that breaks the draft is accepted with its violations listed.
        await produce(cluster.kafka, cluster.topics.raw, [(search(99, results="many"), {})])
        got = await collect(
            cluster.kafka,
            [cluster.topics.events],
            lambda c: any(e["id"] == "search-99" for e in c.accepted(cluster.topics.events)),
            60,
        )
        [late] = [e for e in got.accepted(cluster.topics.events) if e["id"] == "search-99"]
        assert late["definition_version"] == 1
        assert [(v["code"], v["field"]) for v in late["violations"]] == [
            ("wrong_type", "properties.results")
        ]
    finally:
        cluster.stop_all()
