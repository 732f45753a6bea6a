"""``eventwire definitions|sources|triggers|profiles|stats``: management through the admin API
of a running worker; ``eventwire replay-rejected``: fixed payloads sent again, same ids."""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

import click
import orjson

from eventwire.cli.admin_client import api_path, call
from eventwire.config_loader import load_yaml
from eventwire.core.ingest import ORIGIN_HEADER
from eventwire.core.topics import Topics
from eventwire.settings import Settings


def show(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def documents(path: str) -> list[Any]:
    """One object or a list of objects, from a YAML or JSON file ('-': stdin)."""
    text = sys.stdin.read() if path == "-" else Path(path).read_text()
    loaded = load_yaml(text)
    return loaded if isinstance(loaded, list) else [loaded]


@click.group()
def definitions() -> None:
    """Event definitions: list, get, apply (new versions), delete."""


@definitions.command("list")
def definitions_list() -> None:
    for item in call("GET", "/v1/definitions")["items"]:
        click.echo(f"{item['name']}  v{item['version']}  {item.get('description') or ''}")


@definitions.command("get")
@click.argument("name")
@click.option("--version", type=int, help="A given version (default: the latest).")
@click.option("--schema", is_flag=True, help="The JSON Schema view.")
def definitions_get(name: str, version: int | None, schema: bool) -> None:
    path = api_path("v1", "definitions", name) + (
        f"/versions/{version}" if version else "/schema" if schema else ""
    )
    show(call("GET", path))


@definitions.command("apply")
@click.argument("path", type=click.Path(allow_dash=True))
@click.option("--allow-breaking", is_flag=True, help="Store a breaking change anyway.")
def definitions_apply(path: str, allow_breaking: bool) -> None:
    """Create definitions, or their next versions, from FILE."""
    query = "?allow_breaking=true" if allow_breaking else ""
    for document in documents(path):
        change = call("POST", f"/v1/definitions{query}", document)
        what = "version" if change["created"] else "unchanged at version"
        click.echo(f"{change['name']}: {what} {change['version']}")
        for line in change["breaking"]:
            click.echo(f"  breaking: {line}")


@definitions.command("infer")
@click.argument("type_")
@click.option("--since", default="7d", show_default=True, help="RFC 3339, or back from now.")
@click.option("--until", default=None, help="RFC 3339, or back from now (default: now).")
@click.option("--source", default=None, help="Only events from this source.")
@click.option("--json", "as_json", is_flag=True, help="The draft and its counts as JSON.")
def definitions_infer(
    type_: str, since: str, until: str | None, source: str | None, as_json: bool
) -> None:
    """A draft definition of TYPE from its accepted undeclared events (sources that allow
    undeclared events), printed in the config format for `definitions apply`."""
    from eventwire.backtest.run import when_ms
    from eventwire.core.definitions.infer import draft_yaml, infer_definition
    from eventwire.kafka.events_reader import Window, read_window

    settings = Settings()
    now_ms = int(time.time() * 1000)
    try:
        window = Window(when_ms(since, now_ms), when_ms(until, now_ms) if until else now_ms)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc

    async def properties() -> list[dict[str, Any]]:
        topic = Topics(settings.topic_prefix).events
        return [
            event["properties"]
            async for _, event, _ in read_window(settings.kafka_bootstrap, topic, window)
            if event["type"] == type_
            and event["definition_version"] is None
            and (source is None or event["source_id"] == source)
        ]

    found = asyncio.run(properties())
    if not found:
        raise click.ClickException(
            f"no accepted undeclared {type_!r} events in the window ({window.records} read)"
        )
    draft = infer_definition(type_, found)
    if as_json:
        counts = {path: vars(c) for path, c in draft.counts.items()}
        show({"definition": draft.definition, "counts": counts, "events": draft.events})
        return
    where = f"since {since}" + (f", from source {source}" if source else "")
    click.echo(draft_yaml(draft, where), nl=False)


@definitions.command("delete")
@click.argument("name")
def definitions_delete(name: str) -> None:
    call("DELETE", api_path("v1", "definitions", name))
    click.echo(f"deleted {name}")


@click.group()
def sources() -> None:
    """Sources: list, get, apply (create), enable/disable, delete."""


@sources.command("list")
def sources_list() -> None:
    for item in call("GET", "/v1/sources")["items"]:
        flags = [
            f
            for f, on in (
                ("disabled", not item["enabled"]),
                ("undeclared ok", item["allow_undeclared"]),
                ("secret", item["has_secret"]),
            )
            if on
        ]
        click.echo(f"{item['id']}  {', '.join(flags)}")


@sources.command("get")
@click.argument("source_id")
def sources_get(source_id: str) -> None:
    show(call("GET", api_path("v1", "sources", source_id)))


@sources.command("apply")
@click.argument("path", type=click.Path(allow_dash=True))
def sources_apply(path: str) -> None:
    """Create sources from FILE (a secret is set once: delete a source to replace it)."""
    for document in documents(path):
        created = call("POST", "/v1/sources", document)
        click.echo(f"created {created['id']}")


@sources.command("enable")
@click.argument("source_id")
def sources_enable(source_id: str) -> None:
    call("PATCH", api_path("v1", "sources", source_id), {"enabled": True})
    click.echo(f"enabled {source_id}")


@sources.command("disable")
@click.argument("source_id")
def sources_disable(source_id: str) -> None:
    call("PATCH", api_path("v1", "sources", source_id), {"enabled": False})
    click.echo(f"disabled {source_id}")


@sources.command("delete")
@click.argument("source_id")
def sources_delete(source_id: str) -> None:
    call("DELETE", api_path("v1", "sources", source_id))
    click.echo(f"deleted {source_id}")


def register_trigger_commands(triggers: click.Group) -> None:
    @triggers.command("list")
    def triggers_list() -> None:
        for item in call("GET", "/v1/triggers")["items"]:
            state = "" if item["enabled"] else "  (disabled)"
            on = item["trigger"]["on"]
            click.echo(f"{item['order']:>3}  {item['id']}  on {on}{state}")

    @triggers.command("get")
    @click.argument("trigger_id")
    def triggers_get(trigger_id: str) -> None:
        show(call("GET", api_path("v1", "triggers", trigger_id)))

    @triggers.command("apply")
    @click.argument("path", type=click.Path(allow_dash=True))
    def triggers_apply(path: str) -> None:
        """Create triggers from FILE, or replace those that exist."""
        from eventwire.cli.admin_client import AdminError

        for document in documents(path):
            try:
                call("POST", "/v1/triggers", document)
                click.echo(f"created {document.get('id')}")
            except AdminError as exc:
                if not str(exc).startswith("409"):
                    raise
                call("PUT", api_path("v1", "triggers", str(document["id"])), document)
                click.echo(f"replaced {document['id']}")

    for verb, enabled in (("enable", True), ("disable", False)):

        @triggers.command(verb)
        @click.argument("trigger_id")
        def toggle(trigger_id: str, _enabled: bool = enabled, _verb: str = verb) -> None:
            call("PATCH", api_path("v1", "triggers", trigger_id), {"enabled": _enabled})
            click.echo(f"{_verb}d {trigger_id}")

    @triggers.command("delete")
    @click.argument("trigger_id")
    def triggers_delete(trigger_id: str) -> None:
        call("DELETE", api_path("v1", "triggers", trigger_id))
        click.echo(f"deleted {trigger_id}")


@click.group()
def profiles() -> None:
    """Profiles: export (get) and erase (delete)."""


@profiles.command("get")
@click.argument("profile_id", required=False)
@click.option("--email", help="Find the profile by email.")
def profiles_get(profile_id: str | None, email: str | None) -> None:
    if not profile_id and not email:
        raise click.UsageError("give a profile id or --email")
    if profile_id:
        show(call("GET", api_path("v1", "profiles", profile_id)))
    else:
        show(call("GET", api_path("v1", "profiles", email=email or "")))


@profiles.command("delete")
@click.argument("profile_id")
@click.confirmation_option(prompt="Erase this profile, its identities and indexes?")
def profiles_delete(profile_id: str) -> None:
    call("DELETE", api_path("v1", "profiles", profile_id))
    click.echo(f"erased {profile_id}")


@click.command()
def stats() -> None:
    """Accepted events by type and rejected messages by reason, across all replicas."""
    body = call("GET", "/v1/stats")
    click.echo(f"configuration version {body['config_version']}")
    click.echo("accepted:")
    for name, count in sorted(body["accepted"].items(), key=lambda kv: -kv[1]):
        click.echo(f"  {count:>10}  {name}")
    click.echo("rejected:")
    for name, count in sorted(body["rejected"].items(), key=lambda kv: -kv[1]):
        click.echo(f"  {count:>10}  {name}")
    if body.get("violations"):
        click.echo("violations let through (observe mode):")
        for type_, by_code in sorted(body["violations"].items()):
            for code, count in sorted(by_code.items(), key=lambda kv: -kv[1]):
                click.echo(f"  {count:>10}  {type_} {code}")


def validation_messages(path: str) -> list[dict[str, Any]]:
    """The messages of a file: one JSON document per line (JSON Lines), or one JSON/YAML
    document that is a message, a list of them, or ``{"messages": [...]}``. A message is a
    raw document, or ``{"value": ..., "headers": {...}}`` to give headers too."""
    text = sys.stdin.read() if path == "-" else Path(path).read_text()
    lines = [line for line in text.splitlines() if line.strip()]
    if path.endswith((".jsonl", ".ndjson")) or (
        len(lines) > 1 and all(line.lstrip().startswith("{") for line in lines)
    ):
        loaded: Any = [orjson.loads(line) for line in lines]
    else:
        loaded = load_yaml(text)
    if isinstance(loaded, dict) and isinstance(loaded.get("messages"), list):
        loaded = loaded["messages"]
    items = loaded if isinstance(loaded, list) else [loaded]
    return [
        item
        if isinstance(item, dict) and "value" in item and set(item) <= {"value", "headers"}
        else {"value": item}
        for item in items
    ]


@click.command()
@click.argument("file", type=click.Path(allow_dash=True))
@click.option("--json", "as_json", is_flag=True, help="Print the whole answer as JSON.")
def validate(file: str, as_json: bool) -> None:
    """What a running worker would make of each message in FILE, publishing and writing
    nothing; exits 1 when any message would be rejected (for producers' CI)."""
    messages = validation_messages(file)
    body = call("POST", "/v1/validate", {"messages": messages})
    if as_json:
        show(body)
    rejected = 0
    for n, result in enumerate(body["results"], 1):
        rejection = result["rejection"]
        if rejection is None:
            if not as_json:
                kinds = ", ".join(e["type"] for e in result["events"])
                click.echo(f"{n}: accepted ({kinds})")
                for event in result["events"]:
                    for v in event.get("violations", []):
                        click.echo(f"     observed {v['code']} at {v['field']}: {v['message']}")
            continue
        rejected += 1
        if not as_json:
            click.echo(f"{n}: rejected")
            for reason in rejection["reasons"]:
                click.echo(f"     {reason['code']} at {reason['field']}: {reason['message']}")
    if rejected:
        sys.exit(1)


@click.command("replay-rejected")
@click.option(
    "--id", "ids", multiple=True, help="Rejection id(s) to replay (default: all that match)."
)
@click.option("--code", "codes", multiple=True, help="Only rejections with this reason code.")
@click.option(
    "--fix",
    "fix",
    type=click.Path(exists=True, dir_okay=False),
    help="Send this payload instead of the kept one (for one --id).",
)
@click.option(
    "--secret",
    envvar="EVENTWIRE_SOURCE_SECRET",
    help="The source's secret (kept payloads are redacted).",
)
@click.option("--dry-run", is_flag=True, help="Only say what would be sent.")
def replay_rejected(
    ids: tuple[str, ...], codes: tuple[str, ...], fix: str | None, secret: str | None, dry_run: bool
) -> None:
    """Send rejected messages again, fixed, keeping their event ids (they derive from the
    original message's position, carried in the eventwire-origin header)."""
    if fix and len(ids) != 1:
        raise click.UsageError("--fix replays one rejection: give exactly one --id")
    settings = Settings()
    topics = Topics(settings.topic_prefix)
    records = asyncio.run(_rejections(settings.kafka_bootstrap, topics.rejected))
    chosen = {
        r["id"]: r
        for r in records
        if (not ids or r["id"] in ids)
        and (not codes or {x["code"] for x in r["reasons"]} & set(codes))
    }
    if not chosen:
        raise click.ClickException("no rejection matches")
    messages = []
    for record in chosen.values():
        payload = Path(fix).read_bytes() if fix else record["payload"].encode()
        origin = record["origin"]
        headers = [
            (ORIGIN_HEADER, f"{origin['topic']}/{origin['partition']}/{origin['offset']}".encode())
        ]
        if record.get("format"):
            headers.append(("format", record["format"].encode()))
        if secret:
            headers.append(("secret", secret.encode()))
        messages.append((payload, headers))
    if dry_run:
        for (payload, _), record in zip(messages, chosen.values(), strict=True):
            click.echo(
                f"{record['id']}  {[r['code'] for r in record['reasons']]}  {payload[:80]!r}"
            )
        return
    from eventwire.cli.kafka_io import produce

    with click.progressbar(length=len(messages), label="replaying") as bar:
        for start in range(0, len(messages), 500):
            chunk = messages[start : start + 500]
            asyncio.run(produce(settings.kafka_bootstrap, topics.raw, chunk))
            bar.update(len(chunk))
    click.echo(f"replayed {len(messages)} rejected messages to {topics.raw}")


async def _rejections(bootstrap: str, topic: str) -> list[dict[str, Any]]:
    from eventwire.cli.kafka_io import follow

    found = []
    async for record in follow(bootstrap, topic, from_beginning=True, idle_timeout=2.0):
        if record.value:
            found.append(orjson.loads(record.value))
    return found
