"""The admin API over real HTTP against a running worker."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from tests.conftest import ROOT
from tests.kafka.harness import Cluster

pytestmark = [pytest.mark.services]
TOKEN = "admin-token-for-tests"
TRIGGER = {
    "id": "big-order",
    "on": "order.completed",
    "when": {"event.properties.total": {"$gte": 50}},
    "actions": [{"type": "award_points", "amount": {"$round": "$event.properties.total"}}],
}


def call(port: int, path: str, body: bytes | None, token: str | None) -> tuple[int, dict]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, method="POST")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


async def test_trigger_dry_run_endpoint(services, names, tmp_path):
    cluster = Cluster(
        names,
        services["kafka"],
        ROOT / "tests" / "data" / "config",
        tmp_path,
        settings={"admin_token": TOKEN},
    )
    await cluster.create_topics()
    worker = cluster.add_worker()
    documents = [
        {
            "event": {"type": "order.completed", "properties": {"total": 72.4}},
            "profile": {"points": 5},
        },
        {"event": {"type": "order.completed", "properties": {"total": 10}}},
    ]
    good = json.dumps({"trigger": TRIGGER, "documents": documents}).encode()
    try:
        await worker.wait_ready(cluster.topics.raw)
        results = {
            name: await asyncio.to_thread(call, worker.port, "/v1/triggers/test", body, token)
            for name, body, token in [
                ("ok", good, TOKEN),
                ("no token", good, None),
                ("wrong token", good, "guess"),
                ("not json", b"{nope", TOKEN),
                ("no trigger", b"{}", TOKEN),
                (
                    "bad trigger",
                    json.dumps(
                        {"trigger": {**TRIGGER, "when": {"$where": 1}, "on": []}, "documents": [{}]}
                    ).encode(),
                    TOKEN,
                ),
            ]
        }
    finally:
        cluster.stop_all()
    status, body = results["ok"]
    assert status == 200
    assert [r["fires"] for r in body["results"]] == [True, False]
    assert body["results"][0]["effects"][0]["result"] == {"points": 77, "awarded": 72}
    assert body["results"][1]["failed"][0]["operator"] == "$gte"
    assert results["no token"][0] == results["wrong token"][0] == 401
    assert results["no token"][1]["error"] == "unauthorized"
    assert results["not json"][0] == 400
    assert results["not json"][1]["error"] == "malformed_json"
    assert results["no trigger"][0] == 422
    status, body = results["bad trigger"]
    assert (status, body["error"]) == (422, "invalid_trigger")
    assert any(p.startswith("trigger.on") for p in body["problems"])
    assert "documents.0.event: required, an object" in body["problems"]
    assert TOKEN not in worker.log_path.read_text()


def test_cli_triggers_test(tmp_path):
    trigger = tmp_path / "trigger.yaml"
    trigger.write_text(
        "id: big-order\non: order.completed\nwhen: {event.properties.total: {$gte: 50}}\n"
        "actions: [{award_points: {amount: 5}}]\n"
    )
    documents = tmp_path / "documents.yaml"
    documents.write_text("- event: {type: order.completed, properties: {total: 60}}\n")
    out = subprocess.run(
        [sys.executable, "-m", "eventwire", "triggers", "test", str(trigger), str(documents)],
        capture_output=True,
        text=True,
        check=True,
    )
    [result] = json.loads(out.stdout)["results"]
    assert (result["fires"], result["effects"][0]["params"]) == (True, {"amount": 5})
    trigger.write_text("id: x\non: a\nactions: [{type: nope}]\n")
    failed = subprocess.run(
        [sys.executable, "-m", "eventwire", "triggers", "test", str(trigger), str(documents)],
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 2
    assert "error: trigger.actions.0" in failed.stderr
